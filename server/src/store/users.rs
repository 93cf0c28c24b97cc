//! Users, sessions and the access journal.

use super::{Cols, Db, now};
use anyhow::Result;
use esep_core::api::Role;
use sqlx::Row;

#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub role: Role,
    pub display_name: String,
    pub password_hash: String,
    pub provider_id: Option<i64>,
}

const SESSION_USER_SQL: &str = "SELECT u.id, u.role, u.display_name, u.password_hash, u.provider_id \
     FROM session s JOIN app_user u ON u.id = s.user_id \
     WHERE s.token_hash = $1 AND s.expires_at > $2";

fn user_from(row: &impl Cols) -> Result<User> {
    user_from_named(
        row,
        ["id", "role", "display_name", "password_hash", "provider_id"],
    )
}

/// The user's columns as the UPD view's joined row names them.
pub(super) const ME_COLUMNS: [&str; 5] = [
    "me_id",
    "me_role",
    "me_display_name",
    "me_password_hash",
    "me_provider_id",
];

/// A user from columns named id, role, display name, password hash and provider, in order.
pub(super) fn user_from_named(
    row: &impl Cols,
    [id, role, name, hash, provider]: [&str; 5],
) -> Result<User> {
    let role = row.text(role)?;
    Ok(User {
        id: row.int(id)?,
        role: Role::parse(&role).ok_or_else(|| anyhow::anyhow!("unknown role {role}"))?,
        display_name: row.text(name)?,
        password_hash: row.text(hash)?,
        provider_id: row.int_opt(provider)?,
    })
}

const USER_COLS: &str = "id, role, display_name, password_hash, provider_id";

impl Db {
    /// Finds a user by IIN, phone or staff login (already normalised by the caller).
    pub async fn user_by_login(&self, field: LoginField, value: &str) -> Result<Option<User>> {
        let sql = match field {
            LoginField::Iin => format!("SELECT {USER_COLS} FROM app_user WHERE iin = $1"),
            LoginField::Phone => format!("SELECT {USER_COLS} FROM app_user WHERE phone = $1"),
            LoginField::Login => format!("SELECT {USER_COLS} FROM app_user WHERE login = $1"),
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from).transpose()
    }

    pub async fn create_user(&self, new: &NewUser<'_>) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO app_user (role, iin, phone, login, password_hash, display_name, provider_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(new.role.code())
        .bind(new.iin)
        .bind(new.phone)
        .bind(new.login)
        .bind(new.password_hash)
        .bind(new.display_name)
        .bind(new.provider_id)
        .bind(now())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn create_session(&self, token_hash: &str, user_id: i64, hours: i64) -> Result<()> {
        let expires = (chrono::Utc::now() + chrono::Duration::hours(hours))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        sqlx::query(
            "INSERT INTO session (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now())
        .bind(expires)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user of a valid session; on SQLite through the fast path when it can
    /// ([`super::fastread`]): every signed-in request asks this first.
    pub async fn session_user(&self, token_hash: &str) -> Result<Option<User>> {
        let at = now();
        if let Some(fast) = &self.fast {
            let found = fast.read(|c| {
                let mut stmt = c.prepare_cached(SESSION_USER_SQL)?;
                let mut rows =
                    stmt.query(rusqlite::named_params! { "$1": token_hash, "$2": at })?;
                rows.next()?.map(user_from).transpose()
            });
            match found {
                Ok(user) => return Ok(user),
                Err(e) => tracing::debug!("session lookup through sqlx: {e:#}"),
            }
        }
        let row = sqlx::query(SESSION_USER_SQL)
            .bind(token_hash)
            .bind(&at)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from).transpose()
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM session WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Writes one entry of the access journal: who did what to whose data, and the outcome.
    pub async fn journal(
        &self,
        user_id: Option<i64>,
        action: &str,
        resource: &str,
        outcome: &str,
        client_ip: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO access_journal (at, user_id, action, resource, outcome, client_ip) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now())
        .bind(user_id)
        .bind(action)
        .bind(resource)
        .bind(outcome)
        .bind(client_ip)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A staff read of personal data, with its stated reason (D11).
    pub async fn journal_staff_read(
        &self,
        user_id: i64,
        action: &str,
        resource: &str,
        reason: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO access_journal (at, user_id, action, resource, outcome, reason) VALUES ($1, $2, $3, $4, 'read', $5)",
        )
        .bind(now())
        .bind(user_id)
        .bind(action)
        .bind(resource)
        .bind(reason)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn journal_entries(&self, limit: i64) -> Result<Vec<JournalEntry>> {
        let rows = sqlx::query(
            "SELECT at, user_id, action, resource, outcome, reason FROM access_journal ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(JournalEntry {
                    at: r.try_get("at")?,
                    user_id: r.try_get("user_id")?,
                    action: r.try_get("action")?,
                    resource: r.try_get("resource")?,
                    outcome: r.try_get("outcome")?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginField {
    Iin,
    Phone,
    Login,
}

pub struct NewUser<'a> {
    pub role: Role,
    pub iin: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub login: Option<&'a str>,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub provider_id: Option<i64>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct JournalEntry {
    pub at: String,
    pub user_id: Option<i64>,
    pub action: String,
    pub resource: String,
    pub outcome: String,
    pub reason: Option<String>,
}
