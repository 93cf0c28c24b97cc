//! Storage: one set of SQL for SQLite (the embedded default) and PostgreSQL (by
//! `DATABASE_URL`), through sqlx's `Any` driver. Every query uses `$n` parameters, which
//! both backends accept; money is BIGINT tiyn, decimals and dates are TEXT.

pub mod accounts;
pub mod billing;
pub mod chat;
pub mod fastread;
pub mod imports;
pub mod kpi;
pub mod payments;
pub mod users;

use anyhow::{Context, Result};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, AssertSqlSafe, Executor, Row};
use std::str::FromStr;
use std::time::Duration;

/// Migrations in order: (name, SQL for SQLite, SQL for PostgreSQL). Most are one text for
/// both; triggers differ.
const MIGRATIONS: &[(&str, &str, &str)] = &[
    (
        "0001_schema",
        include_str!("../../migrations/0001_schema.sql"),
        include_str!("../../migrations/0001_schema.sql"),
    ),
    (
        "0002_upd_immutable",
        include_str!("../../migrations/0002_upd_immutable.sqlite.sql"),
        include_str!("../../migrations/0002_upd_immutable.postgres.sql"),
    ),
    (
        "0003_payments",
        include_str!("../../migrations/0003_payments.sql"),
        include_str!("../../migrations/0003_payments.sql"),
    ),
    (
        "0004_duties",
        include_str!("../../migrations/0004_duties.sql"),
        include_str!("../../migrations/0004_duties.sql"),
    ),
    (
        "0005_audit_retention",
        include_str!("../../migrations/0005_audit_retention.sqlite.sql"),
        include_str!("../../migrations/0005_audit_retention.postgres.sql"),
    ),
    (
        "0006_exchange",
        include_str!("../../migrations/0006_exchange.sql"),
        include_str!("../../migrations/0006_exchange.sql"),
    ),
    (
        "0007_access_reason",
        include_str!("../../migrations/0007_access_reason.sql"),
        include_str!("../../migrations/0007_access_reason.sql"),
    ),
    (
        "0008_chat",
        include_str!("../../migrations/0008_chat.sql"),
        include_str!("../../migrations/0008_chat.sql"),
    ),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite has one writer at a time; writers queue here, in order, instead of polling
    /// the database lock with sleeps (which multiplies latency under load).
    write_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// SQLite only: the busiest reads on the calling thread ([`fastread`]).
    pub(crate) fast: Option<std::sync::Arc<fastread::FastReads>>,
}

impl Db {
    /// Connects to `url` (`sqlite://path` or `postgres://…`), creating a SQLite file and its
    /// directory when missing, and brings the schema up to date.
    pub async fn open(url: &str) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!("unsupported database URL (use sqlite://FILE or postgres://…)");
        };
        let mut fast = None;
        let url = match backend {
            Backend::Sqlite => {
                let path = url
                    .trim_start_matches("sqlite://")
                    .trim_start_matches("sqlite:");
                let path = path.split('?').next().unwrap_or(path);
                if let Some(dir) = std::path::Path::new(path).parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir).with_context(|| {
                        format!("creating the database directory {}", dir.display())
                    })?;
                }
                if !path.is_empty() && !path.contains(":memory:") {
                    fast = fastread::FastReads::for_file(path.into()).map(std::sync::Arc::new);
                }
                format!("sqlite://{path}?mode=rwc")
            }
            Backend::Postgres => url.to_string(),
        };
        let max = match backend {
            // Two connections: one writes while one reads. More readers collide with the
            // writer on the WAL index and SQLite retries them with sleeps (a p99 of ~100 ms
            // under load, measured with `cargo xtask bench payments`); ESEP_SQLITE_POOL
            // overrides it.
            Backend::Sqlite => std::env::var("ESEP_SQLITE_POOL")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(2),
            Backend::Postgres => 16,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                             PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; \
                             PRAGMA wal_autocheckpoint = 4000;",
                        )
                        .await?;
                    } else {
                        // Short OLTP queries: PostgreSQL's JIT compiled the UPD view's query
                        // for 700 ms on a freshly loaded million-account database (its cost
                        // estimate before ANALYZE), 5 requests/s instead of 1 500.
                        conn.execute("SET jit = off").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .context("connecting to the database")?;
        let db = Db {
            pool,
            backend,
            write_lock: Default::default(),
            fast,
        };
        db.migrate().await?;
        Ok(db)
    }

    /// Planner statistics after bulk writes: `ANALYZE` on PostgreSQL (autovacuum would get
    /// there, minutes later), `PRAGMA optimize` on SQLite.
    pub async fn refresh_statistics(&self) -> Result<()> {
        let sql = match self.backend {
            Backend::Postgres => "ANALYZE upd, upd_line, account, payment_allocation",
            Backend::Sqlite => "PRAGMA optimize",
        };
        sqlx::query(sql).execute(&self.pool).await?;
        Ok(())
    }

    /// For a long-running server on SQLite: checkpoints the write-ahead log in the background
    /// (PASSIVE: never blocks a writer), so that no request pays for a checkpoint.
    pub fn spawn_checkpointer(&self) {
        if self.backend != Backend::Sqlite {
            return;
        }
        let pool = self.pool.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                if pool.is_closed() {
                    break;
                }
                let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await;
            }
        });
    }

    /// Held for the length of a write transaction on SQLite; nothing on PostgreSQL, whose
    /// row locks let writers proceed side by side.
    pub async fn write_guard(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_lock.lock().await),
            Backend::Postgres => None,
        }
    }

    async fn migrate(&self) -> Result<()> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migration (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        let id = match self.backend {
            Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Backend::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        };
        for (name, sqlite_sql, postgres_sql) in MIGRATIONS {
            let sql = match self.backend {
                Backend::Sqlite => sqlite_sql,
                Backend::Postgres => postgres_sql,
            };
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query("SELECT name FROM schema_migration WHERE name = $1")
                .bind(*name)
                .fetch_optional(&mut *tx)
                .await?;
            if done.is_some() {
                continue;
            }
            let sql = sql.replace("{{ID}}", id);
            tx.execute(sqlx::raw_sql(AssertSqlSafe(sql)))
                .await
                .with_context(|| format!("applying migration {name}"))?;
            sqlx::query("INSERT INTO schema_migration (name, applied_at) VALUES ($1, $2)")
                .bind(*name)
                .bind(now())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

/// The current instant as RFC 3339 UTC text, to the second.
pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Reads a TEXT column holding an exact decimal.
pub fn decimal(row: &impl Cols, col: &str) -> Result<rust_decimal::Decimal> {
    let text = row.text(col)?;
    rust_decimal::Decimal::from_str(&text)
        .with_context(|| format!("column {col} holds '{text}', not a decimal"))
}

/// Columns by name from a row of either driver: sqlx's `Any`, or rusqlite on the SQLite
/// fast path ([`fastread`]), so that one mapping serves both.
pub trait Cols {
    fn int_opt(&self, col: &str) -> Result<Option<i64>>;
    fn text_opt(&self, col: &str) -> Result<Option<String>>;

    fn int(&self, col: &str) -> Result<i64> {
        self.int_opt(col)?
            .with_context(|| format!("column {col} is NULL"))
    }

    fn text(&self, col: &str) -> Result<String> {
        self.text_opt(col)?
            .with_context(|| format!("column {col} is NULL"))
    }
}

impl Cols for AnyRow {
    fn int_opt(&self, col: &str) -> Result<Option<i64>> {
        Ok(self.try_get(col)?)
    }

    fn text_opt(&self, col: &str) -> Result<Option<String>> {
        Ok(self.try_get(col)?)
    }
}

impl Cols for rusqlite::Row<'_> {
    fn int_opt(&self, col: &str) -> Result<Option<i64>> {
        Ok(self.get(col)?)
    }

    fn text_opt(&self, col: &str) -> Result<Option<String>> {
        Ok(self.get(col)?)
    }
}

impl Db {
    /// The VALUES list of a multi-row insert of `rows` rows of `cols` columns: `$n`
    /// parameters on PostgreSQL, anonymous `?` on SQLite, whose lookup of numbered
    /// parameter names is linear per parameter (quadratic over a large insert).
    pub fn values_list(&self, rows: usize, cols: usize) -> String {
        let mut s = String::with_capacity(rows * cols * 5);
        for r in 0..rows {
            if r > 0 {
                s.push(',');
            }
            s.push('(');
            for c in 0..cols {
                if c > 0 {
                    s.push(',');
                }
                match self.backend {
                    Backend::Sqlite => s.push('?'),
                    Backend::Postgres => {
                        s.push('$');
                        s.push_str(&(r * cols + c + 1).to_string());
                    }
                }
            }
            s.push(')');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn values_lists_use_each_backends_cheapest_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&format!(
            "sqlite://{}",
            dir.path().join("t.sqlite").display()
        ))
        .await
        .unwrap();
        assert_eq!(db.values_list(2, 3), "(?,?,?),(?,?,?)");
        let pg = Db {
            backend: Backend::Postgres,
            ..db
        };
        assert_eq!(pg.values_list(2, 3), "($1,$2,$3),($4,$5,$6)");
    }
}
