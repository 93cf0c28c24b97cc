//! Applying an import inside one transaction: references are resolved first, every
//! unresolved one is reported, and only a file without errors changes anything.

use super::{Db, decimal, now};
use crate::import::{
    ChargeRow, Line, PremisesRow, ProviderRow, ReadingRow, RowError, ServiceRow, TariffRow,
};
use anyhow::Result;
use rust_decimal::Decimal;
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;

pub enum Rows {
    Providers(Vec<Line<ProviderRow>>),
    Services(Vec<Line<ServiceRow>>),
    Tariffs(Vec<Line<TariffRow>>),
    Premises(Vec<Line<PremisesRow>>),
    Readings(Vec<Line<ReadingRow>>),
    Charges(Vec<Line<ChargeRow>>),
}

impl Rows {
    pub fn len(&self) -> usize {
        match self {
            Rows::Providers(r) => r.len(),
            Rows::Services(r) => r.len(),
            Rows::Tariffs(r) => r.len(),
            Rows::Premises(r) => r.len(),
            Rows::Readings(r) => r.len(),
            Rows::Charges(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub enum ApplyOutcome {
    Applied { changed: usize },
    Rejected(Vec<RowError>),
}

type Tx = Transaction<'static, Any>;

async fn id_of(tx: &mut Tx, sql: &'static str, key: &str) -> Result<Option<i64>> {
    let row = sqlx::query(sql).bind(key).fetch_optional(&mut **tx).await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// Resolves a key to an id once per distinct key, recording an error for each unknown one.
struct Resolver {
    sql: &'static str,
    column: &'static str,
    what: &'static str,
    cache: HashMap<String, Option<i64>>,
}

impl Resolver {
    fn new(sql: &'static str, column: &'static str, what: &'static str) -> Self {
        Resolver {
            sql,
            column,
            what,
            cache: HashMap::new(),
        }
    }

    async fn get(
        &mut self,
        tx: &mut Tx,
        key: &str,
        line: u64,
        errors: &mut Vec<RowError>,
    ) -> Result<Option<i64>> {
        if !self.cache.contains_key(key) {
            let id = id_of(tx, self.sql, key).await?;
            self.cache.insert(key.to_string(), id);
        }
        let id = self.cache[key];
        if id.is_none() {
            errors.push(RowError {
                line,
                column: self.column.to_string(),
                message: format!("'{key}': no such {}", self.what),
            });
        }
        Ok(id)
    }
}

impl Db {
    pub async fn import_seen(&self, kind: &str, sha: &str) -> Result<Option<String>> {
        let row =
            sqlx::query("SELECT imported_at FROM import_batch WHERE kind = $1 AND sha256 = $2")
                .bind(kind)
                .bind(sha)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    pub async fn apply_import(
        &self,
        kind: &str,
        sha: &str,
        file_name: &str,
        rows: Rows,
        mut errors: Vec<RowError>,
        spike_factor: Decimal,
    ) -> Result<ApplyOutcome> {
        let count = rows.len() as i64;
        let mut tx = self.pool.begin().await?;
        let changed = match rows {
            Rows::Providers(rows) => providers(&mut tx, rows).await?,
            Rows::Services(rows) => services(&mut tx, rows, &mut errors).await?,
            Rows::Tariffs(rows) => tariffs(&mut tx, rows, &mut errors).await?,
            Rows::Premises(rows) => premises(&mut tx, rows, &mut errors).await?,
            Rows::Readings(rows) => readings(&mut tx, rows, &mut errors, spike_factor).await?,
            Rows::Charges(rows) => charges(&mut tx, rows, &mut errors).await?,
        };
        if !errors.is_empty() {
            tx.rollback().await?;
            errors.sort_by_key(|e| e.line);
            return Ok(ApplyOutcome::Rejected(errors));
        }
        sqlx::query(
            "INSERT INTO import_batch (kind, sha256, file_name, rows_count, imported_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(kind)
        .bind(sha)
        .bind(file_name)
        .bind(count)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ApplyOutcome::Applied { changed })
    }
}

fn changed(result: sqlx::any::AnyQueryResult) -> usize {
    result.rows_affected() as usize
}

async fn providers(tx: &mut Tx, rows: Vec<Line<ProviderRow>>) -> Result<usize> {
    let usc: i64 = sqlx::query("SELECT id FROM usc ORDER BY id LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?
        .ok_or_else(|| {
            anyhow::anyhow!("no USC is configured yet (run `esep demo` or create one)")
        })?;
    let mut n = 0;
    for Line { row: p, .. } in rows {
        let r = sqlx::query(
            "INSERT INTO provider (usc_id, bin, name, iban, bic, bank_name, iban_verified_at, kbe, knp) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (usc_id, bin) DO UPDATE SET name = excluded.name, iban = excluded.iban, bic = excluded.bic, \
             bank_name = excluded.bank_name, iban_verified_at = excluded.iban_verified_at, kbe = excluded.kbe, knp = excluded.knp \
             WHERE provider.name <> excluded.name OR provider.iban <> excluded.iban OR provider.kbe <> excluded.kbe \
             OR provider.knp <> excluded.knp",
        )
        .bind(usc)
        .bind(&p.bin)
        .bind(&p.name)
        .bind(&p.iban)
        .bind(&p.bic)
        .bind(&p.bank_name)
        .bind(now())
        .bind(&p.kbe)
        .bind(&p.knp)
        .execute(&mut **tx)
        .await?;
        n += changed(r);
    }
    Ok(n)
}

async fn services(
    tx: &mut Tx,
    rows: Vec<Line<ServiceRow>>,
    errors: &mut Vec<RowError>,
) -> Result<usize> {
    let mut provider = Resolver::new(
        "SELECT id FROM provider WHERE bin = $1",
        "provider_bin",
        "provider",
    );
    let mut n = 0;
    for Line { line, row: s } in rows {
        let Some(pid) = provider.get(tx, &s.provider_bin, line, errors).await? else {
            continue;
        };
        let [kk, ru, en] = &s.names;
        let r = sqlx::query(
            "INSERT INTO service (provider_id, code, section, unit, source, name_kk, name_ru, name_en) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (code) DO UPDATE SET provider_id = excluded.provider_id, section = excluded.section, \
             unit = excluded.unit, source = excluded.source, name_kk = excluded.name_kk, name_ru = excluded.name_ru, \
             name_en = excluded.name_en \
             WHERE service.provider_id <> excluded.provider_id OR service.section <> excluded.section \
             OR service.unit <> excluded.unit OR service.source <> excluded.source OR service.name_kk <> excluded.name_kk \
             OR service.name_ru <> excluded.name_ru OR service.name_en <> excluded.name_en",
        )
        .bind(pid)
        .bind(&s.code)
        .bind(&s.section)
        .bind(&s.unit)
        .bind(&s.source)
        .bind(kk)
        .bind(ru)
        .bind(en)
        .execute(&mut **tx)
        .await?;
        n += changed(r);
    }
    Ok(n)
}

async fn tariffs(
    tx: &mut Tx,
    rows: Vec<Line<TariffRow>>,
    errors: &mut Vec<RowError>,
) -> Result<usize> {
    let mut service = Resolver::new(
        "SELECT id FROM service WHERE code = $1",
        "service",
        "service",
    );
    let mut territory = Resolver::new(
        "SELECT id FROM territory WHERE code = $1",
        "territory",
        "territory",
    );
    let mut n = 0;
    for Line { line, row: t } in rows {
        let s = service.get(tx, &t.service, line, errors).await?;
        let tr = territory.get(tx, &t.territory, line, errors).await?;
        let (Some(s), Some(tr)) = (s, tr) else {
            continue;
        };
        let tiers = serde_json::to_string(&t.tariff.tiers)?;
        let r = sqlx::query(
            "INSERT INTO tariff (service_id, territory_id, kind, rate, tiers, valid_from, valid_to) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (service_id, territory_id, valid_from) DO UPDATE SET kind = excluded.kind, rate = excluded.rate, \
             tiers = excluded.tiers, valid_to = excluded.valid_to \
             WHERE tariff.kind <> excluded.kind OR tariff.rate <> excluded.rate OR tariff.tiers <> excluded.tiers \
             OR COALESCE(tariff.valid_to, '') <> COALESCE(excluded.valid_to, '')",
        )
        .bind(s)
        .bind(tr)
        .bind(t.tariff.kind.code())
        .bind(t.tariff.rate.normalize().to_string())
        .bind(tiers)
        .bind(t.tariff.valid_from.to_string())
        .bind(t.tariff.valid_to.map(|d| d.to_string()))
        .execute(&mut **tx)
        .await?;
        n += changed(r);
    }
    // The tariffs of a service in a territory must not overlap once the file is applied.
    let rows = sqlx::query(
        "SELECT s.code, a.valid_from FROM tariff a JOIN tariff b ON a.service_id = b.service_id \
         AND a.territory_id = b.territory_id AND a.id <> b.id AND a.valid_from > b.valid_from \
         AND (b.valid_to IS NULL OR b.valid_to >= a.valid_from) JOIN service s ON s.id = a.service_id",
    )
    .fetch_all(&mut **tx)
    .await?;
    for r in rows {
        let code: String = r.try_get(0)?;
        let from: String = r.try_get(1)?;
        errors.push(RowError {
            line: 0,
            column: "valid_from".into(),
            message: format!(
                "the tariff of service '{code}' from {from} overlaps an earlier tariff that has no end or ends later; set valid_to on the earlier one"
            ),
        });
    }
    Ok(n)
}

/// The service set for a list of service codes, created on first use.
pub(crate) async fn service_set(tx: &mut Tx, codes: &[String], ids: &[i64]) -> Result<i64> {
    let mut sorted: Vec<&String> = codes.iter().collect();
    sorted.sort();
    sorted.dedup();
    let code = sorted
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join("+");
    if let Some(id) = id_of(tx, "SELECT id FROM service_set WHERE code = $1", &code).await? {
        return Ok(id);
    }
    let id: i64 = sqlx::query("INSERT INTO service_set (code) VALUES ($1) RETURNING id")
        .bind(&code)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
    for s in ids {
        sqlx::query("INSERT INTO service_set_item (set_id, service_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(*s)
            .execute(&mut **tx)
            .await?;
    }
    Ok(id)
}

async fn premises(
    tx: &mut Tx,
    rows: Vec<Line<PremisesRow>>,
    errors: &mut Vec<RowError>,
) -> Result<usize> {
    let mut territory = Resolver::new(
        "SELECT id FROM territory WHERE code = $1",
        "territory",
        "territory",
    );
    let mut service = Resolver::new(
        "SELECT id FROM service WHERE code = $1",
        "services",
        "service",
    );
    let usc: Option<i64> = sqlx::query("SELECT id FROM usc ORDER BY id LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    let Some(usc) = usc else {
        anyhow::bail!("no USC is configured yet (run `esep demo` or create one)");
    };
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut n = 0;
    for Line { line, row: p } in rows {
        for (key, col) in [
            (&p.register_id, "register_id"),
            (&p.account_number, "account_number"),
        ] {
            if let Some(first) = seen.insert(format!("{col}:{key}"), line) {
                errors.push(RowError {
                    line,
                    column: col.into(),
                    message: format!("'{key}' appears again (first on line {first})"),
                });
            }
        }
        let t = territory.get(tx, &p.territory, line, errors).await?;
        let mut ids = Vec::new();
        for code in &p.services {
            if let Some(id) = service.get(tx, code, line, errors).await? {
                ids.push(id);
            }
        }
        let Some(t) = t else { continue };
        if ids.len() != p.services.len() || !errors.is_empty() {
            continue;
        }
        let set = service_set(tx, &p.services, &ids).await?;
        let area = p.area_m2.normalize().to_string();
        let r = sqlx::query(
            "INSERT INTO premises (territory_id, register_id, address, area_m2, residents) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (register_id) DO UPDATE SET territory_id = excluded.territory_id, address = excluded.address, \
             area_m2 = excluded.area_m2, residents = excluded.residents \
             WHERE premises.territory_id <> excluded.territory_id OR premises.address <> excluded.address \
             OR premises.area_m2 <> excluded.area_m2 OR premises.residents <> excluded.residents",
        )
        .bind(t)
        .bind(&p.register_id)
        .bind(&p.address)
        .bind(&area)
        .bind(i64::from(p.residents))
        .execute(&mut **tx)
        .await?;
        n += changed(r);
        let premises_id = id_of(
            tx,
            "SELECT id FROM premises WHERE register_id = $1",
            &p.register_id,
        )
        .await?
        .unwrap_or_default();
        let owner: Option<i64> = sqlx::query("SELECT premises_id FROM account WHERE number = $1")
            .bind(&p.account_number)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        if owner.is_some_and(|o| o != premises_id) {
            errors.push(RowError {
                line,
                column: "account_number".into(),
                message: format!("'{}' already belongs to other premises", p.account_number),
            });
            continue;
        }
        let r = sqlx::query(
            "INSERT INTO account (number, premises_id, usc_id, service_set_id, holder_name) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (number) DO UPDATE SET service_set_id = excluded.service_set_id, holder_name = excluded.holder_name \
             WHERE account.service_set_id <> excluded.service_set_id OR account.holder_name <> excluded.holder_name",
        )
        .bind(&p.account_number)
        .bind(premises_id)
        .bind(usc)
        .bind(set)
        .bind(&p.holder_name)
        .execute(&mut **tx)
        .await?;
        n += changed(r);
    }
    Ok(n)
}

async fn readings(
    tx: &mut Tx,
    rows: Vec<Line<ReadingRow>>,
    errors: &mut Vec<RowError>,
    spike_factor: Decimal,
) -> Result<usize> {
    let mut account = Resolver::new(
        "SELECT id FROM account WHERE number = $1",
        "account_number",
        "account",
    );
    let mut service = Resolver::new(
        "SELECT id FROM service WHERE code = $1",
        "service",
        "service",
    );
    let mut seen: HashMap<(i64, String), u64> = HashMap::new();
    let mut n = 0;
    for Line { line, row: r } in rows {
        let a = account.get(tx, &r.account_number, line, errors).await?;
        let s = service.get(tx, &r.service, line, errors).await?;
        let (Some(a), Some(s)) = (a, s) else { continue };
        let meter = sqlx::query(
            "SELECT id, initial_value FROM meter WHERE account_id = $1 AND service_id = $2",
        )
        .bind(a)
        .bind(s)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(meter) = meter else {
            errors.push(RowError {
                line,
                column: "service".into(),
                message: format!(
                    "account {} has no meter for '{}'",
                    r.account_number, r.service
                ),
            });
            continue;
        };
        let meter_id: i64 = meter.try_get(0)?;
        let initial = decimal(&meter, "initial_value")?;
        if let Some(first) = seen.insert((meter_id, r.period.to_string()), line) {
            errors.push(RowError {
                line,
                column: "period".into(),
                message: format!(
                    "a reading of this meter for {} is already on line {first}",
                    r.period
                ),
            });
            continue;
        }
        let check =
            crate::readings::check(tx, meter_id, initial, r.period, r.value, spike_factor).await?;
        match check {
            Err(message) => errors.push(RowError {
                line,
                column: "value".into(),
                message,
            }),
            Ok(flag) => {
                let res = sqlx::query(
                    "INSERT INTO reading (meter_id, account_id, period, value, taken_on, source, flagged, flag_reason) \
                     VALUES ($1, $2, $3, $4, $5, 'import', $6, $7) \
                     ON CONFLICT (meter_id, period) DO UPDATE SET value = excluded.value, taken_on = excluded.taken_on, \
                     flagged = excluded.flagged, flag_reason = excluded.flag_reason \
                     WHERE reading.value <> excluded.value OR reading.taken_on <> excluded.taken_on",
                )
                .bind(meter_id)
                .bind(a)
                .bind(r.period.to_string())
                .bind(r.value.normalize().to_string())
                .bind(r.taken_on.to_string())
                .bind(i64::from(flag.is_some()))
                .bind(flag)
                .execute(&mut **tx)
                .await?;
                n += changed(res);
            }
        }
    }
    Ok(n)
}

async fn charges(
    tx: &mut Tx,
    rows: Vec<Line<ChargeRow>>,
    errors: &mut Vec<RowError>,
) -> Result<usize> {
    let mut account = Resolver::new(
        "SELECT id FROM account WHERE number = $1",
        "account_number",
        "account",
    );
    let mut provider = Resolver::new(
        "SELECT id FROM provider WHERE bin = $1",
        "provider_bin",
        "provider",
    );
    let mut n = 0;
    for Line { line, row: c } in rows {
        let a = account.get(tx, &c.account_number, line, errors).await?;
        let p = provider.get(tx, &c.provider_bin, line, errors).await?;
        let (Some(a), Some(p)) = (a, p) else { continue };
        let s = sqlx::query("SELECT id FROM service WHERE code = $1 AND provider_id = $2")
            .bind(&c.service)
            .bind(p)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(s) = s else {
            errors.push(RowError {
                line,
                column: "service".into(),
                message: format!(
                    "'{}' is not a service of provider {}",
                    c.service, c.provider_bin
                ),
            });
            continue;
        };
        let s: i64 = s.try_get(0)?;
        let res = sqlx::query(
            "INSERT INTO provider_line (provider_id, account_id, service_id, period, kind, amount_tiyn, quantity, description, external_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (provider_id, external_id) DO NOTHING",
        )
        .bind(p)
        .bind(a)
        .bind(s)
        .bind(c.period.to_string())
        .bind(&c.kind)
        .bind(c.amount.tiyn())
        .bind(c.quantity.map(|q| q.normalize().to_string()))
        .bind(&c.description)
        .bind(&c.external_id)
        .execute(&mut **tx)
        .await?;
        n += changed(res);
    }
    Ok(n)
}
