//! Whole-site builds: the real content with a fixture KPI file, and invalid variants that
//! must fail with the file, the line and the reason.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn content() -> PathBuf {
    root().join("../content")
}

fn kpi() -> PathBuf {
    root().join("tests/fixtures/kpi.json")
}

fn build(
    content: &Path,
    kpi: Option<&Path>,
) -> (
    tempfile::TempDir,
    Result<esep_site::BuildReport, esep_site::BuildErrors>,
) {
    let out = tempfile::tempdir().unwrap();
    let r = esep_site::build(&esep_site::BuildOptions {
        content,
        kpi,
        out: out.path(),
    });
    (out, r)
}

fn read(out: &Path, path: &str) -> String {
    std::fs::read_to_string(out.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A copy of the real content to break.
fn copy_content() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let target = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&content(), dir.path());
    dir
}

fn errors_of(r: Result<esep_site::BuildReport, esep_site::BuildErrors>) -> String {
    match r {
        Ok(_) => panic!("the build should have failed"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_real_content_builds_every_page_in_three_languages() {
    let (out, r) = build(&content(), Some(&kpi()));
    let r = r.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.pages, 30);
    for lang in ["kk", "ru", "en"] {
        let home = read(out.path(), &format!("{lang}/index.html"));
        assert!(home.contains(&format!("<html lang=\"{lang}\">")));
        for slug in [
            "structure",
            "technology",
            "security",
            "kpi",
            "schedule",
            "complaints",
            "privacy",
            "accessibility",
            "contacts",
        ] {
            let page = read(out.path(), &format!("{lang}/{slug}/index.html"));
            // The language switch links the same page in every language.
            for other in ["kk", "ru", "en"] {
                assert!(
                    page.contains(&format!("hreflang=\"{other}\" href=\"/{other}/{slug}/\"")),
                    "{lang}/{slug} → {other}"
                );
            }
            assert!(
                page.contains("<time datetime=\"2026-"),
                "last updated on {lang}/{slug}"
            );
            assert!(!page.contains("<script"), "no JavaScript");
            assert!(
                !page.contains("{{"),
                "placeholders replaced on {lang}/{slug}"
            );
        }
        let feed = read(out.path(), &format!("{lang}/feed.xml"));
        assert!(feed.starts_with("<?xml") && feed.contains("<entry>"));
    }
    let en_structure = read(out.path(), "en/structure/index.html");
    assert!(
        en_structure.contains("class=\"org-chart\"")
            && en_structure.contains("General meeting of participants")
    );
    let kk_tech = read(out.path(), "kk/technology/index.html");
    assert!(
        kk_tech.contains("<caption>Пайдаланылатын технологиялар мен ақпараттық жүйелер</caption>")
    );
    let ru_kpi = read(out.path(), "ru/kpi/index.html");
    assert!(
        ru_kpi.contains("role=\"img\"")
            && ru_kpi.contains("<title id=\"chart-payments_count-t\">Количество платежей</title>")
    );
    assert!(
        ru_kpi.contains("не публикуется (менее 10 счетов)"),
        "the suppressed month says so"
    );
    assert!(ru_kpi.contains("<td class=\"num\">87.35</td>"));
    assert!(ru_kpi.contains("href=\"/data/kpi-payments_count.csv\""));
    let csv = read(out.path(), "data/kpi-collection_rate_pct.csv");
    assert_eq!(
        csv,
        "period,collection_rate_pct\n2026-09,\n2026-10,87.35\n2026-11,88.1\n"
    );
    let sitemap = read(out.path(), "sitemap.xml");
    assert_eq!(sitemap.matches("<url>").count(), 30);
    assert!(read(out.path(), "site.css").contains("@media print"));
    // Internal Markdown links point at the built pages.
    let en_home = read(out.path(), "en/index.html");
    assert!(
        en_home.contains("href=\"/en/complaints/\""),
        "links rewritten"
    );
}

#[test]
fn a_rendered_page_is_stable() {
    let (out, r) = build(&content(), Some(&kpi()));
    r.unwrap();
    let page = read(out.path(), "en/accessibility/index.html");
    let head: String = page.lines().take(8).collect::<Vec<_>>().join("\n");
    let expected = [
        "<!doctype html>",
        "<html lang=\"en\">",
        "<head>",
        "<meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<title>Accessibility statement — Demo USC — mandatory disclosures</title>",
        "<meta name=\"description\" content=\"How accessible this site and the personal cabinet are, their known limitations and how to report a problem.\">",
        "<link rel=\"stylesheet\" href=\"/site.css\">",
    ]
    .join("\n");
    assert_eq!(head, expected, "snapshot of the page head");
}

#[test]
fn a_broken_internal_link_fails_with_its_file_and_line() {
    let dir = copy_content();
    let file = dir.path().join("en/contacts.md");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}\nSee [the tariffs](tariffs.md).\n")).unwrap();
    let line = text.lines().count() + 2;
    let (_, r) = build(dir.path(), Some(&kpi()));
    let e = errors_of(r);
    assert!(
        e.contains(&format!(
            "en/contacts.md:{line}: broken internal link 'tariffs.md': no page 'tariffs' in en"
        )),
        "{e}"
    );
}

#[test]
fn a_page_missing_in_one_language_fails() {
    let dir = copy_content();
    std::fs::remove_file(dir.path().join("ru/privacy.md")).unwrap();
    let (_, r) = build(dir.path(), Some(&kpi()));
    let e = errors_of(r);
    assert!(
        e.contains("ru/privacy.md: missing: the page exists in another language"),
        "{e}"
    );
}

#[test]
fn invalid_front_matter_fails_with_the_line_and_reason() {
    let dir = copy_content();
    let file = dir.path().join("kk/schedule.md");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replacen("order = ", "colour = \"red\"\norder = ", 1),
    )
    .unwrap();
    let (_, r) = build(dir.path(), Some(&kpi()));
    let e = errors_of(r);
    assert!(
        e.contains("kk/schedule.md:") && e.contains("invalid front matter: unknown field `colour`"),
        "{e}"
    );
    let file = dir.path().join("kk/schedule.md");
    std::fs::write(&file, "no front matter here\n").unwrap();
    let (_, r) = build(dir.path(), Some(&kpi()));
    assert!(errors_of(r).contains("kk/schedule.md:1: the page must start with a '+++' line"));
}

#[test]
fn a_kpi_file_of_another_version_fails() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kpi.json");
    let text =
        std::fs::read_to_string(kpi())
            .unwrap()
            .replacen("\"version\": 1", "\"version\": 2", 1);
    std::fs::write(&file, text).unwrap();
    let (_, r) = build(&content(), Some(&file));
    let e = errors_of(r);
    assert!(
        e.contains("kpi.json:1: KPI file version 2; this build reads version 1"),
        "{e}"
    );
}
