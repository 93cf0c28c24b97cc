//! Accounts, their UPDs, meters and readings, as the API reads and writes them.

use super::users::User;
use super::{Cols, Db, decimal, now};
use anyhow::Result;
use esep_core::api::UpdSummary;
use esep_core::billing::{Explanation, Section};
use esep_core::tariff::Unit;
use esep_core::{Localized, Money, Period};
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Clone, Debug)]
pub struct AccountRow {
    pub id: i64,
    pub number: String,
    pub address: String,
    pub area_m2: Decimal,
    pub residents: u32,
    pub holder_name: String,
}

const ACCOUNT_COLS: &str = "a.id, a.number, p.address, p.area_m2, p.residents, a.holder_name FROM account a JOIN premises p ON p.id = a.premises_id";

fn account_from(r: &AnyRow) -> Result<AccountRow> {
    Ok(AccountRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        address: r.try_get("address")?,
        area_m2: decimal(r, "area_m2")?,
        residents: u32::try_from(r.try_get::<i64, _>("residents")?)?,
        holder_name: r.try_get("holder_name")?,
    })
}

#[derive(Clone, Debug)]
pub struct UpdRecord {
    pub id: i64,
    pub account_id: i64,
    pub number: String,
    pub period: Period,
    pub version: u32,
    pub reason: Option<String>,
    pub issued_at: String,
    pub due_date: chrono::NaiveDate,
    pub total_charged: Money,
    pub total_due: Money,
    pub to_pay: Money,
}

const UPD_COLS: &str = "id, account_id, number, period, version, reason, issued_at, due_date, \
     total_charged_tiyn, total_due_tiyn, to_pay_tiyn";

fn upd_from(r: &impl Cols) -> Result<UpdRecord> {
    let period = r.text("period")?;
    let due = r.text("due_date")?;
    Ok(UpdRecord {
        id: r.int("id")?,
        account_id: r.int("account_id")?,
        number: r.text("number")?,
        period: Period::parse(&period)?,
        version: u32::try_from(r.int("version")?)?,
        reason: r.text_opt("reason")?,
        issued_at: r.text("issued_at")?,
        due_date: due.parse()?,
        total_charged: Money::from_tiyn(r.int("total_charged_tiyn")?),
        total_due: Money::from_tiyn(r.int("total_due_tiyn")?),
        to_pay: Money::from_tiyn(r.int("to_pay_tiyn")?),
    })
}

impl UpdRecord {
    pub fn summary(&self) -> UpdSummary {
        UpdSummary {
            number: self.number.clone(),
            period: self.period,
            version: self.version,
            issued_at: self.issued_at.clone(),
            due_date: self.due_date,
            total_due: self.total_due,
            to_pay: self.to_pay,
        }
    }
}

/// A stored UPD line with the names of its service and provider.
#[derive(Clone, Debug)]
pub struct LineRecord {
    pub line_no: u32,
    pub service_code: String,
    pub service_name: Localized,
    pub section: Section,
    pub unit: Unit,
    pub provider_id: i64,
    pub provider_name: String,
    pub provider_bin: String,
    pub quantity: Decimal,
    pub opening: Money,
    pub charge: Money,
    pub recalculation: Money,
    pub paid: Money,
    pub due: Money,
    pub explanation: Explanation,
}

fn line_from(r: &impl Cols) -> Result<LineRecord> {
    let section = r.text("section")?;
    let unit = r.text("unit")?;
    let explanation = r.text("explanation")?;
    Ok(LineRecord {
        line_no: u32::try_from(r.int("line_no")?)?,
        service_code: r.text("code")?,
        service_name: Localized {
            kk: r.text("name_kk")?,
            ru: r.text("name_ru")?,
            en: r.text("name_en")?,
        },
        section: section.parse().map_err(anyhow::Error::msg)?,
        unit: unit.parse().map_err(anyhow::Error::msg)?,
        provider_id: r.int("provider_id")?,
        provider_name: r.text("provider_name")?,
        provider_bin: r.text("bin")?,
        quantity: decimal(r, "quantity")?,
        opening: Money::from_tiyn(r.int("opening_tiyn")?),
        charge: Money::from_tiyn(r.int("charge_tiyn")?),
        recalculation: Money::from_tiyn(r.int("recalculation_tiyn")?),
        paid: Money::from_tiyn(r.int("paid_tiyn")?),
        due: Money::from_tiyn(r.int("due_tiyn")?),
        explanation: serde_json::from_str(&explanation)?,
    })
}

/// The UPD view's one query ([`Db::upd_page`]): a row per line of the chosen version, or
/// one row with NULLs when there is no such UPD, or none when the session is not valid;
/// `paid_since` is the same sum as [`Db::outstanding`].
const UPD_PAGE_SQL: &str = "SELECT me.id AS me_id, me.role AS me_role, me.display_name AS me_display_name, \
             me.password_hash AS me_password_hash, me.provider_id AS me_provider_id, \
             u.id, u.account_id, u.number, u.period, u.version, u.reason, u.issued_at, \
             u.due_date, u.total_charged_tiyn, u.total_due_tiyn, u.to_pay_tiyn, \
             a.number AS account_number, pm.address, pm.area_m2, pm.residents, a.holder_name, \
             CAST((SELECT COUNT(*) FROM user_account ua WHERE ua.user_id = me.id \
                   AND ua.account_id = u.account_id) AS BIGINT) AS holds, \
             CAST((SELECT COUNT(*) FROM upd v WHERE v.number = u.number) AS BIGINT) AS version_count, \
             CAST((SELECT MAX(v.version) FROM upd v WHERE v.number = u.number) AS BIGINT) AS version_max, \
             l.line_no, s.code, s.name_kk, s.name_ru, s.name_en, s.section, s.unit, \
             l.provider_id, p.name AS provider_name, p.bin, l.quantity, l.opening_tiyn, l.charge_tiyn, \
             l.recalculation_tiyn, l.paid_tiyn, l.due_tiyn, l.explanation, \
             CAST((SELECT COALESCE(SUM(pa.amount_tiyn), 0) FROM payment_allocation pa \
                   WHERE pa.account_id = u.account_id AND pa.service_id = l.service_id \
                   AND pa.id > u.payments_through) AS BIGINT) AS paid_since \
             FROM (SELECT au.id, au.role, au.display_name, au.password_hash, au.provider_id \
                   FROM session ss JOIN app_user au ON au.id = ss.user_id \
                   WHERE ss.token_hash = $1 AND ss.expires_at > $2) me \
             LEFT JOIN upd u ON u.number = $3 AND u.version = CASE WHEN $4 < 0 \
                  THEN (SELECT MAX(w.version) FROM upd w WHERE w.number = $3) ELSE $4 END \
             LEFT JOIN account a ON a.id = u.account_id \
             LEFT JOIN premises pm ON pm.id = a.premises_id \
             LEFT JOIN upd_line l ON l.upd_id = u.id \
             LEFT JOIN service s ON s.id = l.service_id \
             LEFT JOIN provider p ON p.id = l.provider_id \
             ORDER BY l.line_no";

/// The rows of [`UPD_PAGE_SQL`] as they are read, from either driver.
#[derive(Default)]
struct PageRows {
    user: Option<User>,
    /// The document (its versions still to be listed), the number of versions and the
    /// highest.
    doc: Option<(UpdForReader, i64, i64)>,
    lines: Vec<(LineRecord, Money)>,
}

impl PageRows {
    fn push(&mut self, r: &impl Cols) -> Result<()> {
        if self.user.is_none() {
            self.user = Some(super::users::user_from_named(r, super::users::ME_COLUMNS)?);
            if r.int_opt("id")?.is_some() {
                let doc = reader_doc_from(r, Vec::new())?;
                self.doc = Some((doc, r.int("version_count")?, r.int("version_max")?));
            }
        }
        if r.int_opt("line_no")?.is_some() {
            self.lines
                .push((line_from(r)?, Money::from_tiyn(r.int("paid_since")?)));
        }
        Ok(())
    }
}

/// What [`Db::upd_page`] finds for a session cookie and a UPD number.
#[derive(Debug)]
pub enum UpdPage {
    /// No such session, or it has expired.
    NoSession,
    /// The session's user; no such UPD (or no such version of it).
    Missing(User),
    /// The session's user, the UPD and its lines with what was paid since it was issued.
    Found {
        user: User,
        doc: Box<UpdForReader>,
        lines: Vec<(LineRecord, Money)>,
    },
}

/// A row of a UPD joined with its account and the reader's holding (`holds`).
fn reader_doc_from(r: &impl Cols, versions: Vec<u32>) -> Result<UpdForReader> {
    let record = upd_from(r)?;
    Ok(UpdForReader {
        account: AccountRow {
            id: record.account_id,
            number: r.text("account_number")?,
            address: r.text("address")?,
            area_m2: decimal(r, "area_m2")?,
            residents: u32::try_from(r.int("residents")?)?,
            holder_name: r.text("holder_name")?,
        },
        holder: r.int("holds")? > 0,
        record,
        versions,
    })
}

/// What [`Db::upd_for_reader`] finds.
#[derive(Debug)]
pub struct UpdForReader {
    pub record: UpdRecord,
    pub account: AccountRow,
    /// Whether the reader holds the account.
    pub holder: bool,
    pub versions: Vec<u32>,
}

#[derive(Clone, Debug)]
pub struct MeterRecord {
    pub id: i64,
    pub account_id: i64,
    pub service_code: String,
    pub service_name: Localized,
    pub unit: Unit,
    pub serial: String,
    pub initial_value: Decimal,
}

/// The last reading of a meter before a period, and the consumption usual for it.
#[derive(Clone, Debug)]
pub struct LastReading {
    pub period: Option<Period>,
    pub value: Decimal,
    /// Average monthly consumption over the recent readings, when there are two or more.
    pub usual_consumption: Option<Decimal>,
}

impl Db {
    pub async fn account_by_number(&self, number: &str) -> Result<Option<AccountRow>> {
        let sql = format!("SELECT {ACCOUNT_COLS} WHERE a.number = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(number)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(account_from).transpose()
    }

    pub async fn account_by_id(&self, id: i64) -> Result<Option<AccountRow>> {
        let sql = format!("SELECT {ACCOUNT_COLS} WHERE a.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(account_from).transpose()
    }

    pub async fn upd_issued(&self, account_id: i64, period: Period) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM upd WHERE account_id = $1 AND period = $2 LIMIT 1")
            .bind(account_id)
            .bind(period.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    pub async fn accounts_of_user(&self, user_id: i64) -> Result<Vec<AccountRow>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLS} JOIN user_account ua ON ua.account_id = a.id \
             WHERE ua.user_id = $1 ORDER BY a.number"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(account_from).collect()
    }

    pub async fn user_holds_account(&self, user_id: i64, account_id: i64) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM user_account WHERE user_id = $1 AND account_id = $2")
            .bind(user_id)
            .bind(account_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    pub async fn link_account(&self, user_id: i64, account_id: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO user_account (user_id, account_id, linked_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, account_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(account_id)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The current (highest) version of each period's UPD of an account, newest first.
    pub async fn upds_of_account(&self, account_id: i64, limit: i64) -> Result<Vec<UpdRecord>> {
        let sql = format!(
            "SELECT {UPD_COLS} FROM upd u WHERE account_id = $1 AND version = \
             (SELECT MAX(version) FROM upd v WHERE v.account_id = u.account_id AND v.period = u.period) \
             ORDER BY period DESC LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(upd_from).collect()
    }

    /// A UPD by its number: the given version, or the current one.
    pub async fn upd_by_number(
        &self,
        number: &str,
        version: Option<u32>,
    ) -> Result<Option<UpdRecord>> {
        let sql = format!(
            "SELECT {UPD_COLS} FROM upd WHERE number = $1 AND ($2 < 0 OR version = $2) \
             ORDER BY version DESC LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(number)
            .bind(version.map_or(-1, i64::from))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(upd_from).transpose()
    }

    /// A UPD as a reader opens it, in one query: the version asked for (or the current
    /// one), its account, whether `user_id` holds that account, and every version's number.
    pub async fn upd_for_reader(
        &self,
        number: &str,
        version: Option<u32>,
        user_id: i64,
    ) -> Result<Option<UpdForReader>> {
        let rows = sqlx::query(
            "SELECT u.id, u.account_id, u.number, u.period, u.version, u.reason, u.issued_at, \
             u.due_date, u.total_charged_tiyn, u.total_due_tiyn, u.to_pay_tiyn, \
             a.number AS account_number, p.address, p.area_m2, p.residents, a.holder_name, \
             CAST((SELECT COUNT(*) FROM user_account ua WHERE ua.user_id = $2 \
                   AND ua.account_id = u.account_id) AS BIGINT) AS holds \
             FROM upd u JOIN account a ON a.id = u.account_id JOIN premises p ON p.id = a.premises_id \
             WHERE u.number = $1 ORDER BY u.version",
        )
        .bind(number)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        let versions = rows
            .iter()
            .map(|r| Ok(u32::try_from(r.try_get::<i64, _>("version")?)?))
            .collect::<Result<Vec<u32>>>()?;
        let chosen = match version {
            Some(v) => versions.iter().position(|&x| x == v),
            None => versions.len().checked_sub(1),
        };
        let Some(r) = chosen.and_then(|i| rows.get(i)) else {
            return Ok(None);
        };
        Ok(Some(reader_doc_from(r, versions)?))
    }

    /// Everything the UPD view shows, in one query (the busiest read of month-end, issue 7):
    /// the session's user, the version of `number` asked for (or the current one) with its
    /// account, whether the user holds that account, every version's number, and the lines
    /// with what was paid to each service since the UPD was issued. On SQLite it runs on
    /// the fast path when it can ([`super::fastread`]), through sqlx otherwise.
    pub async fn upd_page(
        &self,
        token_hash: &str,
        number: &str,
        version: Option<u32>,
    ) -> Result<UpdPage> {
        let at = now();
        let version = version.map_or(-1, i64::from);
        let fast = self.fast.as_ref().and_then(|fast| {
            fast.read(|c| {
                let mut stmt = c.prepare_cached(UPD_PAGE_SQL)?;
                let mut rows = stmt.query(rusqlite::named_params! {
                    "$1": token_hash, "$2": at, "$3": number, "$4": version,
                })?;
                let mut page = PageRows::default();
                while let Some(r) = rows.next()? {
                    page.push(r)?;
                }
                Ok(page)
            })
            .inspect_err(|e| tracing::debug!("UPD view through sqlx: {e:#}"))
            .ok()
        });
        let page = match fast {
            Some(page) => page,
            None => {
                let rows = sqlx::query(UPD_PAGE_SQL)
                    .bind(token_hash)
                    .bind(&at)
                    .bind(number)
                    .bind(version)
                    .fetch_all(&self.pool)
                    .await?;
                let mut page = PageRows::default();
                for r in &rows {
                    page.push(r)?;
                }
                page
            }
        };
        let Some(user) = page.user else {
            return Ok(UpdPage::NoSession);
        };
        let Some((doc, count, max)) = page.doc else {
            return Ok(UpdPage::Missing(user));
        };
        // Versions are issued 1, 2, 3…; should a gap ever appear, they are read one by one.
        let versions = if count == max {
            (1..=u32::try_from(max)?).collect()
        } else {
            self.upd_for_reader(number, None, user.id)
                .await?
                .map(|f| f.versions)
                .unwrap_or_default()
        };
        Ok(UpdPage::Found {
            user,
            doc: Box::new(UpdForReader { versions, ..doc }),
            lines: page.lines,
        })
    }

    pub async fn upd_lines(&self, upd_id: i64) -> Result<Vec<LineRecord>> {
        let rows = sqlx::query(
            "SELECT l.line_no, s.code, s.name_kk, s.name_ru, s.name_en, s.section, s.unit, \
             l.provider_id, p.name AS provider_name, p.bin, l.quantity, l.opening_tiyn, l.charge_tiyn, \
             l.recalculation_tiyn, l.paid_tiyn, l.due_tiyn, l.explanation \
             FROM upd_line l JOIN service s ON s.id = l.service_id JOIN provider p ON p.id = l.provider_id \
             WHERE l.upd_id = $1 ORDER BY l.line_no",
        )
        .bind(upd_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(line_from).collect()
    }

    pub async fn meters_of_account(&self, account_id: i64) -> Result<Vec<MeterRecord>> {
        let rows = sqlx::query(
            "SELECT m.id, m.account_id, s.code, s.name_kk, s.name_ru, s.name_en, s.unit, m.serial, m.initial_value \
             FROM meter m JOIN service s ON s.id = m.service_id WHERE m.account_id = $1 ORDER BY s.id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(meter_from).collect()
    }

    pub async fn meter(&self, meter_id: i64) -> Result<Option<MeterRecord>> {
        let row = sqlx::query(
            "SELECT m.id, m.account_id, s.code, s.name_kk, s.name_ru, s.name_en, s.unit, m.serial, m.initial_value \
             FROM meter m JOIN service s ON s.id = m.service_id WHERE m.id = $1",
        )
        .bind(meter_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(meter_from).transpose()
    }

    /// The last reading of `meter` before `period` (or its initial value) and the usual
    /// monthly consumption over up to 6 earlier readings.
    pub async fn last_reading_before(
        &self,
        meter: &MeterRecord,
        period: Period,
    ) -> Result<LastReading> {
        let rows = sqlx::query(
            "SELECT period, value FROM reading WHERE meter_id = $1 AND period < $2 ORDER BY period DESC LIMIT 7",
        )
        .bind(meter.id)
        .bind(period.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut points: Vec<(Period, Decimal)> = Vec::with_capacity(rows.len());
        for r in &rows {
            let p: String = r.try_get("period")?;
            points.push((Period::parse(&p)?, decimal(r, "value")?));
        }
        let usual_consumption = (points.len() >= 2).then(|| {
            let (newest, oldest) = (&points[0], &points[points.len() - 1]);
            let months = month_index(newest.0) - month_index(oldest.0);
            (newest.1 - oldest.1) / Decimal::from(months.max(1))
        });
        Ok(match points.first() {
            Some((p, v)) => LastReading {
                period: Some(*p),
                value: *v,
                usual_consumption,
            },
            None => LastReading {
                period: None,
                value: meter.initial_value,
                usual_consumption: None,
            },
        })
    }

    /// The reading of `meter` for `period`, if one was taken.
    pub async fn reading_in(&self, meter_id: i64, period: Period) -> Result<Option<Decimal>> {
        let row = sqlx::query("SELECT value FROM reading WHERE meter_id = $1 AND period = $2")
            .bind(meter_id)
            .bind(period.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| decimal(r, "value")).transpose()
    }

    /// Stores (or replaces, within the same period) a reading.
    pub async fn put_reading(&self, r: &NewReading<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO reading (meter_id, account_id, period, value, taken_on, source, flagged, flag_reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (meter_id, period) DO UPDATE SET value = excluded.value, taken_on = excluded.taken_on, \
             source = excluded.source, flagged = excluded.flagged, flag_reason = excluded.flag_reason",
        )
        .bind(r.meter_id)
        .bind(r.account_id)
        .bind(r.period.to_string())
        .bind(r.value.to_string())
        .bind(r.taken_on.to_string())
        .bind(r.source)
        .bind(i64::from(r.flag_reason.is_some()))
        .bind(r.flag_reason)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

pub struct NewReading<'a> {
    pub meter_id: i64,
    pub account_id: i64,
    pub period: Period,
    pub value: Decimal,
    pub taken_on: chrono::NaiveDate,
    pub source: &'a str,
    pub flag_reason: Option<&'a str>,
}

pub fn month_index(p: Period) -> i64 {
    i64::from(p.year()) * 12 + i64::from(p.month())
}

fn meter_from(r: &AnyRow) -> Result<MeterRecord> {
    let unit: String = r.try_get("unit")?;
    Ok(MeterRecord {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        service_code: r.try_get("code")?,
        service_name: Localized {
            kk: r.try_get("name_kk")?,
            ru: r.try_get("name_ru")?,
            en: r.try_get("name_en")?,
        },
        unit: unit.parse().map_err(anyhow::Error::msg)?,
        serial: r.try_get("serial")?,
        initial_value: decimal(r, "initial_value")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{DemoOptions, seed};
    use crate::store::fastread::FastReads;

    /// The UPD view's one query answers the same on SQLite's fast path, through sqlx, and
    /// when the fast path cannot open its connection (and gives way to sqlx).
    #[tokio::test]
    async fn upd_page_is_the_same_on_every_path() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&format!("sqlite://{}", dir.path().join("e.db").display()))
            .await
            .unwrap();
        assert!(db.fast.is_some(), "SQLite on a file reads on the fast path");
        let opts = DemoOptions {
            accounts: 30,
            months: 2,
            through: Period::parse("2026-10").unwrap(),
            consumers: 3,
            progress: false,
        };
        seed(&db, &opts).await.unwrap();
        let (holder, account): (i64, i64) =
            sqlx::query_as("SELECT user_id, account_id FROM user_account ORDER BY user_id LIMIT 1")
                .fetch_one(&db.pool)
                .await
                .unwrap();
        let (operator,): (i64,) = sqlx::query_as("SELECT id FROM app_user WHERE role = 'operator'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        let (number,): (String,) = sqlx::query_as(
            "SELECT number FROM upd WHERE account_id = $1 ORDER BY period DESC LIMIT 1",
        )
        .bind(account)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        db.create_session("holder", holder, 1).await.unwrap();
        db.create_session("operator", operator, 1).await.unwrap();
        db.create_session("expired", holder, -1).await.unwrap();

        let mut through_sqlx = db.clone();
        through_sqlx.fast = None;
        let mut broken = db.clone();
        broken.fast = FastReads::for_file(dir.path().join("missing.db")).map(std::sync::Arc::new);
        let cases = [
            ("holder", number.as_str(), None),
            ("holder", number.as_str(), Some(1)),
            ("holder", number.as_str(), Some(9)),
            ("holder", "no-such-upd", None),
            ("operator", number.as_str(), None),
            ("expired", number.as_str(), None),
            ("unknown", number.as_str(), None),
        ];
        let mut found = 0;
        for (token, number, version) in cases {
            let fast = db.upd_page(token, number, version).await.unwrap();
            if let UpdPage::Found { doc, lines, .. } = &fast {
                assert!(!lines.is_empty(), "{number}: lines");
                assert_eq!(doc.holder, token == "holder");
                found += 1;
            }
            let fast = format!("{fast:?}");
            for other in [&through_sqlx, &broken] {
                let page = other.upd_page(token, number, version).await.unwrap();
                assert_eq!(format!("{page:?}"), fast, "{token} {number} {version:?}");
            }
            let session = db.session_user(token).await.unwrap().map(|u| u.id);
            for other in [&through_sqlx, &broken] {
                assert_eq!(
                    other.session_user(token).await.unwrap().map(|u| u.id),
                    session
                );
            }
        }
        assert_eq!(
            found, 3,
            "the holder's current and first version, the operator's read"
        );
        assert!(matches!(
            db.upd_page("expired", &number, None).await.unwrap(),
            UpdPage::NoSession
        ));
        assert!(matches!(
            db.upd_page("holder", "no-such-upd", None).await.unwrap(),
            UpdPage::Missing(_)
        ));
    }
}
