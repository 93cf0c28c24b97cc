//! The `esep` command line, black-box: checks, the calendar, imports and billing runs, on
//! SQLite and (when `DATABASE_URL` is set) on PostgreSQL.

mod common;

use common::{backends, esep, esep_ok, one, query_strings};
use std::path::PathBuf;

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn check_prints_valid_or_the_reason_and_sets_the_exit_code() {
    let db = common::sqlite();
    for (what, value, ok) in [
        ("iban", "KZ86125KZT5004100100", true),
        ("iban", "kz86 125K ZT50 0410 0100", true),
        ("iban", "KZ86125KZT5004100101", false),
        ("iban", "KZ61999KZT5004100100", false),
        ("iin", "900101300811", true),
        ("iin", "900101300812", false),
        ("bin", "991243000012", true),
        ("bin", "900101300811", false),
    ] {
        let (code, out, _) = esep(&db, &["check", what, value]);
        if ok {
            assert_eq!((code, out.trim()), (0, "valid"), "{what} {value}");
        } else {
            assert_eq!(code, 1, "{what} {value}");
            assert!(out.starts_with("invalid: "), "{what} {value}: {out}");
            assert!(out.trim().len() > "invalid: ".len());
        }
    }
}

#[test]
fn calendar_counts_working_days_across_nauryz_and_decree_transfers() {
    let db = common::sqlite();
    let add = |d: &str, n: &str| {
        esep_ok(&db, &["calendar", "add-working-days", d, n])
            .trim()
            .to_string()
    };
    let is = |d: &str| {
        esep_ok(&db, &["calendar", "is-working-day", d])
            .trim()
            .to_string()
    };
    // D13: 15 working days from 16 March 2026 cross Nauryz and its carried-over days off.
    assert_eq!(add("2026-03-16", "15"), "2026-04-09");
    // D8: 3 working days from a Friday.
    assert_eq!(add("2026-11-27", "3"), "2026-12-02");
    assert_eq!(is("2026-03-23"), "no", "Nauryz");
    assert_eq!(
        is("2026-03-25"),
        "no",
        "Nauryz carried over from the weekend"
    );
    assert_eq!(is("2026-03-26"), "yes");
    assert_eq!(
        is("2025-01-05"),
        "yes",
        "a Sunday made a working day by decree"
    );
    assert_eq!(is("2025-01-03"), "no", "a decree day off");
    let (code, _, err) = esep(&db, &["calendar", "is-working-day", "2026-02-30"]);
    assert_eq!(code, 1);
    assert!(err.contains("'2026-02-30' is not a date"), "{err}");
}

#[test]
fn imports_are_all_or_nothing_and_report_every_error_by_line_and_column() {
    for db in backends() {
        esep_ok(
            &db,
            &[
                "demo",
                "--accounts",
                "12",
                "--months",
                "1",
                "--consumers",
                "1",
            ],
        );
        let before = one(&db, "SELECT COUNT(*) FROM premises");

        let (code, out, _) = esep(&db, &["import", "premises", &data("premises-bad.csv")]);
        assert_eq!(code, 1, "{}: {out}", db.backend);
        assert!(out.contains("nothing was imported"), "{out}");
        for expected in [
            "line 2, column area_m2: 'abc': not a number",
            "line 3, column residents: '-1': must be a whole number from 0 to 200",
            "line 6: has 5 fields; 8 expected",
        ] {
            assert!(
                out.contains(expected),
                "{} missing '{expected}' in:\n{out}",
                db.backend
            );
        }
        assert_eq!(
            one(&db, "SELECT COUNT(*) FROM premises"),
            before,
            "nothing changed"
        );

        // Rows that parse but refer to unknown things, or repeat an account number.
        let refs = "register_id,territory,address,area_m2,residents,account_number,holder_name,services\n\
            OZHAZH-0103,nowhere,x,60,1,200000103,Demo,cold_water\n\
            OZHAZH-0104,almaty-demo,x,60,1,200000104,Demo,cold_water;teleport\n\
            OZHAZH-0106,almaty-demo,x,60,1,200000104,Demo,cold_water\n";
        let dir = tempfile::tempdir().unwrap();
        let refs_file = dir.path().join("refs.csv");
        std::fs::write(&refs_file, refs).unwrap();
        let (code, out, _) = esep(&db, &["import", "premises", refs_file.to_str().unwrap()]);
        assert_eq!(code, 1, "{out}");
        for expected in [
            "line 2, column territory: 'nowhere': no such territory",
            "line 3, column services: 'teleport': no such service",
            "line 4, column account_number: '200000104' appears again (first on line 3)",
        ] {
            assert!(
                out.contains(expected),
                "{} missing '{expected}' in:\n{out}",
                db.backend
            );
        }
        assert_eq!(
            one(&db, "SELECT COUNT(*) FROM premises"),
            before,
            "nothing changed"
        );

        let (code, out, _) = esep(
            &db,
            &["import", "premises", &data("premises-wrong-columns.csv")],
        );
        assert_eq!(code, 1);
        assert!(out.contains("line 1: the header must be exactly 'register_id,territory,address,area_m2,residents,account_number,holder_name,services'"), "{out}");

        let out = esep_ok(&db, &["import", "premises", &data("premises-good.csv")]);
        assert!(out.contains("3 rows"), "{out}");
        let after = one(&db, "SELECT COUNT(*) FROM premises");
        assert_eq!(
            after.parse::<i64>().unwrap(),
            before.parse::<i64>().unwrap() + 3
        );
        let out = esep_ok(&db, &["import", "premises", &data("premises-good.csv")]);
        assert!(out.contains("already imported"), "{out}");
        assert_eq!(one(&db, "SELECT COUNT(*) FROM premises"), after);
        assert_eq!(
            one(
                &db,
                "SELECT area_m2 FROM premises WHERE register_id = 'OZHAZH-0001'"
            ),
            "54.3"
        );

        let (code, out, _) = esep(&db, &["import", "tariffs", &data("tariffs-bad.csv")]);
        assert_eq!(code, 1, "{out}");
        for expected in [
            "line 2, column tiers: tier limits must increase and only the last tier may be unlimited",
            "line 3, column rate: '-718.5' is negative",
            "line 4, column valid_from: '2027-13-01': not a date",
            "line 5, column valid_to: valid_to 2027-01-01 is before valid_from 2027-02-01",
        ] {
            assert!(
                out.contains(expected),
                "{} missing '{expected}' in:\n{out}",
                db.backend
            );
        }
        let out = esep_ok(&db, &["import", "tariffs", &data("tariffs-good.csv")]);
        assert!(out.contains("2 rows"), "{out}");

        let (code, out, _) = esep(&db, &["import", "providers", &data("providers-bad.csv")]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("line 2, column bin:"), "{out}");
        assert!(out.contains("line 3, column iban:"), "{out}");
        assert!(
            out.contains("line 4, column iban:") && out.contains("999"),
            "{out}"
        );

        // Readings: lower than the last one is refused with the meter's previous value.
        let (acct, svc, last_period, last) = {
            let row = query_strings(
                &db,
                "SELECT a.number || '|' || s.code || '|' || r.period || '|' || r.value FROM reading r \
                 JOIN meter m ON m.id = r.meter_id JOIN account a ON a.id = m.account_id \
                 JOIN service s ON s.id = m.service_id WHERE s.code = 'cold_water' ORDER BY r.period DESC, a.number LIMIT 1",
            );
            let parts: Vec<String> = row[0].split('|').map(str::to_string).collect();
            (
                parts[0].clone(),
                parts[1].clone(),
                parts[2].clone(),
                parts[3].clone(),
            )
        };
        let next = {
            let (y, m) = last_period.split_once('-').unwrap();
            let (y, m): (i32, u32) = (y.parse().unwrap(), m.parse().unwrap());
            if m == 12 {
                format!("{}-01", y + 1)
            } else {
                format!("{y}-{:02}", m + 1)
            }
        };
        let lower: f64 = last.parse::<f64>().unwrap() - 1.0;
        let readings = dir.path().join("readings.csv");
        std::fs::write(
            &readings,
            format!("account_number,service,period,value,taken_on\n{acct},{svc},{next},{lower:.1},{next}-25\n{acct},{svc},2026-13,1,2026-12-25\n"),
        )
        .unwrap();
        let (code, out, _) = esep(&db, &["import", "readings", readings.to_str().unwrap()]);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains("line 2, column value:")
                && out.contains("lower than the previous reading"),
            "{out}"
        );
        assert!(out.contains("line 3, column period: '2026-13'"), "{out}");
    }
}

#[test]
fn billing_is_idempotent_carries_debt_applies_provider_lines_and_reissues_versions() {
    for db in backends() {
        let out = esep_ok(
            &db,
            &[
                "demo",
                "--accounts",
                "25",
                "--months",
                "2",
                "--consumers",
                "1",
            ],
        );
        assert!(out.contains("2 months billed"), "{out}");
        let last = one(&db, "SELECT MAX(period) FROM upd");
        let issued = one(
            &db,
            &format!("SELECT COUNT(*) FROM upd WHERE period = '{last}'"),
        );
        assert_eq!(issued, "25");

        // The same period again: nothing is issued twice.
        let out = esep_ok(&db, &["bill", "--period", &last]);
        assert!(
            out.contains("0 UPDs issued") && out.contains("25 already issued"),
            "{out}"
        );
        assert_eq!(
            one(
                &db,
                &format!("SELECT COUNT(*) FROM upd WHERE period = '{last}'")
            ),
            "25"
        );

        // A provider's recalculation for the next period, imported as a file.
        let next = {
            let (y, m) = last.split_once('-').unwrap();
            let (y, m): (i32, u32) = (y.parse().unwrap(), m.parse().unwrap());
            if m == 12 {
                format!("{}-01", y + 1)
            } else {
                format!("{y}-{:02}", m + 1)
            }
        };
        let heating_bin = one(
            &db,
            "SELECT p.bin FROM provider p JOIN service s ON s.provider_id = p.id WHERE s.code = 'heating'",
        );
        let dir = tempfile::tempdir().unwrap();
        let charges = dir.path().join("charges.csv");
        std::fs::write(
            &charges,
            format!(
                "provider_bin,external_id,account_number,service,period,kind,amount,quantity,description\n\
                 {heating_bin},RC-1,100000001,heating,{next},recalculation,-1500.00,,Heating off 3 days in {last}\n"
            ),
        )
        .unwrap();
        esep_ok(&db, &["import", "charges", charges.to_str().unwrap()]);
        let out = esep_ok(&db, &["import", "charges", charges.to_str().unwrap()]);
        assert!(out.contains("already imported"));

        let out = esep_ok(&db, &["bill", "--period", &next]);
        assert!(out.contains("25 UPDs issued"), "{}: {out}", db.backend);
        assert!(
            out.contains("UPDs/s") && out.contains("peak memory"),
            "{out}"
        );
        let recalc = one(
            &db,
            &format!(
                "SELECT l.recalculation_tiyn FROM upd_line l JOIN upd u ON u.id = l.upd_id JOIN account a ON a.id = u.account_id \
                 JOIN service s ON s.id = l.service_id WHERE a.number = '100000001' AND u.period = '{next}' AND s.code = 'heating'"
            ),
        );
        assert_eq!(recalc, "-150000");

        // Debt carried per provider: each line opens with the previous line's due.
        let mismatches = one(
            &db,
            &format!(
                "SELECT COUNT(*) FROM upd_line n JOIN upd un ON un.id = n.upd_id \
                 JOIN upd up ON up.account_id = un.account_id AND up.period = '{last}' \
                 JOIN upd_line p ON p.upd_id = up.id AND p.service_id = n.service_id \
                 WHERE un.period = '{next}' AND n.opening_tiyn <> p.due_tiyn"
            ),
        );
        assert_eq!(mismatches, "0", "{}", db.backend);
        // Every UPD's total is the sum of its lines.
        let bad_totals = one(
            &db,
            "SELECT COUNT(*) FROM upd u WHERE u.total_due_tiyn <> (SELECT COALESCE(SUM(due_tiyn), 0) FROM upd_line l WHERE l.upd_id = u.id)",
        );
        assert_eq!(bad_totals, "0");

        // A reissue makes version 2 of every UPD with its reason; version 1 is kept.
        let out = esep_ok(
            &db,
            &[
                "bill",
                "--period",
                &next,
                "--reissue",
                "--reason",
                "Heating tariff corrected",
            ],
        );
        assert!(out.contains("25 UPDs issued"), "{out}");
        assert_eq!(
            one(
                &db,
                &format!(
                    "SELECT COUNT(*) FROM upd WHERE period = '{next}' AND version = 2 AND reason = 'Heating tariff corrected'"
                )
            ),
            "25"
        );
        assert_eq!(
            one(
                &db,
                &format!("SELECT COUNT(*) FROM upd WHERE period = '{next}' AND version = 1")
            ),
            "25"
        );
        // Issued documents are immutable in the database itself.
        for sql in [
            "UPDATE upd SET total_due_tiyn = 0",
            "DELETE FROM upd_line",
            "UPDATE upd_line SET due_tiyn = due_tiyn + 1",
        ] {
            let err = common::execute_err(&db, sql);
            assert!(err.contains("immutable"), "{}: {sql}: {err}", db.backend);
        }
        let (code, _, err) = esep(&db, &["bill", "--period", "2026-13"]);
        assert_eq!(code, 1);
        assert!(err.contains("month must be 01 to 12"), "{err}");
        let (code, _, err) = esep(&db, &["bill", "--period", &next, "--reissue"]);
        assert_ne!(code, 0, "a reissue needs a reason: {err}");
    }
}

#[test]
fn a_billing_run_killed_midway_resumes_without_duplicates() {
    for db in backends() {
        esep_ok(
            &db,
            &[
                "demo",
                "--accounts",
                "3000",
                "--months",
                "0",
                "--consumers",
                "0",
            ],
        );
        let period = {
            let out = esep_ok(&db, &["calendar", "is-working-day", "2026-01-05"]);
            assert_eq!(out.trim(), "yes");
            one(&db, "SELECT MAX(period) FROM reading")
        };
        let mut child = std::process::Command::new(common::esep_bin())
            .args(["bill", "--period", &period, "--batch", "20"])
            .env("DATABASE_URL", &db.url)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let n: i64 = one(&db, "SELECT COUNT(*) FROM upd").parse().unwrap();
            if n >= 100 || std::time::Instant::now() > deadline {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // A commit in flight when the process died may still land on the server, so the rerun
        // itself says how much the killed run had issued.
        let out = esep_ok(&db, &["bill", "--period", &period]);
        let number_before = |marker: &str| -> i64 {
            let i = out
                .find(marker)
                .unwrap_or_else(|| panic!("'{marker}' in {out}"));
            out[..i].split_whitespace().last().unwrap().parse().unwrap()
        };
        let (issued, already) = (
            number_before(" UPDs issued"),
            number_before(" already issued"),
        );
        assert!(
            already > 0 && already < 3000,
            "killed midway on {}: {out}",
            db.backend
        );
        assert_eq!(issued + already, 3000, "{out}");
        assert_eq!(one(&db, "SELECT COUNT(*) FROM upd"), "3000");
        assert_eq!(
            one(&db, "SELECT COUNT(DISTINCT account_id) FROM upd"),
            "3000"
        );
        let orphan_lines = one(
            &db,
            "SELECT COUNT(*) FROM upd u WHERE NOT EXISTS (SELECT 1 FROM upd_line l WHERE l.upd_id = u.id)",
        );
        assert_eq!(orphan_lines, "0", "every UPD has its lines");
    }
}

#[test]
fn kpi_export_publishes_monthly_totals_and_withholds_small_months() {
    for db in backends() {
        esep_ok(
            &db,
            &[
                "demo",
                "--accounts",
                "30",
                "--months",
                "2",
                "--consumers",
                "2",
            ],
        );
        let last = one(&db, "SELECT MAX(period) FROM upd");
        let first = one(&db, "SELECT MIN(period) FROM upd");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kpi.json");
        let out = esep_ok(
            &db,
            &[
                "kpi",
                "export",
                "--period-from",
                &first,
                "--period-to",
                &last,
                "--out",
                file.to_str().unwrap(),
            ],
        );
        assert!(out.contains("2 months, 0 withheld"), "{out}");
        let kpi: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(kpi["version"], 1);
        let m = &kpi["months"][1];
        assert_eq!(m["accounts_served"], 30, "{}", db.backend);
        let charged = one(
            &db,
            &format!(
                "SELECT CAST(SUM(total_charged_tiyn) AS BIGINT) FROM upd WHERE period = '{last}'"
            ),
        );
        assert_eq!(
            esep_core::Money::parse(m["charged"].as_str().unwrap())
                .unwrap()
                .tiyn()
                .to_string(),
            charged
        );
        assert_eq!(m["cabinet_users"], 2);
        // Payments made in the last month pay the month before: counted there.
        assert!(
            m["payments_count"].as_u64().unwrap() > 0
                || kpi["months"][0]["collection_rate_pct"].is_string()
        );
        let text = std::fs::read_to_string(&file).unwrap();
        for forbidden in ["iin", "phone", "holder", "address"] {
            assert!(
                !text.to_lowercase().contains(forbidden),
                "no personal data: {forbidden}"
            );
        }
        // The site builds from it.
        let site = dir.path().join("site");
        esep_ok(
            &db,
            &[
                "site",
                "build",
                "--content",
                &data("../../content"),
                "--kpi",
                file.to_str().unwrap(),
                "--out",
                site.to_str().unwrap(),
            ],
        );
        assert!(site.join("en/kpi/index.html").exists());
    }
    // Fewer than 10 accounts: the month is withheld.
    let db = common::sqlite();
    esep_ok(
        &db,
        &[
            "demo",
            "--accounts",
            "8",
            "--months",
            "1",
            "--consumers",
            "1",
        ],
    );
    let p = one(&db, "SELECT MAX(period) FROM upd");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kpi.json");
    let out = esep_ok(
        &db,
        &[
            "kpi",
            "export",
            "--period-from",
            &p,
            "--period-to",
            &p,
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(out.contains("1 withheld"), "{out}");
    let kpi: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(kpi["months"][0]["suppressed"], true);
    assert!(kpi["months"][0]["accounts_served"].is_null());
}
