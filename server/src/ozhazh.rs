//! Exchange with ОЖАЖ (D4, T6), the state housing information system: a monthly file of
//! premises, accounts, charges and payments in a versioned JSON Lines format
//! (docs/ozhazh-exchange.md), delivered over HTTP with retries and a visible delivery log;
//! and a SANDBOX receiver that validates and acknowledges files as the real one would.

use crate::store::{Db, now};
use anyhow::{Context, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use esep_core::{Money, Period};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

pub const FORMAT: &str = "esep-ozhazh";
pub const VERSION: u64 = 1;

/// The exchange file of one month.
pub async fn export(db: &Db, period: Period) -> Result<(String, usize)> {
    let p = period.to_string();
    let (start, end) = (
        period.first_day().to_string(),
        period.next().first_day().to_string(),
    );
    let usc = sqlx::query("SELECT bin FROM usc ORDER BY id LIMIT 1")
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get::<String, _>(0))
        .transpose()?
        .unwrap_or_default();
    let mut lines: Vec<Value> = vec![
        json!({"record": "header", "format": FORMAT, "version": VERSION, "usc_bin": usc, "period": p, "generated_at": now()}),
    ];
    for r in sqlx::query(
        "SELECT pr.register_id, t.code, pr.address, pr.area_m2, pr.residents, a.number FROM premises pr \
         JOIN territory t ON t.id = pr.territory_id JOIN account a ON a.premises_id = pr.id ORDER BY a.id",
    )
    .fetch_all(&db.pool)
    .await?
    {
        lines.push(json!({"record": "premises", "register_id": r.try_get::<String, _>(0)?, "territory": r.try_get::<String, _>(1)?,
            "address": r.try_get::<String, _>(2)?, "area_m2": r.try_get::<String, _>(3)?, "residents": r.try_get::<i64, _>(4)?}));
        lines.push(json!({"record": "account", "number": r.try_get::<String, _>(5)?, "register_id": r.try_get::<String, _>(0)?}));
    }
    let mut charged = Money::ZERO;
    for r in sqlx::query(
        "SELECT a.number, s.code, p.bin, l.charge_tiyn + l.recalculation_tiyn, l.due_tiyn FROM upd u JOIN upd_line l ON l.upd_id = u.id \
         JOIN account a ON a.id = u.account_id JOIN service s ON s.id = l.service_id JOIN provider p ON p.id = l.provider_id \
         WHERE u.period = $1 AND u.version = (SELECT MAX(v.version) FROM upd v WHERE v.account_id = u.account_id AND v.period = u.period) \
         ORDER BY u.id, l.line_no",
    )
    .bind(&p)
    .fetch_all(&db.pool)
    .await?
    {
        let amount = Money::from_tiyn(r.try_get(3)?);
        charged += amount;
        lines.push(json!({"record": "charge", "account": r.try_get::<String, _>(0)?, "service": r.try_get::<String, _>(1)?,
            "provider_bin": r.try_get::<String, _>(2)?, "charged": amount, "due": Money::from_tiyn(r.try_get(4)?)}));
    }
    let mut paid = Money::ZERO;
    for r in sqlx::query(
        "SELECT a.number, s.code, p.bin, al.amount_tiyn, al.paid_at FROM payment_allocation al JOIN account a ON a.id = al.account_id \
         JOIN service s ON s.id = al.service_id JOIN provider p ON p.id = al.provider_id \
         WHERE al.paid_at >= $1 AND al.paid_at < $2 ORDER BY al.id",
    )
    .bind(&start)
    .bind(&end)
    .fetch_all(&db.pool)
    .await?
    {
        let amount = Money::from_tiyn(r.try_get(3)?);
        paid += amount;
        lines.push(json!({"record": "payment", "account": r.try_get::<String, _>(0)?, "service": r.try_get::<String, _>(1)?,
            "provider_bin": r.try_get::<String, _>(2)?, "amount": amount, "paid_at": r.try_get::<String, _>(4)?}));
    }
    let records = lines.len() + 1;
    lines.push(json!({"record": "trailer", "records": records, "charged_total": charged, "paid_total": paid}));
    let mut out = String::new();
    for l in &lines {
        out.push_str(&serde_json::to_string(l)?);
        out.push('\n');
    }
    Ok((out, records))
}

/// Validates an exchange file; every error names its line.
pub fn validate(text: &str) -> Result<usize, Vec<(usize, String)>> {
    let mut errors = Vec::new();
    let mut count = 0usize;
    let (mut charged, mut paid) = (Money::ZERO, Money::ZERO);
    let mut trailer: Option<(usize, Value)> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        count += 1;
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                errors.push((n, format!("not JSON: {e}")));
                continue;
            }
        };
        let record = v.get("record").and_then(Value::as_str).unwrap_or("");
        let need = |fields: &[&str]| -> Vec<(usize, String)> {
            fields
                .iter()
                .filter(|f| v.get(**f).is_none_or(Value::is_null))
                .map(|f| (n, format!("{record}: '{f}' is missing")))
                .collect()
        };
        let money = |f: &str| {
            v.get(f)
                .and_then(Value::as_str)
                .and_then(|s| Money::parse(s).ok())
        };
        match record {
            "header" if n == 1 => {
                if v.get("format").and_then(Value::as_str) != Some(FORMAT)
                    || v.get("version").and_then(Value::as_u64) != Some(VERSION)
                {
                    errors.push((
                        n,
                        format!("the header must name format {FORMAT} version {VERSION}"),
                    ));
                }
                errors.extend(need(&["usc_bin", "period"]));
            }
            "header" => errors.push((n, "a second header".into())),
            _ if n == 1 => errors.push((n, "the first line must be the header".into())),
            "premises" => errors.extend(need(&[
                "register_id",
                "territory",
                "address",
                "area_m2",
                "residents",
            ])),
            "account" => errors.extend(need(&["number", "register_id"])),
            "charge" => {
                errors.extend(need(&[
                    "account",
                    "service",
                    "provider_bin",
                    "charged",
                    "due",
                ]));
                match money("charged") {
                    Some(m) => charged += m,
                    None => errors.push((n, "charge: 'charged' is not an amount".into())),
                }
            }
            "payment" => {
                errors.extend(need(&[
                    "account",
                    "service",
                    "provider_bin",
                    "amount",
                    "paid_at",
                ]));
                match money("amount") {
                    Some(m) => paid += m,
                    None => errors.push((n, "payment: 'amount' is not an amount".into())),
                }
            }
            "trailer" => trailer = Some((n, v.clone())),
            other => errors.push((n, format!("unknown record '{other}'"))),
        }
    }
    match trailer {
        None => errors.push((count, "the file has no trailer".into())),
        Some((n, t)) => {
            if n != count {
                errors.push((n, "the trailer must be the last line".into()));
            }
            if t.get("records").and_then(Value::as_u64) != Some(count as u64) {
                errors.push((
                    n,
                    format!(
                        "the trailer counts {} records; the file has {count}",
                        t.get("records").cloned().unwrap_or_default()
                    ),
                ));
            }
            let sums = |f: &str| {
                t.get(f)
                    .and_then(Value::as_str)
                    .and_then(|s| Money::parse(s).ok())
            };
            if sums("charged_total") != Some(charged) || sums("paid_total") != Some(paid) {
                errors.push((n, format!("the trailer's totals differ from the records' (charged {charged}, paid {paid})")));
            }
        }
    }
    if errors.is_empty() {
        Ok(count)
    } else {
        Err(errors)
    }
}

/// Sends the month's file, retrying failures of the receiver or the network with backoff;
/// every attempt is logged in `exchange_delivery`.
pub async fn send(db: &Db, period: Period, url: &str, attempts: u32) -> Result<(i64, String)> {
    let (body, records) = export(db, period).await?;
    let sha = format!("{:x}", Sha256::digest(body.as_bytes()));
    let id: i64 = sqlx::query(
        "INSERT INTO exchange_delivery (period, sha256, url, records, attempts, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 0, 'pending', $5, $5) RETURNING id",
    )
    .bind(period.to_string())
    .bind(&sha)
    .bind(url)
    .bind(records as i64)
    .bind(now())
    .fetch_one(&db.pool)
    .await?
    .try_get(0)?;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let mut outcome = ("failed", String::from("no attempt made"), None::<String>);
    for attempt in 1..=attempts.max(1) {
        let res = client
            .post(url)
            .header("content-type", "application/x-ndjson")
            .body(body.clone())
            .send()
            .await;
        let (status, error, receipt, retry) = match res {
            Ok(r) if r.status().is_success() => (
                "delivered",
                String::new(),
                Some(r.text().await.unwrap_or_default()),
                false,
            ),
            Ok(r) if r.status().is_server_error() || r.status() == 429 => (
                "pending",
                format!("receiver answered {}", r.status()),
                None,
                true,
            ),
            Ok(r) => {
                let code = r.status();
                (
                    "failed",
                    format!(
                        "receiver refused the file ({code}): {}",
                        r.text().await.unwrap_or_default()
                    ),
                    None,
                    false,
                )
            }
            Err(e) => (
                "pending",
                format!("could not reach the receiver: {e}"),
                None,
                true,
            ),
        };
        sqlx::query("UPDATE exchange_delivery SET attempts = $1, status = $2, last_error = $3, receipt = $4, updated_at = $5 WHERE id = $6")
            .bind(i64::from(attempt))
            .bind(if retry && attempt == attempts.max(1) { "failed" } else { status })
            .bind((!error.is_empty()).then_some(error.clone()))
            .bind(receipt.clone())
            .bind(now())
            .bind(id)
            .execute(&db.pool)
            .await?;
        outcome = (status, error, receipt);
        if !retry {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200 << attempt.min(6))).await;
    }
    match outcome {
        ("delivered", _, receipt) => Ok((id, receipt.unwrap_or_default())),
        (_, error, _) => Err(anyhow::anyhow!(error))
            .with_context(|| format!("delivery {id} of {period} to {url} failed")),
    }
}

/// The SANDBOX ОЖАЖ receiver: validates and acknowledges exchange files. `fail_first`
/// requests are answered 503, to exercise the sender's retries.
pub fn sandbox_router(fail_first: u32) -> Router {
    let remaining = Arc::new(AtomicU32::new(fail_first));
    Router::new().route(
        "/api/exchange",
        post(move |State(remaining): State<Arc<AtomicU32>>, body: Bytes| async move {
            if remaining.load(Ordering::SeqCst) > 0 {
                remaining.fetch_sub(1, Ordering::SeqCst);
                return (StatusCode::SERVICE_UNAVAILABLE, "SANDBOX ОЖАЖ: temporarily unavailable").into_response();
            }
            let text = String::from_utf8_lossy(&body);
            match validate(&text) {
                Ok(n) => axum::Json(json!({"sandbox": true, "accepted": true, "records": n, "receipt": format!("OZHAZH-SANDBOX-{:x}", Sha256::digest(&body))[..30].to_string()})).into_response(),
                Err(errors) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    axum::Json(json!({"sandbox": true, "accepted": false, "errors": errors.iter().map(|(l, r)| json!({"line": l, "reason": r})).collect::<Vec<_>>()})),
                )
                    .into_response(),
            }
        })
        .with_state(remaining),
    )
}
