//! The SQLite fast path for the busiest reads of month-end (issue 7): the session lookup
//! behind every signed-in request, and the UPD view.
//!
//! sqlx's SQLite driver runs each connection on a thread of its own and hands every row of
//! an answer across a channel, waking the reading task once per row. Under `cargo xtask
//! bench api` most of the server's time went to those hand-overs (perf: 56 % of its samples
//! in the kernel, 28 % in `finish_task_switch`), and SQLite re-planned the UPD query on
//! every run because a bound value might change the plan. Here a read runs on the calling
//! thread through rusqlite (the same libsqlite3 as sqlx), on a read-only connection from a
//! small pool, with SQLite's query-planner stability guarantee on: the statement is
//! prepared once per connection.
//!
//! The read blocks its runtime thread for as long as SQLite works — tens of microseconds
//! for these indexed lookups, at most [`BUSY`] waiting for a lock. A read that cannot run
//! here (busy, or a connection that will not open) returns an error, and the caller runs
//! the same SQL through sqlx instead: the answer never depends on which path served it.
//! `ESEP_SQLITE_FAST_READS=0` turns the path off (the benchmark measures both).

use anyhow::{Context, Result};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// How long a fast read waits for a lock before it gives way to the sqlx path.
pub const BUSY: Duration = Duration::from_millis(20);

/// Idle connections kept; one per runtime thread is what a server uses.
const MAX_IDLE: usize = 8;

/// A pool of read-only rusqlite connections to one SQLite file.
pub struct FastReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl FastReads {
    /// For the SQLite file at `path`, unless `ESEP_SQLITE_FAST_READS=0`.
    pub fn for_file(path: PathBuf) -> Option<FastReads> {
        if std::env::var("ESEP_SQLITE_FAST_READS").as_deref() == Ok("0") {
            return None;
        }
        Some(FastReads {
            path,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Runs `read` on an idle connection (opening one when none is idle). A connection
    /// whose read failed is dropped rather than reused.
    pub fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let out = read(&conn);
        if out.is_ok() {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
        out
    }

    fn connect(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("opening {} for reading", self.path.display()))?;
        conn.busy_timeout(BUSY)?;
        // Plans chosen at prepare time stay: no re-preparation when a value is bound.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        conn.execute_batch("PRAGMA query_only = ON; PRAGMA cache_size = -16384;")?;
        Ok(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_run_on_read_only_connections_that_are_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (41);",
            )
            .unwrap();
        let fast = FastReads::for_file(path).unwrap();
        let x: i64 = fast
            .read(|c| Ok(c.query_row("SELECT x + 1 FROM t", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(x, 42);
        // Only reads: a write is refused and the connection is not kept.
        let refused = fast.read(|c| Ok(c.execute("INSERT INTO t VALUES (1)", [])?));
        assert!(refused.is_err());
        assert_eq!(
            fast.idle.lock().unwrap().len(),
            0,
            "a failed connection is dropped"
        );
        let n: i64 = fast
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(n, 1, "the refused write changed nothing");
    }
}
