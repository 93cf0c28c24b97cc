//! `esep bill`: the monthly billing run. It bills every account of a territory in batches,
//! each batch in one transaction, so a killed run resumes where it stopped and never issues
//! a UPD twice. A period already issued is not billed again; `--reissue` issues corrected
//! versions with a reason.

use crate::store::Db;
use crate::store::billing::NewUpd;
use anyhow::{Result, bail};
use esep_core::billing::{AccountInput, ServiceInput, bill};
use esep_core::{Money, Period};
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Instant;

pub struct RunOptions {
    pub period: Period,
    pub territory: Option<String>,
    /// A reissue: the reason printed on the new versions.
    pub reissue_reason: Option<String>,
    pub batch: usize,
    pub progress: bool,
}

#[derive(Debug, Default)]
pub struct RunSummary {
    pub issued: u64,
    pub already_issued: u64,
    pub lines: u64,
    pub failed: Vec<(String, String)>,
    pub total_charged: Money,
    pub seconds: f64,
}

impl RunSummary {
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.issued as f64 / self.seconds
        } else {
            0.0
        }
    }
}

pub async fn run(db: &Db, opts: &RunOptions) -> Result<RunSummary> {
    let started = Instant::now();
    let territories = match &opts.territory {
        Some(code) => match db.territory_id(code).await? {
            Some(id) => vec![(id, code.clone())],
            None => bail!("no territory '{code}' (see the premises register)"),
        },
        None => db.territories().await?,
    };
    if territories.is_empty() {
        bail!(
            "there are no territories yet: import the premises register first (or run `esep demo`)"
        );
    }
    let mut summary = RunSummary::default();
    for (territory_id, _code) in territories {
        run_territory(db, opts, territory_id, &mut summary).await?;
    }
    // D8: discrepancies whose correction is now on an issued UPD are corrected.
    db.refresh_corrections().await?;
    summary.seconds = started.elapsed().as_secs_f64();
    // The run may have doubled the UPD tables: fresh planner statistics (not counted in
    // the run's time) keep the cabinet's queries on their indexes.
    db.refresh_statistics().await?;
    Ok(summary)
}

async fn run_territory(
    db: &Db,
    opts: &RunOptions,
    territory_id: i64,
    summary: &mut RunSummary,
) -> Result<()> {
    let catalogue = db.catalogue(territory_id).await?;
    let total = db.count_accounts(territory_id).await?;
    let reason = opts.reissue_reason.as_deref();
    let (run_id, _resumed) = db.start_run(opts.period, territory_id, reason).await?;
    let pb = if opts.progress {
        ProgressBar::new(total as u64)
    } else {
        ProgressBar::hidden()
    };
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} accounts, {per_sec}, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(format!("Billing {}", opts.period));
    let empty: Vec<esep_core::tariff::Tariff> = Vec::new();
    // Batches are written by a task of their own while the next batch is loaded and billed:
    // SQLite in WAL mode reads beside a writer, and PostgreSQL serves both at once.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Vec<NewUpd>, i64, usize)>(1);
    let writer = {
        let db = db.clone();
        let reason = reason.map(str::to_string);
        let pb = pb.clone();
        tokio::spawn(async move {
            while let Some((upds, payments_through, accounts)) = rx.recv().await {
                db.write_upds(&upds, run_id, reason.as_deref(), payments_through)
                    .await?;
                pb.inc(accounts as u64);
            }
            anyhow::Ok(())
        })
    };
    let mut after = 0i64;
    let mut issued_here = 0i64;
    let mut failed_here = 0i64;
    loop {
        let accounts = db
            .account_batch(territory_id, after, opts.batch as i64)
            .await?;
        let (Some(first), Some(last)) = (accounts.first(), accounts.last()) else {
            break;
        };
        let (lo, hi) = (first.id, last.id);
        after = hi;
        let mut inputs = db.batch_inputs(lo, hi, opts.period, run_id).await?;
        let mut upds = Vec::with_capacity(accounts.len());
        for a in &accounts {
            let version = match (reason, inputs.issued_version.get(&a.id)) {
                (None, Some(_)) => {
                    summary.already_issued += 1;
                    continue;
                }
                (Some(_), _) if inputs.done_in_run.contains(&a.id) => {
                    summary.already_issued += 1;
                    continue;
                }
                (_, v) => v.map_or(1, |v| v + 1),
            };
            let services = catalogue
                .sets
                .get(&a.set_id)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let mut input = AccountInput {
                period: opts.period,
                area_m2: a.area_m2,
                residents: a.residents,
                services: Vec::with_capacity(services.len()),
            };
            for &i in services {
                let s = &catalogue.services[i];
                let key = (a.id, s.service_id);
                input.services.push(ServiceInput {
                    service: s,
                    tariffs: catalogue.tariffs.get(&s.service_id).unwrap_or(&empty),
                    readings: inputs.readings.remove(&key),
                    provider_items: inputs.provider_items.remove(&key).unwrap_or_default(),
                    recalculations: inputs.recalculations.remove(&key).unwrap_or_default(),
                    opening: inputs.opening.remove(&key).unwrap_or_default(),
                    paid: inputs.paid.remove(&key).unwrap_or_default(),
                });
            }
            // Money carried for a service the account no longer receives stays on its UPD.
            for s in &catalogue.services {
                let key = (a.id, s.service_id);
                if inputs.opening.contains_key(&key) || inputs.paid.contains_key(&key) {
                    input.services.push(ServiceInput {
                        service: s,
                        tariffs: &empty,
                        readings: None,
                        provider_items: Vec::new(),
                        recalculations: inputs.recalculations.remove(&key).unwrap_or_default(),
                        opening: inputs.opening.remove(&key).unwrap_or_default(),
                        paid: inputs.paid.remove(&key).unwrap_or_default(),
                    });
                }
            }
            match bill(&input) {
                Ok(b) => {
                    summary.total_charged += b.total_charged;
                    summary.lines += b.lines.len() as u64;
                    upds.push(NewUpd {
                        account_id: a.id,
                        account_number: a.number.clone(),
                        version,
                        bill: b,
                    });
                }
                Err(e) => {
                    failed_here += 1;
                    summary.failed.push((a.number.clone(), e.to_string()));
                }
            }
        }
        issued_here += upds.len() as i64;
        summary.issued += upds.len() as u64;
        if tx
            .send((upds, inputs.payments_through, accounts.len()))
            .await
            .is_err()
        {
            break; // the writer stopped on an error, reported below
        }
    }
    drop(tx);
    writer.await??;
    pb.finish_and_clear();
    db.finish_run(run_id, issued_here, failed_here).await?;
    Ok(())
}

/// Peak resident memory of this process in MiB (Linux `VmHWM`), when known.
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
