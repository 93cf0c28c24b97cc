//! `cargo xtask demo|test|bench`: installs what is missing, builds, orchestrates.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const USAGE: &str = "usage:
  cargo xtask demo [--reset] [--accounts N] [--addr HOST:PORT]
      build, seed a demo city into data/esep.sqlite (kept between runs), serve it
  cargo xtask cabinet [--debug]
      build the personal cabinet (Trunk) into target/cabinet, for `esep serve --cabinet`
  cargo xtask test
      every test: unit, API and CLI on SQLite, and on PostgreSQL when DATABASE_URL is set
  cargo xtask bench [billing|payments|site|cabinet|lighthouse|api] [--accounts N] [--payments N] [--concurrency N]
      billing run and payment callback figures on SQLite and PostgreSQL, site build time,
      the cabinet's transferred size, Lighthouse scores, the API under load (wrk);
      written to target/bench/
  cargo xtask fuzz [TARGET...] [--seconds N] [--replay]
      libFuzzer (cargo-fuzz, stable, no sanitizer) on each parser of outside input, growing
      and minimising fuzz/corpus/TARGET; coverage to target/bench/fuzz.json. --replay runs
      the corpus once";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("fuzz") => fuzz(&args[1..]),
        Some("cabinet") => build_cabinet(!flag(&args[1..], "--debug")).map(|dir| {
            println!("The cabinet is in {}", dir.display());
        }),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// The month before this one, `YYYY-MM` (the demo's last billed period).
fn previous_month() -> String {
    let out = Command::new("date").arg("+%Y-%m").output().ok();
    let now = out
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    months_before(&now, 1)
}

fn months_before(period: &str, n: u32) -> String {
    let (y, m) = period.split_once('-').unwrap_or(("2026", "11"));
    let (mut y, mut m): (i32, i32) = (y.parse().unwrap_or(2026), m.parse().unwrap_or(11));
    for _ in 0..n {
        m -= 1;
        if m == 0 {
            m = 12;
            y -= 1;
        }
    }
    format!("{y:04}-{m:02}")
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

fn flag(args: &[String], name: &str) -> bool {
    args.iter().any(|a| a == name)
}

fn option(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn demo(args: &[String]) -> Result<()> {
    let accounts = option(args, "--accounts").unwrap_or_else(|| "2000".into());
    let addr = option(args, "--addr").unwrap_or_else(|| "127.0.0.1:8080".into());
    println!("== Building esep (release) ==");
    run(cargo().args(["build", "--release", "-p", "esep-server"]))?;
    let esep = target_dir().join("release/esep");
    let db = format!("sqlite://{}", root().join("data/esep.sqlite").display());
    let mut seed = Command::new(&esep);
    seed.args(["demo", "--accounts", &accounts])
        .env("DATABASE_URL", &db);
    if flag(args, "--reset") {
        seed.arg("--reset");
    }
    println!("== Seeding the demo city (kept between runs; --reset starts over) ==");
    run(&mut seed)?;
    // The transparency site (D14) from the demo's own KPIs.
    println!("== Building the transparency site ==");
    let through = previous_month();
    let from = months_before(&through, 11);
    run(Command::new(&esep)
        .args([
            "kpi",
            "export",
            "--period-from",
            &from,
            "--period-to",
            &through,
            "--out",
        ])
        .arg(root().join("data/kpi.json"))
        .env("DATABASE_URL", &db))?;
    run(Command::new(&esep)
        .args(["site", "build", "--content"])
        .arg(root().join("content"))
        .arg("--kpi")
        .arg(root().join("data/kpi.json"))
        .arg("--out")
        .arg(root().join("data/site")))?;
    // The personal cabinet (Leptos, WebAssembly), served at /cabinet/.
    let cabinet = build_cabinet(true)?;
    // The two SANDBOX banks of the demo (server/src/demo.rs), stopped with the demo.
    let mut banks = Vec::new();
    for (name, port, secret) in [
        ("halyk-sandbox", "8091", "demo-sandbox-secret-1"),
        ("kaspi-sandbox", "8092", "demo-sandbox-secret-2"),
    ] {
        let child = Command::new(&esep)
            .args([
                "sandbox-bank",
                "--name",
                name,
                "--port",
                port,
                "--secret",
                secret,
                "--exit-on-stdin-eof",
            ])
            .stdin(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting the sandbox bank {name}"))?;
        banks.push(child);
    }
    println!();
    println!("Esep demo on http://{addr}/ (the transparency site: /kk/, /ru/, /en/)");
    println!("  cabinet:  http://{addr}/cabinet/ (sign in with a demo login above)");
    println!("  sandbox banks: http://127.0.0.1:8091/ and http://127.0.0.1:8092/ (no real money)");
    println!("  API:      http://{addr}/api/v1/openapi.json");
    println!("  health:   http://{addr}/api/v1/health");
    println!(
        "  sign in:  POST http://{addr}/api/v1/session {{\"login\": \"<IIN, phone or staff login>\", \"password\": \"demo-password\"}}"
    );
    println!("Stop with Ctrl-C.");
    let served = run(Command::new(&esep)
        .args([
            "serve",
            "--addr",
            &addr,
            "--public-url",
            &format!("http://{addr}"),
            "--site",
        ])
        .arg(root().join("data/site"))
        .arg("--cabinet")
        .arg(&cabinet)
        .env("DATABASE_URL", &db));
    for mut b in banks {
        let _ = b.kill();
        let _ = b.wait();
    }
    served
}

/// Drops the schemas that earlier test runs left in the PostgreSQL of `DATABASE_URL`.
fn clean_test_schemas(url: &str) {
    let sql = "DO $$ DECLARE s text; BEGIN FOR s IN SELECT nspname FROM pg_namespace WHERE nspname LIKE 'esep\\_t%' \
               LOOP EXECUTE 'DROP SCHEMA ' || quote_ident(s) || ' CASCADE'; END LOOP; END $$;";
    let ok = Command::new("psql")
        .args([url, "-q", "-c", sql])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        println!("note: could not drop old esep_t* test schemas (psql missing?); continuing");
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs Debian packages when missing (as root), or says which are needed.
fn ensure_packages(tool: &str, packages: &[&str]) -> Result<()> {
    if have(tool) {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "{tool} is missing: install the Debian packages {} (apt-get install {})",
            packages.join(" "),
            packages.join(" ")
        );
    }
    println!("== Installing {} ==", packages.join(" "));
    let _ = Command::new("apt-get")
        .args(["update", "-q"])
        .stdout(Stdio::null())
        .status();
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "-q"])
        .args(packages)
        .stdout(Stdio::null());
    run(&mut install)
}

/// The official ISO 20022 pain.001.001.09 schema, as shipped in the PyPI package
/// `sepaxml` 2.7.0 (sepaxml/schemas/pain.001.001.09.xsd), kept under target/xsd.
fn pain001_schema() -> Result<PathBuf> {
    let dir = target_dir().join("xsd");
    let xsd = dir.join("pain.001.001.09.xsd");
    if xsd.exists() {
        return Ok(xsd);
    }
    std::fs::create_dir_all(&dir)?;
    println!("== Fetching the pain.001.001.09 schema (PyPI package sepaxml 2.7.0) ==");
    run(Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "sepaxml==2.7.0",
            "-d",
        ])
        .arg(&dir))?;
    let script = "import sys, zipfile, glob; w = glob.glob(sys.argv[1] + '/sepaxml-2.7.0-*.whl')[0];                   open(sys.argv[2], 'wb').write(zipfile.ZipFile(w).read('sepaxml/schemas/pain.001.001.09.xsd'))";
    run(Command::new("python3")
        .args(["-c", script])
        .arg(&dir)
        .arg(&xsd))?;
    Ok(xsd)
}

/// Starts `esep serve` on a free port against `db` (it stops when our end of its stdin
/// closes) and waits until it accepts connections.
fn spawn_serve(esep: &Path, db: &str, extra: &[&str]) -> Result<(std::process::Child, u16)> {
    spawn_serve_env(esep, db, extra, &[])
}

/// [`spawn_serve`] with more environment variables for the server.
fn spawn_serve_env(
    esep: &Path,
    db: &str,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> Result<(std::process::Child, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut server = Command::new(esep)
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--exit-on-stdin-eof",
        ])
        .args(extra)
        .env("DATABASE_URL", db)
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            let _ = server.kill();
            bail!("esep serve did not start");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok((server, port))
}

/// Chromium, chromedriver, a Java runtime (the Nu checker), zbarimg (the UPD's QR code) and
/// the npm packages of tests/browser (axe-core, vnu-jar, playwright-core).
fn ensure_browser() -> Result<PathBuf> {
    ensure_packages("chromium", &["chromium", "chromium-driver"])?;
    ensure_packages("chromedriver", &["chromium-driver"])?;
    ensure_packages("java", &["default-jre-headless"])?;
    ensure_packages("zbarimg", &["zbar-tools"])?;
    let browser_dir = root().join("tests/browser");
    if !browser_dir.join("node_modules/axe-core").exists()
        || !browser_dir.join("node_modules/vnu-jar").exists()
        || !browser_dir.join("node_modules/playwright-core").exists()
    {
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&browser_dir))?;
    }
    Ok(browser_dir)
}

/// The cabinet's components (the UPD view, the pay form) mounted in headless Chromium by
/// wasm-bindgen-test, with data of their own (app/tests/components.rs).
fn component_tests() -> Result<()> {
    println!("== Cabinet components in Chromium (wasm-bindgen-test) ==");
    let mut c = cargo();
    c.args(["test", "--target", "wasm32-unknown-unknown"])
        // app/webdriver.json: Chromium's flags for a headless root session without network.
        .current_dir(root().join("app"))
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("XDG_CONFIG_HOME", target_dir().join("chromium-config"))
        .env("XDG_CACHE_HOME", target_dir().join("chromium-cache"))
        // The cabinet keeps its own target dir (app/target), as the Trunk build does.
        .env_remove("CARGO_TARGET_DIR");
    run(&mut c)
}

/// The transparency site, built from the real content, checked in the machine's Chromium
/// with axe-core (served by the real `esep serve`) and by the Nu HTML Checker.
fn browser_checks() -> Result<()> {
    println!("== Browser: the transparency site ==");
    let browser_dir = ensure_browser()?;
    let esep = target_dir().join("debug/esep");
    let site = target_dir().join("site-test");
    let _ = std::fs::remove_dir_all(&site);
    run(Command::new(&esep)
        .args(["site", "build", "--content"])
        .arg(root().join("content"))
        .arg("--kpi")
        .arg(root().join("site-gen/tests/fixtures/kpi.json"))
        .arg("--out")
        .arg(&site))?;
    println!("== Nu HTML Checker on every page ==");
    run(Command::new("java")
        .arg("-jar")
        .arg(browser_dir.join("node_modules/vnu-jar/build/dist/vnu.jar"))
        .args(["--errors-only", "--skip-non-html"])
        .arg(&site))?;
    println!("   no errors");
    let db = format!(
        "sqlite://{}",
        target_dir().join("site-test.sqlite").display()
    );
    let site_arg = site.display().to_string();
    let (mut server, port) = spawn_serve(&esep, &db, &["--site", &site_arg])?;
    println!("== axe-core in Chromium on every page ==");
    let checked = run(Command::new("node")
        .arg(browser_dir.join("site-a11y.mjs"))
        .arg(format!("http://127.0.0.1:{port}"))
        .env("XDG_CONFIG_HOME", target_dir().join("chromium-config"))
        .env("XDG_CACHE_HOME", target_dir().join("chromium-cache")));
    let _ = server.kill();
    let _ = server.wait();
    checked
}

/// Signs a demo user in (password `demo-password`) on the server at `port` and returns the
/// value of its session cookie.
fn session_token(port: u16, login: &str) -> Result<String> {
    let body = format!("{{\"login\":\"{login}\",\"password\":\"demo-password\"}}");
    let headers = output_of(Command::new("curl").args([
        "-s",
        "-D",
        "-",
        "-o",
        "/dev/null",
        "-H",
        "content-type: application/json",
        "-d",
        &body,
        &format!("http://127.0.0.1:{port}/api/v1/session"),
    ]));
    headers
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: esep_session=")
        })
        .and_then(|l| {
            l.split_once('=')
                .map(|(_, v)| v.split(';').next().unwrap_or("").to_string())
        })
        .context("the session cookie")
}

/// The login of the first demo consumer in what `esep demo` printed.
fn first_consumer(demo_output: &str) -> Result<String> {
    demo_output
        .lines()
        .find(|l| l.trim_start().starts_with("consumer"))
        .and_then(|l| l.split_whitespace().nth(1))
        .map(str::to_string)
        .context("a demo consumer in the output of esep demo")
}

/// The number of the signed-in consumer's current UPD (of their first account).
fn current_upd(base: &str, cookie: &str) -> Result<String> {
    let accounts = output_of(Command::new("curl").args([
        "-s",
        "-H",
        &format!("cookie: {cookie}"),
        &format!("{base}/api/v1/accounts"),
    ]));
    accounts
        .split("\"current_upd\":{\"number\":\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(str::to_string)
        .context("the consumer's current UPD")
}

/// schemathesis (PyPI) against the OpenAPI document of a running demo, signed in as a
/// consumer: no 5xx, and every response conforms to the schema.
fn api_contract() -> Result<()> {
    println!("== API contract: schemathesis ==");
    if !have("st") {
        run(Command::new("python3").args(["-m", "pip", "install", "-q", "schemathesis==4.32.5"]))?;
    }
    let esep = target_dir().join("debug/esep");
    let file = target_dir().join("contract.sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    let db = format!("sqlite://{}", file.display());
    let out = Command::new(&esep)
        .args([
            "demo",
            "--accounts",
            "30",
            "--months",
            "2",
            "--consumers",
            "2",
        ])
        .env("DATABASE_URL", &db)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let login = first_consumer(&text)?;
    // The demo's two banks, answering on ports of this run's own: a payment the contract
    // test starts reaches a bank, as it would in production.
    let mut banks = Vec::new();
    for (i, (code, name, bank, secret)) in [
        (
            "halyk-sandbox",
            "Sandbox Halyk (demo)",
            "601",
            "demo-sandbox-secret-1",
        ),
        (
            "kaspi-sandbox",
            "Sandbox Kaspi (demo)",
            "722",
            "demo-sandbox-secret-2",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(&esep)
            .args(["sandbox-bank", "--name", code, "--port", &port.to_string()])
            .args(["--secret", secret, "--exit-on-stdin-eof"])
            .env("DATABASE_URL", &db)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        banks.push(child);
        run(Command::new(&esep)
            .args(["bank", "set", "--code", code, "--name", name])
            .args(["--url", &format!("http://127.0.0.1:{port}")])
            .args([
                "--transit-iban",
                &kz_iban(&format!("{bank}KZT77700000{i:02}")),
            ])
            .args(["--secret", secret, "--sandbox"])
            .env("DATABASE_URL", &db)
            .stdout(Stdio::null()))?;
    }
    let (mut server, port) = spawn_serve(&esep, &db, &["--signin-ip-limit", "100000"])?;
    let token = session_token(port, &login)?;
    let checked = run(Command::new("st")
        .args([
            "run",
            &format!("http://127.0.0.1:{port}/api/v1/openapi.json"),
            "-H",
        ])
        .arg(format!("Cookie: esep_session={token}"))
        .args([
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--max-examples",
            "30",
            "--seed",
            "20261203",
            "--exclude-method",
            "DELETE",
            // An event stream never ends: it has its own test.
            "--exclude-path",
            "/api/v1/chat/events",
        ]));
    let _ = server.kill();
    let _ = server.wait();
    for mut b in banks {
        let _ = b.kill();
        let _ = b.wait();
    }
    checked
}

/// A Kazakh IBAN for a BBAN (3-digit bank code + 13 characters): ISO 13616 check digits.
fn kz_iban(bban: &str) -> String {
    let digits: String = format!("{bban}KZ00")
        .chars()
        .map(|c| match c.to_digit(36) {
            Some(d) => d.to_string(),
            None => String::new(),
        })
        .collect();
    let rest = digits
        .bytes()
        .fold(0u32, |r, b| (r * 10 + u32::from(b - b'0')) % 97);
    format!("KZ{:02}{bban}", 98 - rest)
}

fn test(_args: &[String]) -> Result<()> {
    let started = Instant::now();
    ensure_packages("xmllint", &["libxml2-utils"])?;
    ensure_packages("pdftotext", &["poppler-utils"])?;
    let xsd = pain001_schema()?;
    let pg = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"));
    println!("== Formatting ==");
    run(cargo().args(["fmt", "--all", "--check"]))?;
    run(cargo()
        .args(["fmt", "--all", "--check"])
        .current_dir(root().join("app")))?;
    println!("== Lints: clippy, warnings are errors ==");
    run(cargo().args(["clippy", "--all-targets", "--quiet", "--", "-D", "warnings"]))?;
    println!("== Building esep ==");
    run(cargo().args(["build", "-p", "esep-server"]))?;
    ensure_browser()?;
    let cabinet = build_cabinet(true)?;
    run(cargo()
        .args([
            "clippy",
            "--all-targets",
            "--quiet",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ])
        .current_dir(root().join("app"))
        .env_remove("CARGO_TARGET_DIR"))?;
    if let Some(url) = &pg {
        clean_test_schemas(url);
    }
    println!("== Tests: unit, then the real esep binary over HTTP and its CLI ==");
    let mut t = cargo();
    t.args(["test", "--workspace"])
        .env("ESEP_PAIN001_XSD", &xsd)
        .env("ESEP_REQUIRE_XSD", "1")
        .env("ESEP_CABINET_DIR", &cabinet);
    if pg.is_none() {
        t.env_remove("DATABASE_URL");
    }
    run(&mut t)?;
    component_tests()?;
    browser_checks()?;
    api_contract()?;
    println!();
    println!("Backends tested:");
    println!("  SQLite      yes (embedded, a fresh file per suite)");
    match &pg {
        Some(_) => println!("  PostgreSQL  yes (DATABASE_URL, a fresh schema per suite)"),
        None => {
            println!("  PostgreSQL  NO: set DATABASE_URL=postgres://… to test it (.ci/run does)")
        }
    }
    println!(
        "  pain.001    validated with xmllint against {}",
        xsd.display()
    );
    println!(
        "  Browser     the transparency site: axe-core in Chromium on every page (kk, ru, en); Nu HTML Checker"
    );
    println!(
        "  Cabinet     Chromium via chromedriver: sign in, UPD, pay through a sandbox bank, reading, complaint, chat, operator console, PDF + QR; axe-core (kk, ru, en); components by wasm-bindgen-test"
    );
    println!(
        "  Faults      SIGKILL amid 10 000 payments, a billing run and a payout run; database connections cut (PostgreSQL): 503 and recovery"
    );
    println!(
        "  Fuzzing     every committed corpus in fuzz/corpus replayed through its target (cargo xtask fuzz grows them)"
    );
    println!(
        "All tests passed in {:.0} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

struct BenchResult {
    backend: &'static str,
    accounts: u64,
    seconds: f64,
    upds_per_sec: f64,
    lines: u64,
    peak_mib: f64,
    /// The same rows inserted raw into tables of the same shape (`esep bench inserts`).
    raw_seconds: f64,
}

fn bench(args: &[String]) -> Result<()> {
    let what = args.first().filter(|a| !a.starts_with("--")).cloned();
    match what.as_deref() {
        None => {
            bench_billing(args)?;
            bench_payments(args)?;
            bench_site()?;
            bench_cabinet()?;
            bench_lighthouse()?;
            bench_api(args)
        }
        Some("billing") => bench_billing(args),
        Some("payments") => bench_payments(args),
        Some("site") => bench_site(),
        Some("cabinet") => bench_cabinet(),
        Some("api") => bench_api(args),
        Some("lighthouse") => bench_lighthouse(),
        Some(other) => {
            bail!(
                "unknown benchmark '{other}' (available: billing, payments, site, cabinet, api, lighthouse)"
            )
        }
    }
}

/// The databases a benchmark runs on: a fresh SQLite file, and a fresh schema in the
/// PostgreSQL of DATABASE_URL (or the machine's 127.0.0.1:5432) when psql reaches it.
fn bench_backends(name: &str) -> Result<Vec<(&'static str, String)>> {
    let out_dir = target_dir().join("bench");
    std::fs::create_dir_all(&out_dir)?;
    let file = out_dir.join(format!("{name}.sqlite"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    let mut backends = vec![("SQLite", format!("sqlite://{}", file.display()))];
    let pg = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("esep_bench_{name}");
    let pg_ok = Command::new("psql")
        .args([
            pg.as_str(),
            "-q",
            "-c",
            &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if pg_ok {
        let sep = if pg.contains('?') { '&' } else { '?' };
        backends.push((
            "PostgreSQL",
            format!("{pg}{sep}options=-c%20search_path%3D{schema}"),
        ));
    } else {
        println!("note: no PostgreSQL reachable at {pg}; benchmarking SQLite only");
    }
    Ok(backends)
}

/// Writes a synthetic site of `pages` pages (a third per language) for the site benchmark.
fn synthetic_content(dir: &Path, pages: usize) -> Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("data"))?;
    for f in ["site.toml", "data/org.json", "data/systems.json"] {
        std::fs::copy(root().join("content").join(f), dir.join(f))?;
    }
    let per_lang = pages / 3;
    for lang in ["kk", "ru", "en"] {
        std::fs::create_dir_all(dir.join(lang))?;
        for i in 0..per_lang {
            let slug = if i == 0 {
                "index".to_string()
            } else {
                format!("page-{i:05}")
            };
            let next = format!("page-{:05}", i % (per_lang - 1) + 1);
            let body = format!(
                "## Section {i}\n\nҚазақша мәтін, русский текст and English text, with a [link]({next}.md).\n\n\
                 | Service | Tariff | Unit |\n|---|---|---|\n| Cold water | 91.96 | m³ |\n| Heating | 394.37 | m² |\n\n\
                 - one\n- two\n- three\n\n{}\n",
                "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(12)
            );
            std::fs::write(
                dir.join(lang).join(format!("{slug}.md")),
                format!(
                    "+++\ntitle = \"Page {i}\"\nsection = \"home\"\norder = {i}\nupdated = 2026-11-20\nsummary = \"Synthetic page {i}\"\n[[changes]]\ndate = 2026-11-20\nnote = \"Created\"\n+++\n\n{body}"
                ),
            )?;
        }
    }
    Ok(())
}

fn bench_site() -> Result<()> {
    run(cargo().args(["build", "--release", "-p", "esep-site"]))?;
    let bin = target_dir().join("release/esep-site");
    let out_dir = target_dir().join("bench");
    let kpi = root().join("site-gen/tests/fixtures/kpi.json");
    let synthetic = out_dir.join("site-content");
    synthetic_content(&synthetic, 10_000)?;
    let mut rows = Vec::new();
    for (name, content, pages) in [
        ("real content", root().join("content"), 30usize),
        ("synthetic", synthetic, 9_999),
    ] {
        let out = out_dir.join("site-out");
        let _ = std::fs::remove_dir_all(&out);
        let started = Instant::now();
        let status = Command::new(&bin)
            .arg("build")
            .arg("--content")
            .arg(&content)
            .arg("--kpi")
            .arg(&kpi)
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::null())
            .status()?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if !status.success() {
            bail!("the {name} site did not build");
        }
        rows.push((name, pages, ms, ms / pages as f64));
    }
    println!();
    println!("| site | pages | build ms | ms per page |");
    println!("|---|---:|---:|---:|");
    let mut json = String::from("[\n");
    for (i, (name, pages, ms, per)) in rows.iter().enumerate() {
        println!("| {name} | {pages} | {ms:.0} | {per:.3} |");
        json.push_str(&format!(
            "  {{\"bench\": \"site\", \"site\": \"{name}\", \"pages\": {pages}, \"build_ms\": {ms:.1}, \"ms_per_page\": {per:.4}}}{}\n",
            if i + 1 < rows.len() { "," } else { "" }
        ));
    }
    json.push(']');
    std::fs::write(out_dir.join("site.json"), json)?;
    println!(
        "Written to {} (Zola's published figure: about 0.9 ms per page)",
        out_dir.join("site.json").display()
    );
    Ok(())
}

/// What a phone downloads to open the cabinet: every file its index.html loads, fetched
/// from a running `esep serve` with `Accept-Encoding: br`, counted as the bytes that crossed
/// the wire (the issue's target: under 250 KB).
fn bench_cabinet() -> Result<()> {
    let cabinet = build_cabinet(true)?;
    run(cargo().args(["build", "--release", "-p", "esep-server"]))?;
    let esep = target_dir().join("release/esep");
    let out_dir = target_dir().join("bench");
    std::fs::create_dir_all(&out_dir)?;
    let file = out_dir.join("cabinet.sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    let db = format!("sqlite://{}", file.display());
    let dir = cabinet.display().to_string();
    let (mut server, port) = spawn_serve(&esep, &db, &["--cabinet", &dir])?;
    let measured = (|| -> Result<Vec<(String, u64, u64)>> {
        let index = std::fs::read_to_string(cabinet.join("index.html"))?;
        let mut files = vec!["index.html".to_string()];
        for attr in ["href=\"/cabinet/", "src=\"/cabinet/"] {
            for part in index.split(attr).skip(1) {
                if let Some(name) = part.split('"').next()
                    && !files.iter().any(|f| f == name)
                {
                    files.push(name.to_string());
                }
            }
        }
        // The wasm is loaded by the JS glue, not by index.html.
        for entry in std::fs::read_dir(&cabinet)? {
            let name = entry?.file_name().to_string_lossy().to_string();
            if name.ends_with(".wasm") && !files.contains(&name) {
                files.push(name);
            }
        }
        let mut rows = Vec::new();
        for name in files {
            let url = format!("http://127.0.0.1:{port}/cabinet/{name}");
            let wire = output_of(Command::new("curl").args([
                "-s",
                "-o",
                "/dev/null",
                "-H",
                "accept-encoding: br",
                "-w",
                "%{size_download}",
                &url,
            ]));
            let wire: u64 = wire
                .parse()
                .with_context(|| format!("fetching {url} with curl"))?;
            let raw = std::fs::metadata(cabinet.join(&name))?.len();
            rows.push((name, raw, wire));
        }
        Ok(rows)
    })();
    let _ = server.kill();
    let _ = server.wait();
    let rows = measured?;
    let total_raw: u64 = rows.iter().map(|r| r.1).sum();
    let total_wire: u64 = rows.iter().map(|r| r.2).sum();
    println!();
    println!("| cabinet file | raw KB | transferred KB (brotli) |");
    println!("|---|---:|---:|");
    let mut json = String::from("{\"bench\": \"cabinet\", \"files\": [\n");
    for (i, (name, raw, wire)) in rows.iter().enumerate() {
        println!(
            "| {name} | {:.1} | {:.1} |",
            *raw as f64 / 1000.0,
            *wire as f64 / 1000.0
        );
        json.push_str(&format!(
            "  {{\"file\": \"{name}\", \"raw_bytes\": {raw}, \"transferred_bytes\": {wire}}}{}\n",
            if i + 1 < rows.len() { "," } else { "" }
        ));
    }
    println!(
        "| **total** | {:.1} | {:.1} |",
        total_raw as f64 / 1000.0,
        total_wire as f64 / 1000.0
    );
    json.push_str(&format!(
        "], \"raw_bytes\": {total_raw}, \"transferred_bytes\": {total_wire}, \"target_bytes\": 250000}}\n"
    ));
    let file = out_dir.join("cabinet.json");
    std::fs::write(&file, json)?;
    println!(
        "Transferred {:.1} KB of the 250 KB target; written to {}",
        total_wire as f64 / 1000.0,
        file.display()
    );
    Ok(())
}

/// Lighthouse (npm `lighthouse` 12, the machine's Chromium, mobile settings) on the site's
/// pages in the three languages and on the cabinet's sign-in and UPD pages, served by the
/// real `esep serve`: performance, accessibility and best practices, 0–100.
fn bench_lighthouse() -> Result<()> {
    ensure_browser()?;
    npm_tool(
        "lighthouse",
        "lighthouse@12",
        "Lighthouse (npm lighthouse 12)",
    )?;
    let lighthouse = tools_bin().join("lighthouse");
    let cabinet = build_cabinet(true)?;
    run(cargo().args(["build", "--release", "-p", "esep-server"]))?;
    let esep = target_dir().join("release/esep");
    let out_dir = target_dir().join("bench");
    std::fs::create_dir_all(&out_dir)?;
    let file = out_dir.join("lighthouse.sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    let db = format!("sqlite://{}", file.display());
    let seeded = Command::new(&esep)
        .args([
            "demo",
            "--accounts",
            "100",
            "--months",
            "12",
            "--consumers",
            "2",
        ])
        .env("DATABASE_URL", &db)
        .output()?;
    let text = String::from_utf8_lossy(&seeded.stdout).to_string();
    let login = first_consumer(&text)?;
    let site = out_dir.join("lighthouse-site");
    let _ = std::fs::remove_dir_all(&site);
    run(Command::new(&esep)
        .args(["site", "build", "--content"])
        .arg(root().join("content"))
        .arg("--kpi")
        .arg(root().join("site-gen/tests/fixtures/kpi.json"))
        .arg("--out")
        .arg(&site)
        .stdout(Stdio::null()))?;
    let (site_arg, cabinet_arg) = (site.display().to_string(), cabinet.display().to_string());
    let (mut server, port) = spawn_serve(
        &esep,
        &db,
        &["--site", &site_arg, "--cabinet", &cabinet_arg],
    )?;
    let measured = (|| -> Result<Vec<(String, String)>> {
        let base = format!("http://127.0.0.1:{port}");
        let cookie = format!("esep_session={}", session_token(port, &login)?);
        let upd = current_upd(&base, &cookie)?;
        let mut pages: Vec<(String, Option<&str>)> = Vec::new();
        for lang in ["kk", "ru", "en"] {
            for page in ["", "kpi/", "structure/", "technology/"] {
                pages.push((format!("/{lang}/{page}"), None));
            }
        }
        pages.push(("/cabinet/".into(), None));
        pages.push((format!("/cabinet/upds/{upd}"), Some(cookie.as_str())));
        let profile = out_dir.join("lighthouse-chrome");
        let mut rows = Vec::new();
        for (path, cookie) in pages {
            let report = out_dir.join("lighthouse-report.json");
            let _ = std::fs::remove_file(&report);
            let mut lh = Command::new(&lighthouse);
            lh.arg(format!("{base}{path}"))
                .args([
                    "--quiet",
                    "--output=json",
                    "--only-categories=performance,accessibility,best-practices",
                    "--form-factor=mobile",
                    "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync",
                ])
                .arg(format!("--output-path={}", report.display()))
                .env("CHROME_PATH", "/usr/bin/chromium")
                .env("XDG_CONFIG_HOME", profile.join("config"))
                .env("XDG_CACHE_HOME", profile.join("cache"))
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Some(c) = cookie {
                lh.arg(format!("--extra-headers={{\"Cookie\": \"{c}\"}}"));
            }
            let status = lh.status().context("running lighthouse")?;
            if !status.success() {
                bail!("lighthouse failed on {path}");
            }
            let scores = output_of(
                Command::new("node")
                    .arg("-e")
                    .arg(
                        "const r = require(process.argv[1]); \
                         console.log(['performance', 'accessibility', 'best-practices'] \
                           .map(c => Math.round(r.categories[c].score * 100)).join(' '));",
                    )
                    .arg(&report),
            );
            // A signed-in page is scored only if it showed what it is for: the UPD page must
            // have loaded its document (not fallen back to the sign-in form).
            if cookie.is_some() {
                let loaded = output_of(
                    Command::new("node")
                        .arg("-e")
                        .arg(
                            "const r = require(process.argv[1]); \
                             const items = (r.audits['network-requests'].details || {}).items || []; \
                             console.log(items.some(i => i.url.includes('/api/v1/upds/') && i.statusCode === 200));",
                        )
                        .arg(&report),
                );
                if loaded.trim() != "true" {
                    bail!(
                        "{path} did not load its UPD under Lighthouse: its score would be another page's"
                    );
                }
            }
            println!("   {path}: {scores}");
            rows.push((path, scores));
        }
        Ok(rows)
    })();
    let _ = server.kill();
    let _ = server.wait();
    let rows = measured?;
    println!();
    println!("| page | performance | accessibility | best practices |");
    println!("|---|---:|---:|---:|");
    let mut json = String::from("[\n");
    for (i, (path, scores)) in rows.iter().enumerate() {
        let s: Vec<&str> = scores.split_whitespace().collect();
        let get = |n: usize| s.get(n).copied().unwrap_or("null");
        println!("| {path} | {} | {} | {} |", get(0), get(1), get(2));
        json.push_str(&format!(
            "  {{\"bench\": \"lighthouse\", \"page\": \"{path}\", \"performance\": {}, \"accessibility\": {}, \"best_practices\": {}}}{}\n",
            get(0),
            get(1),
            get(2),
            if i + 1 < rows.len() { "," } else { "" }
        ));
    }
    json.push(']');
    let file = out_dir.join("lighthouse.json");
    std::fs::write(&file, json)?;
    println!("Written to {}", file.display());
    Ok(())
}

/// A latency of wrk's (`812.00us`, `1.23ms`, `2.01s`) in milliseconds.
fn wrk_ms(text: &str) -> f64 {
    let t = text.trim();
    let (number, factor) = if let Some(n) = t.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (t, 1.0)
    };
    number.parse::<f64>().unwrap_or(f64::NAN) * factor
}

/// wrk's requests per second and its 50th and 99th latency percentiles (ms), and how many
/// answers were not 2xx.
fn run_wrk(args: &[&str]) -> Result<(f64, f64, f64, u64)> {
    let out = Command::new("wrk")
        .args(args)
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        bail!("wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    }
    let after = |marker: &str| -> Option<String> {
        text.lines()
            .find(|l| l.trim_start().starts_with(marker))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(str::to_string)
    };
    let rps = after("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .context("no Requests/sec in wrk's output")?;
    let p50 = after("50%").map(|v| wrk_ms(&v)).unwrap_or(f64::NAN);
    let p99 = after("99%").map(|v| wrk_ms(&v)).unwrap_or(f64::NAN);
    let non_2xx = text
        .lines()
        .find(|l| l.contains("Non-2xx or 3xx responses:"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Ok((rps, p50, p99, non_2xx))
}

/// The resident memory of a process: (now, peak) in MiB.
fn memory_of(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| -> f64 {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (kib("VmRSS:"), kib("VmHWM:"))
}

/// The API under load on loopback (issue: a city of a million households): a consumer's UPD
/// view and the sign-in (argon2id, by design the slow one), with wrk, against a database of
/// `--accounts` (default 1,000,000) billed accounts; the server's memory read from /proc.
fn bench_api(args: &[String]) -> Result<()> {
    let accounts = option(args, "--accounts").unwrap_or_else(|| "1000000".into());
    let seconds = option(args, "--seconds").unwrap_or_else(|| "15".into());
    ensure_packages("wrk", &["wrk"])?;
    run(cargo().args(["build", "--release", "-p", "esep-server"]))?;
    let esep = target_dir().join("release/esep");
    let out_dir = target_dir().join("bench");
    let mut rows = Vec::new();
    for (name, url) in bench_backends("api")? {
        println!("== {name}: seeding and billing {accounts} accounts (2026-11) ==");
        let seeded = Command::new(&esep)
            .args([
                "demo",
                "--accounts",
                &accounts,
                "--months",
                "1",
                "--consumers",
                "10",
                "--through",
                "2026-11",
            ])
            .env("DATABASE_URL", &url)
            .stderr(Stdio::inherit())
            .output()?;
        if !seeded.status.success() {
            bail!("seeding the {name} database failed");
        }
        let text = String::from_utf8_lossy(&seeded.stdout).to_string();
        let login = first_consumer(&text)?;
        // On SQLite also without its fast read path (store/fastread.rs), to show what it buys.
        let variants: &[(&str, &[(&str, &str)])] = if name == "SQLite" {
            &[
                ("SQLite", &[]),
                ("SQLite, sqlx only", &[("ESEP_SQLITE_FAST_READS", "0")]),
            ]
        } else {
            &[(name, &[])]
        };
        for &(name, envs) in variants {
            let (mut server, port) =
                spawn_serve_env(&esep, &url, &["--signin-ip-limit", "100000000"], envs)?;
            let measured = (|| -> Result<_> {
                let base = format!("http://127.0.0.1:{port}");
                let body = format!("{{\"login\":\"{login}\",\"password\":\"demo-password\"}}");
                let cookie = format!("esep_session={}", session_token(port, &login)?);
                let upd = current_upd(&base, &cookie)?;
                let (_, before) = memory_of(server.id());
                println!(
                    "== {name}: GET /api/v1/upds/{{number}} for {seconds} s, 32 connections =="
                );
                let cookie_header = format!("Cookie: {cookie}");
                let view_url = format!("{base}/api/v1/upds/{upd}");
                let duration = format!("-d{seconds}s");
                let views = |encoding: &str| {
                    let encoding = format!("Accept-Encoding: {encoding}");
                    run_wrk(&[
                        "-t2",
                        "-c32",
                        &duration,
                        "--latency",
                        "-H",
                        &cookie_header,
                        "-H",
                        &encoding,
                        &view_url,
                    ])
                };
                let view = views("identity")?;
                println!("== {name}: the same, as a browser asks for it (Accept-Encoding: br) ==");
                let view_br = views("br")?;
                let (after_views, _) = memory_of(server.id());
                let script = out_dir.join("signin.lua");
                std::fs::write(
                    &script,
                    format!(
                        "wrk.method = \"POST\"\nwrk.body = '{body}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
                    ),
                )?;
                println!(
                    "== {name}: POST /api/v1/session (argon2id) for {seconds} s, 4 connections =="
                );
                let script = script.display().to_string();
                let signin = run_wrk(&[
                    "-t2",
                    "-c4",
                    &format!("-d{seconds}s"),
                    "--latency",
                    "-s",
                    &script,
                    &format!("{base}/api/v1/session"),
                ])?;
                let (_, peak) = memory_of(server.id());
                Ok((view, view_br, signin, before, after_views, peak))
            })();
            let _ = server.kill();
            let _ = server.wait();
            let (view, view_br, signin, idle, rss, peak) = measured?;
            rows.push((name, view, view_br, signin, idle, rss, peak));
        }
    }
    println!();
    println!(
        "| backend | accounts | UPD view req/s | p50 ms | p99 ms | with brotli req/s | p99 ms | sign-in req/s | p50 ms | p99 ms | server MiB: idle / after the views / peak |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut json = String::from("[\n");
    for (i, (name, v, b, s, idle, rss, peak)) in rows.iter().enumerate() {
        println!(
            "| {name} | {accounts} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.0} | {:.1} | {:.1} | {idle:.0} / {rss:.0} / {peak:.0} |",
            v.0, v.1, v.2, b.0, b.2, s.0, s.1, s.2
        );
        if v.3 + b.3 + s.3 > 0 {
            println!(
                "   note: {} UPD views and {} sign-ins were not 2xx",
                v.3 + b.3,
                s.3
            );
        }
        json.push_str(&format!(
            "  {{\"bench\": \"api\", \"backend\": \"{name}\", \"accounts\": {accounts}, \"upd_view\": {{\"rps\": {:.1}, \"p50_ms\": {:.3}, \"p99_ms\": {:.3}, \"non_2xx\": {}}}, \"upd_view_brotli\": {{\"rps\": {:.1}, \"p50_ms\": {:.3}, \"p99_ms\": {:.3}, \"non_2xx\": {}}}, \"sign_in\": {{\"rps\": {:.1}, \"p50_ms\": {:.3}, \"p99_ms\": {:.3}, \"non_2xx\": {}}}, \"server_rss_mib\": {rss:.1}, \"server_peak_rss_mib\": {peak:.1}}}{}\n",
            v.0, v.1, v.2, v.3, b.0, b.1, b.2, b.3, s.0, s.1, s.2, s.3,
            if i + 1 < rows.len() { "," } else { "" }
        ));
    }
    json.push(']');
    let file = out_dir.join("api.json");
    std::fs::write(&file, json)?;
    println!("Written to {}", file.display());
    Ok(())
}

fn bench_payments(args: &[String]) -> Result<()> {
    let payments = option(args, "--payments").unwrap_or_else(|| "5000".into());
    let concurrency = option(args, "--concurrency").unwrap_or_else(|| "16".into());
    run(cargo().args(["build", "--release", "-p", "esep-server"]))?;
    let esep = target_dir().join("release/esep");
    let mut rows = Vec::new();
    for (name, url) in bench_backends("payments")? {
        println!("== {name}: seeding 2000 accounts with a billed month ==");
        run(Command::new(&esep)
            .args([
                "demo",
                "--accounts",
                "2000",
                "--months",
                "1",
                "--consumers",
                "0",
            ])
            .stdout(Stdio::null())
            .env("DATABASE_URL", &url))?;
        println!(
            "== {name}: {payments} payments, signed callbacks (20 % duplicates, shuffled), concurrency {concurrency} =="
        );
        let out = Command::new(&esep)
            .args([
                "bench",
                "callbacks",
                "--payments",
                &payments,
                "--concurrency",
                &concurrency,
            ])
            .env("DATABASE_URL", &url)
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        print!("{text}");
        if !out.status.success() {
            bail!(
                "the callback benchmark failed on {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let after = |marker: &str| -> f64 {
            text.split(marker)
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        let rate = text
            .find(" callbacks/s")
            .and_then(|i| text[..i].split_whitespace().last())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        rows.push((name, rate, after("p50 "), after("p99 ")));
    }
    println!();
    println!("| backend | callbacks/s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|");
    let mut json = String::from("[\n");
    for (i, (name, rate, p50, p99)) in rows.iter().enumerate() {
        println!("| {name} | {rate:.0} | {p50:.2} | {p99:.2} |");
        json.push_str(&format!(
            "  {{\"bench\": \"payments\", \"backend\": \"{name}\", \"payments\": {payments}, \"concurrency\": {concurrency}, \"callbacks_per_sec\": {rate:.1}, \"p50_ms\": {p50:.2}, \"p99_ms\": {p99:.2}}}{}\n",
            if i + 1 < rows.len() { "," } else { "" }
        ));
    }
    json.push(']');
    let file = target_dir().join("bench/payments.json");
    std::fs::write(&file, json)?;
    println!("Written to {}", file.display());
    Ok(())
}

fn bench_billing(args: &[String]) -> Result<()> {
    let accounts = option(args, "--accounts").unwrap_or_else(|| "100000".into());
    run(cargo().args(["build", "--release", "-p", "esep-server"]))?;
    let esep = target_dir().join("release/esep");
    let out_dir = target_dir().join("bench");
    std::fs::create_dir_all(&out_dir)?;
    let backends = bench_backends("billing")?;
    let mut results = Vec::new();
    for (name, url) in &backends {
        println!("== {name}: seeding {accounts} accounts ==");
        let seed_start = Instant::now();
        run(Command::new(&esep)
            .args([
                "demo",
                "--accounts",
                &accounts,
                "--months",
                "0",
                "--consumers",
                "0",
                "--through",
                "2026-11",
            ])
            .env("DATABASE_URL", url))?;
        println!("   seeded in {:.1} s", seed_start.elapsed().as_secs_f64());
        println!("== {name}: esep bill --period 2026-11 ==");
        let text = esep_printing(&esep, url, &["bill", "--period", "2026-11"])
            .with_context(|| format!("the billing run on {name}"))?;
        let mut r = parse_bill_output(name, &text)?;
        println!("== {name}: the same rows, raw bulk inserts (esep bench inserts) ==");
        let raw_text = esep_printing(&esep, url, &["bench", "inserts", "--period", "2026-11"])
            .with_context(|| format!("the raw insert benchmark on {name}"))?;
        r.raw_seconds = raw_text
            .split(" lines in ")
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .context("no time in the raw insert figures")?;
        results.push(r);
    }
    println!();
    println!(
        "| backend | accounts | lines | seconds | UPDs/s | peak memory MiB | raw inserts s | raw UPDs/s | billing ÷ raw |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut json = String::from("[\n");
    for (i, r) in results.iter().enumerate() {
        let &BenchResult {
            backend,
            accounts,
            seconds,
            upds_per_sec,
            lines,
            peak_mib,
            raw_seconds,
        } = r;
        let ratio = seconds / raw_seconds.max(1e-9);
        let raw_rate = accounts as f64 / raw_seconds.max(1e-9);
        println!(
            "| {backend} | {accounts} | {lines} | {seconds:.2} | {upds_per_sec:.0} | {peak_mib:.1} | {raw_seconds:.2} | {raw_rate:.0} | {ratio:.2}× |"
        );
        let comma = if i + 1 < results.len() { "," } else { "" };
        json.push_str(&format!(
            "  {{\"bench\": \"billing\", \"backend\": \"{backend}\", \"accounts\": {accounts}, \"lines\": {lines}, \"seconds\": {seconds:.3}, \"upds_per_sec\": {upds_per_sec:.1}, \"peak_memory_mib\": {peak_mib:.1}, \"raw_insert_seconds\": {raw_seconds:.3}, \"billing_to_raw_ratio\": {ratio:.3}}}{comma}\n"
        ));
    }
    json.push(']');
    let file = out_dir.join("billing.json");
    std::fs::write(&file, json)?;
    println!("Written to {}", file.display());
    Ok(())
}

/// Runs `esep ARGS` against `url`, prints and returns what it printed; fails when it fails.
fn esep_printing(esep: &Path, url: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(esep)
        .args(args)
        .env("DATABASE_URL", url)
        .stderr(Stdio::inherit())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    print!("{text}");
    if !out.status.success() {
        bail!("esep {} failed", args.join(" "));
    }
    Ok(text)
}

fn parse_bill_output(backend: &'static str, text: &str) -> Result<BenchResult> {
    let number_before = |marker: &str| -> Option<f64> {
        let i = text.find(marker)?;
        text[..i]
            .split_whitespace()
            .last()?
            .trim_end_matches(',')
            .parse()
            .ok()
    };
    let peak = text
        .split("peak memory ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok());
    Ok(BenchResult {
        backend,
        accounts: number_before(" UPDs issued").context("no UPD count in the output")? as u64,
        lines: number_before(" lines,").unwrap_or(0.0) as u64,
        seconds: number_before(" s,").context("no time in the output")?,
        upds_per_sec: number_before(" UPDs/s").context("no rate in the output")?,
        peak_mib: peak.unwrap_or(0.0),
        raw_seconds: f64::NAN,
    })
}

/// The output of a command, trimmed; empty when it cannot run.
fn output_of(cmd: &mut Command) -> String {
    cmd.stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Where the npm copy of wasm-opt (binaryen 132) lives: Debian's binaryen 108 produces a
/// wasm that crashes in the browser (TOOLCHAIN.md), so it is never used.
fn tools_bin() -> PathBuf {
    target_dir().join("tools/node_modules/.bin")
}

/// Installs the npm package `spec` into target/tools when its command `bin` is missing there.
fn npm_tool(bin: &str, spec: &str, what: &str) -> Result<()> {
    if tools_bin().join(bin).exists() {
        return Ok(());
    }
    println!("== Installing {what} ==");
    let dir = target_dir().join("tools");
    std::fs::create_dir_all(&dir)?;
    run(Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(&dir)
        .arg(spec))
}

const FUZZ_TARGETS: [&str; 6] = [
    "csv_import",
    "bank_directory",
    "bank_registry",
    "callback",
    "ids",
    "front_matter",
];

/// `cargo xtask fuzz`: each target (default: all) for `--seconds` (default 300) under
/// libFuzzer, starting from and adding to its committed corpus, then minimised (`cmin`).
/// Prints libFuzzer's coverage at the start and at the end, the figure that says whether a
/// run reached a stable coverage, and writes them to target/bench/fuzz.json.
fn fuzz(args: &[String]) -> Result<()> {
    let seconds = option(args, "--seconds").unwrap_or_else(|| "300".into());
    let replay = flag(args, "--replay");
    let mut targets: Vec<&str> = args
        .iter()
        .filter(|a| FUZZ_TARGETS.contains(&a.as_str()))
        .map(String::as_str)
        .collect();
    if let Some(unknown) = args.iter().find(|a| {
        !a.starts_with("--") && !FUZZ_TARGETS.contains(&a.as_str()) && a.parse::<u64>().is_err()
    }) {
        bail!("no fuzz target '{unknown}': {}", FUZZ_TARGETS.join(", "));
    }
    if targets.is_empty() {
        targets = FUZZ_TARGETS.to_vec();
    }
    if !output_of(Command::new("cargo").args(["fuzz", "--version"])).starts_with("cargo-fuzz") {
        println!("== Installing cargo-fuzz (once) ==");
        run(cargo().args(["install", "--locked", "cargo-fuzz", "--version", "0.13.2"]))?;
    }
    let mut rows = Vec::new();
    for t in targets {
        let corpus = format!("fuzz/corpus/{t}");
        let before = std::fs::read_dir(root().join(&corpus))?.count();
        let libfuzzer_args = if replay {
            vec!["-runs=0".to_string()]
        } else {
            vec![
                format!("-max_total_time={seconds}"),
                "-max_len=8192".into(),
                "-print_final_stats=1".into(),
            ]
        };
        println!("== fuzz {t}: {} ==", libfuzzer_args.join(" "));
        let out = cargo()
            .args(["fuzz", "run", "--sanitizer", "none", t, &corpus, "--"])
            .args(&libfuzzer_args)
            .stderr(Stdio::piped())
            .output()
            .context("running cargo fuzz")?;
        let log = String::from_utf8_lossy(&out.stderr).to_string();
        let cov = |line: &str| -> Option<u64> {
            line.split_whitespace()
                .skip_while(|w| *w != "cov:")
                .nth(1)
                .and_then(|v| v.parse().ok())
        };
        let stats: Vec<u64> = log.lines().filter_map(cov).collect();
        let execs = log
            .lines()
            .find(|l| l.starts_with("stat::number_of_executed_units:"))
            .and_then(|l| l.split_whitespace().last())
            .unwrap_or("0")
            .to_string();
        if !out.status.success() {
            eprintln!("{log}");
            bail!("fuzz target {t} failed: the input is in fuzz/artifacts/{t}/");
        }
        if !replay {
            run(cargo().args(["fuzz", "cmin", "--sanitizer", "none", t, &corpus]))?;
        }
        let after = std::fs::read_dir(root().join(&corpus))?.count();
        // The coverage at the first and last quarter of the run: equal means it levelled off.
        let first = stats.first().copied().unwrap_or(0);
        let at_three_quarters = stats.get(stats.len() * 3 / 4).copied().unwrap_or(0);
        let last = stats.last().copied().unwrap_or(0);
        rows.push((t, first, at_three_quarters, last, execs, before, after));
    }
    println!();
    println!(
        "| target | cov at start | cov at 3/4 of the run | cov at end | executions | corpus before → after |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let mut json = String::from("[\n");
    for (i, (t, first, q3, last, execs, before, after)) in rows.iter().enumerate() {
        println!("| {t} | {first} | {q3} | {last} | {execs} | {before} → {after} |");
        json.push_str(&format!(
            "  {{\"bench\": \"fuzz\", \"target\": \"{t}\", \"seconds\": {seconds}, \"cov_start\": {first}, \"cov_three_quarters\": {q3}, \"cov_end\": {last}, \"executions\": {execs}, \"corpus\": {after}}}{}\n",
            if i + 1 < rows.len() { "," } else { "" }
        ));
    }
    json.push(']');
    if !replay {
        let dir = target_dir().join("bench");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("fuzz.json"), json)?;
        println!("Written to {}", dir.join("fuzz.json").display());
    }
    Ok(())
}

/// Installs what the cabinet's build needs when missing: the wasm32 target, trunk 0.21.14,
/// wasm-bindgen-cli 0.2.130 (pinned to the crate) and wasm-opt from npm `binaryen` 132.
fn ensure_cabinet_tools() -> Result<()> {
    let targets = output_of(Command::new("rustup").args(["target", "list", "--installed"]));
    if !targets
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        println!("== Installing the wasm32-unknown-unknown target ==");
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    if output_of(Command::new("trunk").arg("--version")) != "trunk 0.21.14" {
        println!("== Installing trunk 0.21.14 (about 8 minutes, once) ==");
        run(cargo().args(["install", "--locked", "trunk", "--version", "0.21.14"]))?;
    }
    if output_of(Command::new("wasm-bindgen").arg("--version")) != "wasm-bindgen 0.2.130" {
        println!("== Installing wasm-bindgen-cli 0.2.130 (about 2 minutes, once) ==");
        // Without --locked: its lock file asks for a crate version the registry lacks.
        run(cargo().args(["install", "wasm-bindgen-cli", "--version", "0.2.130"]))?;
    }
    npm_tool(
        "wasm-opt",
        "binaryen@132.0.0",
        "wasm-opt (npm binaryen 132)",
    )?;
    Ok(())
}

/// Builds the cabinet with Trunk (offline, pinned tools) into target/cabinet and returns
/// that directory.
fn build_cabinet(release: bool) -> Result<PathBuf> {
    ensure_cabinet_tools()?;
    println!(
        "== Building the cabinet (Trunk, {}) ==",
        if release { "release" } else { "debug" }
    );
    // Trunk runs cargo --offline: fetch the crates first.
    run(cargo().args(["fetch", "--manifest-path", "app/Cargo.toml"]))?;
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![tools_bin()];
    paths.extend(std::env::split_paths(&path));
    let mut trunk = Command::new("trunk");
    trunk
        .current_dir(root())
        .arg("build")
        .env("PATH", std::env::join_paths(paths)?)
        // The cabinet keeps its own target dir: a shared one would rebuild the host crates.
        .env_remove("CARGO_TARGET_DIR");
    if release {
        trunk.arg("--release");
    }
    run(&mut trunk)?;
    let dist = target_dir().join("cabinet");
    externalise_boot_script(&dist)?;
    precompress(&dist)?;
    Ok(dist)
}

/// Writes a brotli copy (`.br`, quality 11) beside every text and wasm file of `dir`:
/// `esep serve` sends it to browsers that accept brotli, which all current ones do.
fn precompress(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "wasm" | "js" | "css" | "html" | "svg") {
            continue;
        }
        let raw = std::fs::read(&path)?;
        let mut out = Vec::with_capacity(raw.len() / 3);
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
            std::io::Write::write_all(&mut w, &raw)?;
        }
        let mut name = path.as_os_str().to_owned();
        name.push(".br");
        std::fs::write(PathBuf::from(name), out)?;
    }
    Ok(())
}

/// Trunk writes the code that starts the wasm as an inline `<script type="module">`; the
/// Content-Security-Policy allows no inline script, so it moves into a file of its own.
fn externalise_boot_script(dist: &Path) -> Result<()> {
    let index = dist.join("index.html");
    let html =
        std::fs::read_to_string(&index).with_context(|| format!("reading {}", index.display()))?;
    let open = "<script type=\"module\">";
    let Some(start) = html.find(open) else {
        return Ok(()); // already external
    };
    let body_start = start + open.len();
    let end = html[body_start..]
        .find("</script>")
        .map(|e| body_start + e)
        .context("an unterminated boot script in the cabinet's index.html")?;
    let script = &html[body_start..end];
    std::fs::write(dist.join("boot.js"), script.trim())?;
    let html = format!(
        "{}<script type=\"module\" src=\"/cabinet/boot.js\"></script>{}",
        &html[..start],
        &html[end + "</script>".len()..]
    );
    std::fs::write(&index, html)?;
    Ok(())
}
