//! `esep bench callbacks`: signed bank callbacks over real HTTP against the real API and
//! database, with duplicates, measuring throughput and latency (figures, not assertions).

use crate::banks;
use crate::store::Db;
use crate::store::payments::{BankRow, NewPayment};
use anyhow::{Context, Result};
use esep_core::Money;
use sqlx::Row;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct CallbackReport {
    pub payments: usize,
    pub callbacks: usize,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub failures: usize,
}

impl CallbackReport {
    pub fn per_second(&self) -> f64 {
        self.callbacks as f64 / self.seconds.max(1e-9)
    }
}

const SECRET: &str = "bench-secret";

pub async fn callbacks(db: &Db, payments: usize, concurrency: usize) -> Result<CallbackReport> {
    let iban = esep_core::Iban::from_parts("601", "KZT0000999001")?;
    db.put_bank(
        &BankRow {
            id: 0,
            code: "bench".into(),
            name: "Benchmark bank (sandbox)".into(),
            base_url: "http://127.0.0.1:9".into(),
            transit_iban: iban.to_string(),
            bic: "HSBKKZKX".into(),
            secret: SECRET.into(),
        },
        true,
    )
    .await?;
    let bank = db.bank_by_code("bench").await?.context("the bench bank")?;
    let upds = sqlx::query("SELECT u.id, u.account_id FROM upd u WHERE u.version = (SELECT MAX(v.version) FROM upd v WHERE v.account_id = u.account_id AND v.period = u.period) ORDER BY u.id DESC LIMIT $1")
        .bind(payments as i64)
        .fetch_all(&db.pool)
        .await?;
    anyhow::ensure!(!upds.is_empty(), "no UPDs to pay: run `esep demo` first");
    let mut bodies = Vec::with_capacity(payments * 6 / 5);
    let run = crate::auth::new_token().0[..8].to_string();
    for i in 0..payments {
        let r = &upds[i % upds.len()];
        let public_id = format!("bench-{run}-{i}");
        let bank_ref = format!("BENCH-{run}-{i}");
        let amount = Money::from_tiyn(100 + (i as i64 % 5000));
        db.create_payment(&NewPayment {
            public_id: &public_id,
            user_id: None,
            account_id: r.try_get(1)?,
            upd_id: r.try_get(0)?,
            bank_id: bank.id,
            channel: "online",
            amount,
            chosen_lines: None,
            bank_ref: Some(&bank_ref),
        })
        .await?;
        let cb = banks::Callback {
            event_id: format!("{bank_ref}-ok"),
            bank_ref,
            payment_id: Some(public_id),
            status: banks::CallbackStatus::Succeeded,
            amount,
            at: crate::store::now(),
        };
        let body = serde_json::to_vec(&cb)?;
        if i % 5 == 0 {
            bodies.push(body.clone()); // a duplicate, as banks send
        }
        bodies.push(body);
    }
    // Out of order: a fixed shuffle.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..bodies.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        bodies.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    db.spawn_checkpointer();
    let state = crate::state(db.clone(), crate::api::Config::default());
    let app = crate::app(state, &crate::StaticDirs::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://{addr}/api/v1/banks/bench/callback");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (bodies, next, client, url) =
            (bodies.clone(), next.clone(), client.clone(), url.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let ts = banks::unix_now();
                let t = Instant::now();
                let ok = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header(banks::TIMESTAMP_HEADER, ts.to_string())
                    .header(banks::SIGNATURE_HEADER, banks::sign(SECRET, ts, body))
                    .body(body.clone())
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                latencies.push(t.elapsed());
                if !ok {
                    failures += 1;
                }
            }
            (latencies, failures)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(bodies.len());
    let mut failures = 0;
    for w in workers {
        let (l, f) = w.await?;
        latencies.extend(l);
        failures += f;
    }
    let seconds = started.elapsed().as_secs_f64();
    server.abort();
    latencies.sort();
    let pct = |p: f64| -> f64 {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(CallbackReport {
        payments,
        callbacks: bodies.len(),
        seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        failures,
    })
}

pub struct RawInsertReport {
    pub upds: usize,
    pub lines: usize,
    /// Time spent inside the insert transactions only.
    pub seconds: f64,
}

enum Val {
    Int(i64),
    Text(String),
    MaybeText(Option<String>),
}

/// `esep bench inserts`: the storage limit under the billing run. The UPDs and lines the run
/// wrote for `period` are copied, batch by batch, into scratch tables of the same columns,
/// keys and indexes, with the same statements (500 UPDs, 2,000 lines a statement) and one
/// transaction per `batch` accounts as the run; only the inserts are timed. The tables are
/// dropped afterwards.
pub async fn raw_inserts(db: &Db, period: &str, batch: usize) -> Result<RawInsertReport> {
    let id = match db.backend {
        crate::store::Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        crate::store::Backend::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    };
    let drop = "DROP TABLE IF EXISTS bench_raw_upd_line; DROP TABLE IF EXISTS bench_raw_upd;";
    sqlx::raw_sql(drop).execute(&db.pool).await?;
    let ddl = format!(
        "CREATE TABLE bench_raw_upd (id {id}, account_id BIGINT NOT NULL REFERENCES account(id), \
         period TEXT NOT NULL, version BIGINT NOT NULL, number TEXT NOT NULL, reason TEXT, \
         issued_at TEXT NOT NULL, due_date TEXT NOT NULL, total_charged_tiyn BIGINT NOT NULL, \
         total_due_tiyn BIGINT NOT NULL, to_pay_tiyn BIGINT NOT NULL, payments_through BIGINT NOT NULL, \
         run_id BIGINT NOT NULL, UNIQUE (account_id, period, version), UNIQUE (number, version)); \
         CREATE INDEX bench_raw_upd_period ON bench_raw_upd(period, account_id); \
         CREATE TABLE bench_raw_upd_line (upd_id BIGINT NOT NULL REFERENCES bench_raw_upd(id), \
         line_no BIGINT NOT NULL, service_id BIGINT NOT NULL, provider_id BIGINT NOT NULL, \
         quantity TEXT NOT NULL, opening_tiyn BIGINT NOT NULL, charge_tiyn BIGINT NOT NULL, \
         recalculation_tiyn BIGINT NOT NULL, paid_tiyn BIGINT NOT NULL, due_tiyn BIGINT NOT NULL, \
         explanation TEXT NOT NULL, PRIMARY KEY (upd_id, line_no));"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(ddl))
        .execute(&db.pool)
        .await?;
    let mut report = RawInsertReport {
        upds: 0,
        lines: 0,
        seconds: 0.0,
    };
    let mut after = 0i64;
    loop {
        // Read one batch as the run would have it in memory (not timed).
        let upds = sqlx::query(
            "SELECT id, account_id, period, version, number, reason, issued_at, due_date, \
             total_charged_tiyn, total_due_tiyn, to_pay_tiyn, payments_through, run_id \
             FROM upd WHERE period = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(period)
        .bind(after)
        .bind(batch as i64)
        .fetch_all(&db.pool)
        .await?;
        let Some(last) = upds.last() else { break };
        let (first_id, last_id): (i64, i64) = (upds[0].try_get(0)?, last.try_get(0)?);
        after = last_id;
        let lines = sqlx::query(
            "SELECT upd_id, line_no, service_id, provider_id, quantity, opening_tiyn, charge_tiyn, \
             recalculation_tiyn, paid_tiyn, due_tiyn, explanation FROM upd_line \
             WHERE upd_id BETWEEN $1 AND $2 ORDER BY upd_id, line_no",
        )
        .bind(first_id)
        .bind(last_id)
        .fetch_all(&db.pool)
        .await?;
        let mut upd_rows = Vec::with_capacity(upds.len());
        for r in &upds {
            let mut v = vec![Val::Int(r.try_get(1)?), Val::Text(r.try_get(2)?)];
            v.push(Val::Int(r.try_get(3)?));
            v.push(Val::Text(r.try_get(4)?));
            v.push(Val::MaybeText(r.try_get(5)?));
            v.push(Val::Text(r.try_get(6)?));
            v.push(Val::Text(r.try_get(7)?));
            for c in 8..13 {
                v.push(Val::Int(r.try_get(c)?));
            }
            upd_rows.push((r.try_get::<i64, _>(0)?, v));
        }
        let mut line_rows = Vec::with_capacity(lines.len());
        for r in &lines {
            let mut v = vec![];
            for c in 1..4 {
                v.push(Val::Int(r.try_get(c)?));
            }
            v.push(Val::Text(r.try_get(4)?));
            for c in 5..10 {
                v.push(Val::Int(r.try_get(c)?));
            }
            v.push(Val::Text(r.try_get(10)?));
            line_rows.push((r.try_get::<i64, _>(0)?, v));
        }
        let started = Instant::now();
        let mut tx = db.pool.begin().await?;
        let mut new_ids = std::collections::HashMap::with_capacity(upd_rows.len());
        for chunk in upd_rows.chunks(500) {
            let sql = format!(
                "INSERT INTO bench_raw_upd (account_id, period, version, number, reason, issued_at, \
                 due_date, total_charged_tiyn, total_due_tiyn, to_pay_tiyn, payments_through, run_id) \
                 VALUES {} RETURNING id, account_id",
                db.values_list(chunk.len(), 12)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (_, vals) in chunk {
                for v in vals {
                    q = match v {
                        Val::Int(i) => q.bind(*i),
                        Val::Text(t) => q.bind(t.clone()),
                        Val::MaybeText(t) => q.bind(t.clone()),
                    };
                }
            }
            let returned = q.fetch_all(&mut *tx).await?;
            // Rows come back in the order of the VALUES on both backends' multi-row insert;
            // matched by account (one UPD per account in a period's run) to be sure.
            let by_account: std::collections::HashMap<i64, i64> = returned
                .iter()
                .map(|r| Ok((r.try_get::<i64, _>(1)?, r.try_get::<i64, _>(0)?)))
                .collect::<Result<_>>()?;
            for (old_id, vals) in chunk {
                if let Val::Int(account) = vals[0] {
                    new_ids.insert(*old_id, by_account.get(&account).copied().unwrap_or(0));
                }
            }
        }
        for chunk in line_rows.chunks(2000) {
            let sql = format!(
                "INSERT INTO bench_raw_upd_line (upd_id, line_no, service_id, provider_id, quantity, \
                 opening_tiyn, charge_tiyn, recalculation_tiyn, paid_tiyn, due_tiyn, explanation) \
                 VALUES {}",
                db.values_list(chunk.len(), 11)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (upd_id, vals) in chunk {
                q = q.bind(new_ids.get(upd_id).copied().unwrap_or(0));
                for v in vals {
                    q = match v {
                        Val::Int(i) => q.bind(*i),
                        Val::Text(t) => q.bind(t.clone()),
                        Val::MaybeText(t) => q.bind(t.clone()),
                    };
                }
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        report.seconds += started.elapsed().as_secs_f64();
        report.upds += upd_rows.len();
        report.lines += line_rows.len();
    }
    sqlx::raw_sql(drop).execute(&db.pool).await?;
    anyhow::ensure!(
        report.upds > 0,
        "no UPDs of {period} to copy: run `esep bill` first"
    );
    Ok(report)
}
