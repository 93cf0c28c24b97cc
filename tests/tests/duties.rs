//! The USC's duties with deadlines, black-box: complaints (D13), discrepancies (D8, D9),
//! audits and their retention (D7, D10), debt requests (D15) — on SQLite and PostgreSQL.

mod common;

use common::{Fixture, TestDb, backends, esep, esep_ok, one, query_strings, signed_in};
use serde_json::{Value, json};

fn calendar(db: &TestDb, date: &str, n: u32) -> String {
    esep_ok(db, &["calendar", "add-working-days", date, &n.to_string()])
        .trim()
        .to_string()
}

#[tokio::test]
async fn a_complaint_is_answered_within_15_working_days_and_extended_once_with_a_notice() {
    for db in backends() {
        let fx = Fixture::seed(
            db,
            &["--accounts", "20", "--months", "2", "--consumers", "2"],
        );
        let (login, accounts) = fx.consumer(0);
        let c = signed_in(&fx.server, &login).await;
        let res = c
            .post(fx.server.url("/api/v1/complaints"))
            .json(&json!({"kind": "complaint", "subject": "Heating charged in full", "body": "The radiators were cold for a week.", "account_number": accounts[0]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", fx.db.backend);
        let filed: Value = res.json().await.unwrap();
        let number = filed["number"].as_str().unwrap().to_string();
        let today = chrono::Utc::now().date_naive().to_string();
        assert_eq!(filed["deadline"], calendar(&fx.db, &today, 15));
        // Another person's account cannot be named.
        let (_, others) = fx.consumer(1);
        let res = c.post(fx.server.url("/api/v1/complaints")).json(&json!({"kind": "complaint", "subject": "x", "body": "y", "account_number": others[0]})).send().await.unwrap();
        assert_eq!(res.status(), 422);

        let op = signed_in(&fx.server, &fx.staff("operator")).await;
        let extend = |days: u32, reason: &str| {
            op.post(fx.server.url(&format!(
                "/api/v1/operator/complaints/{number}/extend?lang=ru"
            )))
            .json(&json!({"days": days, "reason": reason}))
            .send()
        };
        let res = extend(6, "too long").await.unwrap();
        assert_eq!(res.status(), 422, "more than 5 working days");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], "days");
        assert_eq!(
            extend(3, " ").await.unwrap().status(),
            422,
            "a reason is required"
        );
        let res = extend(3, "нужна поверка счётчика").await.unwrap();
        assert_eq!(res.status(), 200);
        let extended: Value = res.json().await.unwrap();
        assert_eq!(
            extended["extended_deadline"],
            calendar(&fx.db, filed["deadline"].as_str().unwrap(), 3)
        );
        assert_eq!(extended["status"], "extended");
        let res = extend(1, "again").await.unwrap();
        assert_eq!(res.status(), 422, "only one extension");
        // The applicant sees the notice with the reason in the cabinet.
        let notices: Vec<Value> = c
            .get(fx.server.url("/api/v1/notices"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            notices[0]["body"]
                .as_str()
                .unwrap()
                .contains("нужна поверка счётчика"),
            "{notices:?}"
        );
        assert!(notices[0]["subject"].as_str().unwrap().contains(&number));
        // A consumer cannot use the operators' queue; the operator answers.
        assert_eq!(
            c.get(fx.server.url("/api/v1/operator/complaints"))
                .send()
                .await
                .unwrap()
                .status(),
            403
        );
        let queue: Vec<Value> = op
            .get(fx.server.url("/api/v1/operator/complaints"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(queue[0]["number"], number.as_str());
        let res = op
            .post(
                fx.server
                    .url(&format!("/api/v1/operator/complaints/{number}/answer")),
            )
            .json(&json!({"answer": "Recalculated for 7 days."}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let mine: Vec<Value> = c
            .get(fx.server.url("/api/v1/complaints"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(mine[0]["status"], "answered");
        assert_eq!(mine[0]["overdue"], false);
    }
}

#[test]
fn deadlines_cross_nauryz_the_new_year_and_a_decree_transfer() {
    let db = common::sqlite();
    esep_ok(
        &db,
        &[
            "demo",
            "--accounts",
            "12",
            "--months",
            "1",
            "--consumers",
            "0",
        ],
    );
    // Registered by phone on Monday 16 March 2026: Nauryz and its carried days off are skipped.
    let out = esep_ok(
        &db,
        &[
            "complaint",
            "register",
            "--channel",
            "phone",
            "--subject",
            "Meter",
            "--body",
            "Reading not taken",
            "--date",
            "2026-03-16",
        ],
    );
    assert!(out.contains("answer due 2026-04-09"), "{out}");
    let number = out.split_whitespace().next().unwrap().to_string();
    let out = esep_ok(
        &db,
        &[
            "complaint",
            "extend",
            &number,
            "--days",
            "5",
            "--reason",
            "site visit",
        ],
    );
    assert!(out.contains("answer due 2026-04-16"), "{out}");
    // Across the New Year: 1, 2 and 7 January are holidays.
    let out = esep_ok(
        &db,
        &[
            "complaint",
            "register",
            "--channel",
            "letter",
            "--subject",
            "Debt",
            "--body",
            "Paid twice",
            "--date",
            "2025-12-24",
        ],
    );
    assert!(out.contains("answer due 2026-01-19"), "{out}");
    // D8: detected on 2 January 2025; 3 January is a decree day off and Sunday 5 January a working day.
    let on_time = esep_ok(
        &db,
        &[
            "discrepancy",
            "register",
            "--source",
            "operator",
            "--detected",
            "2025-01-02",
            "--registered",
            "2025-01-08",
            "--description",
            "Lift charged to a house without a lift",
            "--justification",
            "The register shows 5 floors",
            "--responsible",
            "billing department",
        ],
    );
    assert!(
        on_time.contains("deadline 2025-01-08") && !on_time.contains("LATE"),
        "{on_time}"
    );
    let late = esep_ok(
        &db,
        &[
            "discrepancy",
            "register",
            "--source",
            "operator",
            "--detected",
            "2025-01-02",
            "--registered",
            "2025-01-09",
            "--description",
            "x",
            "--justification",
            "y",
            "--responsible",
            "billing department",
        ],
    );
    assert!(late.contains("LATE"), "{late}");
    let (code, _, err) = esep(
        &db,
        &[
            "complaint",
            "extend",
            &number,
            "--days",
            "1",
            "--reason",
            "again",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("already extended once"), "{err}");
}

#[test]
fn an_audit_finds_a_corrupted_line_and_a_missing_provider_line_and_the_correction_reaches_the_next_upd()
 {
    for db in backends() {
        esep_ok(
            &db,
            &[
                "demo",
                "--accounts",
                "15",
                "--months",
                "2",
                "--consumers",
                "0",
            ],
        );
        let last = one(&db, "SELECT MAX(period) FROM upd");
        let first = one(&db, "SELECT MIN(period) FROM upd");
        // A clean city has no findings.
        let out = esep_ok(
            &db,
            &[
                "audit",
                "run",
                "--kind",
                "planned",
                "--reason",
                "quarterly plan",
                "--period-from",
                &first,
                "--period-to",
                &last,
            ],
        );
        assert!(out.contains(" 0 findings"), "{}: {out}", db.backend);
        // Corrupt: a line whose charge does not follow from its formula, added to an issued
        // UPD; and a provider's recalculation that never made it onto its UPD.
        let upd = one(
            &db,
            &format!(
                "SELECT u.id FROM upd u JOIN account a ON a.id = u.account_id WHERE a.number = '100000003' AND u.period = '{last}'"
            ),
        );
        let service = one(&db, "SELECT id FROM service WHERE code = 'lift'");
        let provider = one(&db, "SELECT provider_id FROM service WHERE code = 'lift'");
        query_strings(
            &db,
            &format!(
                "INSERT INTO upd_line (upd_id, line_no, service_id, provider_id, quantity, opening_tiyn, charge_tiyn, recalculation_tiyn, paid_tiyn, due_tiyn, explanation) \
             VALUES ({upd}, 99, {service}, {provider}, '1', 0, 99999, 0, 0, 99999, '{{\"terms\":[{{\"quantity\":\"1\",\"unit\":\"account\",\"rate\":\"650\"}}]}}') RETURNING upd_id"
            ),
        );
        let heating = one(&db, "SELECT id FROM service WHERE code = 'heating'");
        let heating_provider = one(
            &db,
            "SELECT provider_id FROM service WHERE code = 'heating'",
        );
        let account = one(&db, "SELECT id FROM account WHERE number = '100000004'");
        query_strings(
            &db,
            &format!(
                "INSERT INTO provider_line (provider_id, account_id, service_id, period, kind, amount_tiyn, description, external_id) \
             VALUES ({heating_provider}, {account}, {heating}, '{last}', 'recalculation', -50000, 'Heating off in {last}', 'LATE-1') RETURNING id"
            ),
        );
        let out = esep_ok(
            &db,
            &[
                "audit",
                "run",
                "--kind",
                "unscheduled",
                "--reason",
                "complaint C-1",
                "--period-from",
                &first,
                "--period-to",
                &last,
            ],
        );
        assert!(out.contains("[upd_line_formula] UPD 100000003-"), "{out}");
        assert!(
            out.contains("the charge is 999.99 ₸ but its formula gives 650.00 ₸"),
            "{out}"
        );
        assert!(out.contains("[upd_totals] UPD 100000003-"), "{out}");
        assert!(
            out.contains("[provider_line_on_upd] account 100000004"),
            "{out}"
        );
        let findings: i64 = one(&db, "SELECT COUNT(*) FROM audit_finding")
            .parse()
            .unwrap();
        assert_eq!(
            one(
                &db,
                "SELECT COUNT(*) FROM discrepancy WHERE source = 'audit'"
            ),
            findings.to_string(),
            "each finding is a discrepancy"
        );
        // Correct the missing recalculation on the next UPD, bill, and the journal closes the loop.
        let d = one(
            &db,
            "SELECT MIN(id) FROM discrepancy WHERE description LIKE 'account 100000004%'",
        );
        let out = esep_ok(
            &db,
            &[
                "discrepancy",
                "correct",
                &d,
                "--account",
                "100000004",
                "--service",
                "heating",
                "--amount",
                "-500.00",
            ],
        );
        let next = out
            .split("UPD of ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        esep_ok(&db, &["bill", "--period", &next]);
        assert_eq!(
            one(
                &db,
                &format!("SELECT status FROM discrepancy WHERE id = {d}")
            ),
            "corrected",
            "{}",
            db.backend
        );
        let recalc = one(
            &db,
            &format!(
                "SELECT l.recalculation_tiyn FROM upd_line l JOIN upd u ON u.id = l.upd_id JOIN account a ON a.id = u.account_id \
             WHERE a.number = '100000004' AND u.period = '{next}' AND l.service_id = {heating}"
            ),
        );
        assert_eq!(recalc, "-50000");
        esep_ok(&db, &["discrepancy", "close", &d, "--note", "recalculated"]);
        // D9: its act, as a PDF whose text reads back.
        let dir = tempfile::tempdir().unwrap();
        let act = dir.path().join("act.pdf");
        esep_ok(
            &db,
            &["discrepancy", "act", &d, "--out", act.to_str().unwrap()],
        );
        let text = pdf_text(&act);
        assert!(
            text.contains("Сәйкессіздік туралы акт") && text.contains(&format!("D-{d}")),
            "{text}"
        );
        assert!(
            text.contains("closed") && text.contains("recalculation -500.00"),
            "{text}"
        );
        let (code, _, err) = esep(&db, &["discrepancy", "close", &d, "--note", "again"]);
        assert_eq!(code, 1, "{err}");

        // D10: the audit's results resist change, even by direct SQL.
        for sql in [
            "UPDATE audit SET reason = 'nothing happened'",
            "DELETE FROM audit",
            "UPDATE audit_finding SET detail = 'fine'",
            "DELETE FROM audit_finding",
        ] {
            let e = common::execute_err(&db, sql);
            assert!(e.contains("audit results"), "{}: {sql}: {e}", db.backend);
        }
        if db.backend == "postgres" {
            let e = common::execute_err(&db, "TRUNCATE audit_finding");
            assert!(e.contains("audit results"), "{e}");
        }
        assert_eq!(one(&db, "SELECT COUNT(*) FROM audit"), "2");
    }
}

#[tokio::test]
async fn an_authority_gets_an_accounts_debt_only_with_a_legal_basis_and_auditors_see_it() {
    for db in backends() {
        let fx = Fixture::seed(
            db,
            &["--accounts", "20", "--months", "2", "--consumers", "1"],
        );
        let akimat = signed_in(&fx.server, &fx.staff("authority")).await;
        let res = akimat
            .post(fx.server.url("/api/v1/debt-requests"))
            .json(&json!({"account_number": "100000005", "legal_basis": "", "reference": "AK-1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], "legal_basis");
        let res = akimat
            .post(fx.server.url("/api/v1/debt-requests"))
            .json(&json!({"account_number": "100000005", "legal_basis": "Rules for the provision of utility services, D15", "reference": "AK-2026/117"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", fx.db.backend);
        let answer: Value = res.json().await.unwrap();
        let total: esep_core::Money = answer["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| esep_core::Money::parse(l["debt"].as_str().unwrap()).unwrap())
            .sum();
        assert_eq!(
            total,
            esep_core::Money::parse(answer["total"].as_str().unwrap()).unwrap()
        );
        let (login, _) = fx.consumer(0);
        let consumer = signed_in(&fx.server, &login).await;
        assert_eq!(consumer.post(fx.server.url("/api/v1/debt-requests")).json(&json!({"account_number": "100000005", "legal_basis": "curious", "reference": "x"})).send().await.unwrap().status(), 403);
        let auditor = signed_in(&fx.server, &fx.staff("auditor")).await;
        let list: Vec<Value> = auditor
            .get(fx.server.url("/api/v1/debt-requests"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["reference"], "AK-2026/117");
        assert_eq!(
            akimat
                .get(fx.server.url("/api/v1/debt-requests"))
                .send()
                .await
                .unwrap()
                .status(),
            403
        );
    }
}

#[tokio::test]
async fn a_provider_sees_only_its_own_monthly_report_and_it_adds_up() {
    for db in backends() {
        let fx = Fixture::seed(
            db,
            &["--accounts", "20", "--months", "2", "--consumers", "1"],
        );
        let last = one(&fx.db, "SELECT MAX(period) FROM upd");
        // The demo provider user belongs to the first provider (cold water).
        let own = one(
            &fx.db,
            "SELECT p.bin FROM provider p JOIN app_user u ON u.provider_id = p.id WHERE u.login = 'provider'",
        );
        let other = one(
            &fx.db,
            &format!("SELECT bin FROM provider WHERE bin <> '{own}' ORDER BY id LIMIT 1"),
        );
        let c = signed_in(&fx.server, &fx.staff("provider")).await;
        let res = c
            .get(
                fx.server
                    .url(&format!("/api/v1/reports/provider?bin={own}&period={last}")),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", fx.db.backend);
        let report: Value = res.json().await.unwrap();
        let planned: esep_core::Money = report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| esep_core::Money::parse(r["planned"].as_str().unwrap()).unwrap())
            .sum();
        assert_eq!(
            planned,
            esep_core::Money::parse(report["total"]["planned"].as_str().unwrap()).unwrap()
        );
        let expected = one(
            &fx.db,
            &format!(
                "SELECT CAST(SUM(l.charge_tiyn + l.recalculation_tiyn) AS BIGINT) FROM upd u JOIN upd_line l ON l.upd_id = u.id \
             JOIN provider p ON p.id = l.provider_id WHERE u.period = '{last}' AND p.bin = '{own}'"
            ),
        );
        assert_eq!(planned.tiyn().to_string(), expected);
        let res = c
            .get(fx.server.url(&format!(
                "/api/v1/reports/provider?bin={other}&period={last}"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "another provider's report");
        // The same report as CSV from the command line.
        let csv = esep_ok(
            &fx.db,
            &[
                "report", "provider", "--bin", &own, "--period", &last, "--format", "csv",
            ],
        );
        assert!(
            csv.starts_with(
                "provider_bin,period,service,territory,planned,received,paid_out,debt\n"
            ),
            "{csv}"
        );
        assert!(
            csv.contains(&format!("{own},{last},total,,{planned},")),
            "{csv}"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("report.pdf");
        esep_ok(
            &fx.db,
            &[
                "report",
                "provider",
                "--bin",
                &own,
                "--period",
                &last,
                "--format",
                "pdf",
                "--out",
                file.to_str().unwrap(),
            ],
        );
        let text = pdf_text(&file);
        assert!(
            text.contains("Жеткізушіге есеп") && text.contains(&own) && text.contains("₸"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn the_monthly_ozhazh_file_is_validated_acknowledged_and_retried_when_the_receiver_fails() {
    for db in backends() {
        esep_ok(
            &db,
            &[
                "demo",
                "--accounts",
                "12",
                "--months",
                "2",
                "--consumers",
                "0",
            ],
        );
        let last = one(&db, "SELECT MAX(period) FROM upd");
        let port = common::free_port();
        // The sandbox receiver refuses the first two deliveries with 503.
        let _receiver = common::Server::spawn(
            &db,
            port,
            &[
                "sandbox-ozhazh",
                "--port",
                &port.to_string(),
                "--fail-first",
                "2",
            ],
        );
        let url = format!("http://127.0.0.1:{port}/api/exchange");
        let out = esep_ok(
            &db,
            &[
                "ozhazh",
                "send",
                "--period",
                &last,
                "--url",
                &url,
                "--attempts",
                "5",
            ],
        );
        assert!(
            out.contains("accepted") && out.contains("OZHAZH-SANDBOX-"),
            "{out}"
        );
        let log = esep_ok(&db, &["ozhazh", "deliveries"]);
        assert!(
            log.contains("delivered after 3 attempts"),
            "{}: {log}",
            db.backend
        );
        // A broken file is refused line by line, and the refusal is logged.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.jsonl");
        esep_ok(
            &db,
            &[
                "ozhazh",
                "export",
                "--period",
                &last,
                "--out",
                file.to_str().unwrap(),
            ],
        );
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.lines()
                .next()
                .unwrap()
                .contains("\"format\":\"esep-ozhazh\"")
        );
        let broken = text.replacen("\"record\":\"charge\"", "\"record\":\"charg\"", 1);
        let res = reqwest::Client::new()
            .post(&url)
            .body(broken)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let body = res.text().await.unwrap();
        assert!(body.contains("unknown record 'charg'"), "{body}");
    }
}

/// The text of a PDF, read back with pdftotext (Debian poppler-utils).
fn pdf_text(file: &std::path::Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .arg(file)
        .arg("-")
        .output()
        .expect("pdftotext (Debian package poppler-utils)");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
