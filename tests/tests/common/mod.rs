//! The harness of the black-box tests: the real `esep` binary, a fresh database per suite
//! (SQLite always; PostgreSQL when `DATABASE_URL` points to one), HTTP over loopback.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "demo-password";

/// The `esep` binary built by `cargo build -p esep-server` (what `cargo xtask test` does).
pub fn esep_bin() -> PathBuf {
    if let Ok(p) = std::env::var("ESEP_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join("debug/esep");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p esep-server` (cargo xtask test does)",
        bin.display()
    );
    bin
}

/// A database for one suite: a SQLite file in a temporary directory, or a fresh
/// schema in the PostgreSQL of `DATABASE_URL`.
pub struct TestDb {
    pub backend: &'static str,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// The same database reached through another URL (e.g. a proxy in front of PostgreSQL).
    pub fn via(&self, url: String) -> TestDb {
        TestDb {
            backend: self.backend,
            url,
            _dir: None,
        }
    }
}

static SEQ: AtomicU32 = AtomicU32::new(0);

pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("esep.sqlite").display());
    TestDb {
        backend: "sqlite",
        url,
        _dir: Some(dir),
    }
}

/// `None` when `DATABASE_URL` is not set to PostgreSQL: the suite then says it skipped.
pub fn postgres() -> Option<TestDb> {
    let base = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))?;
    let schema = format!(
        "esep_t{}_{}_{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    // On a thread of its own: callers may already be inside a runtime.
    let (b, s) = (base.clone(), schema.clone());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&b)
                .await
                .expect("connect to DATABASE_URL");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {s}")))
                .execute(&pool)
                .await
                .expect("create a test schema");
            pool.close().await;
        });
    })
    .join()
    .expect("creating the PostgreSQL test schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(TestDb {
        backend: "postgres",
        url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        _dir: None,
    })
}

/// Every backend this run can test: SQLite, and PostgreSQL when configured.
pub fn backends() -> Vec<TestDb> {
    let mut v = vec![sqlite()];
    match postgres() {
        Some(pg) => v.push(pg),
        None => eprintln!("note: DATABASE_URL is not a PostgreSQL URL; PostgreSQL not tested here"),
    }
    v
}

/// Runs `esep` with `args` against `db`; returns (exit code, stdout, stderr).
pub fn esep(db: &TestDb, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(esep_bin())
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env_remove("RUST_LOG")
        .output()
        .expect("run esep");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn esep_ok(db: &TestDb, args: &[&str]) -> String {
    let (code, out, err) = esep(db, args);
    assert_eq!(
        code, 0,
        "esep {args:?} failed on {}:\n{out}\n{err}",
        db.backend
    );
    out
}

/// A running `esep serve`, stopped when dropped (and when the test process ends, since
/// it exits when its standard input closes).
pub struct Server {
    pub base: String,
    child: Child,
    pub log: PathBuf,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Server {
    pub fn start(db: &TestDb, extra: &[&str]) -> Server {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut args = vec!["serve", "--addr", &addr];
        args.extend_from_slice(extra);
        Server::spawn(db, port, &args)
    }

    /// Starts `esep ARGS` listening on `port` (it stops when our end of its stdin closes).
    pub fn spawn(db: &TestDb, port: u16, args: &[&str]) -> Server {
        let addr = format!("127.0.0.1:{port}");
        let log = std::env::temp_dir().join(format!("esep-test-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(esep_bin())
            .args(args)
            .arg("--exit-on-stdin-eof")
            .env("DATABASE_URL", &db.url)
            .env("RUST_LOG", "info")
            .stdin(Stdio::piped())
            .stdout(log_file.try_clone().expect("log"))
            .stderr(log_file)
            .spawn()
            .expect("start esep serve");
        let server = Server {
            base: format!("http://{addr}"),
            child,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "esep serve did not start: {}",
                server.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Server {
    /// SIGKILL: no chance to finish anything.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("http client")
}

/// Signs in and returns a client holding the session cookie.
pub async fn signed_in(server: &Server, login: &str) -> reqwest::Client {
    let c = client();
    let res = c
        .post(server.url("/api/v1/session"))
        .json(&serde_json::json!({"login": login, "password": PASSWORD}))
        .send()
        .await
        .expect("sign in");
    assert_eq!(
        res.status(),
        200,
        "sign in as {login}: {}",
        res.text().await.unwrap_or_default()
    );
    c
}

/// The signed-in consumer's accounts (`GET /api/v1/accounts`), each with its current UPD.
pub async fn my_accounts(c: &reqwest::Client, server: &Server) -> Vec<serde_json::Value> {
    c.get(server.url("/api/v1/accounts"))
        .send()
        .await
        .expect("GET /api/v1/accounts")
        .json()
        .await
        .expect("accounts as JSON")
}

/// A demo user: role, login, accounts.
pub type DemoUser = (String, String, Vec<String>);

/// The demo sign-ins printed by `esep demo`.
pub fn demo_logins(out: &str) -> Vec<DemoUser> {
    out.lines()
        .filter(|l| l.starts_with("  "))
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let role = parts.next()?.to_string();
            let login = parts.next()?.to_string();
            let accounts = l
                .split_once("account ")
                .map(|(_, a)| a.split(", ").map(str::to_string).collect())
                .unwrap_or_default();
            Some((role, login, accounts))
        })
        .collect()
}

/// Runs a query against the test database and returns the first column of every row as
/// text (for checks that the API does not expose).
pub fn query_strings(db: &TestDb, sql: &str) -> Vec<String> {
    let (url, sql) = (db.url.clone(), sql.to_string());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&url).await.expect("connect");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&pool)
                .await
                .expect("query");
            use sqlx::Row;
            rows.iter()
                .map(|r| {
                    r.try_get::<String, _>(0)
                        .or_else(|_| r.try_get::<i64, _>(0).map(|i| i.to_string()))
                        .expect("a text or integer column")
                })
                .collect()
        })
    })
    .join()
    .expect("query thread")
}

/// A seeded demo city served by `esep serve`, one per backend, shared by the tests of a
/// test binary.
pub struct Fixture {
    pub db: TestDb,
    pub server: Server,
    pub users: Vec<DemoUser>,
    /// What `esep demo` printed.
    pub demo_output: String,
}

impl Fixture {
    pub fn seed(db: TestDb, demo_args: &[&str]) -> Fixture {
        let mut args = vec!["demo"];
        args.extend_from_slice(demo_args);
        let out = esep_ok(&db, &args);
        let users = demo_logins(&out);
        let server = Server::start(&db, &["--signin-ip-limit", "1000"]);
        Fixture {
            db,
            server,
            users,
            demo_output: out,
        }
    }

    /// The n-th demo consumer: (login, accounts).
    pub fn consumer(&self, n: usize) -> (String, Vec<String>) {
        let (_, login, accounts) = self
            .users
            .iter()
            .filter(|u| u.0 == "consumer")
            .nth(n)
            .expect("enough demo consumers");
        (login.clone(), accounts.clone())
    }

    pub fn staff(&self, role: &str) -> String {
        self.users
            .iter()
            .find(|u| u.0 == role)
            .map(|u| u.1.clone())
            .expect("a demo staff user")
    }
}

/// Executes a statement that must fail; returns the database's error message.
pub fn execute_err(db: &TestDb, sql: &str) -> String {
    let (url, sql) = (db.url.clone(), sql.to_string());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&url).await.expect("connect");
            match sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await {
                Ok(r) => panic!("the statement succeeded ({} rows)", r.rows_affected()),
                Err(e) => e.to_string(),
            }
        })
    })
    .join()
    .expect("statement thread")
}

/// The first column of the first row, as text (empty when there is none).
pub fn one(db: &TestDb, sql: &str) -> String {
    query_strings(db, sql)
        .into_iter()
        .next()
        .unwrap_or_default()
}
