//! `esep-site`: builds the USC's transparency site (D14 a–d, with D12 and D13) from
//! `content/` — per-language Markdown pages with TOML front matter, data files for the
//! organisational chart and the information systems — and the KPI file that
//! `esep kpi export` writes. The output is plain HTML and CSS that needs no JavaScript:
//! charts are inline SVG with their data as a table and as CSV and JSON files, every page
//! links to itself in the other languages, and there is a sitemap and an Atom feed per
//! language. Anything wrong fails the build with the file, the line and the reason.

mod charts;
pub mod i18n;

use esep_core::kpi::{KPI_VERSION, KpiFile};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// One reason the build failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub reason: String,
}

impl fmt::Display for SiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.file.display(), self.reason),
            None => write!(f, "{}: {}", self.file.display(), self.reason),
        }
    }
}

/// Every error of a failed build.
#[derive(Debug)]
pub struct BuildErrors(pub Vec<SiteError>);

impl fmt::Display for BuildErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.0 {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildErrors {}

fn err(file: &Path, line: Option<usize>, reason: impl Into<String>) -> SiteError {
    SiteError {
        file: file.to_path_buf(),
        line,
        reason: reason.into(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteToml {
    site: SiteSettings,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct SiteSettings {
    pub base_url: String,
    pub default_language: String,
    pub languages: Vec<String>,
    pub title: BTreeMap<String, String>,
    pub organisation: BTreeMap<String, String>,
}

#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    pub title: String,
    pub section: String,
    pub order: i64,
    pub updated: toml::value::Datetime,
    pub summary: String,
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub date: toml::value::Datetime,
    pub note: String,
}

const SECTIONS: &[&str] = &[
    "home",
    "structure",
    "technology",
    "security",
    "kpi",
    "schedule",
    "complaints",
    "privacy",
    "accessibility",
    "contacts",
];

/// A page of one language.
#[derive(Clone, Debug)]
pub struct Page {
    pub lang: String,
    pub slug: String,
    pub file: PathBuf,
    pub front: FrontMatter,
    /// The Markdown after the front matter, and the file line it starts on.
    pub body: String,
    pub body_line: usize,
}

impl Page {
    fn url(&self, base: &str) -> String {
        page_url(base, &self.lang, &self.slug)
    }
}

fn page_url(base: &str, lang: &str, slug: &str) -> String {
    if slug == "index" {
        format!("{base}{lang}/")
    } else {
        format!("{base}{lang}/{slug}/")
    }
}

pub struct BuildOptions<'a> {
    pub content: &'a Path,
    pub kpi: Option<&'a Path>,
    pub out: &'a Path,
}

#[derive(Debug, Default)]
pub struct BuildReport {
    pub pages: usize,
    pub files: usize,
}

fn date_of(d: &toml::value::Datetime) -> Option<String> {
    d.date
        .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
}

/// Reads a page: its front matter between `+++` lines, then the Markdown.
pub fn parse_page(file: &Path, lang: &str, text: &str) -> Result<Page, SiteError> {
    let slug = file
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text.strip_prefix("+++\n") else {
        return Err(err(
            file,
            Some(1),
            "the page must start with a '+++' line opening its TOML front matter",
        ));
    };
    let Some(end) = rest
        .find("\n+++\n")
        .or_else(|| rest.strip_suffix("\n+++").map(|r| r.len()))
    else {
        return Err(err(
            file,
            Some(1),
            "the front matter is not closed by a '+++' line",
        ));
    };
    let front_text = &rest[..end];
    let front: FrontMatter = toml::from_str(front_text).map_err(|e| {
        let line = e.span().map(|s| {
            front_text[..s.start.min(front_text.len())]
                .lines()
                .count()
                .max(1)
                + 1
        });
        err(file, line, format!("invalid front matter: {}", e.message()))
    })?;
    let front_lines = front_text.lines().count();
    if !SECTIONS.contains(&front.section.as_str()) {
        return Err(err(
            file,
            Some(2),
            format!(
                "unknown section '{}' (one of: {})",
                front.section,
                SECTIONS.join(", ")
            ),
        ));
    }
    for (what, d) in std::iter::once(("updated", &front.updated))
        .chain(front.changes.iter().map(|c| ("changes.date", &c.date)))
    {
        if date_of(d).is_none() || d.time.is_some() {
            return Err(err(
                file,
                Some(2),
                format!("{what} must be a date (YYYY-MM-DD), not '{d}'"),
            ));
        }
    }
    if front.title.trim().is_empty() {
        return Err(err(file, Some(2), "the title is empty"));
    }
    let body_start = (4 + end + 5).min(text.len());
    Ok(Page {
        lang: lang.to_string(),
        slug,
        file: file.to_path_buf(),
        front,
        body: text.get(body_start..).unwrap_or("").to_string(),
        body_line: front_lines + 3,
    })
}

fn read(file: &Path, errors: &mut Vec<SiteError>) -> Option<String> {
    match std::fs::read_to_string(file) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.push(err(file, None, format!("cannot be read: {e}")));
            None
        }
    }
}

fn write(path: &Path, contents: &str, report: &mut BuildReport) -> Result<(), SiteError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| err(dir, None, format!("cannot be created: {e}")))?;
    }
    std::fs::write(path, contents)
        .map_err(|e| err(path, None, format!("cannot be written: {e}")))?;
    report.files += 1;
    Ok(())
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct OrgNode {
    id: String,
    name: BTreeMap<String, String>,
    role: BTreeMap<String, String>,
    #[serde(default)]
    children: Vec<OrgNode>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct SystemRow {
    component: BTreeMap<String, String>,
    purpose: BTreeMap<String, String>,
    version: String,
    certification: BTreeMap<String, String>,
}

fn json_file<T: serde::de::DeserializeOwned>(
    file: &Path,
    errors: &mut Vec<SiteError>,
) -> Option<T> {
    let text = read(file, errors)?;
    match serde_json::from_str(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(err(file, Some(e.line()), format!("invalid: {e}")));
            None
        }
    }
}

/// Reads and checks a KPI file written by `esep kpi export`.
pub fn read_kpi(file: &Path) -> Result<KpiFile, SiteError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| err(file, None, format!("cannot be read: {e}")))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| err(file, Some(e.line()), format!("not JSON: {e}")))?;
    match v.get("version").and_then(serde_json::Value::as_u64) {
        Some(n) if n == u64::from(KPI_VERSION) => {}
        Some(n) => {
            return Err(err(
                file,
                Some(1),
                format!("KPI file version {n}; this build reads version {KPI_VERSION}"),
            ));
        }
        None => return Err(err(file, Some(1), "the KPI file has no version")),
    }
    serde_json::from_str(&text)
        .map_err(|e| err(file, Some(e.line()), format!("invalid KPI file: {e}")))
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].matches('\n').count() + 1
}

/// Renders a page's Markdown; `.md` links become the target page's URL in the same
/// language, and a link to a page that does not exist is an error at its line.
fn render_markdown(
    page: &Page,
    slugs: &std::collections::BTreeSet<String>,
    base: &str,
) -> Result<String, SiteError> {
    use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut first_error = None;
    let events: Vec<Event<'_>> = Parser::new_ext(&page.body, options)
        .into_offset_iter()
        .map(|(event, range)| match event {
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest = dest_url.to_string();
                let external = dest.contains("://")
                    || dest.starts_with("mailto:")
                    || dest.starts_with("tel:")
                    || dest.starts_with('/')
                    || dest.starts_with('#');
                let new_dest = if external {
                    dest_url
                } else {
                    let (path, anchor) = dest
                        .split_once('#')
                        .map_or((dest.as_str(), ""), |(p, a)| (p, a));
                    let target = path
                        .strip_suffix(".md")
                        .unwrap_or(path)
                        .trim_start_matches("./");
                    if !path.ends_with(".md") || !slugs.contains(target) {
                        if first_error.is_none() {
                            first_error = Some(err(
                                &page.file,
                                Some(page.body_line + line_of(&page.body, range.start) - 1),
                                format!(
                                    "broken internal link '{dest}': no page '{target}' in {}",
                                    page.lang
                                ),
                            ));
                        }
                        dest_url
                    } else {
                        let url = page_url(base, &page.lang, target);
                        CowStr::from(if anchor.is_empty() {
                            url
                        } else {
                            format!("{url}#{anchor}")
                        })
                    }
                };
                Event::Start(Tag::Link {
                    link_type,
                    dest_url: new_dest,
                    title,
                    id,
                })
            }
            Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
            other => other,
        })
        .collect();
    if let Some(e) = first_error {
        return Err(e);
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    // Tables scroll on narrow screens instead of overflowing the page; the scrolling region
    // takes keyboard focus so that it can be scrolled without a mouse.
    Ok(html
        .replace("<table>", &table_wrap(i18n::words(&page.lang).table))
        .replace("</table>", "</table></div>"))
}

/// The opening of a horizontally scrollable, keyboard-focusable table region.
pub(crate) fn table_wrap(label: &str) -> String {
    format!(
        "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"{}\"><table>",
        esc(label)
    )
}

fn org_chart(node: &OrgNode, lang: &str) -> String {
    let mut s = format!(
        "<li id=\"org-{}\"><span class=\"unit\">{}</span><span class=\"role\">{}</span>",
        esc(&node.id),
        esc(node.name.get(lang).map_or("", String::as_str)),
        esc(node.role.get(lang).map_or("", String::as_str))
    );
    if !node.children.is_empty() {
        s.push_str("<ul>");
        for c in &node.children {
            s.push_str(&org_chart(c, lang));
        }
        s.push_str("</ul>");
    }
    s.push_str("</li>");
    s
}

fn systems_table(rows: &[SystemRow], lang: &str) -> String {
    let w = i18n::words(lang);
    let get = |m: &BTreeMap<String, String>| esc(m.get(lang).map_or("", String::as_str));
    let mut s = format!(
        "{}<caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        table_wrap(w.systems_caption),
        w.systems_caption,
        w.component,
        w.purpose,
        w.version,
        w.certification
    );
    for r in rows {
        s.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            get(&r.component),
            get(&r.purpose),
            esc(&r.version),
            get(&r.certification)
        ));
    }
    s.push_str("</tbody></table></div>");
    s
}

/// Builds the whole site into `opts.out`.
pub fn build(opts: &BuildOptions<'_>) -> Result<BuildReport, BuildErrors> {
    let mut errors = Vec::new();
    let settings_file = opts.content.join("site.toml");
    let settings =
        read(&settings_file, &mut errors).and_then(|t| match toml::from_str::<SiteToml>(&t) {
            Ok(s) => Some(s.site),
            Err(e) => {
                let line = e.span().map(|s| line_of(&t, s.start));
                errors.push(err(
                    &settings_file,
                    line,
                    format!("invalid: {}", e.message()),
                ));
                None
            }
        });
    let Some(settings) = settings else {
        return Err(BuildErrors(errors));
    };
    for lang in &settings.languages {
        for (what, map) in [
            ("title", &settings.title),
            ("organisation", &settings.organisation),
        ] {
            if !map.contains_key(lang) {
                errors.push(err(
                    &settings_file,
                    None,
                    format!("site.{what} has no '{lang}'"),
                ));
            }
        }
    }
    let base = settings.base_url.clone();
    // Pages per language.
    let mut pages: BTreeMap<String, Vec<Page>> = BTreeMap::new();
    for lang in &settings.languages {
        let dir = opts.content.join(lang);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                errors.push(err(
                    &dir,
                    None,
                    format!("the language directory cannot be read: {e}"),
                ));
                continue;
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect();
        files.sort();
        for file in files {
            if let Some(text) = read(&file, &mut errors) {
                match parse_page(&file, lang, &text) {
                    Ok(p) => pages.entry(lang.clone()).or_default().push(p),
                    Err(e) => errors.push(e),
                }
            }
        }
    }
    // Every page in every language.
    let all_slugs: std::collections::BTreeSet<String> =
        pages.values().flatten().map(|p| p.slug.clone()).collect();
    for lang in &settings.languages {
        let have: Vec<&str> = pages
            .get(lang)
            .map(|v| v.iter().map(|p| p.slug.as_str()).collect())
            .unwrap_or_default();
        for slug in &all_slugs {
            if !have.contains(&slug.as_str()) {
                let other = pages
                    .values()
                    .flatten()
                    .find(|p| &p.slug == slug)
                    .map(|p| p.file.clone())
                    .unwrap_or_default();
                errors.push(err(
                    &opts.content.join(lang).join(format!("{slug}.md")),
                    None,
                    format!(
                        "missing: the page exists in another language ({})",
                        other.display()
                    ),
                ));
            }
        }
        if !have.contains(&"index") {
            errors.push(err(
                &opts.content.join(lang).join("index.md"),
                None,
                "missing: every language needs a home page",
            ));
        }
    }
    let org: Option<OrgNode> = json_file(&opts.content.join("data/org.json"), &mut errors);
    let systems: Option<Vec<SystemRow>> =
        json_file(&opts.content.join("data/systems.json"), &mut errors);
    let kpi = match opts.kpi {
        Some(f) => match read_kpi(f) {
            Ok(k) => Some(k),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None => None,
    };
    if !errors.is_empty() {
        return Err(BuildErrors(errors));
    }
    let mut report = BuildReport::default();
    let kpi_files = match &kpi {
        Some(k) => charts::data_files(k),
        None => Vec::new(),
    };
    for (name, contents) in &kpi_files {
        if let Err(e) = write(&opts.out.join("data").join(name), contents, &mut report) {
            errors.push(e);
        }
    }
    let slugs = &all_slugs;
    for lang in &settings.languages {
        let mut list = pages.remove(lang).unwrap_or_default();
        list.sort_by_key(|p| (p.front.order, p.slug.clone()));
        let mut seen = std::collections::HashSet::new();
        let sections: Vec<&Page> = list
            .iter()
            .filter(|p| seen.insert(p.front.section.clone()))
            .collect();
        for page in &list {
            let body = match render_markdown(page, slugs, &base) {
                Ok(b) => b,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let mut body = body;
            for (placeholder, html) in [
                ("{{ org_chart }}", org.as_ref().map(|o| format!("<figure class=\"org-chart\" aria-labelledby=\"org-caption\"><figcaption id=\"org-caption\">{}</figcaption><ul>{}</ul></figure>", i18n::words(lang).org_caption, org_chart(o, lang)))),
                ("{{ systems_table }}", systems.as_ref().map(|s| systems_table(s, lang))),
                ("{{ kpi_charts }}", Some(match &kpi {
                    Some(k) => charts::kpi_section(k, lang, &base),
                    None => format!("<p>{}</p>", i18n::words(lang).no_data),
                })),
            ] {
                let marker = format!("<p>{placeholder}</p>");
                if body.contains(&marker) {
                    body = body.replace(&marker, &html.unwrap_or_default());
                }
            }
            if let Some(i) = body.find("{{") {
                let rest: String = body[i..].chars().take(40).collect();
                errors.push(err(
                    &page.file,
                    None,
                    format!("unknown placeholder near '{rest}'"),
                ));
                continue;
            }
            let html = page_html(&settings, page, &sections, &body);
            let path = if page.slug == "index" {
                opts.out.join(lang).join("index.html")
            } else {
                opts.out.join(lang).join(&page.slug).join("index.html")
            };
            if let Err(e) = write(&path, &html, &mut report) {
                errors.push(e);
            }
            report.pages += 1;
        }
        if let Err(e) = write(
            &opts.out.join(lang).join("feed.xml"),
            &atom(&settings, lang, &list),
            &mut report,
        ) {
            errors.push(e);
        }
        pages.insert(lang.clone(), list);
    }
    let root = root_page(&settings);
    for (path, contents) in [
        (opts.out.join("index.html"), root),
        (
            opts.out.join("site.css"),
            include_str!("../assets/site.css").to_string(),
        ),
        (opts.out.join("sitemap.xml"), sitemap(&settings, &pages)),
    ] {
        if let Err(e) = write(&path, &contents, &mut report) {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(report)
    } else {
        Err(BuildErrors(errors))
    }
}

fn display_date(iso: &str) -> String {
    let p: Vec<&str> = iso.split('-').collect();
    if p.len() == 3 {
        format!("{}.{}.{}", p[2], p[1], p[0])
    } else {
        iso.to_string()
    }
}

/// A page; `sections` are the first page of each section, which the navigation lists.
fn page_html(settings: &SiteSettings, page: &Page, sections: &[&Page], body: &str) -> String {
    let lang = &page.lang;
    let w = i18n::words(lang);
    let base = &settings.base_url;
    let site_title = settings.title.get(lang).cloned().unwrap_or_default();
    let org = settings.organisation.get(lang).cloned().unwrap_or_default();
    let updated = date_of(&page.front.updated).unwrap_or_default();
    let mut alternates = String::new();
    let mut switch = String::new();
    for l in &settings.languages {
        let url = page_url(base, l, &page.slug);
        alternates.push_str(&format!(
            "<link rel=\"alternate\" hreflang=\"{l}\" href=\"{url}\">"
        ));
        let current = if l == lang {
            " aria-current=\"true\""
        } else {
            ""
        };
        switch.push_str(&format!(
            "<li><a href=\"{url}\" hreflang=\"{l}\" lang=\"{l}\"{current}>{}</a></li>",
            i18n::native_name(l)
        ));
    }
    alternates.push_str(&format!(
        "<link rel=\"alternate\" hreflang=\"x-default\" href=\"{}\">",
        page_url(base, &settings.default_language, &page.slug)
    ));
    let mut nav = String::new();
    for p in sections {
        let current = if p.slug == page.slug {
            " aria-current=\"page\""
        } else {
            ""
        };
        nav.push_str(&format!(
            "<li><a href=\"{}\"{current}>{}</a></li>",
            p.url(base),
            esc(&p.front.title)
        ));
    }
    let mut history = String::new();
    for c in &page.front.changes {
        let d = date_of(&c.date).unwrap_or_default();
        history.push_str(&format!(
            "<li><time datetime=\"{d}\">{}</time> — {}</li>",
            display_date(&d),
            esc(&c.note)
        ));
    }
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} — {site}</title>\n<meta name=\"description\" content=\"{summary}\">\n<link rel=\"stylesheet\" href=\"{base}site.css\">\n{alternates}\n\
         <link rel=\"alternate\" type=\"application/atom+xml\" title=\"{feed}\" href=\"{base}{lang}/feed.xml\">\n</head>\n<body>\n\
         <a class=\"skip\" href=\"#main\">{skip}</a>\n<header class=\"site\"><p class=\"org\"><a href=\"{home}\">{site}</a></p>\
         <nav aria-label=\"{language}\"><ul class=\"langs\">{switch}</ul></nav></header>\n\
         <div class=\"layout\">\n<nav class=\"contents\" aria-label=\"{contents}\"><ul>{nav}</ul></nav>\n\
         <main id=\"main\">\n<h1>{title}</h1>\n<p class=\"updated\">{updated_label}: <time datetime=\"{updated}\">{updated_display}</time></p>\n{body}\n\
         <section class=\"history\" aria-labelledby=\"history\"><h2 id=\"history\">{history_label}</h2><ul>{history}</ul></section>\n</main>\n</div>\n\
         <footer class=\"site\"><p>{org} · <a href=\"{base}{lang}/feed.xml\">{feed}</a></p></footer>\n</body>\n</html>\n",
        title = esc(&page.front.title),
        site = esc(&site_title),
        summary = esc(&page.front.summary),
        feed = w.feed,
        skip = w.skip,
        home = page_url(base, lang, "index"),
        language = w.language,
        contents = w.contents,
        updated_label = w.updated,
        updated_display = display_date(&updated),
        history_label = w.history,
        org = esc(&org),
    )
}

/// The root: the default language's home page address, for people and for crawlers.
fn root_page(settings: &SiteSettings) -> String {
    let base = &settings.base_url;
    let mut links = String::new();
    for l in &settings.languages {
        links.push_str(&format!(
            "<li><a href=\"{base}{l}/\" hreflang=\"{l}\" lang=\"{l}\">{} — {}</a></li>",
            i18n::native_name(l),
            esc(settings.title.get(l).map_or("", String::as_str))
        ));
    }
    let lang = &settings.default_language;
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<link rel=\"stylesheet\" href=\"{base}site.css\">\n</head>\n<body>\n<main id=\"main\" class=\"layout\">\n<h1>{}</h1>\n<ul>{links}</ul>\n</main>\n</body>\n</html>\n",
        esc(settings.title.get(lang).map_or("", String::as_str)),
        esc(settings.organisation.get(lang).map_or("", String::as_str)),
    )
}

fn sitemap(settings: &SiteSettings, pages: &BTreeMap<String, Vec<Page>>) -> String {
    let base = &settings.base_url;
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    for list in pages.values() {
        for p in list {
            s.push_str(&format!(
                "<url><loc>{}</loc><lastmod>{}</lastmod>",
                p.url(base),
                date_of(&p.front.updated).unwrap_or_default()
            ));
            for l in &settings.languages {
                s.push_str(&format!(
                    "<xhtml:link rel=\"alternate\" hreflang=\"{l}\" href=\"{}\"/>",
                    page_url(base, l, &p.slug)
                ));
            }
            s.push_str("</url>\n");
        }
    }
    s.push_str("</urlset>\n");
    s
}

/// An Atom feed of the disclosures' changes, newest first.
fn atom(settings: &SiteSettings, lang: &str, pages: &[Page]) -> String {
    let base = &settings.base_url;
    let mut entries: Vec<(String, &Page, &Change)> = pages
        .iter()
        .flat_map(|p| {
            p.front
                .changes
                .iter()
                .map(move |c| (date_of(&c.date).unwrap_or_default(), p, c))
        })
        .collect();
    entries.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.slug.cmp(&b.1.slug)));
    let updated = entries
        .first()
        .map_or("1970-01-01".to_string(), |e| e.0.clone());
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{lang}\">\n<title>{}</title>\n<id>{base}{lang}/feed.xml</id>\n\
         <link rel=\"self\" href=\"{base}{lang}/feed.xml\"/>\n<link href=\"{base}{lang}/\"/>\n<updated>{updated}T00:00:00Z</updated>\n<author><name>{}</name></author>\n",
        esc(settings.title.get(lang).map_or("", String::as_str)),
        esc(settings.organisation.get(lang).map_or("", String::as_str)),
    );
    for (date, page, change) in entries {
        s.push_str(&format!(
            "<entry><title>{} — {}</title><id>{}#{date}</id><link href=\"{}\"/><updated>{date}T00:00:00Z</updated><summary>{}</summary></entry>\n",
            esc(&page.front.title),
            display_date(&date),
            page.url(base),
            page.url(base),
            esc(&change.note)
        ));
    }
    s.push_str("</feed>\n");
    s
}
