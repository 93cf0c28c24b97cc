//! Daily settlement work: payouts from each transit account (T5) and the reconciliation of
//! each bank's daily registry with what the callbacks reported.

use crate::banks::{FinancialOrganisation, HttpBank};
use crate::store::Db;
use crate::store::payments::{Credit, NewPayment};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use esep_core::Money;
use sqlx::Row;
use std::path::Path;

pub struct BatchReport {
    pub bank: String,
    pub msg_id: String,
    pub transfers: usize,
    pub total: Money,
    pub new: bool,
    pub confirmed: bool,
    pub file: Option<String>,
}

/// `esep payouts run --date`: one pain.001 batch per transit account for everything
/// allocated up to the end of `date` and not yet paid out. Running it again for the same
/// date finds the same batch and never pays twice.
pub async fn payouts(
    db: &Db,
    date: NaiveDate,
    submit: bool,
    out_dir: Option<&Path>,
) -> Result<Vec<BatchReport>> {
    let usc = sqlx::query("SELECT name, bin FROM usc ORDER BY id LIMIT 1")
        .fetch_optional(&db.pool)
        .await?
        .context("no USC is configured")?;
    let (usc_name, usc_bin): (String, String) = (usc.try_get(0)?, usc.try_get(1)?);
    let value_date = date.to_string();
    let cutoff = format!("{value_date}T23:59:59Z");
    let created_at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string();
    let mut reports = Vec::new();
    for bank in db.banks().await? {
        let debtor = crate::pain001::Debtor {
            name: &usc_name,
            bin: &usc_bin,
        };
        let batch = db
            .payout_batch(&bank, &value_date, &cutoff, |msg_id, lines| {
                crate::pain001::document(msg_id, &created_at, &value_date, &debtor, &bank, lines)
            })
            .await?;
        let Some((batch_id, new)) = batch else {
            continue;
        };
        let (msg_id, status, xml, lines) = db.payout_batch_info(batch_id).await?;
        let file = match out_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let path = dir.join(format!("{}-{value_date}.pain001.xml", bank.code));
                std::fs::write(&path, &xml)
                    .with_context(|| format!("writing {}", path.display()))?;
                Some(path.display().to_string())
            }
            None => None,
        };
        let mut confirmed = status == "confirmed";
        if submit && !confirmed {
            let ack = HttpBank::new(bank.clone(), crate::banks::http_client())
                .submit_payouts(&xml)
                .await?;
            if ack.status == "accepted" && ack.msg_id == msg_id {
                db.confirm_payout(batch_id, &bank).await?;
                confirmed = true;
            }
        }
        reports.push(BatchReport {
            bank: bank.code.clone(),
            msg_id,
            transfers: lines.len(),
            total: lines.iter().map(|l| l.amount).sum(),
            new,
            confirmed,
            file,
        });
    }
    Ok(reports)
}

#[derive(Default, Debug)]
pub struct Reconciliation {
    pub lines: usize,
    pub matched: usize,
    pub credited: usize,
    pub reversed: usize,
    pub problems: Vec<String>,
}

/// Reconciles a bank's registry for `date`: card payments whose callback never came are
/// credited, payments at the bank's own channels are credited against their UPD, reversals
/// are applied; every line that cannot be applied is reported and journaled, moving no money.
pub async fn reconcile(db: &Db, bank_code: &str, date: NaiveDate) -> Result<Reconciliation> {
    let bank = db
        .bank_by_code(bank_code)
        .await?
        .with_context(|| format!("no bank '{bank_code}'"))?;
    let text = HttpBank::new(bank.clone(), crate::banks::http_client())
        .fetch_registry(date)
        .await?;
    let mut r = Reconciliation::default();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let problem = |msg: String| format!("registry line {n}: {msg}");
        let parsed = match parse_registry_line(line) {
            Ok(None) => continue,
            Ok(Some(l)) => l,
            Err(msg) => {
                r.lines += 1;
                let p = problem(msg);
                db.journal_bank_message(bank_code, "registry", "rejected", &p)
                    .await?;
                r.problems.push(p);
                continue;
            }
        };
        r.lines += 1;
        let RegistryLine {
            bank_ref,
            channel,
            upd_number,
            payment_id,
            amount,
            at,
            event,
        } = parsed;
        let mut payment = if payment_id.is_empty() {
            db.payment_by_bank_ref(bank.id, bank_ref).await?
        } else {
            db.payment_by_public_id(payment_id).await?
        };
        if payment.is_none() && channel == "cash" && event == RegistryEvent::Paid {
            // A payment at the bank's own channel: the registry is its only report.
            let Some(upd) = db.upd_by_number(upd_number, None).await? else {
                let p = problem(format!("no payment document '{upd_number}'"));
                db.journal_bank_message(bank_code, "registry", "rejected", &p)
                    .await?;
                r.problems.push(p);
                continue;
            };
            let public_id = crate::auth::new_token().0[..24].to_string();
            db.create_payment(&NewPayment {
                public_id: &public_id,
                user_id: None,
                account_id: upd.account_id,
                upd_id: upd.id,
                bank_id: bank.id,
                channel: "bank_channel",
                amount,
                chosen_lines: None,
                bank_ref: Some(bank_ref),
            })
            .await?;
            payment = db.payment_by_public_id(&public_id).await?;
        }
        let Some(payment) = payment else {
            let p = problem(format!("unknown payment (bank ref {bank_ref})"));
            db.journal_bank_message(bank_code, "registry", "rejected", &p)
                .await?;
            r.problems.push(p);
            continue;
        };
        if payment.amount != amount {
            let p = problem(format!(
                "amount {amount} differs from the payment's {}",
                payment.amount
            ));
            db.journal_bank_message(bank_code, "registry", "discrepancy", &p)
                .await?;
            r.problems.push(p);
            continue;
        }
        match event {
            RegistryEvent::Paid => match db.credit_payment(&payment, &bank, &at).await? {
                Credit::Credited(_) => r.credited += 1,
                Credit::AlreadyCredited => r.matched += 1,
            },
            RegistryEvent::Reversed => {
                if payment.status == "succeeded" || payment.status == "reversed" {
                    if db.reverse_payment(&payment, &bank, &at).await? {
                        r.reversed += 1;
                    } else {
                        r.matched += 1;
                    }
                } else {
                    let p = problem("a reversal of a payment that was never credited".into());
                    db.journal_bank_message(bank_code, "registry", "rejected", &p)
                        .await?;
                    r.problems.push(p);
                }
            }
        }
    }
    Ok(r)
}

/// What a line of a bank's daily registry reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryEvent {
    Paid,
    Reversed,
}

/// One line of a bank's daily registry (`bank_ref,channel,upd_number,payment_id,amount,at,event`).
#[derive(Debug, PartialEq, Eq)]
pub struct RegistryLine<'a> {
    pub bank_ref: &'a str,
    pub channel: &'a str,
    pub upd_number: &'a str,
    /// Empty for a payment the bank took at its own channel.
    pub payment_id: &'a str,
    pub amount: Money,
    /// When the bank took or reversed the payment, as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
    pub at: String,
    pub event: RegistryEvent,
}

/// Reads one registry line: `None` for a comment, the header or a blank line; otherwise the
/// line, or what is wrong with it (without the line number, which the caller knows).
pub fn parse_registry_line(line: &str) -> Result<Option<RegistryLine<'_>>, String> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.starts_with('#') || line.starts_with("bank_ref,") || line.trim().is_empty() {
        return Ok(None);
    }
    let f: Vec<&str> = line.split(',').collect();
    let [bank_ref, channel, upd_number, payment_id, amount, at, event] = f[..] else {
        return Err(format!("has {} fields, 7 expected", f.len()));
    };
    if bank_ref.trim().is_empty() {
        return Err("the bank reference (field 1) is empty".into());
    }
    let amount = match Money::parse(amount) {
        Ok(a) if a.is_positive() => a,
        _ => return Err(format!("amount '{amount}' is not a positive amount")),
    };
    let at = crate::banks::utc_time(at)
        .map_err(|_| format!("time '{at}' is not an RFC 3339 time, e.g. 2026-11-30T14:05:00Z"))?;
    let event = match event {
        "paid" => RegistryEvent::Paid,
        "reversed" => RegistryEvent::Reversed,
        other => return Err(format!("unknown event '{other}' (paid or reversed)")),
    };
    Ok(Some(RegistryLine {
        bank_ref,
        channel,
        upd_number,
        payment_id,
        amount,
        at,
        event,
    }))
}
