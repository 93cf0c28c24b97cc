//! Audits (D7): planned every quarter, unscheduled on a complaint or an authority's request.
//! An audit runs the automated checks, records each finding, and registers each finding as
//! a discrepancy (D8). Its results are immutable and kept at least three years (D10),
//! enforced by the database itself (migrations 0005).

use crate::duties::NewDiscrepancy;
use crate::store::Db;
use anyhow::Result;
use chrono::NaiveDate;
use esep_core::billing::Explanation;
use esep_core::{Money, Period, WorkingCalendar};
use sqlx::Row;

#[derive(Clone, Debug, serde::Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub subject: String,
    pub detail: String,
}

pub const CHECKS: &[(&str, &str)] = &[
    (
        "upd_line_formula",
        "every UPD line equals tariff × quantity of its inputs (its formula), and its due adds up",
    ),
    (
        "provider_line_on_upd",
        "every provider-submitted line appears on the UPD of its account and period",
    ),
    (
        "upd_totals",
        "every UPD's totals equal the sums of its lines",
    ),
    (
        "ledger",
        "the ledger is balanced and every payment is allocated exactly",
    ),
    ("payouts", "payouts equal the allocations they pay"),
    (
        "provider_iban",
        "every provider's IBAN verifies against the bank directory (D5)",
    ),
];

/// Runs every check over the UPDs of `from..=to`.
pub async fn run_checks(db: &Db, from: Period, to: Period) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    let (f, t) = (from.to_string(), to.to_string());
    // Lines of the current versions in the range.
    let rows = sqlx::query(
        "SELECT u.number, u.version, l.line_no, s.code, s.source, l.opening_tiyn, l.charge_tiyn, l.recalculation_tiyn, l.paid_tiyn, l.due_tiyn, l.explanation \
         FROM upd u JOIN upd_line l ON l.upd_id = u.id JOIN service s ON s.id = l.service_id \
         WHERE u.period >= $1 AND u.period <= $2 \
         AND u.version = (SELECT MAX(v.version) FROM upd v WHERE v.account_id = u.account_id AND v.period = u.period) ORDER BY u.id, l.line_no",
    )
    .bind(&f)
    .bind(&t)
    .fetch_all(&db.pool)
    .await?;
    for r in &rows {
        let number: String = r.try_get(0)?;
        let line_no: i64 = r.try_get(2)?;
        let code: String = r.try_get(3)?;
        let source: String = r.try_get(4)?;
        let m = |i: usize| -> Result<Money> { Ok(Money::from_tiyn(r.try_get(i)?)) };
        let (opening, charge, recalc, paid, due) = (m(5)?, m(6)?, m(7)?, m(8)?, m(9)?);
        let subject = format!("UPD {number} line {line_no} ({code})");
        let e: Explanation = match serde_json::from_str(&r.try_get::<String, _>(10)?) {
            Ok(e) => e,
            Err(err) => {
                findings.push(Finding {
                    check: "upd_line_formula",
                    subject,
                    detail: format!("the line's explanation is unreadable: {err}"),
                });
                continue;
            }
        };
        let computed = if source == "provider" || !e.provider_items.is_empty() {
            e.provider_items.iter().map(|i| i.amount).sum()
        } else {
            Money::round(e.terms.iter().map(|t| t.exact()).sum())
        };
        if computed != charge {
            findings.push(Finding {
                check: "upd_line_formula",
                subject: subject.clone(),
                detail: format!("the charge is {charge} ₸ but its formula gives {computed} ₸"),
            });
        }
        let recalc_computed: Money = e.recalculations.iter().map(|x| x.amount).sum();
        if recalc_computed != recalc {
            findings.push(Finding {
                check: "upd_line_formula",
                subject: subject.clone(),
                detail: format!(
                    "the recalculation is {recalc} ₸ but its reasons add up to {recalc_computed} ₸"
                ),
            });
        }
        if opening + charge + recalc - paid != due {
            findings.push(Finding {
                check: "upd_line_formula",
                subject,
                detail: format!("due {due} ≠ opening {opening} + charge {charge} + recalculation {recalc} − paid {paid}"),
            });
        }
    }
    // UPD totals.
    for r in sqlx::query(
        "SELECT u.number, u.total_due_tiyn, CAST(COALESCE(SUM(l.due_tiyn), 0) AS BIGINT), u.total_charged_tiyn, \
         CAST(COALESCE(SUM(l.charge_tiyn + l.recalculation_tiyn), 0) AS BIGINT) \
         FROM upd u LEFT JOIN upd_line l ON l.upd_id = u.id WHERE u.period >= $1 AND u.period <= $2 \
         GROUP BY u.id, u.number, u.total_due_tiyn, u.total_charged_tiyn \
         HAVING u.total_due_tiyn <> COALESCE(SUM(l.due_tiyn), 0) OR u.total_charged_tiyn <> COALESCE(SUM(l.charge_tiyn + l.recalculation_tiyn), 0)",
    )
    .bind(&f)
    .bind(&t)
    .fetch_all(&db.pool)
    .await?
    {
        let number: String = r.try_get(0)?;
        findings.push(Finding {
            check: "upd_totals",
            subject: format!("UPD {number}"),
            detail: format!(
                "total due {} ≠ Σ lines {}, or total charged {} ≠ Σ lines {}",
                Money::from_tiyn(r.try_get(1)?),
                Money::from_tiyn(r.try_get(2)?),
                Money::from_tiyn(r.try_get(3)?),
                Money::from_tiyn(r.try_get(4)?)
            ),
        });
    }
    // Provider-submitted lines must be on the UPD of their account and period.
    let lines = sqlx::query(
        "SELECT pl.id, a.number, pl.period, s.code, pl.kind, pl.amount_tiyn, pl.description, pl.account_id, pl.service_id \
         FROM provider_line pl JOIN account a ON a.id = pl.account_id JOIN service s ON s.id = pl.service_id \
         WHERE pl.period >= $1 AND pl.period <= $2 ORDER BY pl.id",
    )
    .bind(&f)
    .bind(&t)
    .fetch_all(&db.pool)
    .await?;
    for r in &lines {
        let (account, period, code, kind): (String, String, String, String) =
            (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?);
        let amount = Money::from_tiyn(r.try_get(5)?);
        let description: String = r.try_get(6)?;
        let explanation: Option<String> = sqlx::query(
            "SELECT l.explanation FROM upd u JOIN upd_line l ON l.upd_id = u.id WHERE u.account_id = $1 AND u.period = $2 AND l.service_id = $3 \
             AND u.version = (SELECT MAX(v.version) FROM upd v WHERE v.account_id = u.account_id AND v.period = u.period)",
        )
        .bind(r.try_get::<i64, _>(7)?)
        .bind(&period)
        .bind(r.try_get::<i64, _>(8)?)
        .fetch_optional(&db.pool)
        .await?
        .map(|x| x.try_get(0))
        .transpose()?;
        let issued = sqlx::query("SELECT 1 FROM upd WHERE account_id = $1 AND period = $2")
            .bind(r.try_get::<i64, _>(7)?)
            .bind(&period)
            .fetch_optional(&db.pool)
            .await?
            .is_some();
        if !issued {
            continue; // not billed yet: nothing to compare
        }
        let present = explanation
            .and_then(|x| serde_json::from_str::<Explanation>(&x).ok())
            .is_some_and(|e| {
                if kind == "charge" {
                    e.provider_items
                        .iter()
                        .any(|i| i.amount == amount && i.description == description)
                } else {
                    e.recalculations
                        .iter()
                        .any(|i| i.amount == amount && i.reason == description)
                }
            });
        if !present {
            findings.push(Finding {
                check: "provider_line_on_upd",
                subject: format!("account {account}, {period}, {code}"),
                detail: format!(
                    "the provider's {kind} of {amount} ₸ (\"{description}\") is not on the UPD"
                ),
            });
        }
    }
    for p in db.ledger_problems().await? {
        let check = if p.starts_with("payout") || p.contains("payout") {
            "payouts"
        } else {
            "ledger"
        };
        findings.push(Finding {
            check,
            subject: "ledger".into(),
            detail: p,
        });
    }
    for r in sqlx::query("SELECT bin, iban FROM provider ORDER BY id")
        .fetch_all(&db.pool)
        .await?
    {
        let (bin, iban): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        if let Err(e) = crate::banks().verify_provider_iban(&iban) {
            findings.push(Finding {
                check: "provider_iban",
                subject: format!("provider {bin}"),
                detail: format!("IBAN {iban}: {e}"),
            });
        }
    }
    Ok(findings)
}

pub struct AuditRequest<'a> {
    pub kind: &'a str,
    pub reason: &'a str,
    pub from: Period,
    pub to: Period,
    pub date: NaiveDate,
}

pub struct AuditReport {
    pub id: i64,
    pub findings: Vec<Finding>,
    pub discrepancies: Vec<i64>,
}

/// Runs an audit, keeps its results, and registers each finding as a discrepancy.
pub async fn run(
    db: &Db,
    cal: &WorkingCalendar,
    req: &AuditRequest<'_>,
    actor: Option<i64>,
) -> Result<AuditReport> {
    if !matches!(req.kind, "planned" | "unscheduled") {
        anyhow::bail!("kind: use planned (quarterly) or unscheduled");
    }
    if req.reason.trim().is_empty() {
        anyhow::bail!(
            "reason: say why the audit is held (the quarter's plan, a complaint, an authority's request)"
        );
    }
    let findings = run_checks(db, req.from, req.to).await?;
    let quarter = (req.kind == "planned")
        .then(|| format!("{}-Q{}", req.to.year(), (req.to.month() - 1) / 3 + 1));
    let checks = serde_json::to_string(&CHECKS.iter().map(|(c, _)| *c).collect::<Vec<_>>())?;
    let mut ids = Vec::new();
    let audit_id = {
        let _writer = db.write_guard().await;
        let mut tx = db.pool.begin().await?;
        let audit_id: i64 = sqlx::query(
            "INSERT INTO audit (kind, quarter, reason, audit_date, completed_at, checks, findings_count) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(req.kind)
        .bind(quarter)
        .bind(format!("{} (UPDs of {}..{})", req.reason.trim(), req.from, req.to))
        .bind(req.date.to_string())
        .bind(crate::store::now())
        .bind(checks)
        .bind(findings.len() as i64)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        for f in &findings {
            let id: i64 = sqlx::query("INSERT INTO audit_finding (audit_id, check_code, subject, detail) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(audit_id)
                .bind(f.check)
                .bind(&f.subject)
                .bind(&f.detail)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            ids.push(id);
        }
        tx.commit().await?;
        audit_id
    };
    let mut discrepancies = Vec::new();
    for (f, finding_id) in findings.iter().zip(&ids) {
        let responsible = if f.check == "provider_iban" {
            "settlement department"
        } else {
            "billing department"
        };
        discrepancies.push(
            db.register_discrepancy(
                cal,
                &NewDiscrepancy {
                    source: "audit",
                    detected_on: req.date,
                    registered_on: req.date,
                    description: &format!("{}: {}", f.subject, f.detail),
                    justification: &format!("found by audit A-{audit_id}, check {}", f.check),
                    responsible,
                    provider_id: None,
                    account_id: None,
                    complaint_id: None,
                    audit_finding_id: Some(*finding_id),
                },
                actor,
            )
            .await?,
        );
    }
    Ok(AuditReport {
        id: audit_id,
        findings,
        discrepancies,
    })
}
