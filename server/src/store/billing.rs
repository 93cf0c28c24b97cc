//! The billing run's storage: loading a batch of accounts' inputs with range queries and
//! writing their UPDs with multi-row inserts, one transaction per batch (resumable).

use super::{Db, decimal, now};
use anyhow::{Context, Result};
use esep_core::billing::{ChargeSource, ProviderItem, Readings, Recalculation, ServiceRef};
use esep_core::tariff::{Tariff, Tier};
use esep_core::{Bill, Money, Period};
use rust_decimal::Decimal;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use std::collections::HashMap;

/// The services, their tariffs in a territory, and the service sets.
pub struct Catalogue {
    pub services: Vec<ServiceRef>,
    pub tariffs: HashMap<i64, Vec<Tariff>>,
    /// Service set id → indexes into `services`.
    pub sets: HashMap<i64, Vec<usize>>,
}

#[derive(Clone, Debug)]
pub struct BatchAccount {
    pub id: i64,
    pub number: String,
    pub area_m2: Decimal,
    pub residents: u32,
    pub set_id: i64,
}

/// Everything billing needs for a batch of accounts, keyed by (account id, service id).
#[derive(Default)]
pub struct BatchInputs {
    pub readings: HashMap<(i64, i64), Readings>,
    pub provider_items: HashMap<(i64, i64), Vec<ProviderItem>>,
    pub recalculations: HashMap<(i64, i64), Vec<Recalculation>>,
    pub opening: HashMap<(i64, i64), Money>,
    pub paid: HashMap<(i64, i64), Money>,
    /// Highest version already issued for the period, per account.
    pub issued_version: HashMap<i64, u32>,
    /// Accounts that the current run has already issued (when resuming).
    pub done_in_run: std::collections::HashSet<i64>,
    /// The allocation id up to which payments are counted.
    pub payments_through: i64,
}

pub fn parse_tiers(text: &str) -> Result<Vec<Tier>> {
    Ok(serde_json::from_str(text)?)
}

fn tariff_from(r: &AnyRow) -> Result<Tariff> {
    let kind: String = r.try_get("kind")?;
    let from: String = r.try_get("valid_from")?;
    let to: Option<String> = r.try_get("valid_to")?;
    let tiers: String = r.try_get("tiers")?;
    Ok(Tariff {
        kind: kind.parse().map_err(anyhow::Error::msg)?,
        rate: decimal(r, "rate")?,
        tiers: parse_tiers(&tiers)?,
        valid_from: from.parse()?,
        valid_to: to.map(|t| t.parse()).transpose()?,
    })
}

/// One UPD ready to be written.
pub struct NewUpd {
    pub account_id: i64,
    pub account_number: String,
    pub version: u32,
    pub bill: Bill,
}

impl Db {
    pub async fn territory_id(&self, code: &str) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT id FROM territory WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    pub async fn territories(&self) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query("SELECT id, code FROM territory ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    pub async fn catalogue(&self, territory_id: i64) -> Result<Catalogue> {
        let rows =
            sqlx::query("SELECT id, provider_id, section, unit, source FROM service ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        let mut services = Vec::with_capacity(rows.len());
        for r in &rows {
            let section: String = r.try_get("section")?;
            let unit: String = r.try_get("unit")?;
            let source: String = r.try_get("source")?;
            services.push(ServiceRef {
                service_id: r.try_get("id")?,
                provider_id: r.try_get("provider_id")?,
                section: section.parse().map_err(anyhow::Error::msg)?,
                unit: unit.parse().map_err(anyhow::Error::msg)?,
                source: if source == "provider" {
                    ChargeSource::Provider
                } else {
                    ChargeSource::Tariff
                },
            });
        }
        let index: HashMap<i64, usize> = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.service_id, i))
            .collect();
        let mut tariffs: HashMap<i64, Vec<Tariff>> = HashMap::new();
        let rows = sqlx::query(
            "SELECT service_id, kind, rate, tiers, valid_from, valid_to FROM tariff WHERE territory_id = $1",
        )
        .bind(territory_id)
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            tariffs
                .entry(r.try_get("service_id")?)
                .or_default()
                .push(tariff_from(r)?);
        }
        let mut sets: HashMap<i64, Vec<usize>> = HashMap::new();
        let rows = sqlx::query(
            "SELECT set_id, service_id FROM service_set_item ORDER BY set_id, service_id",
        )
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            let service: i64 = r.try_get(1)?;
            if let Some(&i) = index.get(&service) {
                sets.entry(r.try_get(0)?).or_default().push(i);
            }
        }
        Ok(Catalogue {
            services,
            tariffs,
            sets,
        })
    }

    pub async fn count_accounts(&self, territory_id: i64) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM account a JOIN premises p ON p.id = a.premises_id WHERE p.territory_id = $1",
        )
        .bind(territory_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// The next `limit` accounts of a territory after `after_id`, by id.
    pub async fn account_batch(
        &self,
        territory_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<BatchAccount>> {
        let rows = sqlx::query(
            "SELECT a.id, a.number, p.area_m2, p.residents, a.service_set_id FROM account a \
             JOIN premises p ON p.id = a.premises_id \
             WHERE p.territory_id = $1 AND a.id > $2 ORDER BY a.id LIMIT $3",
        )
        .bind(territory_id)
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(BatchAccount {
                    id: r.try_get(0)?,
                    number: r.try_get(1)?,
                    area_m2: decimal(r, "area_m2")?,
                    residents: u32::try_from(r.try_get::<i64, _>(3)?)?,
                    set_id: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Loads the inputs of accounts with ids in `lo..=hi` for `period`.
    pub async fn batch_inputs(
        &self,
        lo: i64,
        hi: i64,
        period: Period,
        run_id: i64,
    ) -> Result<BatchInputs> {
        let mut inputs = BatchInputs::default();
        let p = period.to_string();
        let since = {
            let mut q = period;
            for _ in 0..12 {
                q = q.prev();
            }
            q.to_string()
        };

        let mut initial: HashMap<(i64, i64), Decimal> = HashMap::new();
        for r in sqlx::query("SELECT account_id, service_id, initial_value FROM meter WHERE account_id BETWEEN $1 AND $2")
            .bind(lo)
            .bind(hi)
            .fetch_all(&self.pool)
            .await?
        {
            initial.insert((r.try_get(0)?, r.try_get(1)?), decimal(&r, "initial_value")?);
        }
        // Latest reading before the period (within a year) and the period's own reading.
        let mut previous: HashMap<(i64, i64), (String, Decimal)> = HashMap::new();
        let mut current: HashMap<(i64, i64), Decimal> = HashMap::new();
        for r in sqlx::query(
            "SELECT r.account_id, m.service_id, r.period, r.value FROM reading r JOIN meter m ON m.id = r.meter_id \
             WHERE r.account_id BETWEEN $1 AND $2 AND r.period <= $3 AND r.period >= $4",
        )
        .bind(lo)
        .bind(hi)
        .bind(&p)
        .bind(&since)
        .fetch_all(&self.pool)
        .await?
        {
            let key = (r.try_get(0)?, r.try_get(1)?);
            let rp: String = r.try_get(2)?;
            let value = decimal(&r, "value")?;
            if rp == p {
                current.insert(key, value);
            } else if previous.get(&key).is_none_or(|(seen, _)| *seen < rp) {
                previous.insert(key, (rp, value));
            }
        }
        for (key, value) in current {
            let prev = previous
                .get(&key)
                .map(|(_, v)| *v)
                .or_else(|| initial.get(&key).copied())
                .unwrap_or_default();
            inputs.readings.insert(
                key,
                Readings {
                    previous: prev,
                    current: value,
                },
            );
        }

        for r in sqlx::query(
            "SELECT account_id, service_id, kind, amount_tiyn, quantity, description FROM provider_line \
             WHERE account_id BETWEEN $1 AND $2 AND period = $3 ORDER BY id",
        )
        .bind(lo)
        .bind(hi)
        .bind(&p)
        .fetch_all(&self.pool)
        .await?
        {
            let key = (r.try_get(0)?, r.try_get(1)?);
            let kind: String = r.try_get(2)?;
            let amount = Money::from_tiyn(r.try_get(3)?);
            let description: String = r.try_get(5)?;
            if kind == "charge" {
                let quantity: Option<String> = r.try_get(4)?;
                inputs.provider_items.entry(key).or_default().push(ProviderItem {
                    amount,
                    quantity: quantity.map(|q| q.parse()).transpose()?,
                    description,
                });
            } else {
                inputs
                    .recalculations
                    .entry(key)
                    .or_default()
                    .push(Recalculation {
                        amount,
                        reason: description,
                    });
            }
        }

        // Versions already issued for the period.
        for r in sqlx::query(
            "SELECT account_id, version, run_id FROM upd WHERE account_id BETWEEN $1 AND $2 AND period = $3",
        )
        .bind(lo)
        .bind(hi)
        .bind(&p)
        .fetch_all(&self.pool)
        .await?
        {
            let account: i64 = r.try_get(0)?;
            let version = u32::try_from(r.try_get::<i64, _>(1)?)?;
            let v = inputs.issued_version.entry(account).or_default();
            *v = (*v).max(version);
            if r.try_get::<i64, _>(2)? == run_id {
                inputs.done_in_run.insert(account);
            }
        }

        // Opening balances: the dues of the current version of each account's latest UPD
        // before the period; and where its payment count stopped.
        let mut through: HashMap<i64, (u32, i64)> = HashMap::new();
        let mut dues: HashMap<i64, (u32, Vec<(i64, Money)>)> = HashMap::new();
        for r in sqlx::query(
            "SELECT u.account_id, u.version, u.payments_through, l.service_id, l.due_tiyn FROM upd u \
             JOIN (SELECT account_id, MAX(period) AS period FROM upd \
                   WHERE account_id BETWEEN $1 AND $2 AND period < $3 GROUP BY account_id) last \
               ON last.account_id = u.account_id AND last.period = u.period \
             JOIN upd_line l ON l.upd_id = u.id",
        )
        .bind(lo)
        .bind(hi)
        .bind(&p)
        .fetch_all(&self.pool)
        .await?
        {
            let account: i64 = r.try_get(0)?;
            let version = u32::try_from(r.try_get::<i64, _>(1)?)?;
            let t: i64 = r.try_get(2)?;
            let line = (r.try_get::<i64, _>(3)?, Money::from_tiyn(r.try_get(4)?));
            let entry = dues.entry(account).or_insert((version, Vec::new()));
            if version > entry.0 {
                *entry = (version, Vec::new());
            }
            if version == entry.0 {
                entry.1.push(line);
                through.insert(account, (version, t));
            }
        }
        for (account, (_, lines)) in dues {
            for (service, due) in lines {
                inputs.opening.insert((account, service), due);
            }
        }

        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM payment_allocation")
            .fetch_one(&self.pool)
            .await?;
        inputs.payments_through = row.try_get(0)?;
        let min_through = through.values().map(|(_, t)| *t).min().unwrap_or(0);
        for r in sqlx::query(
            "SELECT account_id, service_id, id, amount_tiyn FROM payment_allocation \
             WHERE account_id BETWEEN $1 AND $2 AND id > $3 AND id <= $4",
        )
        .bind(lo)
        .bind(hi)
        .bind(min_through)
        .bind(inputs.payments_through)
        .fetch_all(&self.pool)
        .await?
        {
            let account: i64 = r.try_get(0)?;
            let id: i64 = r.try_get(2)?;
            if through.get(&account).is_none_or(|(_, t)| id > *t) {
                *inputs.paid.entry((account, r.try_get(1)?)).or_default() +=
                    Money::from_tiyn(r.try_get(3)?);
            }
        }
        Ok(inputs)
    }

    /// Writes a batch of UPDs and their lines in one transaction.
    pub async fn write_upds(
        &self,
        upds: &[NewUpd],
        run_id: i64,
        reason: Option<&str>,
        payments_through: i64,
    ) -> Result<()> {
        const UPD_COLS: usize = 12;
        const LINE_COLS: usize = 11;
        const UPD_ROWS: usize = 500;
        const LINE_ROWS: usize = 2000;
        let issued_at = now();
        let mut tx = self.pool.begin().await?;
        let mut ids: HashMap<i64, i64> = HashMap::with_capacity(upds.len());
        for chunk in upds.chunks(UPD_ROWS) {
            let sql = format!(
                "INSERT INTO upd (account_id, period, version, number, reason, issued_at, due_date, \
                 total_charged_tiyn, total_due_tiyn, to_pay_tiyn, payments_through, run_id) VALUES {} \
                 RETURNING id, account_id",
                self.values_list(chunk.len(), UPD_COLS)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for u in chunk {
                let period = u.bill.period;
                q = q
                    .bind(u.account_id)
                    .bind(period.to_string())
                    .bind(i64::from(u.version))
                    .bind(upd_number(&u.account_number, period))
                    .bind(reason)
                    .bind(issued_at.clone())
                    .bind(u.bill.due_date.to_string())
                    .bind(u.bill.total_charged.tiyn())
                    .bind(u.bill.total_due.tiyn())
                    .bind(u.bill.to_pay.tiyn())
                    .bind(payments_through)
                    .bind(run_id);
            }
            for r in q.fetch_all(&mut *tx).await.context("inserting UPDs")? {
                ids.insert(r.try_get(1)?, r.try_get(0)?);
            }
        }
        let lines: Vec<(i64, usize, &esep_core::UpdLine)> = upds
            .iter()
            .flat_map(|u| {
                let id = ids.get(&u.account_id).copied().unwrap_or_default();
                u.bill
                    .lines
                    .iter()
                    .enumerate()
                    .map(move |(i, l)| (id, i + 1, l))
            })
            .collect();
        for chunk in lines.chunks(LINE_ROWS) {
            let sql = format!(
                "INSERT INTO upd_line (upd_id, line_no, service_id, provider_id, quantity, opening_tiyn, \
                 charge_tiyn, recalculation_tiyn, paid_tiyn, due_tiyn, explanation) VALUES {}",
                self.values_list(chunk.len(), LINE_COLS)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (upd_id, no, l) in chunk {
                q = q
                    .bind(*upd_id)
                    .bind(*no as i64)
                    .bind(l.service_id)
                    .bind(l.provider_id)
                    .bind(l.quantity.normalize().to_string())
                    .bind(l.opening.tiyn())
                    .bind(l.charge.tiyn())
                    .bind(l.recalculation.tiyn())
                    .bind(l.paid.tiyn())
                    .bind(l.due.tiyn())
                    .bind(serde_json::to_string(&l.explanation)?);
            }
            q.execute(&mut *tx).await.context("inserting UPD lines")?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// An unfinished run of the same kind to resume, or a new run.
    pub async fn start_run(
        &self,
        period: Period,
        territory_id: i64,
        reason: Option<&str>,
    ) -> Result<(i64, bool)> {
        let row = sqlx::query(
            "SELECT id FROM billing_run WHERE period = $1 AND territory_id = $2 AND reissue = $3 \
             AND COALESCE(reason, '') = $4 AND finished_at IS NULL ORDER BY id DESC LIMIT 1",
        )
        .bind(period.to_string())
        .bind(territory_id)
        .bind(i64::from(reason.is_some()))
        .bind(reason.unwrap_or(""))
        .fetch_optional(&self.pool)
        .await?;
        if let Some(r) = row {
            return Ok((r.try_get(0)?, true));
        }
        let row = sqlx::query(
            "INSERT INTO billing_run (period, territory_id, reissue, reason, started_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(period.to_string())
        .bind(territory_id)
        .bind(i64::from(reason.is_some()))
        .bind(reason)
        .bind(now())
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get(0)?, false))
    }

    pub async fn finish_run(&self, run_id: i64, issued: i64, failed: i64) -> Result<()> {
        sqlx::query(
            "UPDATE billing_run SET finished_at = $1, issued = $2, failed = $3 WHERE id = $4",
        )
        .bind(now())
        .bind(issued)
        .bind(failed)
        .bind(run_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// The number printed on a UPD: account number and period (versions share it).
pub fn upd_number(account_number: &str, period: Period) -> String {
    format!("{account_number}-{:04}{:02}", period.year(), period.month())
}
