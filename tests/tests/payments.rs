//! Payments through two sandbox banks over real HTTP (T3, T5, D11): a UPD paid partly
//! through one bank and the rest through the other, with duplicate and out-of-order
//! callbacks; allocation, ledger and payouts exact to the tiyn.

mod common;

use common::{Server, TestDb, backends, esep, esep_ok, free_port, one, signed_in};
use esep_core::{Iban, Money};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

struct Banks {
    halyk: Server,
    kaspi: Server,
}

const SECRET_1: &str = "sandbox-secret-halyk";
const SECRET_2: &str = "sandbox-secret-kaspi";

fn setup(db: &TestDb) -> (Server, Banks, Vec<common::DemoUser>) {
    setup_with(db, &[], &["--accounts", "20", "--consumers", "3"])
}

/// The demo city (`esep demo --months 2` and `demo_args`), two sandbox banks (started with
/// `bank_args` too) and the USC's server.
fn setup_with(
    db: &TestDb,
    bank_args: &[&str],
    demo_args: &[&str],
) -> (Server, Banks, Vec<common::DemoUser>) {
    let mut args = vec!["demo", "--months", "2"];
    args.extend_from_slice(demo_args);
    let out = esep_ok(db, &args);
    let users = common::demo_logins(&out);
    let (p1, p2) = (free_port(), free_port());
    let bank = |name: &str, port: u16, secret: &str, seed: &str| {
        let port_text = port.to_string();
        let mut args = vec![
            "sandbox-bank",
            "--name",
            name,
            "--port",
            &port_text,
            "--secret",
            secret,
            "--seed",
            seed,
        ];
        args.extend_from_slice(bank_args);
        Server::spawn(db, port, &args)
    };
    let halyk = bank("halyk", p1, SECRET_1, "7");
    let kaspi = bank("kaspi", p2, SECRET_2, "11");
    let iban1 = Iban::from_parts("601", "KZT0000777001")
        .unwrap()
        .to_string();
    let iban2 = Iban::from_parts("722", "KZT0000777002")
        .unwrap()
        .to_string();
    esep_ok(
        db,
        &[
            "bank",
            "set",
            "--code",
            "halyk",
            "--name",
            "Sandbox Halyk",
            "--url",
            &halyk.base,
            "--transit-iban",
            &iban1,
            "--secret",
            SECRET_1,
            "--sandbox",
        ],
    );
    esep_ok(
        db,
        &[
            "bank",
            "set",
            "--code",
            "kaspi",
            "--name",
            "Sandbox Kaspi",
            "--url",
            &kaspi.base,
            "--transit-iban",
            &iban2,
            "--secret",
            SECRET_2,
            "--sandbox",
        ],
    );
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
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
        ],
    );
    (usc, Banks { halyk, kaspi }, users)
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn money(v: &Value) -> Money {
    Money::parse(v.as_str().unwrap()).unwrap()
}

/// Pays on the bank's hosted page as a phone's browser would: reads the form, posts it.
async fn pay_on_bank_page(redirect_url: &str, card: &str) -> String {
    let c = no_redirects();
    let page = c
        .get(redirect_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("SANDBOX"), "labelled as a sandbox");
    assert!(
        page.contains("inputmode=\"numeric\"") && page.contains("autocomplete=\"cc-number\""),
        "{page}"
    );
    let res = c
        .post(redirect_url)
        .form(&[("card", card), ("expiry", "12/29")])
        .send()
        .await
        .unwrap();
    if res.status().is_redirection() {
        return res.headers()["location"].to_str().unwrap().to_string();
    }
    // 3-D Secure: the bank asks for the code.
    let page = res.text().await.unwrap();
    assert!(page.contains("3-D Secure"), "{page}");
    let res = c
        .post(format!("{redirect_url}/confirm"))
        .form(&[("code", "123456")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    res.headers()["location"].to_str().unwrap().to_string()
}

async fn wait_for_status(c: &reqwest::Client, usc: &Server, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let p: Value = c
            .get(usc.url(&format!("/api/v1/payments/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if p["status"] == status {
            return p;
        }
        assert!(
            Instant::now() < deadline,
            "payment {id} never became {status}: {p}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_for_quiet_banks(banks: &Banks) {
    let deadline = Instant::now() + Duration::from_secs(600);
    for bank in [&banks.halyk, &banks.kaspi] {
        loop {
            let v: Value = reqwest::get(bank.url("/api/pending-callbacks"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if v["pending_callbacks"] == 0 {
                break;
            }
            assert!(Instant::now() < deadline, "callbacks still pending");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Let any duplicate in flight land.
    tokio::time::sleep(Duration::from_millis(400)).await;
}

#[tokio::test]
async fn a_upd_paid_through_two_banks_is_allocated_posted_and_paid_out_exactly() {
    for db in backends() {
        let (usc, banks, users) = setup(&db);
        let (_, login, accounts) = users.iter().find(|u| u.0 == "consumer").unwrap().clone();
        let c = signed_in(&usc, &login).await;
        let account = &accounts[0];
        let list: Vec<Value> = c
            .get(usc.url(&format!("/api/v1/accounts/{account}/upds")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let number = list[0]["number"].as_str().unwrap().to_string();
        let to_pay = money(&list[0]["to_pay"]);
        let upd: Value = c
            .get(usc.url(&format!("/api/v1/upds/{number}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let lines: Vec<&Value> = upd["sections"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["providers"].as_array().unwrap())
            .flat_map(|g| g["lines"].as_array().unwrap())
            .collect();
        let positive: Vec<&&Value> = lines
            .iter()
            .filter(|l| money(&l["due"]).is_positive())
            .collect();
        assert!(positive.len() >= 3, "{}", db.backend);
        let (l1, l2) = (positive[0], positive[1]);
        let chosen_due = money(&l1["due"]) + money(&l2["due"]);
        // Part of two chosen lines: 1 tiyn more than half, so the split has a remainder.
        let part = Money::from_tiyn(chosen_due.tiyn() / 2 + 1);
        let request = json!({"upd_number": number, "bank": "halyk", "lines": [l1["line_no"], l2["line_no"]], "amount": part.to_string()});

        // Without an Idempotency-Key: refused.
        let res = c
            .post(usc.url("/api/v1/payments"))
            .json(&request)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        // More than the chosen lines allow: refused with the field.
        let too_much = json!({"upd_number": number, "bank": "halyk", "lines": [l1["line_no"]], "amount": (money(&l1["due"]) + Money::from_tiyn(1)).to_string()});
        let res = c
            .post(usc.url("/api/v1/payments"))
            .header("idempotency-key", "k0")
            .json(&too_much)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], "amount");
        for bad in [
            json!({"upd_number": number, "bank": "halyk", "amount": "0"}),
            json!({"upd_number": number, "bank": "halyk", "amount": "-5.00"}),
            json!({"upd_number": number, "bank": "nobank"}),
        ] {
            let res = c
                .post(usc.url("/api/v1/payments"))
                .header("idempotency-key", format!("bad-{bad}"))
                .json(&bad)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 422, "{bad}");
        }

        let res = c
            .post(usc.url("/api/v1/payments"))
            .header("idempotency-key", "k1")
            .json(&request)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", db.backend);
        let first: Value = res.json().await.unwrap();
        // The same request again: the first answer, not a second payment.
        let again: Value = c
            .post(usc.url("/api/v1/payments"))
            .header("idempotency-key", "k1")
            .json(&request)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(first, again);
        // The same key for something else: refused.
        let other = json!({"upd_number": number, "bank": "kaspi"});
        let res = c
            .post(usc.url("/api/v1/payments"))
            .header("idempotency-key", "k1")
            .json(&other)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);

        let id1 = first["id"].as_str().unwrap().to_string();
        let back = pay_on_bank_page(
            first["redirect_url"].as_str().unwrap(),
            "4242 4242 4242 4242",
        )
        .await;
        assert!(
            back.ends_with(&format!("/cabinet/payments/{id1}")),
            "{back}"
        );
        let p1 = wait_for_status(&c, &usc, &id1, "succeeded").await;
        let allocated: Money = p1["allocations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| money(&a["amount"]))
            .sum();
        assert_eq!(allocated, part);
        let codes: Vec<&str> = p1["allocations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["service_code"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            [
                l1["service_code"].as_str().unwrap(),
                l2["service_code"].as_str().unwrap()
            ]
        );

        // The rest through the other bank, with 3-D Secure.
        let rest = json!({"upd_number": number, "bank": "kaspi"});
        let second: Value = c
            .post(usc.url("/api/v1/payments"))
            .header("idempotency-key", "k2")
            .json(&rest)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(money(&second["amount"]), to_pay - part, "{second}");
        let id2 = second["id"].as_str().unwrap().to_string();
        pay_on_bank_page(
            second["redirect_url"].as_str().unwrap(),
            "4000 0000 0000 3220",
        )
        .await;
        wait_for_status(&c, &usc, &id2, "succeeded").await;

        // A declined card moves nothing.
        let third: Value = c
            .post(usc.url("/api/v1/payments"))
            .header("idempotency-key", "k3")
            .json(&json!({"upd_number": number, "bank": "halyk", "amount": "100.00"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pay_on_bank_page(
            third["redirect_url"].as_str().unwrap(),
            "4000 0000 0000 0002",
        )
        .await;
        wait_for_status(&c, &usc, third["id"].as_str().unwrap(), "declined").await;

        wait_for_quiet_banks(&banks).await;
        // Every positive line is paid exactly; nothing more.
        let upd_id = one(
            &db,
            &format!("SELECT id FROM upd WHERE number = '{number}' ORDER BY version DESC LIMIT 1"),
        );
        let unpaid = one(
            &db,
            &format!(
                "SELECT COUNT(*) FROM upd_line l WHERE l.upd_id = {upd_id} AND l.due_tiyn > 0 AND l.due_tiyn <> \
             (SELECT COALESCE(SUM(a.amount_tiyn), 0) FROM payment_allocation a JOIN payment p ON p.id = a.payment_id \
              WHERE p.upd_id = {upd_id} AND a.service_id = l.service_id)"
            ),
        );
        assert_eq!(unpaid, "0", "{}", db.backend);
        assert_eq!(
            one(
                &db,
                "SELECT COUNT(*) FROM ledger_entry WHERE kind = 'payment'"
            ),
            "2",
            "duplicates credited once"
        );
        let (code, out, _) = esep(&db, &["ledger", "check"]);
        assert_eq!(code, 0, "{out}");
        let balance = |account: &str| -> Money {
            out.lines()
                .find(|l| l.starts_with(account))
                .map(|l| Money::parse(l.split_whitespace().last().unwrap()).unwrap())
                .unwrap_or_default()
        };
        assert_eq!(balance("transit:halyk"), part);
        assert_eq!(balance("transit:kaspi"), to_pay - part);

        // Refused callbacks move nothing and are journaled.
        let send = |body: String, ts: i64, secret: &str| {
            let sig = sign(secret, ts, body.as_bytes());
            reqwest::Client::new()
                .post(usc.url("/api/v1/banks/halyk/callback"))
                .header("x-esep-timestamp", ts.to_string())
                .header("x-esep-signature", sig)
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        let now = chrono::Utc::now().timestamp();
        let cb = |payment: &str, amount: &str| {
            json!({"event_id": "x", "bank_ref": "HALYK-999999", "payment_id": payment, "status": "succeeded", "amount": amount, "at": "2026-12-01T10:00:00Z"}).to_string()
        };
        assert_eq!(
            send(cb(&id1, &part.to_string()), now, "wrong-secret")
                .await
                .unwrap()
                .status(),
            401
        );
        assert_eq!(
            send(cb(&id1, &part.to_string()), now - 301, SECRET_1)
                .await
                .unwrap()
                .status(),
            401
        );
        assert_eq!(
            send(cb("no-such-payment", "1.00"), now, SECRET_1)
                .await
                .unwrap()
                .status(),
            404
        );
        assert_eq!(
            send(cb(&id1, "1.00"), now, SECRET_1)
                .await
                .unwrap()
                .status(),
            422
        );
        assert_eq!(
            send("{not json".into(), now, SECRET_1)
                .await
                .unwrap()
                .status(),
            400
        );
        // A correctly signed duplicate of the success: acknowledged, credited nothing more.
        let bank_ref1 = one(
            &db,
            &format!("SELECT bank_ref FROM payment WHERE public_id = '{id1}'"),
        );
        let dup = json!({"event_id": "dup", "bank_ref": bank_ref1, "payment_id": id1, "status": "succeeded", "amount": part.to_string(), "at": "2026-12-01T10:00:00Z"}).to_string();
        let res = send(dup, now, SECRET_1).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "duplicate");
        // A reversal that overtakes its payment is answered 409, so the bank sends it again later.
        let pending: Value = c
            .post(usc.url("/api/v1/payments"))
            .header("idempotency-key", "k4")
            .json(&json!({"upd_number": number, "bank": "halyk", "amount": "10.00"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let early = json!({"event_id": "early", "bank_ref": "HALYK-X", "payment_id": pending["id"], "status": "reversed", "amount": "10.00", "at": "2026-12-01T10:00:00Z"}).to_string();
        assert_eq!(send(early, now, SECRET_1).await.unwrap().status(), 409);
        assert!(
            one(
                &db,
                "SELECT COUNT(*) FROM bank_message_journal WHERE outcome = 'rejected'"
            )
            .parse::<i64>()
            .unwrap()
                >= 5
        );
        assert_eq!(one(&db, "SELECT COUNT(*) FROM ledger_entry"), "2");

        // A payment at the bank's cash desk is known only from the registry.
        let (_, _, other_accounts) = users
            .iter()
            .filter(|u| u.0 == "consumer")
            .nth(1)
            .unwrap()
            .clone();
        let other_upd = one(
            &db,
            &format!(
                "SELECT u.number FROM upd u JOIN account a ON a.id = u.account_id WHERE a.number = '{}' ORDER BY u.period DESC LIMIT 1",
                other_accounts[0]
            ),
        );
        let cash: Value = reqwest::Client::new()
            .post(banks.halyk.url("/api/cash-desk"))
            .json(&json!({"upd_number": other_upd, "amount": "5000.00"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let today = chrono::Utc::now().date_naive().to_string();
        let out = esep_ok(
            &db,
            &["registry", "reconcile", "--bank", "halyk", "--date", &today],
        );
        assert!(
            out.contains("1 credited") && out.contains("0 problems"),
            "{out}"
        );
        let out = esep_ok(
            &db,
            &["registry", "reconcile", "--bank", "halyk", "--date", &today],
        );
        assert!(
            out.contains("0 credited") && out.contains("2 matched"),
            "{out}"
        );
        // Its reversal, also from the registry, reverses exactly what was posted.
        let cash_ref = cash["bank_ref"].as_str().unwrap();
        reqwest::Client::new()
            .post(
                banks
                    .halyk
                    .url(&format!("/api/payments/{cash_ref}/reverse")),
            )
            .send()
            .await
            .unwrap();
        let out = esep_ok(
            &db,
            &["registry", "reconcile", "--bank", "halyk", "--date", &today],
        );
        assert!(out.contains("1 reversed"), "{out}");
        let (code, out, _) = esep(&db, &["ledger", "check"]);
        assert_eq!(code, 0, "{out}");
        assert_eq!(
            balance_of(&out, "transit:halyk"),
            part,
            "the cash payment and its reversal cancel"
        );

        // Payouts: one pain.001 batch per transit account, confirmed, never twice.
        let dir = tempfile::tempdir().unwrap();
        let out = esep_ok(
            &db,
            &[
                "payouts",
                "run",
                "--date",
                &today,
                "--out",
                dir.path().to_str().unwrap(),
            ],
        );
        assert_eq!(out.matches("confirmed by the bank").count(), 2, "{out}");
        let halyk_file =
            std::fs::read_to_string(dir.path().join(format!("halyk-{today}.pain001.xml"))).unwrap();
        assert!(
            halyk_file.contains(&format!("<CtrlSum>{part}</CtrlSum>")),
            "{halyk_file}"
        );
        validate_pain001(&dir.path().join(format!("halyk-{today}.pain001.xml")));
        validate_pain001(&dir.path().join(format!("kaspi-{today}.pain001.xml")));
        // Each provider receives exactly what was allocated to it through that bank.
        let mismatched = one(
            &db,
            "SELECT COUNT(*) FROM payout_item i WHERE i.amount_tiyn <> (SELECT SUM(a.amount_tiyn) FROM payment_allocation a WHERE a.payout_item_id = i.id)",
        );
        assert_eq!(mismatched, "0");
        let out = esep_ok(
            &db,
            &[
                "payouts",
                "run",
                "--date",
                &today,
                "--out",
                dir.path().to_str().unwrap(),
            ],
        );
        assert_eq!(out.matches("already created").count(), 2, "{out}");
        assert_eq!(one(&db, "SELECT COUNT(*) FROM payout_batch"), "2");
        assert_eq!(
            one(
                &db,
                "SELECT COUNT(*) FROM ledger_entry WHERE kind = 'payout'"
            ),
            "2"
        );
        let (code, out, _) = esep(&db, &["ledger", "check"]);
        assert_eq!(code, 0, "{out}");
        assert_eq!(balance_of(&out, "transit:halyk"), Money::ZERO);
        assert_eq!(balance_of(&out, "transit:kaspi"), Money::ZERO);
        assert!(
            !out.lines()
                .any(|l| l.starts_with("payable:") && !l.trim_end().ends_with(" 0.00")),
            "{out}"
        );
    }
}

fn balance_of(out: &str, account: &str) -> Money {
    out.lines()
        .find(|l| l.starts_with(account))
        .map(|l| Money::parse(l.split_whitespace().last().unwrap()).unwrap())
        .unwrap_or_default()
}

fn sign(secret: &str, ts: i64, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{ts}.").as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Validates against the official ISO 20022 schema with xmllint when `cargo xtask test` has
/// provided it (ESEP_PAIN001_XSD); required when ESEP_REQUIRE_XSD=1.
fn validate_pain001(file: &std::path::Path) {
    let Ok(xsd) = std::env::var("ESEP_PAIN001_XSD") else {
        assert!(
            std::env::var("ESEP_REQUIRE_XSD").is_err(),
            "ESEP_PAIN001_XSD is required"
        );
        eprintln!("note: ESEP_PAIN001_XSD not set; pain.001 not validated against the XSD");
        return;
    };
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--schema", &xsd])
        .arg(file)
        .output()
        .expect("xmllint (Debian package libxml2-utils)");
    assert!(
        out.status.success(),
        "pain.001 does not validate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `task(i)` for `0..n` on `width` concurrent workers.
async fn for_each_concurrently<F, Fut>(n: usize, width: usize, task: F)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let task = std::sync::Arc::new(task);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..width)
        .map(|_| {
            let (task, next) = (task.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    task(i).await;
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
}

/// Issue 7: SIGKILL the server amid a storm of 10,000 payments (ESEP_STORM_PAYMENTS) whose
/// callbacks come doubled and out of order; the banks retry what was not acknowledged, the
/// server restarts, and every paid payment is credited exactly once.
#[tokio::test]
async fn a_server_killed_amid_callbacks_loses_nothing_and_credits_nothing_twice() {
    let n: usize = std::env::var("ESEP_STORM_PAYMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    for db in backends() {
        let started = Instant::now();
        // Spread over 40 households, as month-end is: each pays its current UPD in parts.
        let (mut usc, banks, users) =
            setup_with(&db, &[], &["--accounts", "200", "--consumers", "40"]);
        let port: u16 = usc.base.rsplit(':').next().unwrap().parse().unwrap();
        let mut payers = Vec::new();
        for (_, login, accounts) in users.iter().filter(|u| u.0 == "consumer") {
            let number = one(
                &db,
                &format!(
                    "SELECT u.number FROM upd u JOIN account a ON a.id = u.account_id WHERE a.number = '{}' ORDER BY u.period DESC LIMIT 1",
                    accounts[0]
                ),
            );
            payers.push((signed_in(&usc, login).await, number));
        }
        let payers = std::sync::Arc::new(payers);
        let amount = |i: usize| format!("{}.{:02}", 1 + i % 3, i % 100);
        let redirects = std::sync::Arc::new(std::sync::Mutex::new(vec![String::new(); n]));
        {
            let (base, redirects) = (usc.url("/api/v1/payments"), redirects.clone());
            let payers = payers.clone();
            for_each_concurrently(n, 8, move |i| {
                let (base, redirects) = (base.clone(), redirects.clone());
                let (c, number) = payers[i % payers.len()].clone();
                async move {
                    let bank = if i % 2 == 0 { "halyk" } else { "kaspi" };
                    let res = c
                        .post(&base)
                        .header("idempotency-key", format!("storm-{i}"))
                        .json(&json!({"upd_number": number, "bank": bank, "amount": amount(i)}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), 201, "payment {i}");
                    let p: Value = res.json().await.unwrap();
                    redirects.lock().unwrap()[i] = p["redirect_url"].as_str().unwrap().into();
                }
            })
            .await;
        }
        eprintln!(
            "[storm] {}: {n} payments created in {:.1} s",
            db.backend,
            started.elapsed().as_secs_f64()
        );
        // Pay them all at the banks; the callbacks (about a third doubled, each delayed up to
        // 300 ms so that they overtake each other) stream to the USC, which dies midway.
        let redirects: Vec<String> = redirects.lock().unwrap().clone();
        let paying = tokio::spawn(for_each_concurrently(n, 8, move |i| {
            let url = redirects[i].clone();
            async move {
                pay_on_bank_page(&url, "4242424242424242").await;
            }
        }));
        let credited = || -> i64 {
            one(
                &db,
                "SELECT COUNT(*) FROM ledger_entry WHERE kind = 'payment'",
            )
            .parse()
            .unwrap()
        };
        let deadline = Instant::now() + Duration::from_secs(600);
        while credited() < (n / 5) as i64 {
            assert!(Instant::now() < deadline, "no callbacks arrived");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        usc.kill9();
        let credited_before = credited();
        assert!(
            credited_before < n as i64,
            "the kill came mid-stream on {}: {credited_before}",
            db.backend
        );
        paying.await.unwrap();
        eprintln!(
            "[storm] {}: killed with {credited_before} credited; all paid at the banks after {:.1} s",
            db.backend,
            started.elapsed().as_secs_f64()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        let public = format!("http://127.0.0.1:{port}");
        let _usc = Server::spawn(
            &db,
            port,
            &[
                "serve",
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--public-url",
                &public,
            ],
        );
        wait_for_quiet_banks(&banks).await;
        eprintln!(
            "[storm] {}: the banks' retries all acknowledged after {:.1} s",
            db.backend,
            started.elapsed().as_secs_f64()
        );
        let credited_now = credited();
        if credited_now != n as i64 {
            let journal = common::query_strings(
                &db,
                "SELECT outcome || ': ' || detail FROM bank_message_journal ORDER BY id DESC LIMIT 20",
            );
            let statuses = common::query_strings(
                &db,
                "SELECT status || ' ' || CAST(COUNT(*) AS TEXT) FROM payment GROUP BY status",
            );
            panic!(
                "{}: {credited_now} of {n} credited; payments {statuses:?}; the banks' last messages: {journal:#?}",
                db.backend
            );
        }
        assert_eq!(
            one(
                &db,
                "SELECT COUNT(*) FROM payment WHERE status = 'succeeded'"
            ),
            n.to_string()
        );
        let expected: Money = (0..n).map(|i| Money::parse(&amount(i)).unwrap()).sum();
        assert_eq!(
            one(
                &db,
                "SELECT CAST(SUM(amount_tiyn) AS BIGINT) FROM payment_allocation WHERE source = 'payment'"
            ),
            expected.tiyn().to_string(),
            "every tiyn allocated once"
        );
        assert_eq!(
            one(
                &db,
                "SELECT COUNT(*) FROM (SELECT reference FROM ledger_entry WHERE kind = 'payment' GROUP BY reference HAVING COUNT(*) > 1) d"
            ),
            "0",
            "no payment posted twice"
        );
        let (code, out, _) = esep(&db, &["ledger", "check"]);
        assert_eq!(code, 0, "{out}");
        assert_eq!(
            balance_of(&out, "transit:halyk") + balance_of(&out, "transit:kaspi"),
            expected,
            "the transit accounts hold exactly what was paid"
        );
    }
}

/// Issue 7: SIGKILL during a payout run, again and again at different moments (the banks
/// answer slowly, so some kills land while a batch is with the bank); a final run completes
/// it, and no transfer is missing or made twice, in the USC's books or at the banks.
#[tokio::test]
async fn a_payout_run_killed_midway_pays_every_provider_exactly_once() {
    for db in backends() {
        let (usc, banks, users) = setup_with(
            &db,
            &["--payout-delay-ms", "400"],
            &["--accounts", "20", "--consumers", "3"],
        );
        let (_, login, accounts) = users.iter().find(|u| u.0 == "consumer").unwrap().clone();
        let c = signed_in(&usc, &login).await;
        let mut paid = Money::ZERO;
        for (i, account) in accounts.iter().enumerate() {
            let number = one(
                &db,
                &format!(
                    "SELECT u.number FROM upd u JOIN account a ON a.id = u.account_id WHERE a.number = '{account}' ORDER BY u.period DESC LIMIT 1"
                ),
            );
            for (j, bank) in ["halyk", "kaspi"].iter().enumerate() {
                let amount = format!("{}.{:02}", 700 + 13 * i + j, 17 + j);
                let p: Value = c
                    .post(usc.url("/api/v1/payments"))
                    .header("idempotency-key", format!("payout-{i}-{j}"))
                    .json(&json!({"upd_number": number, "bank": bank, "amount": amount}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                pay_on_bank_page(p["redirect_url"].as_str().unwrap(), "4242424242424242").await;
                paid += Money::parse(&amount).unwrap();
            }
        }
        wait_for_quiet_banks(&banks).await;
        // The demo's history was paid before the banks (no bank); these came through them.
        let allocated = one(
            &db,
            "SELECT CAST(SUM(amount_tiyn) AS BIGINT) FROM payment_allocation WHERE bank_id IS NOT NULL",
        );
        assert_eq!(allocated, paid.tiyn().to_string());
        let today = chrono::Utc::now().date_naive().to_string();
        let dir = tempfile::tempdir().unwrap();
        let out_dir = dir.path().to_str().unwrap().to_string();
        let args = ["payouts", "run", "--date", &today, "--out", &out_dir];
        // Kill the run at several moments: before, during and after each bank's answer.
        let mut kills = 0;
        for delay_ms in [5u64, 60, 250, 500, 700, 1100] {
            let mut child = std::process::Command::new(common::esep_bin())
                .args(args)
                .env("DATABASE_URL", &db.url)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(delay_ms));
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
                kills += 1;
            }
            child.wait().unwrap();
        }
        assert!(kills >= 3, "the run was killed midway {kills} times");
        let out = esep_ok(&db, &args);
        assert_eq!(
            out.matches("confirmed by the bank").count(),
            2,
            "the final run confirms both batches: {out}"
        );
        // The USC's books: two batches, each allocation in exactly one transfer, each
        // transfer the sum of its allocations, nothing left unpaid.
        assert_eq!(one(&db, "SELECT COUNT(*) FROM payout_batch"), "2");
        assert_eq!(
            one(
                &db,
                "SELECT COUNT(*) FROM payout_batch WHERE status = 'confirmed'"
            ),
            "2"
        );
        assert_eq!(
            one(
                &db,
                "SELECT COUNT(*) FROM payment_allocation WHERE bank_id IS NOT NULL AND payout_item_id IS NULL"
            ),
            "0"
        );
        assert_eq!(
            one(
                &db,
                "SELECT COUNT(*) FROM payout_item i WHERE i.amount_tiyn <> (SELECT SUM(a.amount_tiyn) FROM payment_allocation a WHERE a.payout_item_id = i.id)"
            ),
            "0"
        );
        assert_eq!(
            one(
                &db,
                "SELECT CAST(SUM(amount_tiyn) AS BIGINT) FROM payout_item"
            ),
            paid.tiyn().to_string()
        );
        assert_eq!(
            one(
                &db,
                "SELECT COUNT(*) FROM ledger_entry WHERE kind = 'payout'"
            ),
            "2",
            "each batch posted once"
        );
        // The banks: each batch executed once, whatever number of times it was sent.
        let mut at_banks = Money::ZERO;
        for bank in [&banks.halyk, &banks.kaspi] {
            let executed: Vec<Value> = reqwest::get(bank.url("/api/payouts"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(
                executed.len(),
                1,
                "one MsgId at {}: {executed:?}",
                bank.base
            );
            at_banks += money(&executed[0]["ctrl_sum"]);
        }
        assert_eq!(at_banks, paid, "the banks moved exactly what was allocated");
        let (code, out, _) = esep(&db, &["ledger", "check"]);
        assert_eq!(code, 0, "{out}");
        assert_eq!(balance_of(&out, "transit:halyk"), Money::ZERO);
        assert_eq!(balance_of(&out, "transit:kaspi"), Money::ZERO);
    }
}
