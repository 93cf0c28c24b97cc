//! Payments, their allocation and the double-entry ledger (T5), and payouts.
//!
//! Ledger accounts: `transit:{bank code}` (the money in a bank's transit account),
//! `payable:{provider BIN}` (what the USC owes a provider). A credited payment posts
//! Dr transit / Cr payable per provider; a reversal posts the exact opposite; a confirmed
//! payout posts Dr payable / Cr transit. The consumer's side — which lines of which UPD the
//! money paid — is the `payment_allocation` rows written in the same transaction, which the
//! next billing run counts as paid per provider and service.

use super::{Db, now};
use anyhow::{Context, Result};
use esep_core::Money;
use esep_core::settlement::{Allocation, Outstanding};
use sqlx::{Any, Row, Transaction};

#[derive(Clone, Debug)]
pub struct BankRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub base_url: String,
    pub transit_iban: String,
    pub bic: String,
    pub secret: String,
}

#[derive(Clone, Debug)]
pub struct PaymentRow {
    pub id: i64,
    pub public_id: String,
    pub user_id: Option<i64>,
    pub account_id: i64,
    pub upd_id: i64,
    pub bank_id: i64,
    pub channel: String,
    pub amount: Money,
    pub chosen_lines: Option<Vec<u32>>,
    pub status: String,
    pub bank_ref: Option<String>,
}

const PAYMENT_COLS: &str = "id, public_id, user_id, account_id, upd_id, bank_id, channel, amount_tiyn, chosen_lines, status, bank_ref";

fn payment_from(r: &sqlx::any::AnyRow) -> Result<PaymentRow> {
    let chosen: Option<String> = r.try_get("chosen_lines")?;
    Ok(PaymentRow {
        id: r.try_get("id")?,
        public_id: r.try_get("public_id")?,
        user_id: r.try_get("user_id")?,
        account_id: r.try_get("account_id")?,
        upd_id: r.try_get("upd_id")?,
        bank_id: r.try_get("bank_id")?,
        channel: r.try_get("channel")?,
        amount: Money::from_tiyn(r.try_get("amount_tiyn")?),
        chosen_lines: chosen.map(|c| serde_json::from_str(&c)).transpose()?,
        status: r.try_get("status")?,
        bank_ref: r.try_get("bank_ref")?,
    })
}

fn bank_from(r: &sqlx::any::AnyRow) -> Result<BankRow> {
    Ok(BankRow {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        base_url: r.try_get("base_url")?,
        transit_iban: r.try_get("transit_iban")?,
        bic: r.try_get("bic")?,
        secret: r.try_get("secret")?,
    })
}

/// The outcome of crediting a payment.
#[derive(Debug, PartialEq, Eq)]
pub enum Credit {
    Credited(Vec<Allocation>),
    /// Already credited earlier (a duplicate callback or registry line): nothing moved.
    AlreadyCredited,
}

pub struct NewPayment<'a> {
    pub public_id: &'a str,
    pub user_id: Option<i64>,
    pub account_id: i64,
    pub upd_id: i64,
    pub bank_id: i64,
    pub channel: &'a str,
    pub amount: Money,
    pub chosen_lines: Option<&'a [u32]>,
    pub bank_ref: Option<&'a str>,
}

/// One payable of the ledger check's balance sheet.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Balance {
    pub account: String,
    pub balance: Money,
}

impl Db {
    pub async fn banks(&self) -> Result<Vec<BankRow>> {
        let rows = sqlx::query(
            "SELECT id, code, name, base_url, transit_iban, bic, secret FROM bank ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(bank_from).collect()
    }

    pub async fn bank_by_code(&self, code: &str) -> Result<Option<BankRow>> {
        let row = sqlx::query(
            "SELECT id, code, name, base_url, transit_iban, bic, secret FROM bank WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(bank_from).transpose()
    }

    pub async fn bank_by_id(&self, id: i64) -> Result<Option<BankRow>> {
        let row = sqlx::query(
            "SELECT id, code, name, base_url, transit_iban, bic, secret FROM bank WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(bank_from).transpose()
    }

    /// Adds a bank or updates its connection details.
    pub async fn put_bank(&self, b: &BankRow, sandbox: bool) -> Result<()> {
        sqlx::query(
            "INSERT INTO bank (code, name, base_url, transit_iban, bic, secret, sandbox) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, base_url = excluded.base_url, \
             transit_iban = excluded.transit_iban, bic = excluded.bic, secret = excluded.secret, sandbox = excluded.sandbox",
        )
        .bind(&b.code)
        .bind(&b.name)
        .bind(&b.base_url)
        .bind(&b.transit_iban)
        .bind(&b.bic)
        .bind(&b.secret)
        .bind(i64::from(sandbox))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The first answer to `(user, key)`, if the request was made before.
    pub async fn idempotent_answer(
        &self,
        user_id: i64,
        key: &str,
    ) -> Result<Option<(String, u16, String)>> {
        let row = sqlx::query("SELECT request_hash, status, response FROM idempotency WHERE user_id = $1 AND idem_key = $2")
            .bind(user_id)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok((
                r.try_get(0)?,
                u16::try_from(r.try_get::<i64, _>(1)?)?,
                r.try_get(2)?,
            ))
        })
        .transpose()
    }

    /// Keeps the first answer; returns false when another request stored one first.
    pub async fn keep_idempotent_answer(
        &self,
        user_id: i64,
        key: &str,
        hash: &str,
        status: u16,
        response: &str,
    ) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO idempotency (user_id, idem_key, request_hash, status, response, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (user_id, idem_key) DO NOTHING",
        )
        .bind(user_id)
        .bind(key)
        .bind(hash)
        .bind(i64::from(status))
        .bind(response)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn create_payment(&self, p: &NewPayment<'_>) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO payment (public_id, user_id, account_id, upd_id, bank_id, channel, amount_tiyn, chosen_lines, status, bank_ref, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        )
        .bind(p.public_id)
        .bind(p.user_id)
        .bind(p.account_id)
        .bind(p.upd_id)
        .bind(p.bank_id)
        .bind(p.channel)
        .bind(p.amount.tiyn())
        .bind(p.chosen_lines.map(serde_json::to_string).transpose()?)
        .bind(if p.bank_ref.is_some() { "pending" } else { "created" })
        .bind(p.bank_ref)
        .bind(now())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn set_payment_pending(&self, id: i64, bank_ref: &str) -> Result<()> {
        sqlx::query("UPDATE payment SET status = 'pending', bank_ref = $1, updated_at = $2 WHERE id = $3 AND status = 'created'")
            .bind(bank_ref)
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_payment_declined(&self, id: i64) -> Result<()> {
        sqlx::query("UPDATE payment SET status = 'declined', updated_at = $1 WHERE id = $2 AND status IN ('created', 'pending')")
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn payment_by_public_id(&self, public_id: &str) -> Result<Option<PaymentRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PAYMENT_COLS} FROM payment WHERE public_id = $1"
        )))
        .bind(public_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(payment_from).transpose()
    }

    pub async fn payment_by_bank_ref(
        &self,
        bank_id: i64,
        bank_ref: &str,
    ) -> Result<Option<PaymentRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PAYMENT_COLS} FROM payment WHERE bank_id = $1 AND bank_ref = $2"
        )))
        .bind(bank_id)
        .bind(bank_ref)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(payment_from).transpose()
    }

    pub async fn allocations_of_payment(
        &self,
        payment_id: i64,
    ) -> Result<Vec<(i64, i64, Money, Money)>> {
        let rows = sqlx::query(
            "SELECT service_id, provider_id, amount_tiyn, advance_tiyn FROM payment_allocation WHERE payment_id = $1 AND amount_tiyn > 0 ORDER BY id",
        )
        .bind(payment_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    r.try_get(1)?,
                    Money::from_tiyn(r.try_get(2)?),
                    Money::from_tiyn(r.try_get(3)?),
                ))
            })
            .collect()
    }

    pub async fn upd_number_of(&self, upd_id: i64) -> Result<String> {
        Ok(sqlx::query("SELECT number FROM upd WHERE id = $1")
            .bind(upd_id)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }

    pub async fn service_and_provider(
        &self,
        service_id: i64,
        provider_id: i64,
    ) -> Result<(String, String)> {
        let r = sqlx::query(
            "SELECT s.code, p.bin FROM service s, provider p WHERE s.id = $1 AND p.id = $2",
        )
        .bind(service_id)
        .bind(provider_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((r.try_get(0)?, r.try_get(1)?))
    }

    pub async fn journal_bank_message(
        &self,
        bank_code: &str,
        kind: &str,
        outcome: &str,
        detail: &str,
    ) -> Result<()> {
        sqlx::query("INSERT INTO bank_message_journal (at, bank_code, kind, outcome, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(now())
            .bind(bank_code)
            .bind(kind)
            .bind(outcome)
            .bind(detail)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// What is still due on each line of a UPD: its due less the allocations to the account's
    /// services since the UPD was issued.
    pub async fn outstanding(&self, upd_id: i64) -> Result<Vec<Outstanding>> {
        let mut conn = self.pool.acquire().await?;
        Ok(outstanding_in(&mut conn, upd_id)
            .await?
            .into_iter()
            .map(|(o, _)| o)
            .collect())
    }

    /// Credits a succeeded payment exactly once: allocation, ledger entry and status in one
    /// transaction. `paid_at` is the bank's time of payment.
    pub async fn credit_payment(
        &self,
        payment: &PaymentRow,
        bank: &BankRow,
        paid_at: &str,
    ) -> Result<Credit> {
        // One writer at a time on SQLite, queued here rather than in SQLite's busy sleeps
        // (seconds under a storm of callbacks from two banks).
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        // Serialise allocations per account: a row lock on PostgreSQL; on SQLite the write
        // guard already admits one writer at a time.
        if self.backend == super::Backend::Postgres {
            sqlx::query("UPDATE account SET holder_name = holder_name WHERE id = $1")
                .bind(payment.account_id)
                .execute(&mut *tx)
                .await?;
        }
        let entry = sqlx::query(
            "INSERT INTO ledger_entry (at, kind, reference, memo) VALUES ($1, 'payment', $2, $3) \
             ON CONFLICT (kind, reference) DO NOTHING RETURNING id",
        )
        .bind(now())
        .bind(&payment.public_id)
        .bind(format!("payment via {} ({})", bank.code, payment.channel))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(entry) = entry else {
            tx.rollback().await?;
            return Ok(Credit::AlreadyCredited);
        };
        let entry_id: i64 = entry.try_get(0)?;
        let lines = outstanding_in(&mut tx, payment.upd_id).await?;
        let outstanding: Vec<Outstanding> = lines.iter().map(|(o, _)| o.clone()).collect();
        let allocations = esep_core::settlement::allocate(
            payment.amount,
            &outstanding,
            payment.chosen_lines.as_deref(),
        )
        .context("allocating the payment")?;
        let bin_of = |provider: i64| {
            lines
                .iter()
                .find(|(o, _)| o.provider_id == provider)
                .map(|(_, b)| b.as_str())
                .unwrap_or("")
        };
        let mut postings: Vec<(String, Money)> =
            vec![(format!("transit:{}", bank.code), payment.amount)];
        postings.extend(
            allocations
                .iter()
                .map(|a| (format!("payable:{}", bin_of(a.provider_id)), -a.amount)),
        );
        post_all(self, &mut tx, entry_id, &postings).await?;
        let sql = format!(
            "INSERT INTO payment_allocation (account_id, service_id, provider_id, amount_tiyn, advance_tiyn, paid_at, source, payment_id, bank_id) VALUES {}",
            self.values_list(allocations.len(), 9)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in &allocations {
            q = q
                .bind(payment.account_id)
                .bind(a.service_id)
                .bind(a.provider_id)
                .bind(a.amount.tiyn())
                .bind(a.advance.tiyn())
                .bind(paid_at)
                .bind("payment")
                .bind(payment.id)
                .bind(bank.id);
        }
        q.execute(&mut *tx).await?;
        sqlx::query("UPDATE payment SET status = 'succeeded', updated_at = $1 WHERE id = $2")
            .bind(now())
            .bind(payment.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Credit::Credited(allocations))
    }

    /// Reverses a credited payment exactly: the opposite postings and allocations.
    /// Returns false when it was already reversed.
    pub async fn reverse_payment(
        &self,
        payment: &PaymentRow,
        bank: &BankRow,
        at: &str,
    ) -> Result<bool> {
        // One writer at a time on SQLite, queued here rather than in SQLite's busy sleeps
        // (seconds under a storm of callbacks from two banks).
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let entry = sqlx::query(
            "INSERT INTO ledger_entry (at, kind, reference, memo) VALUES ($1, 'reversal', $2, $3) \
             ON CONFLICT (kind, reference) DO NOTHING RETURNING id",
        )
        .bind(now())
        .bind(&payment.public_id)
        .bind(format!("reversal via {}", bank.code))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(entry) = entry else {
            tx.rollback().await?;
            return Ok(false);
        };
        let entry_id: i64 = entry.try_get(0)?;
        sqlx::query(
            "INSERT INTO ledger_posting (entry_id, account, amount_tiyn) \
             SELECT $1, p.account, -p.amount_tiyn FROM ledger_posting p JOIN ledger_entry e ON e.id = p.entry_id \
             WHERE e.kind = 'payment' AND e.reference = $2",
        )
        .bind(entry_id)
        .bind(&payment.public_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO payment_allocation (account_id, service_id, provider_id, amount_tiyn, advance_tiyn, paid_at, source, payment_id, bank_id) \
             SELECT account_id, service_id, provider_id, -amount_tiyn, -advance_tiyn, $1, 'reversal', payment_id, bank_id \
             FROM payment_allocation WHERE payment_id = $2 AND source = 'payment'",
        )
        .bind(at)
        .bind(payment.id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE payment SET status = 'reversed', updated_at = $1 WHERE id = $2")
            .bind(now())
            .bind(payment.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Balances of every ledger account.
    pub async fn ledger_balances(&self) -> Result<Vec<Balance>> {
        let rows = sqlx::query(
            "SELECT account, CAST(SUM(amount_tiyn) AS BIGINT) FROM ledger_posting GROUP BY account ORDER BY account",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Balance {
                    account: r.try_get(0)?,
                    balance: Money::from_tiyn(r.try_get(1)?),
                })
            })
            .collect()
    }

    /// Every invariant of the ledger; each failure is described in words.
    pub async fn ledger_problems(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let checks: &[(&str, &str)] = &[
            (
                "entries whose postings do not sum to zero",
                "SELECT CAST(entry_id AS TEXT) FROM ledger_posting GROUP BY entry_id HAVING SUM(amount_tiyn) <> 0",
            ),
            (
                "entries without postings",
                "SELECT CAST(e.id AS TEXT) FROM ledger_entry e WHERE NOT EXISTS (SELECT 1 FROM ledger_posting p WHERE p.entry_id = e.id)",
            ),
            (
                "succeeded or reversed payments without exactly one payment entry",
                "SELECT p.public_id FROM payment p WHERE p.status IN ('succeeded', 'reversed') AND \
                 (SELECT COUNT(*) FROM ledger_entry e WHERE e.kind = 'payment' AND e.reference = p.public_id) <> 1",
            ),
            (
                "payment entries of payments that did not succeed",
                "SELECT e.reference FROM ledger_entry e LEFT JOIN payment p ON p.public_id = e.reference \
                 WHERE e.kind = 'payment' AND (p.id IS NULL OR p.status NOT IN ('succeeded', 'reversed'))",
            ),
            (
                "payments whose allocations do not sum to the amount",
                "SELECT p.public_id FROM payment p WHERE p.status IN ('succeeded', 'reversed') AND p.amount_tiyn <> \
                 (SELECT COALESCE(SUM(a.amount_tiyn), 0) FROM payment_allocation a WHERE a.payment_id = p.id AND a.source = 'payment')",
            ),
            (
                "reversed payments whose reversal does not cancel the allocations",
                "SELECT p.public_id FROM payment p WHERE p.status = 'reversed' AND \
                 (SELECT COALESCE(SUM(a.amount_tiyn), 0) FROM payment_allocation a WHERE a.payment_id = p.id) <> 0",
            ),
            (
                "the payment entry's transit posting differs from the payment amount",
                "SELECT p.public_id FROM payment p JOIN ledger_entry e ON e.kind = 'payment' AND e.reference = p.public_id \
                 JOIN bank b ON b.id = p.bank_id WHERE p.amount_tiyn <> (SELECT COALESCE(SUM(x.amount_tiyn), 0) FROM ledger_posting x \
                 WHERE x.entry_id = e.id AND x.account = 'transit:' || b.code)",
            ),
            (
                "payout batches whose items differ from the allocations they pay",
                "SELECT CAST(i.id AS TEXT) FROM payout_item i WHERE i.amount_tiyn <> \
                 (SELECT COALESCE(SUM(a.amount_tiyn), 0) FROM payment_allocation a WHERE a.payout_item_id = i.id)",
            ),
            (
                "confirmed batches without exactly one payout entry",
                "SELECT b.msg_id FROM payout_batch b WHERE b.status = 'confirmed' AND \
                 (SELECT COUNT(*) FROM ledger_entry e WHERE e.kind = 'payout' AND e.reference = b.msg_id) <> 1",
            ),
        ];
        for (what, sql) in checks {
            let rows = sqlx::query(*sql).fetch_all(&self.pool).await?;
            if !rows.is_empty() {
                let ids: Vec<String> = rows
                    .iter()
                    .take(5)
                    .filter_map(|r| r.try_get::<String, _>(0).ok())
                    .collect();
                problems.push(format!("{what}: {} (e.g. {})", rows.len(), ids.join(", ")));
            }
        }
        // Each provider's payable equals its allocations less its confirmed payouts.
        let rows = sqlx::query(
            "SELECT pr.bin, \
             CAST((SELECT COALESCE(SUM(a.amount_tiyn), 0) FROM payment_allocation a WHERE a.provider_id = pr.id AND a.payment_id IS NOT NULL) AS BIGINT), \
             CAST((SELECT COALESCE(SUM(i.amount_tiyn), 0) FROM payout_item i JOIN payout_batch b ON b.id = i.batch_id \
                   WHERE i.provider_id = pr.id AND b.status = 'confirmed') AS BIGINT), \
             CAST((SELECT COALESCE(SUM(x.amount_tiyn), 0) FROM ledger_posting x WHERE x.account = 'payable:' || pr.bin) AS BIGINT) \
             FROM provider pr",
        )
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let bin: String = r.try_get(0)?;
            let (allocated, paid_out, balance): (i64, i64, i64) =
                (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
            if allocated - paid_out != -balance {
                problems.push(format!(
                    "provider {bin}: allocated {} − paid out {} ≠ payable {}",
                    Money::from_tiyn(allocated),
                    Money::from_tiyn(paid_out),
                    Money::from_tiyn(-balance)
                ));
            }
        }
        // No transit account holds less than nothing.
        for b in self.ledger_balances().await? {
            if b.account.starts_with("transit:") && b.balance.is_negative() {
                problems.push(format!("{} is overdrawn: {}", b.account, b.balance));
            }
        }
        Ok(problems)
    }

    /// Creates (or finds) the payout batch of a transit account for a value date: one credit
    /// transfer per provider for everything allocated up to the cut-off and not yet paid out.
    /// Returns the batch id and whether it was new, or `None` when there is nothing to pay.
    pub async fn payout_batch(
        &self,
        bank: &BankRow,
        value_date: &str,
        cutoff: &str,
        build_xml: impl Fn(&str, &[PayoutLine]) -> String,
    ) -> Result<Option<(i64, bool)>> {
        // One writer at a time on SQLite, queued here rather than in SQLite's busy sleeps
        // (seconds under a storm of callbacks from two banks).
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        if let Some(r) =
            sqlx::query("SELECT id FROM payout_batch WHERE bank_id = $1 AND value_date = $2")
                .bind(bank.id)
                .bind(value_date)
                .fetch_optional(&mut *tx)
                .await?
        {
            return Ok(Some((r.try_get(0)?, false)));
        }
        let rows = sqlx::query(
            "SELECT a.provider_id, pr.bin, pr.name, pr.iban, pr.bic, pr.kbe, pr.knp, CAST(SUM(a.amount_tiyn) AS BIGINT) \
             FROM payment_allocation a JOIN provider pr ON pr.id = a.provider_id \
             WHERE a.bank_id = $1 AND a.payout_item_id IS NULL AND a.paid_at <= $2 \
             GROUP BY a.provider_id, pr.bin, pr.name, pr.iban, pr.bic, pr.kbe, pr.knp ORDER BY a.provider_id",
        )
        .bind(bank.id)
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await?;
        let msg_id = format!(
            "ESEP-{}-{}",
            bank.code.to_uppercase(),
            value_date.replace('-', "")
        );
        let mut lines = Vec::new();
        for r in rows {
            let amount = Money::from_tiyn(r.try_get(7)?);
            if !amount.is_positive() {
                continue; // a net reversal waits for later payments
            }
            let provider_id: i64 = r.try_get(0)?;
            lines.push(PayoutLine {
                provider_id,
                bin: r.try_get(1)?,
                name: r.try_get(2)?,
                iban: r.try_get(3)?,
                bic: r.try_get(4)?,
                kbe: r.try_get(5)?,
                knp: r.try_get(6)?,
                amount,
                end_to_end_id: format!("{msg_id}-{provider_id}"),
            });
        }
        if lines.is_empty() {
            return Ok(None);
        }
        let xml = build_xml(&msg_id, &lines);
        let batch: i64 = sqlx::query(
            "INSERT INTO payout_batch (bank_id, value_date, msg_id, created_at, status, xml) VALUES ($1, $2, $3, $4, 'created', $5) RETURNING id",
        )
        .bind(bank.id)
        .bind(value_date)
        .bind(&msg_id)
        .bind(now())
        .bind(&xml)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        for l in &lines {
            let item: i64 = sqlx::query(
                "INSERT INTO payout_item (batch_id, provider_id, amount_tiyn, end_to_end_id) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(batch)
            .bind(l.provider_id)
            .bind(l.amount.tiyn())
            .bind(&l.end_to_end_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            sqlx::query(
                "UPDATE payment_allocation SET payout_item_id = $1 WHERE bank_id = $2 AND provider_id = $3 \
                 AND payout_item_id IS NULL AND paid_at <= $4",
            )
            .bind(item)
            .bind(bank.id)
            .bind(l.provider_id)
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some((batch, true)))
    }

    pub async fn payout_batch_info(
        &self,
        batch_id: i64,
    ) -> Result<(String, String, String, Vec<PayoutLine>)> {
        let r = sqlx::query("SELECT msg_id, status, xml FROM payout_batch WHERE id = $1")
            .bind(batch_id)
            .fetch_one(&self.pool)
            .await?;
        let items = sqlx::query(
            "SELECT i.provider_id, pr.bin, pr.name, pr.iban, pr.bic, pr.kbe, pr.knp, i.amount_tiyn, i.end_to_end_id \
             FROM payout_item i JOIN provider pr ON pr.id = i.provider_id WHERE i.batch_id = $1 ORDER BY i.id",
        )
        .bind(batch_id)
        .fetch_all(&self.pool)
        .await?;
        let lines = items
            .iter()
            .map(|r| {
                Ok(PayoutLine {
                    provider_id: r.try_get(0)?,
                    bin: r.try_get(1)?,
                    name: r.try_get(2)?,
                    iban: r.try_get(3)?,
                    bic: r.try_get(4)?,
                    kbe: r.try_get(5)?,
                    knp: r.try_get(6)?,
                    amount: Money::from_tiyn(r.try_get(7)?),
                    end_to_end_id: r.try_get(8)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, lines))
    }

    /// The bank confirmed the batch: payable moves out of the transit account, once.
    pub async fn confirm_payout(&self, batch_id: i64, bank: &BankRow) -> Result<bool> {
        let (msg_id, _, _, lines) = self.payout_batch_info(batch_id).await?;
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let entry = sqlx::query(
            "INSERT INTO ledger_entry (at, kind, reference, memo) VALUES ($1, 'payout', $2, $3) \
             ON CONFLICT (kind, reference) DO NOTHING RETURNING id",
        )
        .bind(now())
        .bind(&msg_id)
        .bind(format!(
            "payout batch from the transit account at {}",
            bank.code
        ))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(entry) = entry else {
            tx.rollback().await?;
            return Ok(false);
        };
        let entry_id: i64 = entry.try_get(0)?;
        let total: Money = lines.iter().map(|l| l.amount).sum();
        let mut postings: Vec<(String, Money)> = lines
            .iter()
            .map(|l| (format!("payable:{}", l.bin), l.amount))
            .collect();
        postings.push((format!("transit:{}", bank.code), -total));
        post_all(self, &mut tx, entry_id, &postings).await?;
        sqlx::query("UPDATE payout_batch SET status = 'confirmed' WHERE id = $1")
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// One credit transfer of a payout batch.
#[derive(Clone, Debug)]
pub struct PayoutLine {
    pub provider_id: i64,
    pub bin: String,
    pub name: String,
    pub iban: String,
    pub bic: String,
    pub kbe: String,
    pub knp: String,
    pub amount: Money,
    pub end_to_end_id: String,
}

/// Writes an entry's postings with one statement.
async fn post_all(
    db: &Db,
    tx: &mut Transaction<'static, Any>,
    entry_id: i64,
    postings: &[(String, Money)],
) -> Result<()> {
    let sql = format!(
        "INSERT INTO ledger_posting (entry_id, account, amount_tiyn) VALUES {}",
        db.values_list(postings.len(), 3)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (account, amount) in postings {
        q = q.bind(entry_id).bind(account.as_str()).bind(amount.tiyn());
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// The outstanding lines of a UPD, each with its provider's BIN.
async fn outstanding_in(
    conn: &mut sqlx::AnyConnection,
    upd_id: i64,
) -> Result<Vec<(Outstanding, String)>> {
    let rows = sqlx::query(
        "SELECT l.line_no, l.service_id, l.provider_id, l.due_tiyn, l.charge_tiyn + l.recalculation_tiyn, \
         CAST((SELECT COALESCE(SUM(a.amount_tiyn), 0) FROM payment_allocation a \
               WHERE a.account_id = u.account_id AND a.service_id = l.service_id AND a.id > u.payments_through) AS BIGINT), \
         p.bin FROM upd u JOIN upd_line l ON l.upd_id = u.id JOIN provider p ON p.id = l.provider_id \
         WHERE u.id = $1 ORDER BY l.line_no",
    )
    .bind(upd_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let due = Money::from_tiyn(r.try_get(3)?);
            let paid = Money::from_tiyn(r.try_get(5)?);
            Ok((
                Outstanding {
                    line_no: u32::try_from(r.try_get::<i64, _>(0)?)?,
                    service_id: r.try_get(1)?,
                    provider_id: r.try_get(2)?,
                    due: due - paid,
                    charge: Money::from_tiyn(r.try_get(4)?),
                },
                r.try_get(6)?,
            ))
        })
        .collect()
}
