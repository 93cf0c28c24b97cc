//! The KPI export (D14d): monthly totals only, never personal data; a month computed over
//! fewer than MIN_ACCOUNTS accounts is withheld.

use super::Db;
use anyhow::Result;
use esep_core::kpi::{KPI_VERSION, KpiFile, KpiMonth, MIN_ACCOUNTS};
use esep_core::{Money, Period};
use rust_decimal::Decimal;
use sqlx::Row;

fn pct(part: Decimal, whole: Decimal) -> Option<Decimal> {
    (whole > Decimal::ZERO).then(|| (part * Decimal::ONE_HUNDRED / whole).round_dp(2))
}

impl Db {
    async fn int(&self, sql: &'static str, params: &[&str]) -> Result<i64> {
        let mut q = sqlx::query(sql);
        for p in params {
            q = q.bind(*p);
        }
        Ok(q.fetch_one(&self.pool).await?.try_get(0)?)
    }

    /// Net payments received between two instants (text, RFC 3339 prefixes): count, sum.
    async fn payments_between(&self, from: &str, to: &str) -> Result<(i64, Money)> {
        let count = self
            .int(
                "SELECT COUNT(*) FROM (SELECT DISTINCT COALESCE(CAST(a.payment_id AS TEXT), CAST(a.account_id AS TEXT) || '@' || a.paid_at) AS k \
                 FROM payment_allocation a WHERE a.amount_tiyn > 0 AND a.paid_at >= $1 AND a.paid_at < $2 \
                 AND (a.payment_id IS NULL OR a.payment_id NOT IN (SELECT id FROM payment WHERE status = 'reversed'))) x",
                &[from, to],
            )
            .await?;
        let sum = self
            .int(
                "SELECT CAST(COALESCE(SUM(amount_tiyn), 0) AS BIGINT) FROM payment_allocation WHERE paid_at >= $1 AND paid_at < $2",
                &[from, to],
            )
            .await?;
        Ok((count, Money::from_tiyn(sum)))
    }

    pub async fn kpi(&self, from: Period, to: Period) -> Result<KpiFile> {
        let usc: String = sqlx::query("SELECT name FROM usc ORDER BY id LIMIT 1")
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or_default();
        let mut months = Vec::new();
        let mut p = from;
        while p <= to {
            let start = p.first_day().to_string();
            let next = p.next().first_day().to_string();
            let after = p.next().next().first_day().to_string();
            let ps = p.to_string();
            let accounts = self
                .int(
                    "SELECT COUNT(DISTINCT account_id) FROM upd WHERE period = $1",
                    &[&ps],
                )
                .await?;
            if (accounts as u64) < MIN_ACCOUNTS {
                months.push(KpiMonth::withheld(p));
                p = p.next();
                continue;
            }
            let charged = Money::from_tiyn(
                self.int(
                    "SELECT CAST(COALESCE(SUM(u.total_charged_tiyn), 0) AS BIGINT) FROM upd u WHERE u.period = $1 \
                     AND u.version = (SELECT MAX(v.version) FROM upd v WHERE v.account_id = u.account_id AND v.period = u.period)",
                    &[&ps],
                )
                .await?,
            );
            let (count, sum) = self.payments_between(&start, &next).await?;
            let (_, next_month) = self.payments_between(&next, &after).await?;
            let users = self
                .int(
                    "SELECT COUNT(*) FROM app_user WHERE role = 'consumer' AND created_at < $1",
                    &[&next],
                )
                .await?;
            let linked = self
                .int(
                    "SELECT COUNT(DISTINCT ua.account_id) FROM user_account ua JOIN upd u ON u.account_id = ua.account_id \
                     WHERE u.period = $1 AND ua.linked_at < $2",
                    &[&ps, &after],
                )
                .await?;
            let rows = sqlx::query(
                "SELECT a.paid_at, b.created_at FROM payment_allocation a JOIN payout_item i ON i.id = a.payout_item_id \
                 JOIN payout_batch b ON b.id = i.batch_id WHERE a.amount_tiyn > 0 AND a.paid_at >= $1 AND a.paid_at < $2",
            )
            .bind(&start)
            .bind(&next)
            .fetch_all(&self.pool)
            .await?;
            let mut hours: Vec<i64> = Vec::with_capacity(rows.len());
            for r in &rows {
                let (paid, paid_out): (String, String) = (r.try_get(0)?, r.try_get(1)?);
                if let (Ok(a), Ok(b)) = (
                    chrono::DateTime::parse_from_rfc3339(&paid),
                    chrono::DateTime::parse_from_rfc3339(&paid_out),
                ) {
                    hours.push((b - a).num_minutes().max(0));
                }
            }
            hours.sort_unstable();
            let median = (!hours.is_empty())
                .then(|| (Decimal::from(hours[hours.len() / 2]) / Decimal::from(60)).round_dp(1));
            months.push(KpiMonth {
                period: p,
                suppressed: false,
                accounts_served: Some(accounts as u64),
                charged: Some(charged),
                payments_count: Some(count as u64),
                payments_sum: Some(sum),
                collection_rate_pct: pct(next_month.as_decimal(), charged.as_decimal()),
                cabinet_users: Some(users as u64),
                electronic_upd_share_pct: pct(Decimal::from(linked), Decimal::from(accounts)),
                // Recorded once the complaints register and the discrepancy journal exist.
                complaints_received: None,
                complaints_answered_on_time_pct: None,
                median_hours_payment_to_payout: median,
                discrepancies_registered_on_time_pct: None,
            });
            p = p.next();
        }
        Ok(KpiFile {
            version: KPI_VERSION,
            generated_at: super::now(),
            usc,
            period_from: from,
            period_to: to,
            months,
        })
    }
}
