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
