//! The USC's duties with legal deadlines: complaints and applications answered within 15
//! working days, extendable once by at most 5 with a notice to the applicant (D13); the
//! discrepancy journal, registration within 3 working days of detection (D8, D9); audits
//! whose results are immutable documents (D7, D10). Every deadline uses the working
//! calendar of Kazakhstan (`esep_core::calendar`).

use crate::store::Db;
use crate::store::now;
use anyhow::{Context, Result};
use chrono::NaiveDate;
use esep_core::{Lang, Money, Period, WorkingCalendar};
use sqlx::Row;

pub const ANSWER_WORKING_DAYS: u32 = 15;
pub const MAX_EXTENSION_WORKING_DAYS: u32 = 5;
pub const REGISTRATION_WORKING_DAYS: u32 = 3;

/// A refusal a person can act on: what is wrong with which field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Refusal {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Refusal {
        field,
        message: message.into(),
    })
}

pub use esep_core::api::Complaint;

pub struct NewComplaint<'a> {
    pub user_id: Option<i64>,
    pub account_id: Option<i64>,
    pub channel: &'a str,
    pub kind: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub registered_on: NaiveDate,
    pub created_by: Option<i64>,
}

fn date(text: &str) -> Result<NaiveDate> {
    text.parse()
        .with_context(|| format!("'{text}' is not a date"))
}

fn complaint_from(r: &sqlx::any::AnyRow, today: NaiveDate) -> Result<Complaint> {
    let deadline = date(&r.try_get::<String, _>("deadline")?)?;
    let extended = r
        .try_get::<Option<String>, _>("extended_deadline")?
        .map(|d| date(&d))
        .transpose()?;
    let status: String = r.try_get("status")?;
    let due = extended.unwrap_or(deadline);
    Ok(Complaint {
        number: r.try_get("number")?,
        kind: r.try_get("kind")?,
        channel: r.try_get("channel")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        account_number: r.try_get("account_number")?,
        registered_on: date(&r.try_get::<String, _>("registered_on")?)?,
        deadline,
        extended_deadline: extended,
        extension_reason: r.try_get("extension_reason")?,
        answer: r.try_get("answer")?,
        answered_on: r
            .try_get::<Option<String>, _>("answered_on")?
            .map(|d| date(&d))
            .transpose()?,
        overdue: status != "answered" && due < today,
        status,
        due,
    })
}

const COMPLAINT_COLS: &str = "c.number, c.kind, c.channel, c.subject, c.body, a.number AS account_number, c.registered_on, \
     c.deadline, c.extended_deadline, c.extension_reason, c.status, c.answer, c.answered_on";

/// The notice an applicant receives when the answer is deferred, in their language.
pub fn extension_notice(
    lang: Lang,
    number: &str,
    until: NaiveDate,
    reason: &str,
) -> (String, String) {
    let d = until.format("%d.%m.%Y");
    match lang {
        Lang::Kk => (
            format!("{number} өтінішіңізге жауап беру мерзімі ұзартылды"),
            format!("Жауап {d} дейін беріледі. Себебі: {reason}"),
        ),
        Lang::Ru => (
            format!("Срок ответа на обращение {number} продлён"),
            format!("Ответ будет дан до {d}. Причина: {reason}"),
        ),
        Lang::En => (
            format!("The answer to {number} is extended"),
            format!("You will be answered by {d}. Reason: {reason}"),
        ),
    }
}

impl Db {
    /// D13: registers a complaint or application; its deadline is 15 working days later.
    pub async fn register_complaint(
        &self,
        cal: &WorkingCalendar,
        c: &NewComplaint<'_>,
    ) -> Result<Complaint> {
        if !matches!(c.channel, "cabinet" | "phone" | "office" | "letter") {
            return Err(refuse("channel", "use cabinet, phone, office or letter"));
        }
        if !matches!(c.kind, "complaint" | "application") {
            return Err(refuse("kind", "use complaint or application"));
        }
        if c.subject.trim().is_empty() || c.subject.chars().count() > 200 {
            return Err(refuse("subject", "write a subject of 1 to 200 characters"));
        }
        if c.body.trim().is_empty() || c.body.chars().count() > 5000 {
            return Err(refuse("body", "write the text: 1 to 5000 characters"));
        }
        let deadline = cal.add_working_days(c.registered_on, ANSWER_WORKING_DAYS);
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO complaint (number, user_id, account_id, channel, kind, subject, body, registered_on, deadline, status, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'registered', $10) RETURNING id",
        )
        .bind(format!("TMP-{}", crate::auth::new_token().0))
        .bind(c.user_id)
        .bind(c.account_id)
        .bind(c.channel)
        .bind(c.kind)
        .bind(c.subject.trim())
        .bind(c.body.trim())
        .bind(c.registered_on.to_string())
        .bind(deadline.to_string())
        .bind(c.created_by)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let number = format!("C-{}-{id:06}", c.registered_on.format("%Y"));
        sqlx::query("UPDATE complaint SET number = $1 WHERE id = $2")
            .bind(&number)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        record_event(
            &mut tx,
            History::Complaint,
            id,
            c.created_by,
            "registered",
            &format!("via {}; answer due {deadline}", c.channel),
        )
        .await?;
        tx.commit().await?;
        self.complaint(&number, c.registered_on)
            .await?
            .context("the complaint just registered")
    }

    pub async fn complaint(&self, number: &str, today: NaiveDate) -> Result<Option<Complaint>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COMPLAINT_COLS} FROM complaint c LEFT JOIN account a ON a.id = c.account_id WHERE c.number = $1"
        )))
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| complaint_from(&r, today)).transpose()
    }

    pub async fn complaint_owner(&self, number: &str) -> Result<Option<Option<i64>>> {
        let row = sqlx::query("SELECT user_id FROM complaint WHERE number = $1")
            .bind(number)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// A person's own complaints, newest first.
    pub async fn complaints_of_user(
        &self,
        user_id: i64,
        today: NaiveDate,
    ) -> Result<Vec<Complaint>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COMPLAINT_COLS} FROM complaint c LEFT JOIN account a ON a.id = c.account_id WHERE c.user_id = $1 ORDER BY c.id DESC"
        )))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| complaint_from(r, today)).collect()
    }

    /// The operators' queue: unanswered first, overdue before the rest, then by deadline.
    pub async fn complaint_queue(&self, today: NaiveDate) -> Result<Vec<Complaint>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COMPLAINT_COLS} FROM complaint c LEFT JOIN account a ON a.id = c.account_id ORDER BY c.id"
        )))
        .fetch_all(&self.pool)
        .await?;
        let mut list: Vec<Complaint> = rows
            .iter()
            .map(|r| complaint_from(r, today))
            .collect::<Result<_>>()?;
        list.sort_by_key(|c| (c.status == "answered", !c.overdue, c.due, c.number.clone()));
        Ok(list)
    }

    /// D13: defers the answer once, by at most 5 working days, with a reason; the applicant
    /// gets a notice in their cabinet.
    pub async fn extend_complaint(
        &self,
        cal: &WorkingCalendar,
        number: &str,
        days: u32,
        reason: &str,
        actor: Option<i64>,
        lang: Lang,
    ) -> Result<Complaint> {
        let today = chrono::Utc::now().date_naive();
        let c = self
            .complaint(number, today)
            .await?
            .ok_or_else(|| refuse("number", format!("no complaint {number}")))?;
        if c.status == "answered" {
            return Err(refuse("number", format!("{number} is already answered")));
        }
        if c.extended_deadline.is_some() {
            return Err(refuse(
                "days",
                format!("{number} was already extended once; the law allows one extension (D13)"),
            ));
        }
        if days == 0 || days > MAX_EXTENSION_WORKING_DAYS {
            return Err(refuse(
                "days",
                format!(
                    "an extension is 1 to {MAX_EXTENSION_WORKING_DAYS} working days, not {days}"
                ),
            ));
        }
        if reason.trim().is_empty() {
            return Err(refuse(
                "reason",
                "an extension needs its reason, which the applicant is told",
            ));
        }
        let until = cal.add_working_days(c.deadline, days);
        let owner = self.complaint_owner(number).await?.flatten();
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query(
            "UPDATE complaint SET extended_deadline = $1, extension_reason = $2, status = 'extended' \
             WHERE number = $3 AND extended_deadline IS NULL AND status <> 'answered' RETURNING id",
        )
        .bind(until.to_string())
        .bind(reason.trim())
        .bind(number)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| refuse("days", format!("{number} was extended or answered meanwhile")))?
        .try_get(0)?;
        record_event(
            &mut tx,
            History::Complaint,
            id,
            actor,
            "extended",
            &format!("by {days} working days to {until}: {}", reason.trim()),
        )
        .await?;
        let (subject, body) = extension_notice(lang, number, until, reason.trim());
        sqlx::query("INSERT INTO notification (user_id, channel, subject, body, created_at) VALUES ($1, 'cabinet', $2, $3, $4)")
            .bind(owner)
            .bind(subject)
            .bind(body)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.complaint(number, today)
            .await?
            .context("the complaint")
    }

    pub async fn answer_complaint(
        &self,
        number: &str,
        answer: &str,
        actor: Option<i64>,
        today: NaiveDate,
    ) -> Result<Complaint> {
        if answer.trim().is_empty() {
            return Err(refuse("answer", "write the answer"));
        }
        let owner = self
            .complaint_owner(number)
            .await?
            .ok_or_else(|| refuse("number", format!("no complaint {number}")))?;
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query(
            "UPDATE complaint SET answer = $1, answered_on = $2, status = 'answered' WHERE number = $3 AND status <> 'answered' RETURNING id",
        )
        .bind(answer.trim())
        .bind(today.to_string())
        .bind(number)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| refuse("number", format!("{number} is already answered")))?
        .try_get(0)?;
        record_event(
            &mut tx,
            History::Complaint,
            id,
            actor,
            "answered",
            "answer sent",
        )
        .await?;
        sqlx::query("INSERT INTO notification (user_id, channel, subject, body, created_at) VALUES ($1, 'cabinet', $2, $3, $4)")
            .bind(owner)
            .bind(number)
            .bind(answer.trim())
            .bind(now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.complaint(number, today)
            .await?
            .context("the complaint")
    }

    pub async fn notifications_of_user(
        &self,
        user_id: i64,
    ) -> Result<Vec<(String, String, String)>> {
        let rows = sqlx::query("SELECT created_at, subject, body FROM notification WHERE user_id = $1 AND channel = 'cabinet' ORDER BY id DESC")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }
}

/// The history of a complaint or a discrepancy: one event per change of status.
#[derive(Clone, Copy)]
enum History {
    Complaint,
    Discrepancy,
}

async fn record_event(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    history: History,
    id: i64,
    actor: Option<i64>,
    status: &str,
    note: &str,
) -> Result<()> {
    let sql = match history {
        History::Complaint => {
            "INSERT INTO complaint_event (complaint_id, at, actor_id, status, note) VALUES ($1, $2, $3, $4, $5)"
        }
        History::Discrepancy => {
            "INSERT INTO discrepancy_event (discrepancy_id, at, actor_id, status, note) VALUES ($1, $2, $3, $4, $5)"
        }
    };
    sqlx::query(sql)
        .bind(id)
        .bind(now())
        .bind(actor)
        .bind(status)
        .bind(note)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The journal's record (D8, D9): one type for the server and the cabinet.
pub use esep_core::api::Discrepancy;

pub struct NewDiscrepancy<'a> {
    pub source: &'a str,
    pub detected_on: NaiveDate,
    pub registered_on: NaiveDate,
    pub description: &'a str,
    pub justification: &'a str,
    pub responsible: &'a str,
    pub provider_id: Option<i64>,
    pub account_id: Option<i64>,
    pub complaint_id: Option<i64>,
    pub audit_finding_id: Option<i64>,
}

impl Db {
    /// D8: registers a discrepancy (flagged late when more than 3 working days after its
    /// detection) and sends the responsible unit or provider a notice with its justification.
    pub async fn register_discrepancy(
        &self,
        cal: &WorkingCalendar,
        d: &NewDiscrepancy<'_>,
        actor: Option<i64>,
    ) -> Result<i64> {
        if !matches!(
            d.source,
            "check" | "complaint" | "audit" | "bank_reconciliation" | "operator"
        ) {
            return Err(refuse(
                "source",
                "use check, complaint, audit, bank_reconciliation or operator",
            ));
        }
        if d.detected_on > d.registered_on {
            return Err(refuse(
                "detected_on",
                "a discrepancy cannot be detected after it is registered",
            ));
        }
        for (field, text) in [
            ("description", d.description),
            ("justification", d.justification),
            ("responsible", d.responsible),
        ] {
            if text.trim().is_empty() {
                return Err(refuse(field, "is required"));
            }
        }
        let deadline = cal.add_working_days(d.detected_on, REGISTRATION_WORKING_DAYS);
        let late = d.registered_on > deadline;
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO discrepancy (source, detected_on, registered_on, registration_deadline, late, description, justification, responsible, \
             provider_id, account_id, status, complaint_id, audit_finding_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'notified', $11, $12) RETURNING id",
        )
        .bind(d.source)
        .bind(d.detected_on.to_string())
        .bind(d.registered_on.to_string())
        .bind(deadline.to_string())
        .bind(i64::from(late))
        .bind(d.description.trim())
        .bind(d.justification.trim())
        .bind(d.responsible.trim())
        .bind(d.provider_id)
        .bind(d.account_id)
        .bind(d.complaint_id)
        .bind(d.audit_finding_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        for (status, note) in [
            (
                "registered",
                format!(
                    "detected {}, registered {}{}",
                    d.detected_on,
                    d.registered_on,
                    if late {
                        " — LATE (more than 3 working days)"
                    } else {
                        ""
                    }
                ),
            ),
            (
                "notified",
                format!("notice with justification sent to {}", d.responsible.trim()),
            ),
        ] {
            record_event(&mut tx, History::Discrepancy, id, actor, status, &note).await?;
        }
        sqlx::query("INSERT INTO notification (user_id, channel, subject, body, created_at) VALUES (NULL, 'email', $1, $2, $3)")
            .bind(format!("Discrepancy D-{id} for {}", d.responsible.trim()))
            .bind(format!("{}\n\nJustification: {}", d.description.trim(), d.justification.trim()))
            .bind(now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn discrepancies(&self) -> Result<Vec<Discrepancy>> {
        let rows = sqlx::query(
            "SELECT id, source, detected_on, registered_on, registration_deadline, late, description, justification, responsible, status, correction \
             FROM discrepancy ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Discrepancy {
                    id: r.try_get(0)?,
                    source: r.try_get(1)?,
                    detected_on: date(&r.try_get::<String, _>(2)?)?,
                    registered_on: date(&r.try_get::<String, _>(3)?)?,
                    registration_deadline: date(&r.try_get::<String, _>(4)?)?,
                    late: r.try_get::<i64, _>(5)? != 0,
                    description: r.try_get(6)?,
                    justification: r.try_get(7)?,
                    responsible: r.try_get(8)?,
                    status: r.try_get(9)?,
                    correction: r.try_get(10)?,
                })
            })
            .collect()
    }

    /// D8: corrects the invoice with a recalculation line on the account's next UPD; the
    /// journal links the line, and the billing run marks the discrepancy corrected when the
    /// UPD carrying it is issued.
    pub async fn correct_discrepancy(
        &self,
        id: i64,
        account_number: &str,
        service: &str,
        amount: Money,
        actor: Option<i64>,
    ) -> Result<Period> {
        if amount.is_zero() {
            return Err(refuse("amount", "a correction of 0.00 corrects nothing"));
        }
        let account = self
            .account_by_number(account_number)
            .await?
            .ok_or_else(|| refuse("account", format!("no account {account_number}")))?;
        let row = sqlx::query("SELECT s.id, s.provider_id FROM service s WHERE s.code = $1")
            .bind(service)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| refuse("service", format!("no service '{service}'")))?;
        let (service_id, provider_id): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        let last: Option<String> = sqlx::query("SELECT MAX(period) FROM upd WHERE account_id = $1")
            .bind(account.id)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        let next = match last {
            Some(p) => Period::parse(&p)?.next(),
            None => Period::of(chrono::Utc::now().date_naive()),
        };
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let status: String = sqlx::query("SELECT status FROM discrepancy WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| refuse("id", format!("no discrepancy D-{id}")))?
            .try_get(0)?;
        if !matches!(status.as_str(), "registered" | "notified") {
            return Err(refuse(
                "id",
                format!(
                    "D-{id} is {status}; only a registered or notified discrepancy is corrected"
                ),
            ));
        }
        let line: i64 = sqlx::query(
            "INSERT INTO provider_line (provider_id, account_id, service_id, period, kind, amount_tiyn, quantity, description, external_id) \
             VALUES ($1, $2, $3, $4, 'recalculation', $5, NULL, $6, $7) RETURNING id",
        )
        .bind(provider_id)
        .bind(account.id)
        .bind(service_id)
        .bind(next.to_string())
        .bind(amount.tiyn())
        .bind(format!("correction of discrepancy D-{id}"))
        .bind(format!("DISC-{id}"))
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        sqlx::query("UPDATE discrepancy SET status = 'correcting', correction = $1, correction_line_id = $2, account_id = $3 WHERE id = $4")
            .bind(format!("recalculation {amount} ₸ on {service} in the UPD of {next}"))
            .bind(line)
            .bind(account.id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        record_event(
            &mut tx,
            History::Discrepancy,
            id,
            actor,
            "correcting",
            &format!("recalculation {amount} ₸ on the UPD of {next}"),
        )
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Marks corrected every discrepancy whose correction line is on an issued UPD.
    pub async fn refresh_corrections(&self) -> Result<u64> {
        let rows = sqlx::query(
            "SELECT d.id, u.id FROM discrepancy d JOIN provider_line pl ON pl.id = d.correction_line_id \
             JOIN upd u ON u.account_id = pl.account_id AND u.period = pl.period WHERE d.status = 'correcting'",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut n = 0;
        for r in rows {
            let (id, upd): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
            let _writer = self.write_guard().await;
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query("UPDATE discrepancy SET status = 'corrected', corrected_upd_id = $1 WHERE id = $2 AND status = 'correcting'")
                .bind(upd)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 1 {
                record_event(
                    &mut tx,
                    History::Discrepancy,
                    id,
                    None,
                    "corrected",
                    "the correction is on an issued UPD",
                )
                .await?;
                n += 1;
            }
            tx.commit().await?;
        }
        Ok(n)
    }

    pub async fn close_discrepancy(&self, id: i64, note: &str, actor: Option<i64>) -> Result<()> {
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE discrepancy SET status = 'closed' WHERE id = $1 AND status IN ('corrected', 'notified')")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(refuse(
                "id",
                format!(
                    "D-{id} is not corrected (nor needs no correction), so it cannot be closed"
                ),
            ));
        }
        record_event(&mut tx, History::Discrepancy, id, actor, "closed", note).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Db {
    /// D9: the act of a discrepancy, as an A4 PDF: what, when, why, who answers, how it was
    /// corrected, and its history.
    pub async fn discrepancy_act(&self, id: i64) -> Result<Vec<u8>> {
        let d = self
            .discrepancies()
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or_else(|| refuse("id", format!("no discrepancy D-{id}")))?;
        let events = sqlx::query(
            "SELECT at, status, note FROM discrepancy_event WHERE discrepancy_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut doc = crate::pdf::Pdf::new();
        doc.title(&format!(
            "Сәйкессіздік туралы акт · Акт о расхождении · Act of discrepancy D-{id}"
        ));
        let fields = [
            ("Көзі · Источник · Source", d.source.clone()),
            ("Анықталды · Выявлено · Detected", d.detected_on.to_string()),
            (
                "Тіркелді · Зарегистрировано · Registered",
                d.registered_on.to_string(),
            ),
            (
                "Тіркеу мерзімі · Срок · Deadline (D8)",
                format!(
                    "{}{}",
                    d.registration_deadline,
                    if d.late {
                        " — мерзімнен кеш · с опозданием · LATE"
                    } else {
                        ""
                    }
                ),
            ),
            (
                "Сипаттамасы · Описание · Description",
                d.description.clone(),
            ),
            (
                "Негіздемесі · Обоснование · Justification",
                d.justification.clone(),
            ),
            (
                "Жауапты · Ответственный · Responsible",
                d.responsible.clone(),
            ),
            ("Күйі · Статус · Status", d.status.clone()),
            (
                "Түзету · Исправление · Correction",
                d.correction.clone().unwrap_or_else(|| "—".into()),
            ),
        ];
        for (label, value) in &fields {
            doc.field(label, value);
        }
        doc.heading("Тарихы · История · History");
        for e in &events {
            let (at, status, note): (String, String, String) =
                (e.try_get(0)?, e.try_get(1)?, e.try_get(2)?);
            doc.text(&format!("{at}  {status}: {note}"));
        }
        doc.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_complaint_deadline_counts_15_working_days_across_nauryz() {
        let cal = WorkingCalendar::kazakhstan();
        // Registered Mon 16 Mar 2026: Nauryz 21–23 Mar and its carried days off 24–25 Mar.
        assert_eq!(
            cal.add_working_days(d("2026-03-16"), ANSWER_WORKING_DAYS),
            d("2026-04-09")
        );
        // Extended by the maximum 5 working days.
        assert_eq!(
            cal.add_working_days(d("2026-04-09"), MAX_EXTENSION_WORKING_DAYS),
            d("2026-04-16")
        );
    }

    #[test]
    fn a_complaint_deadline_crosses_the_new_year() {
        let cal = WorkingCalendar::kazakhstan();
        // 24 Dec 2025: 1–2 Jan are holidays, 7 Jan too.
        assert_eq!(
            cal.add_working_days(d("2025-12-24"), ANSWER_WORKING_DAYS),
            d("2026-01-19")
        );
    }

    #[test]
    fn discrepancy_registration_deadline_respects_a_decree_transfer() {
        let cal = WorkingCalendar::kazakhstan();
        // 2025: Friday 3 Jan is a decree day off, Sunday 5 Jan a working day.
        assert_eq!(
            cal.add_working_days(d("2025-01-02"), REGISTRATION_WORKING_DAYS),
            d("2025-01-08")
        );
        // Over a plain weekend.
        assert_eq!(
            cal.add_working_days(d("2026-11-27"), REGISTRATION_WORKING_DAYS),
            d("2026-12-02")
        );
    }

    #[test]
    fn the_extension_notice_speaks_the_applicants_language() {
        let (s, b) = extension_notice(
            Lang::Ru,
            "C-2026-000001",
            d("2026-04-16"),
            "нужна проверка счётчика",
        );
        assert_eq!(s, "Срок ответа на обращение C-2026-000001 продлён");
        assert!(b.contains("16.04.2026") && b.contains("нужна проверка счётчика"));
        assert!(
            extension_notice(Lang::Kk, "C-1", d("2026-04-16"), "x")
                .1
                .contains("16.04.2026 дейін")
        );
    }
}
