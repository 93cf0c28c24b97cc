//! `esep`: the command line of the Unified Settlement Center software.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use esep_core::{Bin, Iin, Period, WorkingCalendar};
use esep_server::billing_run::{self, RunOptions};
use esep_server::demo::{self, DemoOptions};
use esep_server::import::{self, ImportError, Kind, Outcome};
use esep_server::store::Db;
use esep_server::{StaticDirs, api, banks};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

const DEFAULT_DB: &str = "sqlite://data/esep.sqlite";

#[derive(Parser)]
#[command(
    name = "esep",
    version,
    about = "Esep: software for a Unified Settlement Center (БЕО / ЕРЦ)"
)]
struct Cli {
    /// Database: sqlite://FILE (default, created on first use) or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB, global = true, hide_env_values = true)]
    database: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API, the cabinet and the disclosure site.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// The generated disclosure site to serve at /.
        #[arg(long)]
        site: Option<PathBuf>,
        /// The built cabinet to serve at /cabinet/.
        #[arg(long)]
        cabinet: Option<PathBuf>,
        /// Mark the session cookie Secure (when served behind TLS).
        #[arg(long)]
        secure_cookies: bool,
        /// Sign-in attempts allowed per client address in 5 minutes.
        #[arg(long, default_value_t = 30)]
        signin_ip_limit: usize,
        /// Stop when standard input closes (used by test harnesses so that no server
        /// outlives its test run).
        #[arg(long, hide = true)]
        exit_on_stdin_eof: bool,
    },
    /// Seed a synthetic demo city (skipped when it is already there).
    Demo {
        #[arg(long, default_value_t = 2000)]
        accounts: usize,
        /// Months to bill, ending with --through.
        #[arg(long, default_value_t = 12)]
        months: u32,
        /// The last billed period (default: the month before this one).
        #[arg(long)]
        through: Option<String>,
        /// Demo consumers with sign-ins.
        #[arg(long, default_value_t = 10)]
        consumers: usize,
        /// Remove all data first.
        #[arg(long)]
        reset: bool,
    },
    /// Bill a period: issue the unified payment documents of every account.
    Bill {
        #[arg(long)]
        period: String,
        /// Only this territory (default: all).
        #[arg(long)]
        territory: Option<String>,
        /// Issue new versions of an already issued period.
        #[arg(long, requires = "reason")]
        reissue: bool,
        /// Why the new versions are issued (printed on them).
        #[arg(long, requires = "reissue")]
        reason: Option<String>,
        #[arg(long, default_value_t = 5000)]
        batch: usize,
    },
    /// Import a CSV file (all or nothing): providers, services, tariffs, premises, readings, charges.
    Import { kind: String, file: PathBuf },
    /// Check an identifier: prints `valid` or `invalid: <reason>`.
    Check {
        #[arg(value_parser = ["iban", "iin", "bin"])]
        what: String,
        value: String,
    },
    /// Working-day calendar of Kazakhstan.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// The date N working days after DATE (counting from the day after).
    AddWorkingDays { date: String, n: u32 },
    /// Prints yes or no.
    IsWorkingDay { date: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn date(s: &str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("'{s}' is not a date (expected YYYY-MM-DD)"))
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Check { what, value } => {
            let result = match what.as_str() {
                "iban" => banks().verify_provider_iban(&value).map(|_| ()),
                "iin" => Iin::parse(&value).map(|_| ()),
                _ => Bin::parse(&value).map(|_| ()),
            };
            Ok(match result {
                Ok(()) => {
                    println!("valid");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    println!("invalid: {e}");
                    ExitCode::FAILURE
                }
            })
        }
        Command::Calendar { command } => {
            let cal = WorkingCalendar::kazakhstan();
            match command {
                CalendarCommand::AddWorkingDays { date: d, n } => {
                    let d = date(&d)?;
                    if !cal.covers_year(d.year_ce().1 as i32) {
                        eprintln!("note: no decree data for this year; law holidays only");
                    }
                    println!("{}", cal.add_working_days(d, n));
                }
                CalendarCommand::IsWorkingDay { date: d } => {
                    let d = date(&d)?;
                    println!("{}", if cal.is_working_day(d) { "yes" } else { "no" });
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        other => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(run_async(cli.database, other)),
    }
}

use chrono::Datelike;

async fn run_async(database: String, command: Command) -> Result<ExitCode> {
    let progress = std::io::stderr().is_terminal();
    match command {
        Command::Serve {
            addr,
            site,
            cabinet,
            secure_cookies,
            signin_ip_limit,
            exit_on_stdin_eof,
        } => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info,sqlx=warn".into()),
                )
                .init();
            let db = Db::open(&database).await?;
            let config = api::Config {
                secure_cookies,
                ..api::Config::default()
            };
            let mut state = esep_server::state(db.clone(), config);
            state.limits = std::sync::Arc::new(api::Limits {
                per_ip: esep_server::auth::RateLimiter::new(
                    signin_ip_limit,
                    std::time::Duration::from_secs(300),
                ),
                ..api::Limits::default()
            });
            let app = esep_server::app(state, &StaticDirs { site, cabinet });
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding {addr}"))?;
            println!(
                "esep: serving on http://{addr} ({} database)",
                db.backend.name()
            );
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown(exit_on_stdin_eof))
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo {
            accounts,
            months,
            through,
            consumers,
            reset,
        } => {
            if reset && let Some(path) = sqlite_path(&database) {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
            let db = Db::open(&database).await?;
            if reset && db.backend == esep_server::store::Backend::Postgres {
                demo::wipe(&db).await?;
            }
            let through = match through {
                Some(p) => Period::parse(&p)?,
                None => Period::of(chrono::Utc::now().date_naive()).prev(),
            };
            let report = demo::seed(
                &db,
                &DemoOptions {
                    accounts,
                    months,
                    through,
                    consumers,
                    progress,
                },
            )
            .await?;
            if report.seeded {
                println!(
                    "Demo city seeded: {} accounts, {months} months billed through {through}.",
                    report.accounts
                );
            } else {
                println!(
                    "Demo city already present ({} accounts); kept. Use --reset to start over.",
                    report.accounts
                );
            }
            println!("Demo sign-ins (password: {}):", demo::DEMO_PASSWORD);
            for u in &report.users {
                let accounts = if u.accounts.is_empty() {
                    String::new()
                } else {
                    format!(" — account {}", u.accounts.join(", "))
                };
                println!(
                    "  {:<9} {:<14} {}{accounts}",
                    u.role.code(),
                    u.login,
                    u.display
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bill {
            period,
            territory,
            reissue,
            reason,
            batch,
        } => {
            let period = Period::parse(&period)?;
            let db = Db::open(&database).await?;
            let reissue_reason = if reissue { reason } else { None };
            let s = billing_run::run(
                &db,
                &RunOptions {
                    period,
                    territory,
                    reissue_reason,
                    batch: batch.clamp(1, 50_000),
                    progress,
                },
            )
            .await?;
            println!(
                "Billed {period}: {} UPDs issued with {} lines, {} already issued, {} failed; total charged {} ₸.",
                s.issued,
                s.lines,
                s.already_issued,
                s.failed.len(),
                s.total_charged
            );
            println!(
                "Time {:.2} s, {:.0} UPDs/s, peak memory {:.1} MiB ({} database).",
                s.seconds,
                s.per_second(),
                billing_run::peak_memory_mib().unwrap_or(0.0),
                db.backend.name()
            );
            if s.issued == 0 && s.already_issued > 0 && s.failed.is_empty() {
                println!(
                    "Nothing to do: {period} is already issued (use --reissue --reason \"…\" to issue corrected versions)."
                );
            }
            for (account, error) in s.failed.iter().take(20) {
                println!("  failed: account {account}: {error}");
            }
            Ok(if s.failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        Command::Import { kind, file } => {
            let kind: Kind = kind.parse().map_err(anyhow::Error::msg)?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let db = Db::open(&database).await?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            match import::import(
                &db,
                kind,
                &name,
                &text,
                banks(),
                api::Config::default().spike_factor,
            )
            .await
            {
                Ok(Outcome::Imported { rows, changed }) => {
                    println!(
                        "Imported {}: {rows} rows, {changed} changes.",
                        file.display()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Ok(Outcome::AlreadyImported { at }) => {
                    println!(
                        "{} was already imported at {at}; nothing changed.",
                        file.display()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(ImportError::Rejected(errors)) => {
                    println!(
                        "Rejected {}: {} errors; nothing was imported.",
                        file.display(),
                        errors.len()
                    );
                    for e in &errors {
                        println!("  {e}");
                    }
                    Ok(ExitCode::FAILURE)
                }
                Err(ImportError::Storage(e)) => Err(e),
            }
        }
        Command::Check { .. } | Command::Calendar { .. } => {
            unreachable!("handled without a runtime")
        }
    }
}

/// Ctrl-C, or (for test harnesses) the end of standard input.
async fn shutdown(on_stdin_eof: bool) {
    if !on_stdin_eof {
        let _ = tokio::signal::ctrl_c().await;
        return;
    }
    let stdin = async {
        let mut buf = [0u8; 64];
        let mut input = tokio::io::stdin();
        while tokio::io::AsyncReadExt::read(&mut input, &mut buf)
            .await
            .is_ok_and(|n| n > 0)
        {}
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = stdin => {}
    }
}

fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    Some(rest.split('?').next().unwrap_or(rest).to_string())
}
