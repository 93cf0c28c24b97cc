//! The cabinet chat (D12) and the account history the cabinet charts.

use super::{Db, now};
use anyhow::Result;
use esep_core::api::{
    ChatMessage, ChatThreadSummary, HistoryPeriod, PaymentSummary, ServiceAmount,
};
use esep_core::{Lang, Money};
use sqlx::Row;
use sqlx::any::AnyRow;

fn message_from(r: &AnyRow) -> Result<ChatMessage> {
    Ok(ChatMessage {
        id: r.try_get("id")?,
        thread_id: r.try_get("thread_id")?,
        from_operator: r.try_get::<i64, _>("from_operator")? == 1,
        author: r.try_get("display_name")?,
        body: r.try_get("body")?,
        at: r.try_get("created_at")?,
    })
}

const MESSAGE_SQL: &str = "SELECT m.id, m.thread_id, m.from_operator, u.display_name, m.body, m.created_at \
     FROM chat_message m JOIN app_user u ON u.id = m.author_id";

impl Db {
    /// The consumer's conversation, if they ever wrote.
    pub async fn chat_thread_of(&self, user_id: i64) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT id FROM chat_thread WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// The owner of a conversation.
    pub async fn chat_thread_owner(&self, thread_id: i64) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT user_id FROM chat_thread WHERE id = $1")
            .bind(thread_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    pub async fn chat_messages(&self, thread_id: i64) -> Result<Vec<ChatMessage>> {
        let sql = format!("{MESSAGE_SQL} WHERE m.thread_id = $1 ORDER BY m.id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(thread_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(message_from).collect()
    }

    /// Adds a message: a consumer's opens their conversation if needed and marks it as
    /// waiting for an answer; an operator's answers it. One transaction.
    pub async fn post_chat_message(
        &self,
        thread_owner: i64,
        author_id: i64,
        from_operator: bool,
        body: &str,
    ) -> Result<ChatMessage> {
        let _writer = self.write_guard().await;
        let mut tx = self.pool.begin().await?;
        let at = now();
        let waiting = i64::from(!from_operator);
        let existing = sqlx::query("SELECT id FROM chat_thread WHERE user_id = $1")
            .bind(thread_owner)
            .fetch_optional(&mut *tx)
            .await?;
        let thread_id: i64 = match existing {
            Some(r) => {
                let id: i64 = r.try_get(0)?;
                sqlx::query("UPDATE chat_thread SET updated_at = $1, waiting = $2 WHERE id = $3")
                    .bind(&at)
                    .bind(waiting)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                id
            }
            None => sqlx::query(
                "INSERT INTO chat_thread (user_id, updated_at, waiting) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(thread_owner)
            .bind(&at)
            .bind(waiting)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?,
        };
        let id: i64 = sqlx::query(
            "INSERT INTO chat_message (thread_id, from_operator, author_id, body, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(thread_id)
        .bind(i64::from(from_operator))
        .bind(author_id)
        .bind(body)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let sql = format!("{MESSAGE_SQL} WHERE m.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let message = message_from(&row)?;
        tx.commit().await?;
        Ok(message)
    }

    /// Conversations for the operators: those waiting for an answer first, oldest first.
    pub async fn chat_threads(&self, limit: i64) -> Result<Vec<ChatThreadSummary>> {
        let rows = sqlx::query(
            "SELECT t.id, u.display_name, t.waiting, t.updated_at, \
             (SELECT body FROM chat_message m WHERE m.thread_id = t.id ORDER BY m.id DESC LIMIT 1) AS last_message \
             FROM chat_thread t JOIN app_user u ON u.id = t.user_id \
             ORDER BY t.waiting DESC, t.updated_at ASC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ChatThreadSummary {
                    thread_id: r.try_get("id")?,
                    consumer: r.try_get("display_name")?,
                    last_message: r
                        .try_get::<Option<String>, _>("last_message")?
                        .unwrap_or_default(),
                    last_at: r.try_get("updated_at")?,
                    waiting: r.try_get::<i64, _>("waiting")? == 1,
                })
            })
            .collect()
    }

    /// What was charged per service in each of an account's last `months` current UPDs,
    /// oldest first.
    pub async fn history_periods(
        &self,
        account_id: i64,
        months: i64,
        lang: Lang,
    ) -> Result<Vec<HistoryPeriod>> {
        let mut periods = Vec::new();
        for upd in self
            .upds_of_account(account_id, months)
            .await?
            .into_iter()
            .rev()
        {
            let mut services: Vec<ServiceAmount> = Vec::new();
            for line in self.upd_lines(upd.id).await? {
                let amount = line.charge + line.recalculation;
                match services
                    .iter_mut()
                    .find(|s| s.service_code == line.service_code)
                {
                    Some(s) => s.amount += amount,
                    None => services.push(ServiceAmount {
                        service_code: line.service_code,
                        service_name: line.service_name.get(lang).to_string(),
                        amount,
                    }),
                }
            }
            periods.push(HistoryPeriod {
                period: upd.period,
                upd_number: upd.number,
                total_charged: upd.total_charged,
                to_pay: upd.to_pay,
                services,
            });
        }
        Ok(periods)
    }

    /// An account's last payments, newest first.
    pub async fn payments_of_account(
        &self,
        account_id: i64,
        limit: i64,
    ) -> Result<Vec<PaymentSummary>> {
        let rows = sqlx::query(
            "SELECT p.public_id, p.created_at, p.amount_tiyn, b.code, p.status, u.number \
             FROM payment p JOIN bank b ON b.id = p.bank_id JOIN upd u ON u.id = p.upd_id \
             WHERE p.account_id = $1 AND p.status <> 'created' ORDER BY p.id DESC LIMIT $2",
        )
        .bind(account_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PaymentSummary {
                    id: r.try_get("public_id")?,
                    created_at: r.try_get("created_at")?,
                    amount: Money::from_tiyn(r.try_get("amount_tiyn")?),
                    bank: r.try_get("code")?,
                    status: r.try_get("status")?,
                    upd_number: r.try_get("number")?,
                })
            })
            .collect()
    }
}
