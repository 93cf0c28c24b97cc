//! The personal cabinet in a real Chromium, driven through chromedriver (D1, D2, D12, D13,
//! T5, T8): sign in → open the UPD → expand a line → pay part of it with the keyboard alone
//! through a sandbox bank → see the allocation and the new balance; submit a reading; file
//! a complaint and see its deadline; chat with an operator in a second browser; every page in
//! Kazakh, Russian and English checked by axe-core; the UPD's PDF read back with pdftotext
//! and its QR code with zbarimg; each page at 360 px wide without sideways scrolling.
//!
//! Needs the built cabinet (`cargo xtask test` builds it into target/cabinet), Chromium and
//! chromedriver, poppler-utils and zbar-tools, and axe-core from tests/browser.

mod common;

use common::{PASSWORD, Server, TestDb, esep_ok, free_port};
use esep_core::{Iban, Money, WorkingCalendar};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn target() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target"))
}

fn cabinet_dir() -> PathBuf {
    let dir = std::env::var("ESEP_CABINET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| target().join("cabinet"));
    assert!(
        dir.join("index.html").exists(),
        "the cabinet is not built at {}: run `cargo xtask test` (it builds it with Trunk)",
        dir.display()
    );
    dir
}

/// chromedriver and its Chromium in a process group of their own, killed together.
struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    name: &'static str,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // procps' kill reads "-PGID" as an option unless "--" ends the options.
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.wait();
    }
}

impl Browser {
    async fn start(name: &'static str) -> Browser {
        use std::os::unix::process::CommandExt;
        let profile = tempfile::tempdir().expect("profile dir");
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .env("XDG_CONFIG_HOME", profile.path().join("config"))
            .env("XDG_CACHE_HOME", profile.path().join("cache"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver (apt-get install chromium-driver)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=360,800",
                    format!("--user-data-dir={}", profile.path().join("chrome").display()),
                ]
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        let mut b = Browser {
            client,
            driver,
            _profile: profile,
            name,
        };
        b.client
            .set_window_size(360, 800)
            .await
            .expect("window size");
        b.name = name;
        b
    }

    async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        // Polled by hand: a lookup that lands while the page navigates is answered "aborted
        // by navigation", which fantoccini's own wait gives up on (seen once in CI).
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            match self.client.find(Locator::Css(css)).await {
                Ok(e) => return e,
                Err(e) if std::time::Instant::now() > deadline => {
                    let html = self.client.source().await.unwrap_or_default();
                    panic!("[{}] no element {css}: {e}\n{html}", self.name)
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Waits until `js` (an expression) is truthy.
    async fn until(&self, js: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = self
                .client
                .execute(&format!("return !!({js});"), vec![])
                .await
                .unwrap_or(Value::Bool(false));
            if v == Value::Bool(true) {
                return;
            }
            if Instant::now() > deadline {
                let html = self.client.source().await.unwrap_or_default();
                panic!("[{}] never: {what}\n{html}", self.name);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn text(&self, css: &str) -> String {
        self.wait(css).await.text().await.expect("text")
    }

    async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.expect("script")
    }

    async fn press(&self, key: Key) {
        let k: char = key.into();
        let actions = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: k })
            .then(KeyAction::Up { value: k });
        self.client.perform_actions(actions).await.expect("key");
    }

    /// Presses Tab until the focused element matches `css`: proves it is reachable by
    /// keyboard, in order.
    async fn tab_to(&self, css: &str) {
        for _ in 0..60 {
            let on = self
                .js(&format!(
                    "return !!document.activeElement && document.activeElement.matches({});",
                    json!(css)
                ))
                .await;
            if on == Value::Bool(true) {
                return;
            }
            self.press(Key::Tab).await;
        }
        panic!("[{}] Tab never reached {css}", self.name);
    }

    /// Types into the focused element, as a keyboard does.
    async fn type_text(&self, text: &str) {
        let mut actions = KeyActions::new("typing".into());
        for c in text.chars() {
            actions = actions
                .then(KeyAction::Down { value: c })
                .then(KeyAction::Up { value: c });
        }
        self.client.perform_actions(actions).await.expect("typing");
    }

    async fn fill(&self, css: &str, text: &str) {
        let e = self.wait(css).await;
        e.clear().await.expect("clear");
        e.send_keys(text).await.expect("type");
    }

    async fn click(&self, css: &str) {
        self.wait(css).await.click().await.expect("click");
    }

    /// axe-core on the page as it is: no serious or critical violation of WCAG 2.2 A/AA.
    async fn axe(&self, page: &str) {
        let source =
            std::fs::read_to_string(root().join("tests/browser/node_modules/axe-core/axe.min.js"))
                .expect("axe-core (npm install in tests/browser; cargo xtask test does)");
        self.client
            .execute(&format!("{source}; return true;"), vec![])
            .await
            .expect("inject axe");
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
                   .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
                   .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .expect("axe.run");
        let violations: Vec<String> = serde_json::from_value(found).unwrap_or_default();
        assert!(
            violations.is_empty(),
            "[{}] axe on {page}: {violations:#?}",
            self.name
        );
    }

    /// A screenshot at the phone width, and no sideways scrolling.
    async fn phone_check(&self, name: &str) {
        let dir = target().join("screenshots");
        let _ = std::fs::create_dir_all(&dir);
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(dir.join(format!("cabinet-{name}.png")), png).expect("save screenshot");
        let width = self
            .js("return document.documentElement.scrollWidth;")
            .await
            .as_u64()
            .unwrap_or(9999);
        assert!(
            width <= 360,
            "[{}] {name} is {width} px wide at a 360 px viewport: it scrolls sideways",
            self.name
        );
    }

    async fn cookie(&self, name: &str) -> String {
        self.client
            .get_named_cookie(name)
            .await
            .expect("session cookie")
            .value()
            .to_string()
    }
}

struct City {
    usc: Server,
    _banks: Vec<Server>,
    public: String,
    consumer: String,
    account: String,
    operator: String,
    discrepancy: i64,
}

fn setup(db: &TestDb) -> City {
    let out = esep_ok(
        db,
        &[
            "demo",
            "--accounts",
            "20",
            "--months",
            "3",
            "--consumers",
            "2",
        ],
    );
    let users = common::demo_logins(&out);
    let (consumer, account) = users
        .iter()
        .find(|u| u.0 == "consumer" && !u.2.is_empty())
        .map(|u| (u.1.clone(), u.2[0].clone()))
        .expect("a demo consumer with an account");
    let operator = users
        .iter()
        .find(|u| u.0 == "operator")
        .map(|u| u.1.clone())
        .expect("a demo operator");
    let mut banks = Vec::new();
    // The demo's own two banks (the codes `esep demo` seeds), pointed at sandboxes on
    // ports of this test's own: the cabinet offers exactly these two.
    for (i, (code, secret, bank)) in [
        ("halyk-sandbox", "sandbox-secret-1", "601"),
        ("kaspi-sandbox", "sandbox-secret-2", "722"),
    ]
    .into_iter()
    .enumerate()
    {
        let port = free_port();
        let server = Server::spawn(
            db,
            port,
            &[
                "sandbox-bank",
                "--name",
                code,
                "--port",
                &port.to_string(),
                "--secret",
                secret,
            ],
        );
        let iban = Iban::from_parts(bank, &format!("KZT000077700{i}"))
            .expect("iban")
            .to_string();
        esep_ok(
            db,
            &[
                "bank",
                "set",
                "--code",
                code,
                "--name",
                &format!("Sandbox {code}"),
                "--url",
                &server.base,
                "--transit-iban",
                &iban,
                "--secret",
                secret,
                "--sandbox",
            ],
        );
        banks.push(server);
    }
    // A discrepancy for the operator to close in the journal.
    let today = chrono::Utc::now().date_naive().to_string();
    let registered = esep_ok(
        db,
        &[
            "discrepancy",
            "register",
            "--source",
            "operator",
            "--detected",
            &today,
            "--description",
            "Лифт ақысы лифті жоқ үйге есептелген",
            "--justification",
            "Тұрғын үй тізілімінде үй 5 қабатты",
            "--responsible",
            "billing department",
        ],
    );
    let discrepancy = registered
        .split("D-")
        .nth(1)
        .and_then(|s| {
            s.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or_else(|| panic!("a discrepancy number in: {registered}"));
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let cabinet = cabinet_dir();
    let usc = Server::spawn(
        db,
        port,
        &[
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--public-url",
            &public,
            "--signin-ip-limit",
            "1000",
            "--cabinet",
            cabinet.to_str().expect("path"),
        ],
    );
    City {
        usc,
        _banks: banks,
        public,
        consumer,
        account,
        operator,
        discrepancy,
    }
}

fn money_of(text: &str) -> Money {
    let digits: String = text
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-' || *c == '−')
        .map(|c| if c == '−' { '-' } else { c })
        .collect();
    Money::parse(&digits).unwrap_or_else(|e| panic!("not an amount: {text:?}: {e}"))
}

async fn sign_in(b: &Browser, city: &City, login: &str) {
    b.goto(&format!("{}/cabinet/", city.public)).await;
    b.fill("#login", login).await;
    b.fill("#password", PASSWORD).await;
    b.click("form button[type=submit]").await;
    b.until("!document.querySelector('#login')", "signed in")
        .await;
}

#[tokio::test]
async fn a_consumer_reads_pays_reports_complains_and_chats_in_the_cabinet() {
    // A hung browser fails the test, naming the last step, instead of stalling CI.
    tokio::time::timeout(Duration::from_secs(900), consumer_flow())
        .await
        .expect("the cabinet flow took over 15 minutes; the last [cabinet] step above hung");
}

async fn consumer_flow() {
    let db = common::sqlite();
    let city = setup(&db);
    let pub_url = |p: &str| format!("{}{p}", city.public);
    let b = Browser::start("consumer").await;

    // Sign in: Kazakh by default; the empty form is answered with a summary and field errors.
    step("Sign in: Kazakh by default; the empty form is answered with a summary and field errors.");
    b.goto(&pub_url("/cabinet/")).await;
    b.wait("#login").await;
    assert_eq!(b.js("return document.documentElement.lang;").await, "kk");
    assert_eq!(b.text("h1").await, "Кабинетке кіру");
    b.axe("sign-in (kk)").await;
    b.phone_check("signin-kk").await;
    b.click("form button[type=submit]").await;
    b.wait(".error-summary:not(.hidden) a[href='#login']").await;
    b.wait(".error-summary:not(.hidden) a[href='#password']")
        .await;
    b.until(
        "document.activeElement && document.activeElement.classList.contains('error-summary')",
        "the focus moves to the error summary",
    )
    .await;
    assert_eq!(
        b.wait("#login").await.attr("aria-invalid").await.unwrap(),
        Some("true".into())
    );
    b.axe("sign-in with errors (kk)").await;
    // A wrong password: one message, nothing else happens.
    step("A wrong password: one message, nothing else happens.");
    b.fill("#login", &city.consumer).await;
    b.fill("#password", "not-the-password").await;
    b.click("form button[type=submit]").await;
    // The empty form's message has the same id: wait for this answer's, and for the form
    // to be ready again, before trying the right password.
    b.until(
        "(document.querySelector('#login-error') || {textContent: ''}).textContent.includes('Логин немесе құпиясөз қате') \
         && !document.querySelector('form button[type=submit]').disabled",
        "the wrong password is refused",
    )
    .await;
    b.fill("#password", PASSWORD).await;
    b.click("form button[type=submit]").await;

    // My accounts → the current UPD.
    step("My accounts → the current UPD.");
    b.wait("article.account").await;
    assert!(b.text("main").await.contains(&city.account));
    b.axe("accounts (kk)").await;
    b.phone_check("accounts-kk").await;
    b.click("article.account a.button").await;
    b.wait("article.upd").await;
    let upd_url = b.client.current_url().await.unwrap().to_string();
    let upd_number = upd_url.rsplit('/').next().unwrap().to_string();
    assert!(
        b.text("article.upd")
            .await
            .contains("Коммуналдық қызметтер")
    );
    b.axe("UPD (kk)").await;
    b.phone_check("upd-kk").await;
    // Expand a line: its formula shows.
    step("Expand a line: its formula shows.");
    b.click("details.line summary").await;
    b.until(
        "document.querySelector('details.line').open",
        "the line opens",
    )
    .await;
    let formula = b.text("details.line[open] .formula").await;
    assert!(formula.contains('×') || formula.contains('₸'), "{formula}");
    b.axe("UPD with an open line (kk)").await;
    let remaining_before = money_of(&b.text("[data-testid=remaining]").await);
    assert!(remaining_before.is_positive());

    // Pay part of it, with the keyboard alone.
    step("Pay part of it, with the keyboard alone.");
    b.click("a[href$='/pay']").await;
    b.wait("form.pay-form").await;
    b.axe("pay (kk)").await;
    b.phone_check("pay-kk").await;
    let checkboxes = b
        .client
        .find_all(Locator::Css("form.pay-form input[type=checkbox]"))
        .await
        .unwrap();
    assert!(checkboxes.len() >= 2, "a UPD of several lines");
    let first_id = checkboxes[0].attr("id").await.unwrap().unwrap();
    b.js("document.activeElement && document.activeElement.blur(); return 0;")
        .await;
    b.tab_to(&format!("#{first_id}")).await;
    b.press(Key::Space).await; // leave out the first line
    b.until(
        &format!("!document.getElementById('{first_id}').checked"),
        "the first line unchosen",
    )
    .await;
    b.tab_to("#pay-amount").await;
    let suggested = money_of(
        &b.wait("#pay-amount")
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap(),
    );
    assert!(
        suggested < remaining_before,
        "the amount follows the chosen lines"
    );
    let part = Money::from_tiyn((suggested.tiyn() / 2).max(100));
    // Select what is there and type the new amount.
    step("Select what is there and type the new amount.");
    let ctrl: char = Key::Control.into();
    b.client
        .perform_actions(
            KeyActions::new("select".into())
                .then(KeyAction::Down { value: ctrl })
                .then(KeyAction::Down { value: 'a' })
                .then(KeyAction::Up { value: 'a' })
                .then(KeyAction::Up { value: ctrl }),
        )
        .await
        .unwrap();
    b.type_text(&part.to_string()).await;
    let spaces = |t: String| t.replace(['\u{202F}', '\u{A0}'], " ");
    let button = spaces(b.text("form.pay-form button[type=submit]").await);
    assert!(button.contains(&spaces(part.display_kzt())), "{button}");
    b.tab_to("form.pay-form button[type=submit]").await;
    b.press(Key::Enter).await;

    // The sandbox bank's page: pay with the test card that succeeds.
    step("The sandbox bank's page: pay with the test card that succeeds.");
    b.wait("#card").await;
    assert!(b.text("body").await.contains("SANDBOX"));
    b.fill("#card", "4242 4242 4242 4242").await;
    b.fill("#expiry", "12/29").await;
    b.click("form button[type=submit]").await;

    // Back in the cabinet: the allocation and the new balance.
    step("Back in the cabinet: the allocation and the new balance.");
    b.wait("[data-status=succeeded]").await;
    let result_url = b.client.current_url().await.unwrap().to_string();
    assert!(result_url.contains("/cabinet/payments/"), "{result_url}");
    b.wait("[data-testid=balance]").await;
    let rows = b
        .client
        .find_all(Locator::Css("main table tbody tr"))
        .await
        .unwrap();
    assert!(!rows.is_empty(), "the allocation is shown");
    let mut allocated = Money::ZERO;
    for r in &rows {
        let cells = r.find_all(Locator::Css("td")).await.unwrap();
        allocated += money_of(&cells[2].text().await.unwrap());
    }
    assert_eq!(allocated, part, "the allocation adds up to the payment");
    let balance = money_of(&b.text("[data-testid=balance]").await);
    assert_eq!(balance, remaining_before - part, "the new balance");
    b.axe("payment result (kk)").await;
    b.phone_check("result-kk").await;
    // Refreshing the result and going back never pays twice.
    step("Refreshing the result and going back never pays twice.");
    b.client.refresh().await.unwrap();
    b.wait("[data-status=succeeded]").await;
    b.client.back().await.unwrap();
    b.goto(&result_url).await;
    b.wait("[data-status=succeeded]").await;
    let paid = common::query_strings(
        &db,
        &format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM payment p JOIN upd u ON u.id = p.upd_id \
             WHERE u.number = '{upd_number}' AND p.status = 'succeeded'"
        ),
    );
    assert_eq!(paid, vec!["1".to_string()], "exactly one payment credited");
    // The UPD page shows the same balance.
    step("The UPD page shows the same balance.");
    b.goto(&upd_url).await;
    assert_eq!(
        money_of(&b.text("[data-testid=remaining]").await),
        remaining_before - part
    );

    // A meter reading: a lower value is refused at the field, a higher one accepted.
    step("A meter reading: a lower value is refused at the field, a higher one accepted.");
    b.goto(&pub_url(&format!(
        "/cabinet/accounts/{}/readings",
        city.account
    )))
    .await;
    b.wait("section.meter").await;
    b.axe("readings (kk)").await;
    b.phone_check("readings-kk").await;
    let previous: rust_decimal::Decimal = b
        .text("section.meter [data-testid=previous]")
        .await
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let input = b.wait("section.meter input").await;
    let input_id = input.attr("id").await.unwrap().unwrap();
    b.fill(
        &format!("#{input_id}"),
        &(previous - rust_decimal::Decimal::ONE).to_string(),
    )
    .await;
    b.click("section.meter button[type=submit]").await;
    b.wait(&format!("#{input_id}-error")).await;
    b.axe("readings with an error (kk)").await;
    b.fill(
        &format!("#{input_id}"),
        &(previous + rust_decimal::Decimal::new(35, 1)).to_string(),
    )
    .await;
    b.click("section.meter button[type=submit]").await;
    let saved = b.text("section.meter .notice-ok").await;
    assert!(saved.contains("3.5"), "{saved}");

    // A complaint and its legal deadline: 15 working days.
    step("A complaint and its legal deadline: 15 working days.");
    b.goto(&pub_url("/cabinet/complaints")).await;
    b.wait("#c-subject").await;
    b.click("main form button[type=submit]").await;
    b.wait(".error-summary:not(.hidden) a[href='#c-subject']")
        .await;
    b.axe("complaints with errors (kk)").await;
    b.fill("#c-subject", "Жылу нашар беріледі").await;
    b.fill("#c-body", "Пәтерде температура 16 градус.").await;
    b.click("main form button[type=submit]").await;
    let deadline = b.text("[data-testid=deadline]").await;
    let today = chrono::Utc::now().date_naive();
    let expected = WorkingCalendar::kazakhstan().add_working_days(today, 15);
    assert_eq!(deadline, expected.format("%d.%m.%Y").to_string());
    b.wait("article.complaint").await;
    b.axe("complaints (kk)").await;
    b.phone_check("complaints-kk").await;

    // History: the chart and its table.
    step("History: the chart and its table.");
    b.goto(&pub_url(&format!(
        "/cabinet/accounts/{}/history",
        city.account
    )))
    .await;
    b.wait("svg.chart[role=img] title").await;
    b.wait("main table tbody tr").await;
    b.axe("history (kk)").await;
    b.phone_check("history-kk").await;

    // Consultation: the consumer writes, an operator in another browser answers, and the
    // answer arrives without reloading.
    step(
        "Consultation: the consumer writes, an operator in another browser answers, and the answer arrives without reloading.",
    );
    b.goto(&pub_url("/cabinet/chat")).await;
    b.wait("[data-testid=hours]").await;
    b.fill("#chat-text", "Сәлеметсіз бе! Жылу неге қымбат?")
        .await;
    b.click("form.chat-form button[type=submit]").await;
    b.wait(".msg.mine").await;
    b.axe("chat (kk)").await;
    b.phone_check("chat-kk").await;
    let op = Browser::start("operator").await;
    sign_in(&op, &city, &city.operator).await;
    op.goto(&pub_url("/cabinet/operator")).await;
    op.click("button.thread").await;
    op.wait("#answer-text").await;
    op.axe("operator (kk)").await;
    op.fill("#answer-text", "Тариф 1 қаңтардан өзгерді.").await;
    op.click("form.chat-form button[type=submit]").await;
    b.until(
        "[...document.querySelectorAll('.msg.theirs .text')].some(e => e.textContent.includes('Тариф 1 қаңтардан'))",
        "the operator's answer arrives in the consumer's open chat",
    )
    .await;

    // The operator console (D13): the consumer's complaint, first in the queue, is extended
    // once with a reason; the applicant sees the notice and the new date; then it is answered.
    step("The operator console: extend the complaint with a reason, then answer it.");
    let number =
        common::query_strings(&db, "SELECT number FROM complaint ORDER BY id DESC LIMIT 1")
            .remove(0);
    let queued = format!("article.queued[data-number='{number}']");
    op.goto(&pub_url("/cabinet/operator/complaints")).await;
    op.wait(&format!("{queued} form.extend-form")).await;
    op.axe("operator complaints (kk)").await;
    op.phone_check("operator-complaints-kk").await;
    op.click(&format!("{queued} form.extend-form button[type=submit]"))
        .await;
    op.wait(&format!(
        "{queued} form.extend-form .error-summary:not(.hidden) a"
    ))
    .await;
    op.axe("operator complaints with errors (kk)").await;
    let days_id = op
        .wait(&format!("{queued} form.extend-form input"))
        .await
        .attr("id")
        .await
        .unwrap()
        .unwrap();
    op.fill(&format!("#{days_id}"), "3").await;
    op.fill(
        &format!("{queued} form.extend-form textarea"),
        "Есептегіштерді тексеру керек",
    )
    .await;
    op.click(&format!("{queued} form.extend-form button[type=submit]"))
        .await;
    op.wait(".notice-ok[role=status]").await;
    let extended = WorkingCalendar::kazakhstan().add_working_days(expected, 3);
    let extended = extended.format("%d.%m.%Y").to_string();
    op.until(
        &format!(
            "(document.querySelector({}) || {{textContent: ''}}).textContent.includes('{extended}')",
            json!(format!("{queued} [data-testid=due]"))
        ),
        "the queue shows the extended deadline",
    )
    .await;
    b.goto(&pub_url("/cabinet/complaints")).await;
    b.until(
        "[...document.querySelectorAll('.notice-item')].some(e => e.textContent.includes('Есептегіштерді тексеру керек'))",
        "the applicant's notice of the extension and its reason",
    )
    .await;
    assert!(b.text("article.complaint").await.contains(&extended));
    b.axe("complaints with a notice (kk)").await;
    op.goto(&pub_url("/cabinet/operator/complaints")).await;
    op.fill(
        &format!("{queued} form.answer-form textarea"),
        "Жылу берілісі 5 желтоқсаннан бастап қалпына келтірілді.",
    )
    .await;
    op.click(&format!("{queued} form.answer-form button[type=submit]"))
        .await;
    op.wait(".notice-ok[role=status]").await;
    b.goto(&pub_url("/cabinet/complaints")).await;
    b.until(
        "[...document.querySelectorAll('article.complaint')].some(e => e.textContent.includes('қалпына келтірілді'))",
        "the applicant reads the answer",
    )
    .await;
    let status = common::query_strings(
        &db,
        &format!("SELECT status FROM complaint WHERE number = '{number}'"),
    );
    assert_eq!(status, vec!["answered".to_string()]);

    // The discrepancy journal (D8, D9): the one registered in setup is closed with a note.
    step("The discrepancy journal: close a discrepancy with a note.");
    let entry = format!("article.discrepancy[data-id='{}']", city.discrepancy);
    op.goto(&pub_url("/cabinet/operator/discrepancies")).await;
    op.wait(&format!("{entry} form.close-form")).await;
    op.axe("discrepancies (kk)").await;
    op.phone_check("operator-discrepancies-kk").await;
    op.click(&format!("{entry} form.close-form button[type=submit]"))
        .await;
    op.wait(&format!("{entry} .error-summary:not(.hidden) a"))
        .await;
    op.fill(
        &format!("{entry} form.close-form textarea"),
        "Есеп тексерілді, түзету қажет емес",
    )
    .await;
    op.click(&format!("{entry} form.close-form button[type=submit]"))
        .await;
    op.wait(&format!("{entry}[data-status=closed]")).await;
    let closed = common::query_strings(
        &db,
        &format!(
            "SELECT status FROM discrepancy WHERE id = {}",
            city.discrepancy
        ),
    );
    assert_eq!(closed, vec!["closed".to_string()]);

    // The paper form: the PDF holds the account and the total, and its QR opens the
    // payment page of the UPD.
    step(
        "The paper form: the PDF holds the account and the total, and its QR opens the payment page of the UPD.",
    );
    b.goto(&upd_url).await;
    let pdf_link = b.wait("a[download][href*='/pdf']").await;
    let pdf_path = pdf_link.attr("href").await.unwrap().unwrap();
    let cookie = b.cookie("esep_session").await;
    let pdf = reqwest::Client::new()
        .get(pub_url(&pdf_path))
        .header("cookie", format!("esep_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let bytes = pdf.bytes().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("upd.pdf");
    std::fs::write(&file, &bytes).unwrap();
    let text = run_ok("pdftotext", &[file.to_str().unwrap(), "-"]);
    assert!(text.contains(&city.account), "{text}");
    assert!(text.contains(&upd_number), "{text}");
    let to_pay: Value = reqwest::Client::new()
        .get(pub_url(&format!("/api/v1/upds/{upd_number}")))
        .header("cookie", format!("esep_session={cookie}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let total = to_pay["to_pay"].as_str().unwrap();
    assert!(text.contains(total), "the total {total} in:\n{text}");
    for letter in ["Бірыңғай төлем құжаты", "₸"] {
        assert!(text.contains(letter), "{letter} in:\n{text}");
    }
    let png = dir.path().join("page");
    run_ok(
        "pdftoppm",
        &[
            "-r",
            "200",
            "-png",
            "-singlefile",
            file.to_str().unwrap(),
            png.to_str().unwrap(),
        ],
    );
    let qr = run_ok(
        "zbarimg",
        &["--raw", "-q", &format!("{}.png", png.display())],
    );
    let pay_url = format!("{}/cabinet/upds/{upd_number}/pay", city.public);
    assert_eq!(qr.trim(), pay_url);
    // The QR's address opens the payment form.
    step("The QR's address opens the payment form.");
    b.goto(&pay_url).await;
    b.wait("form.pay-form").await;

    // Every page of these flows in Russian and English, the choice remembered.
    step("Every page of these flows in Russian and English, the choice remembered.");
    for (lang, button, accounts_title, upd_word) in [
        ("ru", "Русский", "Мои лицевые счета", "Коммунальные услуги"),
        ("en", "English", "My personal accounts", "Utility services"),
        (
            "kk",
            "Қазақша",
            "Менің дербес шоттарым",
            "Коммуналдық қызметтер",
        ),
    ] {
        b.goto(&pub_url("/cabinet/")).await;
        b.wait("article.account").await;
        b.click(&format!("button.lang[lang={lang}]")).await;
        b.until(
            &format!("document.documentElement.lang === '{lang}'"),
            "the language switches",
        )
        .await;
        assert!(b.text("header.top").await.contains(button));
        b.client.refresh().await.unwrap();
        b.wait("article.account").await;
        assert_eq!(
            b.text("h1").await,
            accounts_title,
            "remembered after a reload"
        );
        b.axe(&format!("accounts ({lang})")).await;
        b.goto(&upd_url).await;
        b.wait("article.upd").await;
        b.until(
            &format!(
                "document.querySelector('article.upd').textContent.includes({})",
                json!(upd_word)
            ),
            "the UPD in the chosen language",
        )
        .await;
        b.click("details.line summary").await;
        b.axe(&format!("UPD ({lang})")).await;
        for (path, ready) in [
            (format!("/cabinet/upds/{upd_number}/pay"), "form.pay-form"),
            (
                result_url.trim_start_matches(&city.public).to_string(),
                "[data-status]",
            ),
            (
                format!("/cabinet/accounts/{}/readings", city.account),
                "section.meter",
            ),
            ("/cabinet/complaints".to_string(), "article.complaint"),
            (
                format!("/cabinet/accounts/{}/history", city.account),
                "svg.chart",
            ),
            ("/cabinet/chat".to_string(), ".msg"),
        ] {
            b.goto(&pub_url(&path)).await;
            b.wait(ready).await;
            b.axe(&format!("{path} ({lang})")).await;
            if lang != "kk" {
                b.phone_check(&format!(
                    "{}-{lang}",
                    path.split('/').nth(2).unwrap_or("page")
                ))
                .await;
            }
        }
        op.goto(&pub_url("/cabinet/operator")).await;
        op.wait("button.thread").await;
        op.axe(&format!("operator ({lang})")).await;
        for (path, ready) in [
            ("/cabinet/operator/complaints", "article.queued"),
            ("/cabinet/operator/discrepancies", "article.discrepancy"),
        ] {
            op.goto(&pub_url(path)).await;
            op.wait(ready).await;
            op.axe(&format!("{path} ({lang})")).await;
        }
    }

    // Sign out: the session ends, the sign-in form returns.
    step("Sign out: the session ends, the sign-in form returns.");
    b.goto(&pub_url("/cabinet/")).await;
    b.click("header.top button.link").await;
    b.wait("#login").await;
    let me = reqwest::Client::new()
        .get(pub_url("/api/v1/me"))
        .header("cookie", format!("esep_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401, "the old session no longer works");
    let _ = b.client.clone().close().await;
    let _ = op.client.clone().close().await;
    drop(city.usc);
}

/// Where the flow is, in the test's output: a failure or a hang names its step.
fn step(what: &str) {
    eprintln!("[cabinet] {what}");
}

fn run_ok(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e} (install poppler-utils and zbar-tools)"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
