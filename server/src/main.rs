//! `esep`: the command line of the Unified Settlement Center software.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use esep_core::{Bin, Iin, Period, WorkingCalendar};
use esep_server::billing_run::{self, RunOptions};
use esep_server::demo::{self, DemoOptions};
use esep_server::import::{self, ImportError, Kind, Outcome};
use esep_server::store::Db;
use esep_server::{StaticDirs, api, banks};
use sqlx::Row;
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
        /// The address consumers and banks reach this server at.
        #[arg(long)]
        public_url: Option<String>,
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
    /// Run a SANDBOX bank (a simulated partner bank over real HTTP; no money moves).
    SandboxBank {
        #[arg(long)]
        name: String,
        #[arg(long)]
        port: u16,
        /// The HMAC secret shared with the USC.
        #[arg(long, env = "ESEP_SANDBOX_SECRET", hide_env_values = true)]
        secret: String,
        /// Deliver every callback once, in order (by default some are duplicated or reordered).
        #[arg(long)]
        no_chaos: bool,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Answer payout batches after this many milliseconds (a slow bank, for fault tests).
        #[arg(long, default_value_t = 0)]
        payout_delay_ms: u64,
        #[arg(long, hide = true)]
        exit_on_stdin_eof: bool,
    },
    /// The banks (financial organisations) and their transit accounts.
    Bank {
        #[command(subcommand)]
        command: BankCommand,
    },
    /// Payouts from the transit accounts to the providers.
    Payouts {
        #[command(subcommand)]
        command: PayoutsCommand,
    },
    /// The double-entry ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// A bank's daily registry of payments.
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// Complaints and applications (D13): 15 working days, one extension of at most 5.
    Complaint {
        #[command(subcommand)]
        command: ComplaintCommand,
    },
    /// The discrepancy journal (D8, D9).
    Discrepancy {
        #[command(subcommand)]
        command: DiscrepancyCommand,
    },
    /// Audits (D7, D10): run the automated checks and keep the results.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Exchange with ОЖАЖ, the state housing information system (D4).
    Ozhazh {
        #[command(subcommand)]
        command: OzhazhCommand,
    },
    /// Run a SANDBOX ОЖАЖ receiver that validates and acknowledges exchange files.
    SandboxOzhazh {
        #[arg(long)]
        port: u16,
        /// Answer the first N deliveries 503, to exercise retries.
        #[arg(long, default_value_t = 0)]
        fail_first: u32,
        #[arg(long, hide = true)]
        exit_on_stdin_eof: bool,
    },
    /// Reports to providers (D3).
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Key performance indicators (D14d).
    Kpi {
        #[command(subcommand)]
        command: KpiCommand,
    },
    /// The transparency site (D14): the same as `esep-site build`.
    Site {
        #[command(subcommand)]
        command: SiteCommand,
    },
    /// Benchmarks that print figures (used by `cargo xtask bench`).
    #[command(hide = true)]
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum ComplaintCommand {
    /// Register a complaint received by phone, at the office or by letter.
    Register {
        #[arg(long)]
        channel: String,
        #[arg(long, default_value = "complaint")]
        kind: String,
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        subject: String,
        #[arg(long)]
        body: String,
        /// The registration date (default today).
        #[arg(long)]
        date: Option<String>,
    },
    /// Defer the answer once, by 1–5 working days, with a reason (the applicant is told).
    Extend {
        number: String,
        #[arg(long)]
        days: u32,
        #[arg(long)]
        reason: String,
    },
    /// Answer a complaint.
    Answer {
        number: String,
        #[arg(long)]
        text: String,
    },
    /// The queue: overdue first, then by deadline.
    List,
}

#[derive(Subcommand)]
enum DiscrepancyCommand {
    /// Register a discrepancy (late when more than 3 working days after its detection).
    Register {
        #[arg(long)]
        source: String,
        #[arg(long)]
        detected: String,
        #[arg(long)]
        registered: Option<String>,
        #[arg(long)]
        description: String,
        #[arg(long)]
        justification: String,
        #[arg(long)]
        responsible: String,
    },
    /// Correct it with a recalculation on the account's next UPD.
    Correct {
        id: i64,
        #[arg(long)]
        account: String,
        #[arg(long)]
        service: String,
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
    },
    /// The act of a discrepancy as a PDF (D9).
    Act {
        id: i64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Close a corrected discrepancy.
    Close {
        id: i64,
        #[arg(long)]
        note: String,
    },
    /// The journal.
    List,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Run an audit of the UPDs of a range of months.
    Run {
        #[arg(long, default_value = "planned")]
        kind: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        period_from: String,
        #[arg(long)]
        period_to: String,
    },
    /// The audits kept.
    List,
}

#[derive(Subcommand)]
enum OzhazhCommand {
    /// Write the month's exchange file (JSON Lines, docs/ozhazh-exchange.md).
    Export {
        #[arg(long)]
        period: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Deliver the month's file, retrying failures; the attempt is logged.
    Send {
        #[arg(long)]
        period: String,
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 5)]
        attempts: u32,
    },
    /// The delivery log.
    Deliveries,
}

#[derive(Subcommand)]
enum ReportCommand {
    /// A provider's month: planned charges against payments received and paid out.
    Provider {
        #[arg(long)]
        bin: String,
        #[arg(long)]
        period: String,
        #[arg(long, default_value = "csv", value_parser = ["csv", "json", "pdf"])]
        format: String,
        /// Where to write the report (a PDF needs a file; CSV and JSON print when absent).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum KpiCommand {
    /// Write the versioned KPI file (JSON) for a range of months.
    Export {
        #[arg(long)]
        period_from: String,
        #[arg(long)]
        period_to: String,
        #[arg(long, default_value = "data/kpi.json")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum SiteCommand {
    /// Build the site from the content directory and a KPI file.
    Build {
        #[arg(long, default_value = "content")]
        content: PathBuf,
        #[arg(long)]
        kpi: Option<PathBuf>,
        #[arg(long, default_value = "data/site")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Signed bank callbacks over HTTP against the API and the database.
    Callbacks {
        #[arg(long, default_value_t = 5000)]
        payments: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
    /// The raw bulk-insert speed of the rows a billing run wrote for a period, into scratch
    /// tables of the same shape (the storage limit under the run).
    Inserts {
        #[arg(long)]
        period: String,
        #[arg(long, default_value_t = 5000)]
        batch: usize,
    },
}

#[derive(Subcommand)]
enum BankCommand {
    /// Add a bank or change its details.
    Set {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        url: String,
        /// The transit account (T5), checked against the bank directory.
        #[arg(long)]
        transit_iban: String,
        #[arg(long, env = "ESEP_BANK_SECRET", hide_env_values = true)]
        secret: String,
        #[arg(long)]
        sandbox: bool,
    },
    /// List the banks.
    List,
}

#[derive(Subcommand)]
enum PayoutsCommand {
    /// One pain.001 batch per transit account for a value date (idempotent).
    Run {
        #[arg(long)]
        date: String,
        /// Where the pain.001 files are written.
        #[arg(long, default_value = "data/payouts")]
        out: PathBuf,
        /// Write the files but do not send them to the banks.
        #[arg(long)]
        no_submit: bool,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Verify every invariant and print the balances; exit 1 on any imbalance.
    Check,
}

#[derive(Subcommand)]
enum RegistryCommand {
    /// Fetch a bank's registry for a date and reconcile it with the callbacks.
    Reconcile {
        #[arg(long)]
        bank: String,
        #[arg(long)]
        date: String,
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
            public_url,
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
                public_url: public_url.unwrap_or_else(|| format!("http://{addr}")),
                ..api::Config::default()
            };
            db.spawn_checkpointer();
            let mut state = esep_server::state(db.clone(), config);
            state.limits = std::sync::Arc::new(api::Limits {
                per_ip: esep_server::auth::RateLimiter::new(
                    signin_ip_limit,
                    std::time::Duration::from_secs(300),
                ),
                ..api::Limits::default()
            });
            let hub = state.chat.clone();
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
            .with_graceful_shutdown(async move {
                shutdown(exit_on_stdin_eof).await;
                // Open chat streams would hold the shutdown forever: end them.
                hub.close();
            })
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
        Command::SandboxBank {
            name,
            port,
            secret,
            no_chaos,
            seed,
            payout_delay_ms,
            exit_on_stdin_eof,
        } => {
            let sandbox = esep_server::sandbox_bank::Sandbox::new(&name, &secret, !no_chaos, seed);
            sandbox.set_payout_delay(payout_delay_ms);
            tokio::spawn(esep_server::sandbox_bank::deliver_callbacks(
                sandbox.clone(),
            ));
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding {addr}"))?;
            println!("SANDBOX bank {name} on http://{addr} (no real money moves)");
            axum::serve(listener, esep_server::sandbox_bank::router(sandbox))
                .with_graceful_shutdown(shutdown(exit_on_stdin_eof))
                .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bank { command } => {
            let db = Db::open(&database).await?;
            match command {
                BankCommand::Set {
                    code,
                    name,
                    url,
                    transit_iban,
                    secret,
                    sandbox,
                } => {
                    let (iban, bank) = banks()
                        .verify_provider_iban(&transit_iban)
                        .map_err(|e| anyhow::anyhow!("--transit-iban: {e}"))?;
                    db.put_bank(
                        &esep_server::store::payments::BankRow {
                            id: 0,
                            code: code.clone(),
                            name,
                            base_url: url,
                            transit_iban: iban.to_string(),
                            bic: bank.bic().to_string(),
                            secret,
                        },
                        sandbox,
                    )
                    .await?;
                    println!(
                        "Bank {code} saved (transit account {iban}, {}).",
                        bank.name()
                    );
                }
                BankCommand::List => {
                    for b in db.banks().await? {
                        println!(
                            "{:<16} {:<28} {} {}",
                            b.code, b.name, b.transit_iban, b.base_url
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Payouts {
            command:
                PayoutsCommand::Run {
                    date: d,
                    out,
                    no_submit,
                },
        } => {
            let d = date(&d)?;
            let db = Db::open(&database).await?;
            let reports = esep_server::settle::payouts(&db, d, !no_submit, Some(&out)).await?;
            if reports.is_empty() {
                println!("Nothing to pay out on {d}.");
            }
            for r in &reports {
                println!(
                    "{} batch {}: {} transfers, {} ₸, {}{}{}",
                    r.bank,
                    r.msg_id,
                    r.transfers,
                    r.total,
                    if r.new { "new" } else { "already created" },
                    if r.confirmed {
                        ", confirmed by the bank"
                    } else {
                        ", not confirmed"
                    },
                    r.file
                        .as_ref()
                        .map(|f| format!(" — {f}"))
                        .unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Ledger {
            command: LedgerCommand::Check,
        } => {
            let db = Db::open(&database).await?;
            println!("{:<40} {:>18}", "account", "balance ₸");
            for b in db.ledger_balances().await? {
                println!("{:<40} {:>18}", b.account, b.balance.to_string());
            }
            let problems = db.ledger_problems().await?;
            if problems.is_empty() {
                println!("Ledger balanced: every entry sums to zero and every invariant holds.");
                Ok(ExitCode::SUCCESS)
            } else {
                for p in &problems {
                    println!("IMBALANCE: {p}");
                }
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Registry {
            command: RegistryCommand::Reconcile { bank, date: d },
        } => {
            let d = date(&d)?;
            let db = Db::open(&database).await?;
            let r = esep_server::settle::reconcile(&db, &bank, d).await?;
            println!(
                "Registry of {bank} for {d}: {} lines, {} matched, {} credited, {} reversed, {} problems.",
                r.lines,
                r.matched,
                r.credited,
                r.reversed,
                r.problems.len()
            );
            for p in &r.problems {
                println!("  {p}");
            }
            Ok(if r.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Complaint { command } => {
            let db = Db::open(&database).await?;
            let cal = WorkingCalendar::kazakhstan();
            let today = chrono::Utc::now().date_naive();
            let c = match command {
                ComplaintCommand::Register {
                    channel,
                    kind,
                    account,
                    subject,
                    body,
                    date: d,
                } => {
                    let account_id = match account {
                        Some(n) => Some(
                            db.account_by_number(&n)
                                .await?
                                .with_context(|| format!("no account {n}"))?
                                .id,
                        ),
                        None => None,
                    };
                    let registered_on = d.map(|d| date(&d)).transpose()?.unwrap_or(today);
                    db.register_complaint(
                        &cal,
                        &esep_server::duties::NewComplaint {
                            user_id: None,
                            account_id,
                            channel: &channel,
                            kind: &kind,
                            subject: &subject,
                            body: &body,
                            registered_on,
                            created_by: None,
                        },
                    )
                    .await?
                }
                ComplaintCommand::Extend {
                    number,
                    days,
                    reason,
                } => {
                    db.extend_complaint(&cal, &number, days, &reason, None, esep_core::Lang::Kk)
                        .await?
                }
                ComplaintCommand::Answer { number, text } => {
                    db.answer_complaint(&number, &text, None, today).await?
                }
                ComplaintCommand::List => {
                    for c in db.complaint_queue(today).await? {
                        println!(
                            "{} {:<11} {:<9} due {}{} {}",
                            c.number,
                            c.kind,
                            c.status,
                            c.due,
                            if c.overdue { " OVERDUE" } else { "" },
                            c.subject
                        );
                    }
                    return Ok(ExitCode::SUCCESS);
                }
            };
            println!(
                "{} {} ({}): registered {}, answer due {}{}.",
                c.number,
                c.status,
                c.kind,
                c.registered_on,
                c.due,
                c.extension_reason
                    .as_ref()
                    .map(|r| format!(" (extended: {r})"))
                    .unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Discrepancy { command } => {
            let db = Db::open(&database).await?;
            let cal = WorkingCalendar::kazakhstan();
            let today = chrono::Utc::now().date_naive();
            match command {
                DiscrepancyCommand::Register {
                    source,
                    detected,
                    registered,
                    description,
                    justification,
                    responsible,
                } => {
                    let detected_on = date(&detected)?;
                    let registered_on = registered.map(|d| date(&d)).transpose()?.unwrap_or(today);
                    let id = db
                        .register_discrepancy(
                            &cal,
                            &esep_server::duties::NewDiscrepancy {
                                source: &source,
                                detected_on,
                                registered_on,
                                description: &description,
                                justification: &justification,
                                responsible: &responsible,
                                provider_id: None,
                                account_id: None,
                                complaint_id: None,
                                audit_finding_id: None,
                            },
                            None,
                        )
                        .await?;
                    let d = db
                        .discrepancies()
                        .await?
                        .into_iter()
                        .find(|d| d.id == id)
                        .context("the discrepancy")?;
                    println!(
                        "D-{id} registered {} (detected {}, deadline {}){}; notice sent to {}.",
                        d.registered_on,
                        d.detected_on,
                        d.registration_deadline,
                        if d.late {
                            " — LATE: more than 3 working days after detection"
                        } else {
                            ""
                        },
                        d.responsible
                    );
                }
                DiscrepancyCommand::Correct {
                    id,
                    account,
                    service,
                    amount,
                } => {
                    let amount = esep_core::Money::parse(&amount)?;
                    let period = db
                        .correct_discrepancy(id, &account, &service, amount, None)
                        .await?;
                    println!(
                        "D-{id}: a recalculation of {amount} ₸ goes on the UPD of {period} for account {account}."
                    );
                }
                DiscrepancyCommand::Act { id, out } => {
                    let pdf = db.discrepancy_act(id).await?;
                    std::fs::write(&out, pdf)
                        .with_context(|| format!("writing {}", out.display()))?;
                    println!("The act of D-{id} is in {}.", out.display());
                }
                DiscrepancyCommand::Close { id, note } => {
                    db.close_discrepancy(id, &note, None).await?;
                    println!("D-{id} closed.");
                }
                DiscrepancyCommand::List => {
                    for d in db.discrepancies().await? {
                        println!(
                            "D-{} {:<10} {:<18} detected {} registered {}{} — {}{}",
                            d.id,
                            d.status,
                            d.source,
                            d.detected_on,
                            d.registered_on,
                            if d.late { " LATE" } else { "" },
                            d.description,
                            d.correction.map(|c| format!(" [{c}]")).unwrap_or_default()
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command } => {
            let db = Db::open(&database).await?;
            match command {
                AuditCommand::Run { kind, reason, period_from, period_to } => {
                    let cal = WorkingCalendar::kazakhstan();
                    let report = esep_server::audit::run(
                        &db,
                        &cal,
                        &esep_server::audit::AuditRequest {
                            kind: &kind,
                            reason: &reason,
                            from: Period::parse(&period_from)?,
                            to: Period::parse(&period_to)?,
                            date: chrono::Utc::now().date_naive(),
                        },
                        None,
                    )
                    .await?;
                    println!("Audit A-{}: {} checks, {} findings.", report.id, esep_server::audit::CHECKS.len(), report.findings.len());
                    for (f, d) in report.findings.iter().zip(&report.discrepancies) {
                        println!("  [{}] {}: {} → discrepancy D-{d}", f.check, f.subject, f.detail);
                    }
                }
                AuditCommand::List => {
                    for r in sqlx::query("SELECT id, kind, COALESCE(quarter, ''), audit_date, findings_count, reason FROM audit ORDER BY id")
                        .fetch_all(&db.pool)
                        .await?
                    {
                        println!(
                            "A-{} {} {} {} {} findings — {}",
                            r.try_get::<i64, _>(0)?,
                            r.try_get::<String, _>(1)?,
                            r.try_get::<String, _>(2)?,
                            r.try_get::<String, _>(3)?,
                            r.try_get::<i64, _>(4)?,
                            r.try_get::<String, _>(5)?
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Ozhazh { command } => {
            let db = Db::open(&database).await?;
            match command {
                OzhazhCommand::Export { period, out } => {
                    let (text, records) = esep_server::ozhazh::export(&db, Period::parse(&period)?).await?;
                    std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
                    println!("{records} records for {period} written to {}.", out.display());
                }
                OzhazhCommand::Send { period, url, attempts } => {
                    let (id, receipt) = esep_server::ozhazh::send(&db, Period::parse(&period)?, &url, attempts).await?;
                    println!("Delivery {id} of {period} accepted: {receipt}");
                }
                OzhazhCommand::Deliveries => {
                    for r in sqlx::query(
                        "SELECT id, period, status, attempts, records, COALESCE(last_error, ''), COALESCE(receipt, ''), updated_at FROM exchange_delivery ORDER BY id",
                    )
                    .fetch_all(&db.pool)
                    .await?
                    {
                        println!(
                            "{} {} {} after {} attempts, {} records, {} {} {}",
                            r.try_get::<i64, _>(0)?,
                            r.try_get::<String, _>(1)?,
                            r.try_get::<String, _>(2)?,
                            r.try_get::<i64, _>(3)?,
                            r.try_get::<i64, _>(4)?,
                            r.try_get::<String, _>(7)?,
                            r.try_get::<String, _>(5)?,
                            r.try_get::<String, _>(6)?
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::SandboxOzhazh {
            port,
            fail_first,
            exit_on_stdin_eof,
        } => {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding {addr}"))?;
            println!("SANDBOX ОЖАЖ receiver on http://{addr}/api/exchange (not the state system)");
            axum::serve(listener, esep_server::ozhazh::sandbox_router(fail_first))
                .with_graceful_shutdown(shutdown(exit_on_stdin_eof))
                .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Report {
            command:
                ReportCommand::Provider {
                    bin,
                    period,
                    format,
                    out,
                },
        } => {
            let period = Period::parse(&period)?;
            let db = Db::open(&database).await?;
            let Some(report) = db.provider_report(&bin, period).await? else {
                anyhow::bail!("no provider with BIN {bin}");
            };
            let bytes = match format.as_str() {
                "json" => serde_json::to_vec_pretty(&report)?,
                "pdf" => esep_server::reports::pdf(&report)?,
                _ => esep_server::reports::csv(&report)?.into_bytes(),
            };
            match out {
                Some(file) => {
                    std::fs::write(&file, bytes)
                        .with_context(|| format!("writing {}", file.display()))?;
                    println!("The {format} report is in {}.", file.display());
                }
                None if format == "pdf" => anyhow::bail!("--out FILE: a PDF is written to a file"),
                None => print!("{}", String::from_utf8_lossy(&bytes)),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Kpi {
            command:
                KpiCommand::Export {
                    period_from,
                    period_to,
                    out,
                },
        } => {
            let (from, to) = (Period::parse(&period_from)?, Period::parse(&period_to)?);
            anyhow::ensure!(from <= to, "--period-from {from} is after --period-to {to}");
            let db = Db::open(&database).await?;
            let kpi = db.kpi(from, to).await?;
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&out, serde_json::to_string_pretty(&kpi)?)
                .with_context(|| format!("writing {}", out.display()))?;
            let withheld = kpi.months.iter().filter(|m| m.suppressed).count();
            println!(
                "KPIs for {from}..{to} written to {} ({} months, {withheld} withheld for fewer than 10 accounts).",
                out.display(),
                kpi.months.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Site {
            command: SiteCommand::Build { content, kpi, out },
        } => match esep_site::build(&esep_site::BuildOptions {
            content: &content,
            kpi: kpi.as_deref(),
            out: &out,
        }) {
            Ok(r) => {
                println!(
                    "Built {} pages ({} files) into {}.",
                    r.pages,
                    r.files,
                    out.display()
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprint!("{e}");
                eprintln!("The site was not built: {} errors.", e.0.len());
                Ok(ExitCode::FAILURE)
            }
        },
        Command::Bench {
            command: BenchCommand::Inserts { period, batch },
        } => {
            let db = Db::open(&database).await?;
            let r = esep_server::bench::raw_inserts(&db, &period, batch.clamp(1, 50_000)).await?;
            println!(
                "Raw inserts: {} UPDs and {} lines in {:.2} s: {:.0} UPDs/s, {:.0} rows/s ({} database).",
                r.upds,
                r.lines,
                r.seconds,
                r.upds as f64 / r.seconds.max(1e-9),
                (r.upds + r.lines) as f64 / r.seconds.max(1e-9),
                db.backend.name()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            command:
                BenchCommand::Callbacks {
                    payments,
                    concurrency,
                },
        } => {
            let db = Db::open(&database).await?;
            let r = esep_server::bench::callbacks(&db, payments, concurrency).await?;
            println!(
                "Callbacks: {} for {} payments in {:.2} s: {:.0} callbacks/s, p50 {:.2} ms, p99 {:.2} ms, {} failed ({} database, concurrency {concurrency}).",
                r.callbacks,
                r.payments,
                r.seconds,
                r.per_second(),
                r.p50_ms,
                r.p99_ms,
                r.failures,
                db.backend.name()
            );
            let problems = db.ledger_problems().await?;
            let credited: i64 =
                sqlx::query("SELECT COUNT(*) FROM ledger_entry WHERE kind = 'payment'")
                    .fetch_one(&db.pool)
                    .await?
                    .try_get(0)?;
            println!(
                "Ledger after the run: {credited} payments credited, {} problems.",
                problems.len()
            );
            Ok(if problems.is_empty() && r.failures == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
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
