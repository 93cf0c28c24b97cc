//! The thin API, black-box: the real `esep` binary serving a seeded demo city over HTTP,
//! on SQLite and (when `DATABASE_URL` is set) on PostgreSQL.

mod common;

use common::{Fixture, backends, client, my_accounts, signed_in};
use esep_core::Money;
use serde_json::{Value, json};
use std::sync::OnceLock;

fn fixtures() -> &'static [Fixture] {
    static F: OnceLock<Vec<Fixture>> = OnceLock::new();
    F.get_or_init(|| {
        backends()
            .into_iter()
            .map(|db| {
                Fixture::seed(
                    db,
                    &["--accounts", "40", "--months", "3", "--consumers", "8"],
                )
            })
            .collect()
    })
}

fn money(v: &Value) -> Money {
    Money::parse(v.as_str().expect("money is a string")).expect("money")
}

async fn problem(res: reqwest::Response, status: u16) -> Value {
    assert_eq!(res.status().as_u16(), status, "unexpected status");
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(ct, "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .starts_with("/api/v1/problems/")
    );
    assert!(!body["detail"].as_str().unwrap().is_empty());
    body
}

#[tokio::test]
async fn a_signed_in_consumer_reads_a_upd_whose_total_equals_the_sum_of_its_lines() {
    for fx in fixtures() {
        let (login, accounts) = fx.consumer(0);
        let c = signed_in(&fx.server, &login).await;
        let mine = my_accounts(&c, &fx.server).await;
        let numbers: Vec<&str> = mine.iter().map(|a| a["number"].as_str().unwrap()).collect();
        assert_eq!(numbers, accounts, "{}", fx.db.backend);
        let upd_number = mine[0]["current_upd"]["number"].as_str().unwrap();
        let upd: Value = c
            .get(fx.server.url(&format!("/api/v1/upds/{upd_number}?lang=en")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut sum = Money::ZERO;
        let mut lines = 0;
        let mut sections = vec![];
        for section in upd["sections"].as_array().unwrap() {
            sections.push(section["section"].as_str().unwrap().to_string());
            for group in section["providers"].as_array().unwrap() {
                for line in group["lines"].as_array().unwrap() {
                    lines += 1;
                    sum += money(&line["due"]);
                    let due = money(&line["opening"])
                        + money(&line["charge"])
                        + money(&line["recalculation"])
                        - money(&line["paid"]);
                    assert_eq!(due, money(&line["due"]), "line arithmetic");
                    assert!(!line["formula"].as_str().unwrap().is_empty());
                }
            }
        }
        assert_eq!(lines, 8, "8 services of 8 providers on {}", fx.db.backend);
        assert_eq!(
            sum,
            money(&upd["total_due"]),
            "total equals the sum of the lines on {}",
            fx.db.backend
        );
        assert_eq!(sections, ["utility", "additional"], "T4: separate sections");
        assert_eq!(upd["due_date"].as_str().unwrap()[8..], *"25");
        let heating = upd["sections"][0]["providers"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["lines"].as_array().unwrap())
            .find(|l| l["service_code"] == "heating")
            .unwrap();
        assert!(
            heating["formula"]
                .as_str()
                .unwrap()
                .contains("m² × 394.37 ₸/m²")
        );
        // The same document in Kazakh by default.
        let kk: Value = c
            .get(fx.server.url(&format!("/api/v1/upds/{upd_number}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(kk["sections"][0]["title"], "Коммуналдық қызметтер");
        // A client that accepts brotli gets the same document compressed.
        let url = fx.server.url(&format!("/api/v1/upds/{upd_number}"));
        let plain = c.get(&url).send().await.unwrap().bytes().await.unwrap();
        let res = c
            .get(&url)
            .header("accept-encoding", "br")
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["content-encoding"], "br");
        let packed = res.bytes().await.unwrap();
        let mut unpacked = Vec::new();
        brotli_decompressor::BrotliDecompress(&mut &packed[..], &mut unpacked).unwrap();
        assert_eq!(unpacked, plain, "brotli decodes to the same JSON");
        assert!(
            packed.len() * 2 < plain.len(),
            "{} of {} bytes",
            packed.len(),
            plain.len()
        );
        println!(
            "UPD view on {}: {} bytes of JSON, {} with brotli",
            fx.db.backend,
            plain.len(),
            packed.len()
        );
    }
}

#[tokio::test]
async fn a_consumer_gets_404_for_another_persons_upd_and_the_attempt_is_journaled() {
    for fx in fixtures() {
        let (intruder, _) = fx.consumer(1);
        let (_, victim_accounts) = fx.consumer(2);
        let victim = &victim_accounts[0];
        let c = signed_in(&fx.server, &intruder).await;
        let upds = c
            .get(fx.server.url(&format!("/api/v1/accounts/{victim}/upds")))
            .send()
            .await
            .unwrap();
        problem(upds, 404).await;
        let periods = common::query_strings(
            &fx.db,
            &format!("SELECT number FROM upd WHERE number LIKE '{victim}-%' ORDER BY period DESC"),
        );
        let doc = c
            .get(fx.server.url(&format!("/api/v1/upds/{}", periods[0])))
            .send()
            .await
            .unwrap();
        let body = problem(doc, 404).await;
        // Indistinguishable from a document that does not exist.
        let none = c
            .get(fx.server.url("/api/v1/upds/999999999-202611"))
            .send()
            .await
            .unwrap();
        assert_eq!(problem(none, 404).await["detail"], body["detail"]);
        let meters = c
            .get(fx.server.url(&format!("/api/v1/accounts/{victim}/meters")))
            .send()
            .await
            .unwrap();
        problem(meters, 404).await;
        // The auditor sees the refused attempts in the access journal.
        let auditor = signed_in(&fx.server, &fx.staff("auditor")).await;
        let journal: Vec<Value> = auditor
            .get(fx.server.url("/api/v1/access-journal?limit=1000"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let denied = journal.iter().filter(|e| e["outcome"] == "denied").count();
        assert!(
            denied >= 3,
            "denied attempts journaled on {}: {journal:?}",
            fx.db.backend
        );
        // A consumer cannot read the journal.
        problem(
            c.get(fx.server.url("/api/v1/access-journal"))
                .send()
                .await
                .unwrap(),
            403,
        )
        .await;
    }
}

#[tokio::test]
async fn staff_roles_are_allowed_only_what_they_need() {
    for fx in fixtures() {
        let (_, accounts) = fx.consumer(2);
        let path = format!("/api/v1/accounts/{}/upds", accounts[0]);
        // Unauthenticated: 401.
        problem(
            client().get(fx.server.url(&path)).send().await.unwrap(),
            401,
        )
        .await;
        // Operators and auditors read (journaled), providers and akimats are refused.
        for role in ["operator", "auditor"] {
            let c = signed_in(&fx.server, &fx.staff(role)).await;
            // D11: a staff read says why; without a reason it is refused.
            problem(c.get(fx.server.url(&path)).send().await.unwrap(), 400).await;
            let res = c
                .get(fx.server.url(&path))
                .header("x-access-reason", "complaint%20C-2026-000001%20%E2%80%94%20%D0%BF%D1%80%D0%BE%D0%B2%D0%B5%D1%80%D0%BA%D0%B0")
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{role} on {}", fx.db.backend);
            // Consumer-only endpoints are not for staff.
            problem(
                c.get(fx.server.url("/api/v1/accounts"))
                    .send()
                    .await
                    .unwrap(),
                403,
            )
            .await;
        }
        for role in ["provider", "authority"] {
            let c = signed_in(&fx.server, &fx.staff(role)).await;
            problem(c.get(fx.server.url(&path)).send().await.unwrap(), 403).await;
            problem(
                c.get(fx.server.url("/api/v1/access-journal"))
                    .send()
                    .await
                    .unwrap(),
                403,
            )
            .await;
        }
    }
}

#[tokio::test]
async fn sign_in_by_phone_works_wrong_passwords_are_refused_and_rate_limited_per_login() {
    for fx in fixtures() {
        let line = fx
            .demo_output
            .lines()
            .find(|l| l.contains("phone +7"))
            .unwrap();
        let phone = line
            .split("phone ")
            .nth(1)
            .unwrap()
            .split(')')
            .next()
            .unwrap();
        // Written the way people type it: 8 (7xx) xxx-xx-xx.
        let typed = format!("8 ({}) {}-{}", &phone[2..5], &phone[5..8], &phone[8..]);
        let c = client();
        let res = c
            .post(fx.server.url("/api/v1/session"))
            .json(&json!({"login": typed, "password": common::PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "phone sign-in on {}", fx.db.backend);
        let cookies: Vec<&str> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        let session = cookies
            .iter()
            .find(|c| c.starts_with("esep_session="))
            .unwrap();
        assert!(
            session.contains("HttpOnly") && session.contains("SameSite=Strict"),
            "{session}"
        );
        // Beside it, the hint a script may read: no secret in it, only that a session began.
        let hint = cookies
            .iter()
            .find(|c| c.starts_with("esep_signed_in="))
            .unwrap();
        assert!(
            hint.starts_with("esep_signed_in=1;") && !hint.contains("HttpOnly"),
            "{hint}"
        );

        let (login, _) = fx.consumer(5);
        for _ in 0..5 {
            let res = c
                .post(fx.server.url("/api/v1/session"))
                .json(&json!({"login": login, "password": "wrong"}))
                .send()
                .await
                .unwrap();
            problem(res, 401).await;
        }
        // Now even the right password waits.
        let res = c
            .post(fx.server.url("/api/v1/session"))
            .json(&json!({"login": login, "password": common::PASSWORD}))
            .send()
            .await
            .unwrap();
        assert!(res.headers().contains_key("retry-after"));
        problem(res, 429).await;
        // An invalid IIN is a validation error naming the field.
        let res = c
            .post(fx.server.url("/api/v1/session"))
            .json(&json!({"login": "123456789012", "password": "x"}))
            .send()
            .await
            .unwrap();
        let body = problem(res, 422).await;
        assert_eq!(body["errors"][0]["field"], "login");
    }
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    for fx in fixtures() {
        let (login, _) = fx.consumer(6);
        let c = signed_in(&fx.server, &login).await;
        let mine = my_accounts(&c, &fx.server).await;
        let upd = format!(
            "/api/v1/upds/{}",
            mine[0]["current_upd"]["number"].as_str().unwrap()
        );
        assert_eq!(
            c.get(fx.server.url(&upd)).send().await.unwrap().status(),
            200
        );
        assert_eq!(
            c.get(fx.server.url("/api/v1/me"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        assert_eq!(
            c.delete(fx.server.url("/api/v1/session"))
                .send()
                .await
                .unwrap()
                .status(),
            204
        );
        problem(
            c.get(fx.server.url("/api/v1/me")).send().await.unwrap(),
            401,
        )
        .await;
        // The UPD view looks the session up in its own query: ended there too. A 401
        // clears the cabinet's "signed in" hint, as sign-out did.
        let res = c.get(fx.server.url(&upd)).send().await.unwrap();
        let cleared = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("esep_signed_in=; "));
        assert!(cleared, "{:?}", res.headers());
        problem(res, 401).await;
    }
}

#[tokio::test]
async fn linking_an_account_needs_its_number_and_the_exact_total_of_its_last_upd() {
    for fx in fixtures() {
        let (login, _) = fx.consumer(3);
        let c = signed_in(&fx.server, &login).await;
        // An account no demo consumer holds.
        let number = "100000039";
        let total = common::query_strings(
            &fx.db,
            &format!(
                "SELECT CAST(u.total_due_tiyn AS TEXT) FROM upd u JOIN account a ON a.id = u.account_id \
                 WHERE a.number = '{number}' ORDER BY u.period DESC, u.version DESC LIMIT 1"
            ),
        );
        let total = Money::from_tiyn(total[0].parse().unwrap());
        let wrong = total + Money::from_tiyn(1);
        let res = c
            .post(fx.server.url("/api/v1/accounts/link"))
            .json(&json!({"account_number": number, "last_upd_total": wrong.to_string()}))
            .send()
            .await
            .unwrap();
        let body = problem(res, 422).await;
        assert_eq!(body["errors"].as_array().unwrap().len(), 2);
        let res = c
            .post(fx.server.url("/api/v1/accounts/link"))
            .json(&json!({"account_number": "000000001", "last_upd_total": "10.00"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            problem(res, 422).await["detail"],
            body["detail"],
            "unknown and wrong look the same"
        );
        let res = c
            .post(fx.server.url("/api/v1/accounts/link"))
            .json(&json!({"account_number": number, "last_upd_total": total.to_string()}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", fx.db.backend);
        let mine = my_accounts(&c, &fx.server).await;
        assert!(mine.iter().any(|a| a["number"] == number));
    }
}

#[tokio::test]
async fn a_reading_lower_than_the_last_is_refused_and_a_spike_is_accepted_but_flagged() {
    for fx in fixtures() {
        let (login, accounts) = fx.consumer(4);
        let c = signed_in(&fx.server, &login).await;
        let meters: Vec<Value> = c
            .get(
                fx.server
                    .url(&format!("/api/v1/accounts/{}/meters?lang=ru", accounts[0])),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(meters.len(), 3, "cold water, hot water, electricity");
        let water = meters
            .iter()
            .find(|m| m["service_code"] == "cold_water")
            .unwrap();
        assert_eq!(water["service_name"], "Холодная вода");
        let id = water["id"].as_i64().unwrap();
        let last: rust_decimal::Decimal = water["last_value"].as_str().unwrap().parse().unwrap();

        let lower = last - rust_decimal::Decimal::ONE;
        let res = c
            .post(fx.server.url("/api/v1/readings"))
            .json(&json!({"meter_id": id, "value": lower.to_string()}))
            .send()
            .await
            .unwrap();
        let body = problem(res, 422).await;
        assert_eq!(body["errors"][0]["field"], "value");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("lower than the previous reading")
        );

        let normal = last + rust_decimal::Decimal::new(55, 1);
        let res = c
            .post(fx.server.url("/api/v1/readings"))
            .json(&json!({"meter_id": id, "value": normal.to_string()}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", fx.db.backend);
        let ok: Value = res.json().await.unwrap();
        assert_eq!(ok["flagged_for_review"], false);
        assert_eq!(
            ok["consumption"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap(),
            rust_decimal::Decimal::new(55, 1)
        );

        // Ten times the usual consumption: kept, flagged for an operator.
        let spike = last + rust_decimal::Decimal::from(500);
        let res = c
            .post(fx.server.url("/api/v1/readings"))
            .json(&json!({"meter_id": id, "value": spike.to_string()}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let flagged: Value = res.json().await.unwrap();
        assert_eq!(flagged["flagged_for_review"], true);

        // A period whose UPD is issued is closed for readings.
        let issued = common::query_strings(&fx.db, "SELECT MAX(period) FROM upd");
        let res = c
            .post(fx.server.url("/api/v1/readings"))
            .json(&json!({"meter_id": id, "value": spike.to_string(), "period": issued[0]}))
            .send()
            .await
            .unwrap();
        problem(res, 422).await;
        // Another person's meter: 404.
        let (_, other) = fx.consumer(2);
        let other_meter = common::query_strings(
            &fx.db,
            &format!(
                "SELECT m.id FROM meter m JOIN account a ON a.id = m.account_id WHERE a.number = '{}' LIMIT 1",
                other[0]
            ),
        );
        let res = c
            .post(fx.server.url("/api/v1/readings"))
            .json(&json!({"meter_id": other_meter[0].parse::<i64>().unwrap(), "value": "1"}))
            .send()
            .await
            .unwrap();
        problem(res, 404).await;
    }
}

#[tokio::test]
async fn bad_requests_get_specific_problem_documents_never_a_500() {
    for fx in fixtures() {
        let (login, _) = fx.consumer(7);
        let c = signed_in(&fx.server, &login).await;
        let url = fx.server.url("/api/v1/readings");
        let send = |body: &'static str, ct: &'static str| {
            c.post(&url).header("content-type", ct).body(body).send()
        };
        let b = problem(
            send("{\"meter_id\": 1, ", "application/json")
                .await
                .unwrap(),
            400,
        )
        .await;
        assert_eq!(b["type"], "/api/v1/problems/malformed-json");
        let b = problem(
            send(
                "{\"meter_id\": 1, \"value\": \"2\", \"extra\": 1}",
                "application/json",
            )
            .await
            .unwrap(),
            422,
        )
        .await;
        assert!(
            b["detail"]
                .as_str()
                .unwrap()
                .contains("unknown field `extra`"),
            "{b}"
        );
        let b = problem(
            send(
                "{\"meter_id\": \"one\", \"value\": \"2\"}",
                "application/json",
            )
            .await
            .unwrap(),
            422,
        )
        .await;
        assert!(b["detail"].as_str().unwrap().contains("meter_id"), "{b}");
        let b = problem(
            send(
                "{\"meter_id\": 1, \"value\": \"2\", \"period\": \"2026-13\"}",
                "application/json",
            )
            .await
            .unwrap(),
            422,
        )
        .await;
        assert!(
            b["detail"]
                .as_str()
                .unwrap()
                .contains("month must be 01 to 12"),
            "{b}"
        );
        problem(send("{}", "text/plain").await.unwrap(), 415).await;
        let big = format!(
            "{{\"meter_id\": 1, \"value\": \"{}\"}}",
            "9".repeat(100_000)
        );
        let res = c
            .post(&url)
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await
            .unwrap();
        problem(res, 413).await;
        let res = c
            .get(fx.server.url("/api/v1/upds/x?colour=red"))
            .send()
            .await
            .unwrap();
        problem(res, 400).await;
        let res = c
            .get(fx.server.url("/api/v1/upds/x?version=-1"))
            .send()
            .await
            .unwrap();
        problem(res, 400).await;
        problem(
            c.get(fx.server.url("/api/v1/nothing-here"))
                .send()
                .await
                .unwrap(),
            404,
        )
        .await;
        // Money with a fraction of a tiyn is refused, not rounded.
        let res = c
            .post(fx.server.url("/api/v1/accounts/link"))
            .json(&json!({"account_number": "100000001", "last_upd_total": "10.001"}))
            .send()
            .await
            .unwrap();
        let b = problem(res, 422).await;
        assert!(
            b["detail"]
                .as_str()
                .unwrap()
                .contains("more than 2 decimal places"),
            "{b}"
        );
        assert!(
            !fx.server.log_text().contains("internal error"),
            "no 500s were logged"
        );
    }
}

#[tokio::test]
async fn the_openapi_document_and_security_headers_are_served() {
    for fx in fixtures() {
        let res = client()
            .get(fx.server.url("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        for h in [
            "content-security-policy",
            "x-content-type-options",
            "referrer-policy",
        ] {
            assert!(res.headers().contains_key(h), "{h}");
        }
        let csp = res.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
        let doc: Value = res.json().await.unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(doc["paths"]["/api/v1/upds/{number}"]["get"].is_object());
        let health: Value = client()
            .get(fx.server.url("/api/v1/health"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let expected = if fx.db.backend == "sqlite" {
            "SQLite"
        } else {
            "PostgreSQL"
        };
        assert_eq!(health["database"], expected);
    }
}

#[tokio::test]
async fn no_iin_or_password_reaches_the_server_log() {
    for fx in fixtures() {
        let (login, _) = fx.consumer(0);
        let _ = signed_in(&fx.server, &login).await;
        let _ = client()
            .post(fx.server.url("/api/v1/session"))
            .json(&json!({"login": login, "password": "a-wrong-secret"}))
            .send()
            .await
            .unwrap();
        let log = fx.server.log_text();
        assert!(!log.contains(&login), "an IIN is in the log");
        assert!(!log.contains(common::PASSWORD) && !log.contains("a-wrong-secret"));
    }
}

#[tokio::test]
async fn staff_reads_are_journaled_with_their_reason_and_a_consumer_downloads_their_data() {
    for fx in fixtures() {
        let (login, accounts) = fx.consumer(2);
        let auditor = signed_in(&fx.server, &fx.staff("auditor")).await;
        let res = auditor
            .get(
                fx.server
                    .url(&format!("/api/v1/accounts/{}/meters", accounts[0])),
            )
            .header("x-access-reason", "quarterly%20audit%20A-7")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let journal: Vec<Value> = auditor
            .get(fx.server.url("/api/v1/access-journal?limit=50"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            journal
                .iter()
                .any(|e| e["reason"] == "quarterly audit A-7" && e["outcome"] == "read"),
            "{journal:?}"
        );
        let c = signed_in(&fx.server, &login).await;
        let data: Value = c
            .get(fx.server.url("/api/v1/me/data"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            data["person"]["iin"],
            login.as_str(),
            "their own IIN is theirs to see"
        );
        assert_eq!(data["accounts"][0]["number"], accounts[0].as_str());
        assert!(
            !data["accounts"][0]["payment_documents"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert!(
            !data["accounts"][0]["readings"]
                .as_array()
                .unwrap()
                .is_empty()
        );
    }
}
