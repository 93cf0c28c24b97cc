//! CSV imports: providers, services, tariffs, the premises register, meter readings and
//! provider-submitted charge lines. The columns of each are documented in
//! `docs/imports.md`. A file is all-or-nothing: every bad row is reported by line and
//! column and nothing changes; importing the same file twice changes nothing.

use crate::store::Db;
use crate::store::imports::{ApplyOutcome, Rows};
use esep_core::ids::BankDirectory;
use esep_core::tariff::{Tariff, TariffKind, Tier, Unit};
use esep_core::{Bin, Money, Period};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Providers,
    Services,
    Tariffs,
    Premises,
    Readings,
    Charges,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::Providers => "providers",
            Kind::Services => "services",
            Kind::Tariffs => "tariffs",
            Kind::Premises => "premises",
            Kind::Readings => "readings",
            Kind::Charges => "charges",
        }
    }

    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Providers => &["bin", "name", "iban", "kbe", "knp"],
            Kind::Services => &[
                "code",
                "provider_bin",
                "section",
                "unit",
                "source",
                "name_kk",
                "name_ru",
                "name_en",
            ],
            Kind::Tariffs => &[
                "service",
                "territory",
                "kind",
                "rate",
                "tiers",
                "valid_from",
                "valid_to",
            ],
            Kind::Premises => &[
                "register_id",
                "territory",
                "address",
                "area_m2",
                "residents",
                "account_number",
                "holder_name",
                "services",
            ],
            Kind::Readings => &["account_number", "service", "period", "value", "taken_on"],
            Kind::Charges => &[
                "provider_bin",
                "external_id",
                "account_number",
                "service",
                "period",
                "kind",
                "amount",
                "quantity",
                "description",
            ],
        }
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "providers" => Kind::Providers,
            "services" => Kind::Services,
            "tariffs" => Kind::Tariffs,
            "premises" => Kind::Premises,
            "readings" => Kind::Readings,
            "charges" => Kind::Charges,
            other => {
                return Err(format!(
                    "unknown import '{other}': use providers, services, tariffs, premises, readings or charges"
                ));
            }
        })
    }
}

/// One problem in an imported file: where, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column.is_empty() {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            write!(
                f,
                "line {}, column {}: {}",
                self.line, self.column, self.message
            )
        }
    }
}

#[derive(Debug)]
pub enum ImportError {
    /// The file was refused; nothing changed.
    Rejected(Vec<RowError>),
    Storage(anyhow::Error),
}

impl From<anyhow::Error> for ImportError {
    fn from(e: anyhow::Error) -> Self {
        ImportError::Storage(e)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Imported { rows: usize, changed: usize },
    AlreadyImported { at: String },
}

/// A parsed row that still carries its line for error messages.
pub struct Line<T> {
    pub line: u64,
    pub row: T,
}

struct Cells<'a> {
    record: &'a csv::StringRecord,
    line: u64,
    columns: &'static [&'static str],
    errors: &'a mut Vec<RowError>,
}

impl Cells<'_> {
    fn fail(&mut self, column: &str, message: String) {
        self.errors.push(RowError {
            line: self.line,
            column: column.to_string(),
            message,
        });
    }

    fn text(&mut self, column: &str) -> Option<String> {
        let i = self.columns.iter().position(|c| *c == column)?;
        let v = self.record.get(i).unwrap_or("").trim().to_string();
        Some(v)
    }

    fn required(&mut self, column: &str) -> Option<String> {
        let v = self.text(column)?;
        if v.is_empty() {
            self.fail(column, "is empty but required".into());
            return None;
        }
        Some(v)
    }

    fn parse<T, E: fmt::Display>(
        &mut self,
        column: &str,
        f: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let v = self.required(column)?;
        match f(&v) {
            Ok(t) => Some(t),
            Err(e) => {
                self.fail(column, format!("'{v}': {e}"));
                None
            }
        }
    }

    fn optional<T, E: fmt::Display>(
        &mut self,
        column: &str,
        f: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<Option<T>> {
        let v = self.text(column)?;
        if v.is_empty() {
            return Some(None);
        }
        match f(&v) {
            Ok(t) => Some(Some(t)),
            Err(e) => {
                self.fail(column, format!("'{v}': {e}"));
                None
            }
        }
    }

    fn decimal(&mut self, column: &str, allow_zero: bool) -> Option<Decimal> {
        let d = self.parse(column, |s| {
            if !s
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
            {
                return Err("not a number (digits and '.' only, e.g. 42.8)".to_string());
            }
            Decimal::from_str(s).map_err(|_| "not a number (e.g. 42.8)".to_string())
        })?;
        if d.is_sign_negative() && !d.is_zero() {
            self.fail(column, format!("'{d}' is negative"));
            return None;
        }
        if !allow_zero && d.is_zero() {
            self.fail(column, "must be greater than zero".into());
            return None;
        }
        // No area, rate, meter or charge comes near this; the bound keeps every product
        // the billing run forms far inside exact decimal arithmetic.
        if d > Decimal::from(MAX_QUANTITY) {
            self.fail(
                column,
                format!("'{d}' is too large (at most {MAX_QUANTITY})"),
            );
            return None;
        }
        Some(d)
    }
}

/// The largest number an import accepts in a numeric column.
pub const MAX_QUANTITY: i64 = 1_000_000_000_000;

fn date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| "not a date (expected YYYY-MM-DD)".to_string())
}

/// Reads a CSV file: checks the header and hands each record to `row`.
/// Returns the rows that parsed and the errors of those that did not; a bad header is an
/// error of the whole file.
fn read<T>(
    kind: Kind,
    text: &str,
    errors: &mut Vec<RowError>,
    mut row: impl FnMut(&mut Cells<'_>) -> Option<T>,
) -> Result<Vec<Line<T>>, Vec<RowError>> {
    let columns = kind.columns();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_string()).collect(),
        Err(e) => {
            return Err(vec![RowError {
                line: 1,
                column: String::new(),
                message: format!("unreadable header: {e}"),
            }]);
        }
    };
    if header != columns {
        return Err(vec![RowError {
            line: 1,
            column: String::new(),
            message: format!(
                "the header must be exactly '{}' but is '{}'",
                columns.join(","),
                header.join(",")
            ),
        }]);
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError {
                    line,
                    column: String::new(),
                    message: format!("not valid CSV: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != columns.len() {
            errors.push(RowError {
                line,
                column: String::new(),
                message: format!(
                    "has {} fields; {} expected ({})",
                    record.len(),
                    columns.len(),
                    columns.join(",")
                ),
            });
            continue;
        }
        let before = errors.len();
        let mut cells = Cells {
            record: &record,
            line,
            columns,
            errors: &mut *errors,
        };
        let parsed = row(&mut cells);
        if let (Some(r), true) = (parsed, errors.len() == before) {
            rows.push(Line { line, row: r });
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(RowError {
            line: 2,
            column: String::new(),
            message: "the file has a header but no rows".into(),
        });
    }
    Ok(rows)
}

pub struct ProviderRow {
    pub bin: String,
    pub name: String,
    pub iban: String,
    pub bic: String,
    pub bank_name: String,
    pub kbe: String,
    pub knp: String,
}

pub struct ServiceRow {
    pub code: String,
    pub provider_bin: String,
    pub section: String,
    pub unit: String,
    pub source: String,
    pub names: [String; 3],
}

pub struct TariffRow {
    pub service: String,
    pub territory: String,
    pub tariff: Tariff,
}

pub struct PremisesRow {
    pub register_id: String,
    pub territory: String,
    pub address: String,
    pub area_m2: Decimal,
    pub residents: u32,
    pub account_number: String,
    pub holder_name: String,
    pub services: Vec<String>,
}

pub struct ReadingRow {
    pub account_number: String,
    pub service: String,
    pub period: Period,
    pub value: Decimal,
    pub taken_on: chrono::NaiveDate,
}

pub struct ChargeRow {
    pub provider_bin: String,
    pub external_id: String,
    pub account_number: String,
    pub service: String,
    pub period: Period,
    pub kind: String,
    pub amount: Money,
    pub quantity: Option<Decimal>,
    pub description: String,
}

fn code_like(s: &str) -> Result<String, String> {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        Ok(s.to_string())
    } else {
        Err("use lowercase letters, digits and '_' only".into())
    }
}

fn account_number(s: &str) -> Result<String, String> {
    if (6..=20).contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err("an account number has 6 to 20 digits".into())
    }
}

/// "70:35.67|140:42.80|*:53.50": limit per resident and rate of each tier; '*' is unlimited.
pub fn parse_tiers(s: &str) -> Result<Vec<Tier>, String> {
    s.split('|')
        .map(|part| {
            let (limit, rate) = part
                .split_once(':')
                .ok_or_else(|| format!("tier '{part}' must be LIMIT:RATE"))?;
            let rate = Decimal::from_str(rate.trim())
                .map_err(|_| format!("tier rate '{rate}' is not a number"))?;
            let up_to_per_resident = match limit.trim() {
                "*" => None,
                l => Some(
                    Decimal::from_str(l)
                        .map_err(|_| format!("tier limit '{l}' is not a number or '*'"))?,
                ),
            };
            Ok(Tier {
                up_to_per_resident,
                rate,
            })
        })
        .collect()
}

/// Parses a file: the rows that parsed, and the errors of the others.
pub fn parse(
    kind: Kind,
    text: &str,
    banks: &BankDirectory,
) -> Result<(Rows, Vec<RowError>), Vec<RowError>> {
    let mut errors = Vec::new();
    let e = &mut errors;
    let rows = match kind {
        Kind::Providers => Rows::Providers(read(kind, text, e, |c| {
            let bin = c.parse("bin", |s| Bin::parse(s).map(|b| b.to_string()));
            let name = c.required("name");
            let iban = c.parse("iban", |s| {
                banks
                    .verify_provider_iban(s)
                    .map(|(i, b)| (i.to_string(), b.bic().to_string(), b.name().to_string()))
            });
            let kbe = c.parse("kbe", |s| {
                if s.len() == 2
                    && s.chars().all(|c| c.is_ascii_digit())
                    && matches!(&s[..1], "1" | "2")
                {
                    Ok(s.to_string())
                } else {
                    Err("КБе is 2 digits: residency (1 or 2) and economic sector")
                }
            });
            let knp = c.parse("knp", |s| {
                if s.len() == 3 && s.chars().all(|c| c.is_ascii_digit()) {
                    Ok(s.to_string())
                } else {
                    Err("КНП is 3 digits")
                }
            });
            let (iban, bic, bank_name) = iban?;
            Some(ProviderRow {
                bin: bin?,
                name: name?,
                iban,
                bic,
                bank_name,
                kbe: kbe?,
                knp: knp?,
            })
        })?),
        Kind::Services => Rows::Services(read(kind, text, e, |c| {
            let code = c.parse("code", code_like);
            let provider_bin = c.parse("provider_bin", |s| Bin::parse(s).map(|b| b.to_string()));
            let section = c.parse("section", |s| {
                s.parse::<esep_core::billing::Section>()
                    .map(|x| x.code().to_string())
            });
            let unit = c.parse("unit", |s| s.parse::<Unit>().map(|u| u.code().to_string()));
            let source = c.parse("source", |s| match s {
                "tariff" | "provider" => Ok(s.to_string()),
                _ => Err(
                    "use tariff (the USC computes it) or provider (the provider submits charges)",
                ),
            });
            let names = [
                c.required("name_kk"),
                c.required("name_ru"),
                c.required("name_en"),
            ];
            let [kk, ru, en] = names;
            Some(ServiceRow {
                code: code?,
                provider_bin: provider_bin?,
                section: section?,
                unit: unit?,
                source: source?,
                names: [kk?, ru?, en?],
            })
        })?),
        Kind::Tariffs => Rows::Tariffs(read(kind, text, e, |c| {
            let service = c.parse("service", code_like);
            let territory = c.required("territory");
            let tariff_kind = c.parse("kind", TariffKind::from_str);
            let rate = c.decimal("rate", true);
            let tiers = c.optional("tiers", parse_tiers);
            let valid_from = c.parse("valid_from", date);
            let valid_to = c.optional("valid_to", date);
            let tariff = Tariff {
                kind: tariff_kind?,
                rate: rate?,
                tiers: tiers?.unwrap_or_default(),
                valid_from: valid_from?,
                valid_to: valid_to?,
            };
            if let Err(e) = tariff.validate() {
                let column = match e {
                    esep_core::tariff::TariffError::BadValidity { .. } => "valid_to",
                    _ => "tiers",
                };
                c.fail(column, e.to_string());
                return None;
            }
            Some(TariffRow {
                service: service?,
                territory: territory?,
                tariff,
            })
        })?),
        Kind::Premises => Rows::Premises(read(kind, text, e, |c| {
            let register_id = c.required("register_id");
            let territory = c.required("territory");
            let address = c.required("address");
            let area = c.decimal("area_m2", false);
            let residents = c.parse("residents", |s| {
                s.parse::<u32>()
                    .ok()
                    .filter(|n| *n <= 200)
                    .ok_or("must be a whole number from 0 to 200")
            });
            let number = c.parse("account_number", account_number);
            let holder = c.required("holder_name");
            let services = c.parse("services", |s| {
                s.split(';')
                    .map(|x| code_like(x.trim()))
                    .collect::<Result<Vec<_>, _>>()
            });
            Some(PremisesRow {
                register_id: register_id?,
                territory: territory?,
                address: address?,
                area_m2: area?,
                residents: residents?,
                account_number: number?,
                holder_name: holder?,
                services: services?,
            })
        })?),
        Kind::Readings => Rows::Readings(read(kind, text, e, |c| {
            let number = c.parse("account_number", account_number);
            let service = c.parse("service", code_like);
            let period = c.parse("period", Period::parse);
            let value = c.decimal("value", true);
            let taken_on = c.parse("taken_on", date);
            Some(ReadingRow {
                account_number: number?,
                service: service?,
                period: period?,
                value: value?,
                taken_on: taken_on?,
            })
        })?),
        Kind::Charges => {
            Rows::Charges(read(kind, text, e, |c| {
                let provider_bin =
                    c.parse("provider_bin", |s| Bin::parse(s).map(|b| b.to_string()));
                let external_id = c.required("external_id");
                let number = c.parse("account_number", account_number);
                let service = c.parse("service", code_like);
                let period = c.parse("period", Period::parse);
                let kind = c.parse("kind", |s| match s {
                    "charge" | "recalculation" => Ok(s.to_string()),
                    _ => Err("use charge or recalculation"),
                });
                let amount = c.parse("amount", Money::parse);
                let quantity = c.optional("quantity", |s| {
                    Decimal::from_str(s)
                        .ok()
                        .filter(|d| !d.is_sign_negative())
                        .ok_or("not a non-negative number")
                });
                let description = c.required("description");
                let (kind, amount) = (kind?, amount?);
                if kind == "charge" && amount.is_negative() {
                    c.fail("amount", format!("'{amount}' is negative; a charge cannot be negative (use a recalculation)"));
                    return None;
                }
                Some(ChargeRow {
                    provider_bin: provider_bin?,
                    external_id: external_id?,
                    account_number: number?,
                    service: service?,
                    period: period?,
                    kind,
                    amount,
                    quantity: quantity?,
                    description: description?,
                })
            })?)
        }
    };
    Ok((rows, errors))
}

/// Parses, checks against the database and applies one file, all or nothing.
pub async fn import(
    db: &Db,
    kind: Kind,
    file_name: &str,
    text: &str,
    banks: &BankDirectory,
    spike_factor: Decimal,
) -> Result<Outcome, ImportError> {
    let sha = format!("{:x}", Sha256::digest(text.as_bytes()));
    if let Some(at) = db.import_seen(kind.code(), &sha).await? {
        return Ok(Outcome::AlreadyImported { at });
    }
    let (rows, errors) = parse(kind, text, banks).map_err(ImportError::Rejected)?;
    let count = rows.len();
    // The rows that parsed are still checked against the database, so that one answer
    // lists every error of the file.
    match db
        .apply_import(kind.code(), &sha, file_name, rows, errors, spike_factor)
        .await?
    {
        ApplyOutcome::Rejected(errors) => Err(ImportError::Rejected(errors)),
        ApplyOutcome::Applied { changed } => Ok(Outcome::Imported {
            rows: count,
            changed,
        }),
    }
}
