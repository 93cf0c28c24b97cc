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
        if line.starts_with('#') || line.starts_with("bank_ref,") || line.trim().is_empty() {
            continue;
        }
        r.lines += 1;
        let f: Vec<&str> = line.split(',').collect();
        let problem = |msg: String| format!("registry line {n}: {msg}");
        if f.len() != 7 {
            let p = problem(format!("has {} fields, 7 expected", f.len()));
            db.journal_bank_message(bank_code, "registry", "rejected", &p)
                .await?;
            r.problems.push(p);
            continue;
        }
        let (bank_ref, channel, upd_number, payment_id, amount, at, event) =
            (f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
        let amount = match Money::parse(amount) {
            Ok(a) if a.is_positive() => a,
            _ => {
                let p = problem(format!("amount '{amount}' is not a positive amount"));
                db.journal_bank_message(bank_code, "registry", "rejected", &p)
                    .await?;
                r.problems.push(p);
                continue;
            }
        };
        let mut payment = if payment_id.is_empty() {
            db.payment_by_bank_ref(bank.id, bank_ref).await?
        } else {
            db.payment_by_public_id(payment_id).await?
        };
        if payment.is_none() && channel == "cash" && event == "paid" {
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
            "paid" => match db.credit_payment(&payment, &bank, at).await? {
                Credit::Credited(_) => r.credited += 1,
                Credit::AlreadyCredited => r.matched += 1,
            },
            "reversed" => {
                if payment.status == "succeeded" || payment.status == "reversed" {
                    if db.reverse_payment(&payment, &bank, at).await? {
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
            other => {
                let p = problem(format!("unknown event '{other}'"));
                db.journal_bank_message(bank_code, "registry", "rejected", &p)
                    .await?;
                r.problems.push(p);
            }
        }
    }
    Ok(r)
}
