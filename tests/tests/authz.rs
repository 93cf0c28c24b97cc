//! The authorization matrix (D11: least privilege, deny by default): every route of the API,
//! read from the served OpenAPI document (which a unit test keeps equal to the route table),
//! × every role × a resource of another user. Each cell is one real HTTP request to the real
//! `esep` binary; only the cells marked allowed may get past authorization, every other
//! one must be refused with 401, 403 or — for another consumer's resource — 404. A route
//! missing from the expectations below fails the test, so a new route cannot ship without
//! deciding who may call it.

mod common;

use common::{Fixture, backends, client, esep_ok, my_accounts, signed_in};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Who calls. `Owner` holds the account every resource below belongs to; `Other` is another
/// consumer, trying the owner's resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Owner,
    Other,
    Provider,
    Operator,
    Auditor,
    Authority,
}

use Who::*;

const EVERYONE: &[Who] = &[
    Anonymous, Owner, Other, Provider, Operator, Auditor, Authority,
];
const SIGNED_IN: &[Who] = &[Owner, Other, Provider, Operator, Auditor, Authority];

/// The owner's resources, found or made before the matrix runs.
struct Resources {
    account: String,
    upd: String,
    payment: String,
    complaint: String,
    thread: i64,
    meter: i64,
    discrepancy: i64,
    provider_bin: String,
    period: String,
}

/// Who may call each route, and the request that calls it with the owner's resources.
fn expectations(r: &Resources) -> Vec<(&'static str, &'static str, &'static [Who], String, Value)> {
    let none = Value::Null;
    vec![
        (
            "GET",
            "/api/v1/health",
            EVERYONE,
            "/api/v1/health".into(),
            none.clone(),
        ),
        (
            "GET",
            "/api/v1/openapi.json",
            EVERYONE,
            "/api/v1/openapi.json".into(),
            none.clone(),
        ),
        (
            "GET",
            "/api/v1/me",
            SIGNED_IN,
            "/api/v1/me".into(),
            none.clone(),
        ),
        (
            "GET",
            "/api/v1/accounts",
            &[Owner, Other],
            "/api/v1/accounts".into(),
            none.clone(),
        ),
        (
            "POST",
            "/api/v1/accounts/link",
            &[Owner, Other],
            "/api/v1/accounts/link".into(),
            json!({"account_number": r.account, "last_upd_total": "1.00"}),
        ),
        (
            "GET",
            "/api/v1/accounts/{number}/upds",
            &[Owner, Operator, Auditor],
            format!("/api/v1/accounts/{}/upds", r.account),
            none.clone(),
        ),
        (
            "GET",
            "/api/v1/accounts/{number}/meters",
            &[Owner, Operator, Auditor],
            format!("/api/v1/accounts/{}/meters", r.account),
            none.clone(),
        ),
        (
            "GET",
            "/api/v1/accounts/{number}/history",
            &[Owner, Operator, Auditor],
            format!("/api/v1/accounts/{}/history", r.account),
            none.clone(),
        ),
        (
            "GET",
            "/api/v1/upds/{number}",
            &[Owner, Operator, Auditor],
            format!("/api/v1/upds/{}", r.upd),
            none.clone(),
        ),
        (
            "GET",
            "/api/v1/upds/{number}/pdf",
            &[Owner, Operator, Auditor],
            format!("/api/v1/upds/{}/pdf", r.upd),
            none.clone(),
        ),
        (
            "POST",
            "/api/v1/readings",
            &[Owner],
            "/api/v1/readings".into(),
            json!({"meter_id": r.meter, "value": "999999"}),
        ),
        (
            "GET",
            "/api/v1/access-journal",
            &[Operator, Auditor],
            "/api/v1/access-journal".into(),
            none.clone(),
        ),
        (
            "GET",
            "/api/v1/banks",
            SIGNED_IN,
            "/api/v1/banks".into(),
            none.clone(),
        ),
        (
            "GET",
            "/api/v1/payments/{id}",
            &[Owner, Operator, Auditor],
            format!("/api/v1/payments/{}", r.payment),
            none.clone(),
        ),
        (
            // Signed by the bank, never by a session: nobody with a cookie gets through.
            "POST",
            "/api/v1/banks/{code}/callback",
            &[],
            "/api/v1/banks/halyk-sandbox/callback".into(),
            json!({"bank_ref": "x", "status": "succeeded"}),
        ),
        (
            "POST",
            "/api/v1/complaints",
            &[Owner, Other],
            "/api/v1/complaints".into(),
            json!({"kind": "complaint", "subject": "Matrix", "body": "A cell of the matrix"}),
        ),
        (
            "GET",
            "/api/v1/complaints",
            SIGNED_IN,
            "/api/v1/complaints".into(),
            none.clone(),
        ),
        (
            "GET",
            "/api/v1/notices",
            SIGNED_IN,
            "/api/v1/notices".into(),
            none.clone(),
        ),
        (
            "GET",
            "/api/v1/operator/complaints",
            &[Operator, Auditor],
            "/api/v1/operator/complaints".into(),
            none.clone(),
        ),
        (
            "POST",
            "/api/v1/operator/complaints/{number}/extend",
            &[Operator],
            format!("/api/v1/operator/complaints/{}/extend", r.complaint),
            json!({"days": 2, "reason": "the matrix"}),
        ),
        (
            "POST",
            "/api/v1/operator/complaints/{number}/answer",
            &[Operator],
            format!("/api/v1/operator/complaints/{}/answer", r.complaint),
            json!({"answer": "the matrix"}),
        ),
        (
            "POST",
            "/api/v1/debt-requests",
            &[Authority],
            "/api/v1/debt-requests".into(),
            json!({"account_number": r.account, "legal_basis": "Matrix basis", "reference": "M-1"}),
        ),
        (
            "GET",
            "/api/v1/debt-requests",
            &[Auditor],
            "/api/v1/debt-requests".into(),
            none.clone(),
        ),
        (
            "GET",
            "/api/v1/reports/provider",
            &[Provider, Operator, Auditor],
            format!(
                "/api/v1/reports/provider?bin={}&period={}",
                r.provider_bin, r.period
            ),
            none.clone(),
        ),
        (
            "GET",
            "/api/v1/me/data",
            SIGNED_IN,
            "/api/v1/me/data".into(),
            none.clone(),
        ),
        (
            "GET",
            "/api/v1/chat",
            &[Owner, Other],
            "/api/v1/chat".into(),
            none.clone(),
        ),
        (
            "POST",
            "/api/v1/chat",
            &[Owner, Other],
            "/api/v1/chat".into(),
            json!({"body": "A cell of the matrix"}),
        ),
        (
            "GET",
            "/api/v1/chat/events",
            &[Owner, Other, Operator],
            "/api/v1/chat/events".into(),
            none.clone(),
        ),
        (
            "GET",
            "/api/v1/operator/discrepancies",
            &[Operator, Auditor],
            "/api/v1/operator/discrepancies".into(),
            none.clone(),
        ),
        (
            "POST",
            "/api/v1/operator/discrepancies/{id}/close",
            &[Operator],
            format!("/api/v1/operator/discrepancies/{}/close", r.discrepancy),
            json!({"note": "the matrix"}),
        ),
        (
            "GET",
            "/api/v1/operator/chats",
            &[Operator],
            "/api/v1/operator/chats".into(),
            none.clone(),
        ),
        (
            "GET",
            "/api/v1/operator/chats/{id}",
            &[Operator],
            format!("/api/v1/operator/chats/{}", r.thread),
            none.clone(),
        ),
        (
            "POST",
            "/api/v1/operator/chats/{id}",
            &[Operator],
            format!("/api/v1/operator/chats/{}", r.thread),
            json!({"body": "the matrix"}),
        ),
        (
            "POST",
            "/api/v1/payments",
            &[Owner],
            "/api/v1/payments".into(),
            // A bank that does not exist: whoever may pay this UPD gets a 422 (no bank is
            // called); another consumer learns nothing but a 404.
            json!({"upd_number": r.upd, "bank": "no-such-bank"}),
        ),
        // Signing in and out are everyone's; they are proven by the API suite.
        (
            "POST",
            "/api/v1/session",
            EVERYONE,
            String::new(),
            none.clone(),
        ),
        ("DELETE", "/api/v1/session", SIGNED_IN, String::new(), none),
    ]
}

async fn owner_resources(fx: &Fixture) -> Resources {
    let (owner, accounts) = fx.consumer(0);
    let c = signed_in(&fx.server, &owner).await;
    let account = accounts[0].clone();
    let mine = my_accounts(&c, &fx.server).await;
    let upd = mine[0]["current_upd"]["number"]
        .as_str()
        .unwrap()
        .to_string();
    let meters: Vec<Value> = c
        .get(fx.server.url(&format!("/api/v1/accounts/{account}/meters")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let meter = meters[0]["id"].as_i64().expect("a metered service");
    let complaint: Value = c
        .post(fx.server.url("/api/v1/complaints"))
        .json(&json!({"kind": "complaint", "subject": "Owner's", "body": "The owner's complaint"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let posted: Value = c
        .post(fx.server.url("/api/v1/chat"))
        .json(&json!({"body": "The owner's question"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // A payment of the owner's, as the bank would have created it.
    let payment = common::query_strings(
        &fx.db,
        &format!(
            "SELECT p.public_id FROM payment p JOIN account a ON a.id = p.account_id \
             WHERE a.number = '{account}' LIMIT 1"
        ),
    );
    let payment = match payment.into_iter().next() {
        Some(p) => p,
        None => {
            let user = common::one(
                &fx.db,
                "SELECT CAST(MIN(user_id) AS TEXT) FROM user_account",
            );
            let ids = common::query_strings(
                &fx.db,
                &format!(
                    "SELECT CAST(u.id AS TEXT) || ',' || CAST(u.account_id AS TEXT) FROM upd u \
                     WHERE u.number = '{upd}' LIMIT 1"
                ),
            );
            let (upd_id, account_id) = ids[0].split_once(',').unwrap();
            common::one(
                &fx.db,
                &format!(
                    "INSERT INTO payment (public_id, user_id, account_id, upd_id, bank_id, channel, amount_tiyn, status, created_at, updated_at) \
                     SELECT 'matrixpayment000000000001', {user}, {account_id}, {upd_id}, MIN(id), 'online', 100, 'created', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z' FROM bank \
                     RETURNING public_id"
                ),
            )
        }
    };
    let out = esep_ok(
        &fx.db,
        &[
            "discrepancy",
            "register",
            "--source",
            "operator",
            "--detected",
            "2026-12-01",
            "--registered",
            "2026-12-02",
            "--description",
            "A matrix discrepancy",
            "--justification",
            "The matrix needs one",
            "--responsible",
            "billing department",
        ],
    );
    let discrepancy = out
        .split("D-")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a discrepancy number in {out}"));
    let provider_bin = common::one(
        &fx.db,
        "SELECT p.bin FROM provider p JOIN app_user u ON u.provider_id = p.id WHERE u.role = 'provider' LIMIT 1",
    );
    Resources {
        account,
        period: upd
            .rsplit('-')
            .next()
            .map(|p| format!("{}-{}", &p[..4], &p[4..]))
            .unwrap(),
        upd,
        payment,
        complaint: complaint["number"].as_str().unwrap().to_string(),
        thread: posted["thread_id"].as_i64().unwrap(),
        meter,
        discrepancy,
        provider_bin,
    }
}

#[tokio::test]
async fn every_route_refuses_every_role_it_does_not_name() {
    for db in backends() {
        let fx = Fixture::seed(
            db,
            &["--accounts", "30", "--months", "2", "--consumers", "3"],
        );
        let r = owner_resources(&fx).await;
        let expected = expectations(&r);
        // The routes the server documents are exactly those decided here.
        let spec: Value = client()
            .get(fx.server.url("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let served: BTreeSet<(String, String)> = spec["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(p, ops)| {
                ops.as_object()
                    .unwrap()
                    .keys()
                    .map(|m| (m.to_uppercase(), p.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let decided: BTreeSet<(String, String)> = expected
            .iter()
            .map(|(m, p, ..)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(
            served, decided,
            "every route needs a row in the authorization matrix"
        );

        let (other, _) = fx.consumer(1);
        let login_of = |who: Who| -> Option<String> {
            match who {
                Anonymous => None,
                Owner => Some(fx.consumer(0).0),
                Other => Some(other.clone()),
                Provider => Some(fx.staff("provider")),
                Operator => Some(fx.staff("operator")),
                Auditor => Some(fx.staff("auditor")),
                Authority => Some(fx.staff("authority")),
            }
        };
        let mut clients = Vec::new();
        for who in EVERYONE {
            let c = match login_of(*who) {
                None => client(),
                Some(login) => signed_in(&fx.server, &login).await,
            };
            clients.push((*who, c));
        }
        let mut wrong = Vec::new();
        let mut cells = 0;
        for (method, route, allowed, path, body) in &expected {
            if path.is_empty() {
                continue; // sign-in and sign-out: see the API suite
            }
            for (who, c) in &clients {
                cells += 1;
                let url = fx.server.url(path);
                let mut req = match *method {
                    "GET" => c.get(&url),
                    "POST" => c
                        .post(&url)
                        .header("idempotency-key", format!("matrix-{cells}"))
                        .json(body),
                    other => panic!("no {other} in the matrix"),
                };
                if matches!(who, Operator | Auditor | Provider | Authority) {
                    req = req.header("x-access-reason", "authorization%20matrix");
                }
                let res = req.send().await.unwrap();
                let status = res.status().as_u16();
                // Every answer, allowed or refused, carries the security headers, and none
                // of personal data may be stored by a browser or a proxy.
                let h = res.headers();
                let header = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
                if !header("content-security-policy").contains("frame-ancestors 'none'")
                    || header("x-content-type-options") != "nosniff"
                    || header("referrer-policy") != "no-referrer"
                    || !header("cache-control").contains("no-store")
                {
                    wrong.push(format!("{method} {route} as {who:?}: headers {h:?}"));
                }
                drop(res); // an event stream stays open otherwise
                let refused = matches!(status, 401 | 403) || (*who == Other && status == 404);
                let may = allowed.contains(who);
                if status >= 500 || may == refused {
                    wrong.push(format!(
                        "{method} {route} as {who:?}: {status} ({})",
                        if may {
                            "should be allowed"
                        } else {
                            "should be refused"
                        }
                    ));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{} of {cells} cells wrong on {}:\n{}",
            wrong.len(),
            fx.db.backend,
            wrong.join("\n")
        );
        eprintln!(
            "authorization matrix on {}: {cells} cells, all as decided",
            fx.db.backend
        );
    }
}
