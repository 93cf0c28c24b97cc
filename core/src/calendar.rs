//! Working-day calendar of the Republic of Kazakhstan for legal deadlines.
//!
//! Every legal deadline in Esep is counted in working days: a discrepancy is registered
//! within 3 working days (D8), a complaint is answered within 15 working days and the answer
//! may be extended by at most 5 (D13). This module answers "is this a working day?" and
//! "which day is the N-th working day after the event?".
//!
//! # Rules
//!
//! * A working day is Monday to Friday that is not a holiday, not a carried-over day off and
//!   not a decree day off. A weekend day that a Government decree declares a working day is a
//!   working day.
//! * A law holiday with `carries_over = true` that falls on a Saturday or Sunday moves the day
//!   off to the next weekday that is not itself a holiday, not already a carried-over day off
//!   and not a decree day off (Labour Code art. 84). Holidays are processed in date order, so a
//!   multi-day holiday such as Nauryz (21–23 March) that falls partly on a weekend yields one
//!   carried-over day per weekend day: in 2026 Saturday 21 and Sunday 22 March give Tuesday 24
//!   and Wednesday 25 March, because Monday 23 March is Nauryz itself.
//! * The first day of Kurban Ait and 7 January (Orthodox Christmas) are days off that never
//!   carry over.
//! * The Government moves days off by decree every year (Labour Code art. 85). These transfers
//!   and the Kurban Ait date are per-year data. For a year without data (see
//!   [`WorkingCalendar::covers_year`]) only the law holidays and the carry-over rule apply: no
//!   decree transfers and no Kurban Ait. Callers should warn the user in that case.
//!
//! # Counting convention
//!
//! A deadline "within N working days" of an event is counted starting the day **after** the
//! event: the deadline is the N-th working day strictly after the event date
//! ([`WorkingCalendar::add_working_days`]). N = 0 gives the event date itself.
//! [`WorkingCalendar::working_days_between`] is the inverse: it counts the working days in
//! `(start, end]`.
//!
//! # Data
//!
//! The holidays live in `data/kz-calendar.json` (embedded at compile time, see
//! [`WorkingCalendar::kazakhstan`]). An operator can load an updated file with
//! [`WorkingCalendar::from_json`]; the file is validated strictly (unknown fields, bad dates,
//! duplicates and contradictions are rejected with the JSON path of the offending entry).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::de::{self, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The embedded Kazakhstan calendar data.
const EMBEDDED_KZ: &str = include_str!("../data/kz-calendar.json");

/// Name given to the first day of Kurban Ait in [`DayKind::Holiday`].
pub const KURBAN_AIT_NAME: &str = "Kurban Ait";

/// Years accepted in the data file (fixed holiday bounds and per-year entries).
const MIN_DATA_YEAR: i32 = 1900;
/// See [`MIN_DATA_YEAR`].
const MAX_DATA_YEAR: i32 = 9999;

/// The Gregorian calendar repeats its weekdays exactly every 400 years (146 097 days =
/// 20 871 weeks). Far from any year with special data the working-day pattern therefore
/// repeats too, which lets long counts skip whole cycles.
const CYCLE_YEARS: i32 = 400;

/// Separator used when two holidays fall on the same date.
const NAME_SEPARATOR: &str = " / ";

/// What kind of day a date is, for explaining a deadline to a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayKind {
    /// An ordinary working day (Monday to Friday).
    Working,
    /// An ordinary Saturday or Sunday.
    Weekend,
    /// A law holiday or the first day of Kurban Ait (also when it falls on a weekend).
    /// When two holidays share a date their names are joined with `" / "`.
    Holiday {
        /// Name of the holiday as written in the data file.
        name: String,
    },
    /// A weekday off because a holiday fell on a Saturday or Sunday (Labour Code art. 84).
    CarriedOver {
        /// Name of the holiday that fell on the weekend.
        holiday: String,
        /// The weekend date of that holiday.
        holiday_date: NaiveDate,
    },
    /// An extra weekday off declared by a Government decree (Labour Code art. 85).
    DecreeDayOff,
    /// A Saturday or Sunday that a Government decree made a working day. In practice a
    /// Saturday, but the 2025 decree made Sunday 5 January 2025 a working day, so Sundays are
    /// accepted too.
    DecreeWorkingDay,
}

impl DayKind {
    /// Whether this kind of day counts as a working day.
    #[must_use]
    pub fn is_working(&self) -> bool {
        matches!(self, DayKind::Working | DayKind::DecreeWorkingDay)
    }
}

/// Errors raised while loading a calendar data file.
///
/// Every variant except [`CalendarError::Syntax`] carries the JSON path of the offending entry,
/// for example `$.years[1].days_off[0]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The text is not valid JSON.
    #[error("calendar file is not valid JSON: {message}")]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// Parser message.
        message: String,
    },
    /// An object has a field that the format does not define.
    #[error("{path}: unknown field `{field}`, expected one of: {expected}")]
    UnknownField {
        /// Path of the object holding the field.
        path: String,
        /// The unknown field name.
        field: String,
        /// The accepted field names, comma-separated.
        expected: String,
    },
    /// A value has the wrong JSON type or a required field is missing.
    #[error("{path}: {message}")]
    Schema {
        /// Path of the object or value.
        path: String,
        /// Deserializer message.
        message: String,
    },
    /// A date is not a valid `YYYY-MM-DD` string.
    #[error("{path}: bad date {value}: {reason}")]
    BadDate {
        /// Path of the date value.
        path: String,
        /// The value as written (JSON text).
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A fixed holiday has a month/day that exists in no year.
    #[error("{path}: month {month} / day {day} is not a calendar date")]
    BadMonthDay {
        /// Path of the holiday.
        path: String,
        /// Month as written.
        month: u32,
        /// Day as written.
        day: u32,
    },
    /// A year is outside the supported range.
    #[error(
        "{path}: year {year} is outside the supported range {}..={}",
        MIN_DATA_YEAR,
        MAX_DATA_YEAR
    )]
    YearOutOfRange {
        /// Path of the year value.
        path: String,
        /// The year as written.
        year: i32,
    },
    /// `from_year` is after `until_year`.
    #[error("{path}: from_year {from_year} is after until_year {until_year}")]
    EmptyYearRange {
        /// Path of the holiday.
        path: String,
        /// First year.
        from_year: i32,
        /// Last year.
        until_year: i32,
    },
    /// A holiday name is empty.
    #[error("{path}: holiday name must not be empty")]
    EmptyName {
        /// Path of the holiday.
        path: String,
    },
    /// Two per-year entries for the same year.
    #[error("{path}: duplicate entry for year {year} (first at {first_path})")]
    DuplicateYear {
        /// Path of the second entry.
        path: String,
        /// The year.
        year: i32,
        /// Path of the first entry.
        first_path: String,
    },
    /// Two fixed holidays on the same month/day with overlapping year ranges.
    #[error("{path}: duplicate holiday on month {month} / day {day} (first at {first_path})")]
    DuplicateHoliday {
        /// Path of the second holiday.
        path: String,
        /// Month.
        month: u32,
        /// Day.
        day: u32,
        /// Path of the first holiday.
        first_path: String,
    },
    /// The same decree date is listed twice.
    #[error("{path}: duplicate date {date} (first at {first_path})")]
    DuplicateDate {
        /// Path of the second occurrence.
        path: String,
        /// The date.
        date: NaiveDate,
        /// Path of the first occurrence.
        first_path: String,
    },
    /// A date is listed both as a decree day off and as a decree working day.
    #[error("{path}: {date} is both a decree day off and a decree working day (see {other_path})")]
    ConflictingDecreeDate {
        /// Path of the second occurrence.
        path: String,
        /// The date.
        date: NaiveDate,
        /// Path of the first occurrence.
        other_path: String,
    },
    /// A date does not fit the year of its entry (Kurban Ait must be in that year; decree
    /// dates at most one year away).
    #[error("{path}: {date} does not fit the entry for year {year}")]
    DateOutsideYear {
        /// Path of the date.
        path: String,
        /// The date.
        date: NaiveDate,
        /// Year of the entry.
        year: i32,
    },
    /// A decree day off falls on a Saturday or Sunday, which are already days off.
    #[error("{path}: decree day off {date} is a {weekday}, not a weekday")]
    DecreeDayOffOnWeekend {
        /// Path of the date.
        path: String,
        /// The date.
        date: NaiveDate,
        /// Its day of the week.
        weekday: Weekday,
    },
    /// A decree working day falls on Monday to Friday, which are already working days.
    #[error("{path}: decree working day {date} is a {weekday}, not a Saturday or Sunday")]
    DecreeWorkingDayNotWeekend {
        /// Path of the date.
        path: String,
        /// The date.
        date: NaiveDate,
        /// Its day of the week.
        weekday: Weekday,
    },
    /// A decree date coincides with a holiday.
    #[error("{path}: decree date {date} is the holiday {holiday}")]
    DecreeDateIsHoliday {
        /// Path of the date.
        path: String,
        /// The date.
        date: NaiveDate,
        /// Name of the holiday.
        holiday: String,
    },
}

/// A law holiday on a fixed month/day, active in a range of years.
#[derive(Debug, Clone)]
struct FixedHoliday {
    month: u32,
    day: u32,
    name: String,
    carries_over: bool,
    from_year: Option<i32>,
    until_year: Option<i32>,
}

impl FixedHoliday {
    fn active_in(&self, year: i32) -> bool {
        self.from_year.is_none_or(|from| year >= from)
            && self.until_year.is_none_or(|until| year <= until)
    }
}

/// Per-year data.
#[derive(Debug, Clone)]
struct YearEntry {
    kurban_ait: Option<NaiveDate>,
    notes: Vec<String>,
}

/// A holiday on a concrete date.
#[derive(Debug, Clone, Copy)]
struct DatedHoliday<'a> {
    date: NaiveDate,
    name: &'a str,
    carries_over: bool,
}

/// A carried-over day off.
#[derive(Debug, Clone, Copy)]
struct Carry<'a> {
    day_off: NaiveDate,
    holiday_date: NaiveDate,
    name: &'a str,
}

/// The working-day calendar. Build it with [`WorkingCalendar::kazakhstan`] or
/// [`WorkingCalendar::from_json`]; all queries are total (they never panic).
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    fixed: Vec<FixedHoliday>,
    years: BTreeMap<i32, YearEntry>,
    decree_days_off: BTreeSet<NaiveDate>,
    decree_working_days: BTreeSet<NaiveDate>,
    assumptions: Vec<String>,
    /// Years `>= stable_from` follow the law-only pattern (no change point nearby).
    stable_from: i32,
    /// Years `<= stable_until` follow the law-only pattern too.
    stable_until: i32,
    /// Working days in 400 consecutive years `>= stable_from` (computed on first use).
    cycle_future: OnceLock<i64>,
    /// Working days in 400 consecutive years `<= stable_until` (computed on first use).
    cycle_past: OnceLock<i64>,
}

// ---------------------------------------------------------------------------------------
// Data file format
// ---------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // description and sources are documentation for the operator
struct RawFile {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    assumptions: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
    fixed_holidays: Vec<Value>,
    years: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // note is documentation for the operator
struct RawFixedHoliday {
    month: u32,
    day: u32,
    name: String,
    carries_over: bool,
    #[serde(default)]
    from_year: Option<i32>,
    #[serde(default)]
    until_year: Option<i32>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // sources are documentation for the operator
struct RawYear {
    year: i32,
    #[serde(default)]
    kurban_ait: Option<Value>,
    #[serde(default)]
    days_off: Vec<Value>,
    #[serde(default)]
    working_days: Vec<Value>,
    #[serde(default)]
    notes: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
}

/// The field names a derived `Deserialize` struct accepts, read from the derive itself so the
/// unknown-field check can never drift from the struct definition.
fn struct_fields<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);

    impl<'de> de::Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("field probe"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("field probe"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    // The probe always returns an error; only the captured field list matters.
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// Checks that `value` is an object whose keys are all fields of `T`, then deserializes it.
fn decode<T: for<'de> Deserialize<'de>>(value: &Value, path: &str) -> Result<T, CalendarError> {
    let Some(object) = value.as_object() else {
        return Err(CalendarError::Schema {
            path: path.to_owned(),
            message: format!("expected an object, found {}", json_type(value)),
        });
    };
    check_fields(object, struct_fields::<T>(), path)?;
    T::deserialize(value).map_err(|e| CalendarError::Schema {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

fn check_fields(
    object: &Map<String, Value>,
    allowed: &[&str],
    path: &str,
) -> Result<(), CalendarError> {
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(field) => Err(CalendarError::UnknownField {
            path: path.to_owned(),
            field: field.clone(),
            expected: allowed.join(", "),
        }),
        None => Ok(()),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses a strict `YYYY-MM-DD` date.
fn parse_date(value: &Value, path: &str) -> Result<NaiveDate, CalendarError> {
    let bad = |reason: &str| CalendarError::BadDate {
        path: path.to_owned(),
        value: value.to_string(),
        reason: reason.to_owned(),
    };
    let Some(text) = value.as_str() else {
        return Err(bad("expected a string \"YYYY-MM-DD\""));
    };
    let bytes = text.as_bytes();
    let well_formed = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !well_formed {
        return Err(bad("expected the format YYYY-MM-DD"));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| bad("no such calendar date"))
}

fn check_year(year: i32, path: &str) -> Result<(), CalendarError> {
    if (MIN_DATA_YEAR..=MAX_DATA_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(CalendarError::YearOutOfRange {
            path: path.to_owned(),
            year,
        })
    }
}

fn ranges_overlap(a: (Option<i32>, Option<i32>), b: (Option<i32>, Option<i32>)) -> bool {
    let start = a.0.unwrap_or(i32::MIN).max(b.0.unwrap_or(i32::MIN));
    let end = a.1.unwrap_or(i32::MAX).min(b.1.unwrap_or(i32::MAX));
    start <= end
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

fn year_start(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN)
}

fn year_end(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// Number of Monday–Friday dates in `[from, to]` (`from <= to`).
fn weekdays_inclusive(from: NaiveDate, to: NaiveDate) -> i64 {
    let days = to.signed_duration_since(from).num_days() + 1;
    let mut count = days / 7 * 5;
    let mut weekday = from.weekday().num_days_from_monday();
    for _ in 0..days % 7 {
        if weekday < 5 {
            count += 1;
        }
        weekday = (weekday + 1) % 7;
    }
    count
}

fn kind_in(special: &BTreeMap<NaiveDate, DayKind>, date: NaiveDate) -> DayKind {
    match special.get(&date) {
        Some(kind) => kind.clone(),
        None if is_weekend(date) => DayKind::Weekend,
        None => DayKind::Working,
    }
}

impl WorkingCalendar {
    /// The embedded Kazakhstan calendar (`data/kz-calendar.json`, years 2024–2027).
    ///
    /// # Panics
    ///
    /// Never in practice: the embedded file is validated by the unit tests of this module.
    /// Use [`WorkingCalendar::try_kazakhstan`] to get the error instead.
    #[must_use]
    pub fn kazakhstan() -> Self {
        Self::try_kazakhstan().expect("embedded data/kz-calendar.json is validated by tests")
    }

    /// The embedded Kazakhstan calendar, or the error if the embedded file were invalid.
    ///
    /// # Errors
    ///
    /// See [`WorkingCalendar::from_json`].
    pub fn try_kazakhstan() -> Result<Self, CalendarError> {
        Self::from_json(EMBEDDED_KZ)
    }

    /// Loads a calendar from the JSON data format of `data/kz-calendar.json`.
    ///
    /// # Errors
    ///
    /// Returns a [`CalendarError`] naming the JSON path of the first problem found: invalid
    /// JSON, an unknown field, a wrong type, a bad `YYYY-MM-DD` date, an impossible month/day,
    /// a year outside 1900..=9999, a duplicate year, holiday or date, or a decree date that
    /// contradicts the rules (a day off on a weekend, a working day on a weekday, a decree
    /// date on a holiday).
    pub fn from_json(json: &str) -> Result<Self, CalendarError> {
        let root: Value = serde_json::from_str(json).map_err(|e| CalendarError::Syntax {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let file: RawFile = decode(&root, "$")?;

        let fixed = Self::load_fixed(&file.fixed_holidays)?;
        let mut calendar = WorkingCalendar {
            fixed,
            years: BTreeMap::new(),
            decree_days_off: BTreeSet::new(),
            decree_working_days: BTreeSet::new(),
            assumptions: file.assumptions,
            stable_from: 0,
            stable_until: 0,
            cycle_future: OnceLock::new(),
            cycle_past: OnceLock::new(),
        };
        let decree_paths = calendar.load_years(&file.years)?;
        calendar.check_decree_dates(&decree_paths)?;
        calendar.compute_stable_region();
        Ok(calendar)
    }

    fn load_fixed(values: &[Value]) -> Result<Vec<FixedHoliday>, CalendarError> {
        let mut fixed: Vec<(FixedHoliday, String)> = Vec::with_capacity(values.len());
        for (i, value) in values.iter().enumerate() {
            let path = format!("$.fixed_holidays[{i}]");
            let raw: RawFixedHoliday = decode(value, &path)?;
            // 2000 is a leap year, so 29 February is accepted (skipped in other years).
            if NaiveDate::from_ymd_opt(2000, raw.month, raw.day).is_none() {
                return Err(CalendarError::BadMonthDay {
                    path,
                    month: raw.month,
                    day: raw.day,
                });
            }
            if raw.name.trim().is_empty() {
                return Err(CalendarError::EmptyName { path });
            }
            if let Some(year) = raw.from_year {
                check_year(year, &format!("{path}.from_year"))?;
            }
            if let Some(year) = raw.until_year {
                check_year(year, &format!("{path}.until_year"))?;
            }
            if let (Some(from_year), Some(until_year)) = (raw.from_year, raw.until_year)
                && from_year > until_year
            {
                return Err(CalendarError::EmptyYearRange {
                    path,
                    from_year,
                    until_year,
                });
            }
            let holiday = FixedHoliday {
                month: raw.month,
                day: raw.day,
                name: raw.name,
                carries_over: raw.carries_over,
                from_year: raw.from_year,
                until_year: raw.until_year,
            };
            if let Some((_, first_path)) = fixed.iter().find(|(other, _)| {
                other.month == holiday.month
                    && other.day == holiday.day
                    && ranges_overlap(
                        (other.from_year, other.until_year),
                        (holiday.from_year, holiday.until_year),
                    )
            }) {
                return Err(CalendarError::DuplicateHoliday {
                    path,
                    month: holiday.month,
                    day: holiday.day,
                    first_path: first_path.clone(),
                });
            }
            fixed.push((holiday, path));
        }
        Ok(fixed.into_iter().map(|(holiday, _)| holiday).collect())
    }

    /// Loads the per-year entries; returns every decree date with its path and whether it is
    /// a day off (`true`) or a working day (`false`), for the checks that need the holidays.
    fn load_years(
        &mut self,
        values: &[Value],
    ) -> Result<Vec<(NaiveDate, String, bool)>, CalendarError> {
        let mut year_paths: BTreeMap<i32, String> = BTreeMap::new();
        let mut date_paths: BTreeMap<NaiveDate, (String, bool)> = BTreeMap::new();
        let mut decree = Vec::new();
        for (i, value) in values.iter().enumerate() {
            let path = format!("$.years[{i}]");
            let raw: RawYear = decode(value, &path)?;
            check_year(raw.year, &format!("{path}.year"))?;
            if let Some(first_path) = year_paths.get(&raw.year) {
                return Err(CalendarError::DuplicateYear {
                    path,
                    year: raw.year,
                    first_path: first_path.clone(),
                });
            }
            year_paths.insert(raw.year, path.clone());

            let kurban_ait = match &raw.kurban_ait {
                Some(value) => {
                    let kurban_path = format!("{path}.kurban_ait");
                    let date = parse_date(value, &kurban_path)?;
                    if date.year() != raw.year {
                        return Err(CalendarError::DateOutsideYear {
                            path: kurban_path,
                            date,
                            year: raw.year,
                        });
                    }
                    Some(date)
                }
                None => None,
            };

            let lists = [
                ("days_off", &raw.days_off, true),
                ("working_days", &raw.working_days, false),
            ];
            for (field, list, is_day_off) in lists {
                for (j, value) in list.iter().enumerate() {
                    let date_path = format!("{path}.{field}[{j}]");
                    let date = parse_date(value, &date_path)?;
                    if (date.year() - raw.year).abs() > 1 {
                        return Err(CalendarError::DateOutsideYear {
                            path: date_path,
                            date,
                            year: raw.year,
                        });
                    }
                    if let Some((first_path, first_is_day_off)) = date_paths.get(&date) {
                        return Err(if *first_is_day_off == is_day_off {
                            CalendarError::DuplicateDate {
                                path: date_path,
                                date,
                                first_path: first_path.clone(),
                            }
                        } else {
                            CalendarError::ConflictingDecreeDate {
                                path: date_path,
                                date,
                                other_path: first_path.clone(),
                            }
                        });
                    }
                    date_paths.insert(date, (date_path.clone(), is_day_off));
                    if is_day_off {
                        self.decree_days_off.insert(date);
                    } else {
                        self.decree_working_days.insert(date);
                    }
                    decree.push((date, date_path, is_day_off));
                }
            }

            self.years.insert(
                raw.year,
                YearEntry {
                    kurban_ait,
                    notes: raw.notes,
                },
            );
        }
        Ok(decree)
    }

    fn check_decree_dates(
        &self,
        decree: &[(NaiveDate, String, bool)],
    ) -> Result<(), CalendarError> {
        for (date, path, is_day_off) in decree {
            let (date, path) = (*date, path.clone());
            if *is_day_off && is_weekend(date) {
                return Err(CalendarError::DecreeDayOffOnWeekend {
                    path,
                    date,
                    weekday: date.weekday(),
                });
            }
            if !*is_day_off && !is_weekend(date) {
                return Err(CalendarError::DecreeWorkingDayNotWeekend {
                    path,
                    date,
                    weekday: date.weekday(),
                });
            }
            if let Some(holiday) = self
                .dated_holidays(date.year())
                .into_iter()
                .find(|h| h.date == date)
            {
                return Err(CalendarError::DecreeDateIsHoliday {
                    path,
                    date,
                    holiday: holiday.name.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Finds the years far enough from every change of rules that the law-only pattern
    /// repeats with the 400-year Gregorian cycle.
    fn compute_stable_region(&mut self) {
        let mut points: Vec<i32> = Vec::new();
        for holiday in &self.fixed {
            points.extend(holiday.from_year);
            points.extend(holiday.until_year.map(|y| y + 1));
        }
        for year in self.years.keys() {
            points.extend([*year, year + 1]);
        }
        for date in self.decree_days_off.iter().chain(&self.decree_working_days) {
            points.extend([date.year(), date.year() + 1]);
        }
        // A year's pattern depends on the rules of the two previous years and the next one
        // (carry-overs spill across New Year), hence the margin of 3.
        self.stable_from = points.iter().max().map_or(0, |y| y + 3);
        self.stable_until = points.iter().min().map_or(0, |y| y - 3);
    }

    /// Whether the data file has an entry for `year` (Kurban Ait and decree transfers).
    /// For other years only the law holidays and carry-overs are applied: warn the user.
    #[must_use]
    pub fn covers_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// The years with a per-year entry, in increasing order.
    #[must_use]
    pub fn covered_years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    /// The notes recorded for `year` (sources, unconfirmed items), if the year is covered.
    #[must_use]
    pub fn year_notes(&self, year: i32) -> Option<&[String]> {
        self.years.get(&year).map(|entry| entry.notes.as_slice())
    }

    /// The documented assumptions of the data file.
    #[must_use]
    pub fn assumptions(&self) -> &[String] {
        &self.assumptions
    }

    /// Whether `date` is a working day.
    #[must_use]
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.day_kind(date).is_working()
    }

    /// What kind of day `date` is, for explaining a deadline.
    #[must_use]
    pub fn day_kind(&self, date: NaiveDate) -> DayKind {
        kind_in(&self.special_days_map(date.year()), date)
    }

    /// Every date of `year` that is not an ordinary working day or ordinary weekend:
    /// holidays (also on weekends), carried-over days off, decree days off and decree
    /// working days, in date order.
    #[must_use]
    pub fn special_days(&self, year: i32) -> Vec<(NaiveDate, DayKind)> {
        self.special_days_map(year).into_iter().collect()
    }

    /// The deadline "within `n` working days" of an event on `date`: the `n`-th working day
    /// strictly after `date`. Counting starts the day **after** the event, so with `n = 3` an
    /// event on Thursday gives Tuesday (Friday, Monday, Tuesday). `n = 0` returns `date`
    /// itself, even if it is not a working day.
    ///
    /// Saturates at [`NaiveDate::MAX`] if the deadline is not representable; see
    /// [`WorkingCalendar::checked_add_working_days`].
    #[must_use]
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        self.checked_add_working_days(date, n)
            .unwrap_or(NaiveDate::MAX)
    }

    /// Like [`WorkingCalendar::add_working_days`], but `None` if the deadline is after
    /// [`NaiveDate::MAX`].
    #[must_use]
    pub fn checked_add_working_days(&self, date: NaiveDate, n: u32) -> Option<NaiveDate> {
        if n == 0 {
            return Some(date);
        }
        let mut remaining = i64::from(n);
        let mut cur = date.succ_opt()?;
        // Even if every remaining day were a working day the deadline would not fit.
        if NaiveDate::MAX.signed_duration_since(cur).num_days() + 1 < remaining {
            return None;
        }
        loop {
            let year = cur.year();
            if cur.ordinal() == 1
                && let Some((per_cycle, max_cycles)) = self.cycle(year)
                && per_cycle > 0
                && remaining > per_cycle
            {
                // Keep at least one working day to find by walking.
                let cycles = ((remaining - 1) / per_cycle).min(max_cycles);
                if cycles > 0 {
                    let years = i32::try_from(cycles * i64::from(CYCLE_YEARS)).ok()?;
                    cur = NaiveDate::from_ymd_opt(year.checked_add(years)?, 1, 1)?;
                    remaining -= cycles * per_cycle;
                    continue;
                }
            }
            let end = year_end(year);
            let in_year = self.count_in_year(cur, end);
            if in_year < remaining {
                remaining -= in_year;
                cur = end.succ_opt()?;
                continue;
            }
            let special = self.special_days_map(year);
            let mut day = cur;
            loop {
                if kind_in(&special, day).is_working() {
                    remaining -= 1;
                    if remaining == 0 {
                        return Some(day);
                    }
                }
                day = day.succ_opt()?;
            }
        }
    }

    /// The number of working days in `(start, end]`: the inverse of
    /// [`WorkingCalendar::add_working_days`], so
    /// `working_days_between(d, add_working_days(d, n)) == n`. Zero when `start == end`,
    /// negative (minus the count in `(end, start]`) when `end < start`.
    #[must_use]
    pub fn working_days_between(&self, start: NaiveDate, end: NaiveDate) -> i64 {
        match start.cmp(&end) {
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Less => start
                .succ_opt()
                .map_or(0, |from| self.count_inclusive(from, end)),
            std::cmp::Ordering::Greater => end
                .succ_opt()
                .map_or(0, |from| -self.count_inclusive(from, start)),
        }
    }

    /// The first working day strictly after `date` (saturates at [`NaiveDate::MAX`]).
    #[must_use]
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        self.add_working_days(date, 1)
    }

    // -----------------------------------------------------------------------------------
    // Internals
    // -----------------------------------------------------------------------------------

    /// Law holidays and Kurban Ait dated in `year`, in date order.
    fn dated_holidays(&self, year: i32) -> Vec<DatedHoliday<'_>> {
        let mut holidays: Vec<DatedHoliday<'_>> = self
            .fixed
            .iter()
            .filter(|h| h.active_in(year))
            .filter_map(|h| {
                NaiveDate::from_ymd_opt(year, h.month, h.day).map(|date| DatedHoliday {
                    date,
                    name: &h.name,
                    carries_over: h.carries_over,
                })
            })
            .collect();
        if let Some(date) = self.years.get(&year).and_then(|entry| entry.kurban_ait) {
            holidays.push(DatedHoliday {
                date,
                name: KURBAN_AIT_NAME,
                carries_over: false,
            });
        }
        holidays.sort_by_key(|h| h.date);
        holidays
    }

    /// The carried-over days off of the holidays of `year` (they may spill into `year + 1`).
    /// With `after_previous_year`, the days carried over from `year - 1` into `year` are
    /// taken first, so both years see the same result.
    fn carry_overs(&self, year: i32, after_previous_year: bool) -> Vec<Carry<'_>> {
        let holidays = self.dated_holidays(year);
        if !holidays
            .iter()
            .any(|h| h.carries_over && is_weekend(h.date))
        {
            return Vec::new();
        }
        let mut blocked: BTreeSet<NaiveDate> = holidays.iter().map(|h| h.date).collect();
        blocked.extend(self.dated_holidays(year + 1).iter().map(|h| h.date));
        if after_previous_year {
            blocked.extend(self.carry_overs(year - 1, false).iter().map(|c| c.day_off));
        }
        let mut carries = Vec::new();
        for holiday in holidays
            .iter()
            .filter(|h| h.carries_over && is_weekend(h.date))
        {
            let mut day = holiday.date;
            while let Some(next) = day.succ_opt() {
                day = next;
                if !is_weekend(day)
                    && !blocked.contains(&day)
                    && !self.decree_days_off.contains(&day)
                {
                    blocked.insert(day);
                    carries.push(Carry {
                        day_off: day,
                        holiday_date: holiday.date,
                        name: holiday.name,
                    });
                    break;
                }
            }
        }
        carries
    }

    /// Every non-ordinary date of `year` with its kind.
    fn special_days_map(&self, year: i32) -> BTreeMap<NaiveDate, DayKind> {
        let mut special: BTreeMap<NaiveDate, DayKind> = BTreeMap::new();
        // Years outside chrono's range have no dates (chrono's range is whole years).
        let (Some(first), Some(last)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) else {
            return special;
        };
        for holiday in self.dated_holidays(year) {
            match special.get_mut(&holiday.date) {
                Some(DayKind::Holiday { name }) => {
                    if !name.split(NAME_SEPARATOR).any(|n| n == holiday.name) {
                        name.push_str(NAME_SEPARATOR);
                        name.push_str(holiday.name);
                    }
                }
                _ => {
                    special.insert(
                        holiday.date,
                        DayKind::Holiday {
                            name: holiday.name.to_owned(),
                        },
                    );
                }
            }
        }
        let previous = self.carry_overs(year - 1, true);
        let current = self.carry_overs(year, true);
        for carry in previous.iter().chain(&current) {
            if carry.day_off.year() == year {
                special
                    .entry(carry.day_off)
                    .or_insert_with(|| DayKind::CarriedOver {
                        holiday: carry.name.to_owned(),
                        holiday_date: carry.holiday_date,
                    });
            }
        }
        let range = first..=last;
        for date in self.decree_days_off.range(range.clone()) {
            special.entry(*date).or_insert(DayKind::DecreeDayOff);
        }
        for date in self.decree_working_days.range(range) {
            special.entry(*date).or_insert(DayKind::DecreeWorkingDay);
        }
        special
    }

    /// Working days in `[from, to]`, both in the same year, `from <= to`.
    fn count_in_year(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let special = self.special_days_map(from.year());
        let mut count = weekdays_inclusive(from, to);
        for (date, kind) in special.range(from..=to) {
            match (kind.is_working(), is_weekend(*date)) {
                (false, false) => count -= 1,
                (true, true) => count += 1,
                _ => {}
            }
        }
        count
    }

    /// Working days in `[from, to]`, `from <= to`.
    fn count_inclusive(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let mut total = 0;
        let mut cur = from;
        loop {
            let year = cur.year();
            if cur.ordinal() == 1
                && let Some((per_cycle, max_cycles)) = self.cycle(year)
            {
                let whole_years =
                    i64::from(to.year() - year) + i64::from(to == year_end(to.year()));
                let cycles = (whole_years / i64::from(CYCLE_YEARS)).min(max_cycles);
                if cycles > 0 {
                    let years = i32::try_from(cycles * i64::from(CYCLE_YEARS)).unwrap_or(i32::MAX);
                    total += cycles * per_cycle;
                    match year
                        .checked_add(years)
                        .and_then(|y| NaiveDate::from_ymd_opt(y, 1, 1))
                    {
                        Some(next) if next <= to => {
                            cur = next;
                            continue;
                        }
                        _ => return total,
                    }
                }
            }
            let end = year_end(year).min(to);
            total += self.count_in_year(cur, end);
            if end >= to {
                return total;
            }
            match end.succ_opt() {
                Some(next) => cur = next,
                None => return total,
            }
        }
    }

    /// If the 400 years starting at `year` follow the periodic law-only pattern: the number
    /// of working days in such a cycle and how many consecutive cycles from `year` do.
    fn cycle(&self, year: i32) -> Option<(i64, i64)> {
        // The pattern of a year looks at the two previous years and the next one; near the
        // ends of the representable range they are missing and the pattern is not periodic.
        NaiveDate::from_ymd_opt(year.checked_sub(2)?, 1, 1)?;
        if year >= self.stable_from {
            let max_year = NaiveDate::MAX.year() - 1;
            let max_cycles = i64::from(max_year - year) / i64::from(CYCLE_YEARS);
            if max_cycles < 1 {
                return None;
            }
            let per_cycle = *self
                .cycle_future
                .get_or_init(|| self.count_years(self.stable_from));
            Some((per_cycle, max_cycles))
        } else if year.checked_add(CYCLE_YEARS - 1)? <= self.stable_until {
            let first = self.stable_until - (CYCLE_YEARS - 1);
            let per_cycle = *self.cycle_past.get_or_init(|| self.count_years(first));
            let max_cycles = i64::from(self.stable_until - year + 1) / i64::from(CYCLE_YEARS);
            Some((per_cycle, max_cycles))
        } else {
            None
        }
    }

    /// Working days in the 400 whole years starting at `first`.
    fn count_years(&self, first: i32) -> i64 {
        (first..first.saturating_add(CYCLE_YEARS))
            .map(|year| self.count_in_year(year_start(year), year_end(year)))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cal() -> WorkingCalendar {
        WorkingCalendar::kazakhstan()
    }

    fn d(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("valid test date")
    }

    fn carried_over_days(calendar: &WorkingCalendar, year: i32) -> Vec<NaiveDate> {
        calendar
            .special_days(year)
            .into_iter()
            .filter(|(_, kind)| matches!(kind, DayKind::CarriedOver { .. }))
            .map(|(date, _)| date)
            .collect()
    }

    fn holiday(name: &str) -> DayKind {
        DayKind::Holiday {
            name: name.to_owned(),
        }
    }

    fn carried(name: &str, from: NaiveDate) -> DayKind {
        DayKind::CarriedOver {
            holiday: name.to_owned(),
            holiday_date: from,
        }
    }

    /// A minimal valid file with the given `years` array, for error tests.
    fn file_with_years(years: &str) -> String {
        format!(
            r#"{{
              "fixed_holidays": [
                {{ "month": 1, "day": 1, "name": "New Year", "carries_over": true }},
                {{ "month": 5, "day": 9, "name": "Victory Day", "carries_over": true }}
              ],
              "years": {years}
            }}"#
        )
    }

    // --- data and coverage --------------------------------------------------------------

    #[test]
    fn embedded_data_loads_and_covers_2024_to_2027() {
        let calendar = WorkingCalendar::try_kazakhstan().expect("embedded data is valid");
        assert_eq!(calendar.covered_years(), vec![2024, 2025, 2026, 2027]);
        assert!(calendar.covers_year(2024) && calendar.covers_year(2027));
        assert!(!calendar.covers_year(2023) && !calendar.covers_year(2028));
        assert!(!calendar.assumptions().is_empty());
        assert!(calendar.year_notes(2026).is_some_and(|n| !n.is_empty()));
        assert!(calendar.year_notes(2028).is_none());
    }

    #[test]
    fn carried_over_days_per_year_match_published_calendars() {
        let calendar = cal();
        assert_eq!(
            carried_over_days(&calendar, 2024),
            vec![d(2024, 3, 25), d(2024, 7, 8)]
        );
        assert_eq!(
            carried_over_days(&calendar, 2025),
            vec![
                d(2025, 3, 10),
                d(2025, 3, 24),
                d(2025, 3, 25),
                d(2025, 7, 7),
                d(2025, 9, 1),
                d(2025, 10, 27)
            ]
        );
        // KAZAKHSTAN.md: 2026 substitute days off reported: Mar 9, Mar 24–25, May 11
        // (plus Republic Day Sunday 25 Oct -> Monday 26 Oct).
        assert_eq!(
            carried_over_days(&calendar, 2026),
            vec![
                d(2026, 3, 9),
                d(2026, 3, 24),
                d(2026, 3, 25),
                d(2026, 5, 11),
                d(2026, 10, 26)
            ]
        );
        assert_eq!(
            carried_over_days(&calendar, 2027),
            vec![d(2027, 1, 4), d(2027, 3, 24), d(2027, 5, 3), d(2027, 5, 10)]
        );
    }

    #[test]
    fn years_outside_the_data_get_law_holidays_and_carry_over_but_no_kurban_ait_or_decree() {
        let calendar = cal();
        // 2028: Sat 1 + Sun 2 January carry to Mon 3 + Tue 4 January.
        assert_eq!(
            calendar.day_kind(d(2028, 1, 3)),
            carried("New Year", d(2028, 1, 1))
        );
        assert_eq!(
            calendar.day_kind(d(2028, 1, 4)),
            carried("New Year", d(2028, 1, 2))
        );
        assert!(calendar.is_working_day(d(2028, 1, 5)));
        // Independence Day Saturday 16 December 2028 -> Monday 18 December.
        assert_eq!(
            calendar.day_kind(d(2028, 12, 18)),
            carried("Independence Day", d(2028, 12, 16))
        );
        // No Kurban Ait outside the data, even on its astronomical date (5 May 2028).
        assert!(
            calendar
                .special_days(2028)
                .iter()
                .all(|(_, kind)| kind != &holiday(KURBAN_AIT_NAME))
        );
        assert!(calendar.is_working_day(d(2028, 5, 5)));
        // 2023 (before the data): Kurban Ait 28 June 2023 is not known, law holidays are.
        assert!(calendar.is_working_day(d(2023, 6, 28)));
        assert_eq!(
            calendar.day_kind(d(2023, 12, 18)),
            carried("Independence Day", d(2023, 12, 16))
        );
    }

    // --- Nauryz ---------------------------------------------------------------------------

    #[test]
    fn nauryz_days_21_to_23_march_are_holidays_2024_to_2027() {
        let calendar = cal();
        for year in 2024..=2027 {
            for day in 21..=23 {
                let date = d(year, 3, day);
                assert_eq!(calendar.day_kind(date), holiday("Nauryz meirami"), "{date}");
                assert!(!calendar.is_working_day(date), "{date}");
            }
        }
    }

    #[test]
    fn nauryz_2024_saturday_23_march_carries_to_monday_25_march() {
        let calendar = cal();
        assert_eq!(
            calendar.day_kind(d(2024, 3, 25)),
            carried("Nauryz meirami", d(2024, 3, 23))
        );
        assert!(calendar.is_working_day(d(2024, 3, 26)));
        assert_eq!(calendar.next_working_day(d(2024, 3, 20)), d(2024, 3, 26));
    }

    #[test]
    fn nauryz_2025_saturday_and_sunday_carry_to_monday_and_tuesday() {
        let calendar = cal();
        assert_eq!(
            calendar.day_kind(d(2025, 3, 24)),
            carried("Nauryz meirami", d(2025, 3, 22))
        );
        assert_eq!(
            calendar.day_kind(d(2025, 3, 25)),
            carried("Nauryz meirami", d(2025, 3, 23))
        );
        assert!(calendar.is_working_day(d(2025, 3, 26)));
        // Women's Day on Saturday 8 March 2025 -> Monday 10 March.
        assert_eq!(
            calendar.day_kind(d(2025, 3, 10)),
            carried("International Women's Day", d(2025, 3, 8))
        );
    }

    #[test]
    fn nauryz_2026_weekend_days_carry_past_monday_23_to_24_and_25_march() {
        let calendar = cal();
        assert_eq!(d(2026, 3, 21).weekday(), Weekday::Sat);
        assert_eq!(d(2026, 3, 22).weekday(), Weekday::Sun);
        // Monday 23 March is Nauryz itself, so the carried days are Tuesday and Wednesday.
        assert_eq!(calendar.day_kind(d(2026, 3, 23)), holiday("Nauryz meirami"));
        assert_eq!(
            calendar.day_kind(d(2026, 3, 24)),
            carried("Nauryz meirami", d(2026, 3, 21))
        );
        assert_eq!(
            calendar.day_kind(d(2026, 3, 25)),
            carried("Nauryz meirami", d(2026, 3, 22))
        );
        assert!(calendar.is_working_day(d(2026, 3, 26)));
        // The other reported 2026 substitutes: Sunday 8 March -> 9 March, Saturday 9 May -> 11 May.
        assert_eq!(
            calendar.day_kind(d(2026, 3, 9)),
            carried("International Women's Day", d(2026, 3, 8))
        );
        assert_eq!(
            calendar.day_kind(d(2026, 5, 11)),
            carried("Victory Day", d(2026, 5, 9))
        );
        // Nine days in a row off: Saturday 21 to Wednesday 25 March; Friday 20 is working.
        assert_eq!(calendar.next_working_day(d(2026, 3, 20)), d(2026, 3, 26));
    }

    #[test]
    fn nauryz_2027_sunday_21_march_carries_to_wednesday_24_march() {
        let calendar = cal();
        assert_eq!(
            calendar.day_kind(d(2027, 3, 24)),
            carried("Nauryz meirami", d(2027, 3, 21))
        );
        assert!(calendar.is_working_day(d(2027, 3, 25)));
    }

    // --- other carry-over rules -------------------------------------------------------------

    #[test]
    fn holiday_on_a_weekend_carries_over_to_the_next_monday() {
        let calendar = cal();
        assert_eq!(calendar.day_kind(d(2024, 7, 6)), holiday("Capital Day"));
        assert_eq!(
            calendar.day_kind(d(2024, 7, 8)),
            carried("Capital Day", d(2024, 7, 6))
        );
        assert_eq!(
            calendar.day_kind(d(2025, 10, 27)),
            carried("Republic Day", d(2025, 10, 25))
        );
        assert_eq!(
            calendar.day_kind(d(2027, 1, 4)),
            carried("New Year", d(2027, 1, 2))
        );
    }

    #[test]
    fn orthodox_christmas_on_a_weekend_does_not_carry_over() {
        let calendar = cal();
        // Sunday 7 January 2024: Monday 8 January is a working day.
        assert_eq!(
            calendar.day_kind(d(2024, 1, 7)),
            holiday("Orthodox Christmas")
        );
        assert_eq!(calendar.day_kind(d(2024, 1, 8)), DayKind::Working);
        // Saturday 7 January 2023 (outside the data): Monday 9 January is a working day.
        assert_eq!(calendar.day_kind(d(2023, 1, 9)), DayKind::Working);
        // On a weekday it is simply a day off: Wednesday 7 January 2026.
        assert!(!calendar.is_working_day(d(2026, 1, 7)));
    }

    #[test]
    fn kurban_ait_2026_is_27_may_and_never_carries_over() {
        let calendar = cal();
        assert_eq!(calendar.day_kind(d(2026, 5, 27)), holiday(KURBAN_AIT_NAME));
        assert!(!calendar.is_working_day(d(2026, 5, 27)));
        assert!(calendar.is_working_day(d(2026, 5, 28)));
        // Sunday 16 June 2024: Monday 17 June is a working day.
        assert_eq!(calendar.day_kind(d(2024, 6, 16)), holiday(KURBAN_AIT_NAME));
        assert_eq!(calendar.day_kind(d(2024, 6, 17)), DayKind::Working);
        // Friday 6 June 2025.
        assert!(!calendar.is_working_day(d(2025, 6, 6)));
        // 2027 estimate: Sunday 16 May, no carry-over.
        assert_eq!(calendar.day_kind(d(2027, 5, 17)), DayKind::Working);
    }

    #[test]
    fn constitution_day_is_a_holiday_until_2025_only() {
        let calendar = cal();
        assert_eq!(
            calendar.day_kind(d(2024, 8, 30)),
            holiday("Constitution Day")
        );
        assert_eq!(
            calendar.day_kind(d(2025, 9, 1)),
            carried("Constitution Day", d(2025, 8, 30))
        );
        assert_eq!(calendar.day_kind(d(2026, 8, 30)), DayKind::Weekend);
        assert!(calendar.is_working_day(d(2026, 8, 31)));
    }

    #[test]
    fn independence_day_is_only_16_december_from_2022() {
        let calendar = cal();
        assert!(!calendar.is_working_day(d(2024, 12, 16)));
        assert!(calendar.is_working_day(d(2024, 12, 17)));
        assert_eq!(
            calendar.day_kind(d(2021, 12, 17)),
            holiday("Independence Day")
        );
    }

    // --- decree transfers -----------------------------------------------------------------

    #[test]
    fn decree_2024_working_saturday_4_may_counts_and_day_off_8_may_does_not() {
        let calendar = cal();
        assert_eq!(calendar.day_kind(d(2024, 5, 4)), DayKind::DecreeWorkingDay);
        assert!(calendar.is_working_day(d(2024, 5, 4)));
        assert_eq!(calendar.day_kind(d(2024, 5, 8)), DayKind::DecreeDayOff);
        assert!(!calendar.is_working_day(d(2024, 5, 8)));
        // Friday 3 May + 1 working day = Saturday 4 May.
        assert_eq!(calendar.add_working_days(d(2024, 5, 3), 1), d(2024, 5, 4));
        // 7 May holiday, 8 May decree, 9 May holiday: only Friday 10 May counts.
        assert_eq!(
            calendar.working_days_between(d(2024, 5, 6), d(2024, 5, 10)),
            1
        );
        assert_eq!(calendar.next_working_day(d(2024, 5, 6)), d(2024, 5, 10));
    }

    #[test]
    fn decree_2025_working_sunday_5_january_counts_and_day_off_3_january_does_not() {
        let calendar = cal();
        assert_eq!(calendar.day_kind(d(2025, 1, 3)), DayKind::DecreeDayOff);
        assert_eq!(calendar.day_kind(d(2025, 1, 4)), DayKind::Weekend);
        assert_eq!(calendar.day_kind(d(2025, 1, 5)), DayKind::DecreeWorkingDay);
        assert_eq!(calendar.next_working_day(d(2024, 12, 31)), d(2025, 1, 5));
        // Without the decree data (2023 layout has none) nothing similar happens.
        assert!(
            calendar
                .special_days(2023)
                .iter()
                .all(|(_, k)| !matches!(k, DayKind::DecreeDayOff | DayKind::DecreeWorkingDay))
        );
    }

    // --- deadlines --------------------------------------------------------------------------

    #[test]
    fn complaint_deadline_of_15_working_days_skips_nauryz_2026() {
        let calendar = cal();
        // Event Monday 16 March 2026: 17–20 March (4), 21–25 off, 26–27 (6), 30 March–3 April
        // (11), 6–9 April (15).
        assert_eq!(calendar.add_working_days(d(2026, 3, 16), 15), d(2026, 4, 9));
        // The 5-day extension: 10, 13, 14, 15, 16 April.
        assert_eq!(calendar.add_working_days(d(2026, 4, 9), 5), d(2026, 4, 16));
    }

    #[test]
    fn complaint_deadline_of_15_working_days_across_new_year() {
        let calendar = cal();
        // Event Wednesday 24 December 2025: 25, 26, 29, 30, 31 December (5), 1–4 January off,
        // 5, 6 (7), 7 January Christmas, 8, 9 (9), 12–16 (14), 19 January (15).
        assert_eq!(
            calendar.add_working_days(d(2025, 12, 24), 15),
            d(2026, 1, 19)
        );
        // Across New Year 2025 with the decree: 26, 27, 30, 31 December (4), 1–2 holidays,
        // 3 decree day off, 4 Saturday, 5 working Sunday (5), 6 (6), 7 Christmas, 8–10 (9),
        // 13–17 (14), 20 January (15).
        assert_eq!(
            calendar.add_working_days(d(2024, 12, 25), 15),
            d(2025, 1, 20)
        );
    }

    #[test]
    fn discrepancy_deadline_of_3_working_days_skips_the_weekend() {
        let calendar = cal();
        // Thursday 14 November 2024 -> Friday 15, Monday 18, Tuesday 19.
        assert_eq!(
            calendar.add_working_days(d(2024, 11, 14), 3),
            d(2024, 11, 19)
        );
        // An event on Saturday counts from Monday.
        assert_eq!(
            calendar.add_working_days(d(2024, 11, 16), 3),
            d(2024, 11, 20)
        );
    }

    #[test]
    fn zero_working_days_returns_the_event_date_itself() {
        let calendar = cal();
        assert_eq!(calendar.add_working_days(d(2026, 3, 21), 0), d(2026, 3, 21));
        assert_eq!(
            calendar.add_working_days(d(2024, 11, 14), 0),
            d(2024, 11, 14)
        );
    }

    #[test]
    fn next_working_day_is_strictly_after_the_date() {
        let calendar = cal();
        assert_eq!(calendar.next_working_day(d(2024, 11, 18)), d(2024, 11, 19));
        assert_eq!(calendar.next_working_day(d(2024, 11, 15)), d(2024, 11, 18));
    }

    #[test]
    fn working_days_between_is_zero_for_the_same_day_and_negative_backwards() {
        let calendar = cal();
        let (a, b) = (d(2026, 3, 16), d(2026, 4, 9));
        assert_eq!(calendar.working_days_between(a, a), 0);
        assert_eq!(calendar.working_days_between(a, b), 15);
        assert_eq!(calendar.working_days_between(b, a), -15);
    }

    #[test]
    fn working_days_per_year_match_a_hand_count() {
        let calendar = cal();
        let year = |y: i32| calendar.working_days_between(d(y - 1, 12, 31), d(y, 12, 31));
        // 2024: 262 weekdays - 11 weekday holidays (Jan 1, 2; Mar 8, 21, 22; May 1, 7, 9;
        // Aug 30; Oct 25; Dec 16) - 2 carried (Mar 25, Jul 8) - 1 decree day off + 1 working
        // Saturday = 249.
        assert_eq!(year(2024), 249);
        // 2025: 261 - 9 (Jan 1, 2, 7; Mar 21; May 1, 7, 9; Kurban Ait Jun 6; Dec 16)
        // - 6 carried (Mar 10, 24, 25; Jul 7; Sep 1; Oct 27) - 1 + 1 = 246.
        assert_eq!(year(2025), 246);
        // 2026: 261 - 9 (Jan 1, 2, 7; Mar 23; May 1, 7; Kurban Ait May 27; Jul 6; Dec 16)
        // - 5 carried (Mar 9, 24, 25; May 11; Oct 26) = 247.
        assert_eq!(year(2026), 247);
    }

    #[test]
    fn day_kind_serializes_with_a_kind_tag() {
        let json =
            serde_json::to_value(carried("Nauryz meirami", d(2026, 3, 21))).expect("serializable");
        assert_eq!(
            json,
            serde_json::json!({
                "kind": "carried_over",
                "holiday": "Nauryz meirami",
                "holiday_date": "2026-03-21"
            })
        );
        assert_eq!(
            serde_json::to_value(DayKind::DecreeWorkingDay).expect("serializable"),
            serde_json::json!({ "kind": "decree_working_day" })
        );
    }

    // --- extremes -------------------------------------------------------------------------

    #[test]
    fn extreme_dates_and_counts_do_not_panic_and_saturate() {
        let calendar = cal();
        assert_eq!(calendar.checked_add_working_days(NaiveDate::MAX, 1), None);
        assert_eq!(calendar.add_working_days(NaiveDate::MAX, 1), NaiveDate::MAX);
        assert_eq!(calendar.next_working_day(NaiveDate::MAX), NaiveDate::MAX);
        assert_eq!(
            calendar.add_working_days(d(2024, 1, 1), u32::MAX),
            NaiveDate::MAX
        );
        let _ = calendar.is_working_day(NaiveDate::MIN);
        let _ = calendar.is_working_day(NaiveDate::MAX);
        let _ = calendar.special_days(NaiveDate::MIN.year());
        let _ = calendar.special_days(NaiveDate::MAX.year());
        let _ = calendar.special_days(i32::MAX);
        let _ = calendar.special_days(i32::MIN);
        let all = calendar.working_days_between(NaiveDate::MIN, NaiveDate::MAX);
        assert!(all > 0);
        assert_eq!(
            calendar.working_days_between(NaiveDate::MAX, NaiveDate::MIN),
            -all
        );
        let start = calendar.add_working_days(NaiveDate::MIN, 1);
        assert!(start > NaiveDate::MIN);
    }

    #[test]
    fn long_counts_that_skip_400_year_cycles_match_year_by_year_counting() {
        let calendar = cal();
        let (from, to) = (d(2030, 12, 31), d(2830, 12, 31));
        let year_by_year: i64 = (2031..=2830)
            .map(|y| calendar.count_in_year(d(y, 1, 1), d(y, 12, 31)))
            .sum();
        assert_eq!(calendar.working_days_between(from, to), year_by_year);
        let n = u32::try_from(year_by_year).expect("fits");
        let deadline = calendar.add_working_days(from, n);
        assert_eq!(calendar.working_days_between(from, deadline), i64::from(n));
        assert!(calendar.is_working_day(deadline));
        assert!(deadline <= to);
        let before = deadline.pred_opt().expect("representable");
        assert_eq!(
            calendar.working_days_between(from, before),
            i64::from(n) - 1
        );
        // Any 400 consecutive years far from the data have the same count.
        assert_eq!(
            calendar.count_years(calendar.stable_from),
            calendar.count_years(calendar.stable_from + 137)
        );
        // The same in the distant past.
        let (from, to) = (d(1000, 12, 31), d(1800, 12, 31));
        let year_by_year: i64 = (1001..=1800)
            .map(|y| calendar.count_in_year(d(y, 1, 1), d(y, 12, 31)))
            .sum();
        assert_eq!(calendar.working_days_between(from, to), year_by_year);
        let n = u32::try_from(year_by_year).expect("fits");
        let deadline = calendar.add_working_days(from, n);
        assert_eq!(calendar.working_days_between(from, deadline), i64::from(n));
    }

    // --- from_json --------------------------------------------------------------------------

    #[test]
    fn from_json_accepts_a_minimal_file() {
        let calendar = WorkingCalendar::from_json(&file_with_years("[]")).expect("valid");
        assert!(!calendar.covers_year(2024));
        assert_eq!(calendar.day_kind(d(2027, 1, 1)), holiday("New Year"));
    }

    #[test]
    fn from_json_rejects_an_unknown_top_level_field() {
        let json = r#"{ "fixed_holidays": [], "years": [], "holidays": [] }"#;
        let err = WorkingCalendar::from_json(json).expect_err("unknown field");
        assert!(
            matches!(&err, CalendarError::UnknownField { path, field, .. } if path == "$" && field == "holidays"),
            "{err:?}"
        );
    }

    #[test]
    fn from_json_rejects_an_unknown_field_in_a_year_entry_with_its_path() {
        let json = file_with_years(r#"[{ "year": 2024 }, { "year": 2025, "day_off": [] }]"#);
        let err = WorkingCalendar::from_json(&json).expect_err("unknown field");
        assert_eq!(
            err,
            CalendarError::UnknownField {
                path: "$.years[1]".to_owned(),
                field: "day_off".to_owned(),
                expected: "year, kurban_ait, days_off, working_days, notes, sources".to_owned(),
            }
        );
        assert!(err.to_string().contains("$.years[1]"));
    }

    #[test]
    fn from_json_rejects_an_unknown_field_in_a_fixed_holiday() {
        let json = r#"{ "fixed_holidays": [
            { "month": 1, "day": 1, "name": "New Year", "carries_over": true, "carry": true }
        ], "years": [] }"#;
        let err = WorkingCalendar::from_json(json).expect_err("unknown field");
        assert!(
            matches!(&err, CalendarError::UnknownField { path, field, .. }
                if path == "$.fixed_holidays[0]" && field == "carry"),
            "{err:?}"
        );
    }

    #[test]
    fn from_json_rejects_bad_dates_with_their_json_path() {
        for (bad, field) in [
            (r#""2024-13-01""#, "days_off"),
            (r#""2024-5-8""#, "days_off"),
            (r#""08.05.2024""#, "working_days"),
            ("20240508", "working_days"),
        ] {
            let json = file_with_years(&format!(r#"[{{ "year": 2024, "{field}": [{bad}] }}]"#));
            let err = WorkingCalendar::from_json(&json).expect_err("bad date");
            let expected_path = format!("$.years[0].{field}[0]");
            assert!(
                matches!(&err, CalendarError::BadDate { path, value, .. }
                    if *path == expected_path && value == bad),
                "{bad}: {err:?}"
            );
        }
        let json = file_with_years(r#"[{ "year": 2024, "kurban_ait": "2024-02-30" }]"#);
        let err = WorkingCalendar::from_json(&json).expect_err("bad date");
        assert!(
            matches!(&err, CalendarError::BadDate { path, .. } if path == "$.years[0].kurban_ait"),
            "{err:?}"
        );
    }

    #[test]
    fn from_json_rejects_invalid_json_with_line_and_column() {
        let err = WorkingCalendar::from_json("{\n  \"years\": [,]\n}").expect_err("syntax");
        assert!(
            matches!(err, CalendarError::Syntax { line: 2, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn from_json_rejects_wrong_types_and_missing_fields_with_the_path() {
        let json = r#"{ "fixed_holidays": [
            { "month": "March", "day": 8, "name": "Women", "carries_over": true }
        ], "years": [] }"#;
        let err = WorkingCalendar::from_json(json).expect_err("wrong type");
        assert!(
            matches!(&err, CalendarError::Schema { path, .. } if path == "$.fixed_holidays[0]"),
            "{err:?}"
        );
        let json =
            r#"{ "fixed_holidays": [ { "month": 3, "day": 8, "name": "Women" } ], "years": [] }"#;
        let err = WorkingCalendar::from_json(json).expect_err("missing field");
        assert!(err.to_string().contains("carries_over"), "{err}");
        let err = WorkingCalendar::from_json(r#"{ "years": [] }"#).expect_err("missing field");
        assert!(
            matches!(&err, CalendarError::Schema { path, .. } if path == "$"),
            "{err:?}"
        );
        let err = WorkingCalendar::from_json("[]").expect_err("not an object");
        assert!(
            matches!(&err, CalendarError::Schema { path, .. } if path == "$"),
            "{err:?}"
        );
    }

    #[test]
    fn from_json_rejects_duplicate_entries() {
        let json = file_with_years(r#"[{ "year": 2024 }, { "year": 2024 }]"#);
        assert!(matches!(
            WorkingCalendar::from_json(&json),
            Err(CalendarError::DuplicateYear { year: 2024, .. })
        ));

        let json = file_with_years(
            r#"[{ "year": 2024, "days_off": ["2024-05-08"] },
                { "year": 2025, "days_off": ["2024-05-08"] }]"#,
        );
        let err = WorkingCalendar::from_json(&json).expect_err("duplicate date");
        assert!(
            matches!(&err, CalendarError::DuplicateDate { path, first_path, .. }
                if path == "$.years[1].days_off[0]" && first_path == "$.years[0].days_off[0]"),
            "{err:?}"
        );

        let json = file_with_years(
            r#"[{ "year": 2024, "days_off": ["2024-05-04"], "working_days": ["2024-05-04"] }]"#,
        );
        assert!(matches!(
            WorkingCalendar::from_json(&json),
            Err(CalendarError::ConflictingDecreeDate { .. })
        ));

        let json = r#"{ "fixed_holidays": [
            { "month": 12, "day": 16, "name": "Independence Day", "carries_over": true },
            { "month": 12, "day": 16, "name": "Again", "carries_over": true, "from_year": 2030 }
        ], "years": [] }"#;
        let err = WorkingCalendar::from_json(json).expect_err("duplicate holiday");
        assert!(
            matches!(&err, CalendarError::DuplicateHoliday { path, first_path, month: 12, day: 16 }
                if path == "$.fixed_holidays[1]" && first_path == "$.fixed_holidays[0]"),
            "{err:?}"
        );
        // Same date with disjoint year ranges is fine.
        let json = r#"{ "fixed_holidays": [
            { "month": 10, "day": 25, "name": "Republic Day", "carries_over": true, "until_year": 2008 },
            { "month": 10, "day": 25, "name": "Republic Day", "carries_over": true, "from_year": 2022 }
        ], "years": [] }"#;
        assert!(WorkingCalendar::from_json(json).is_ok());
    }

    #[test]
    fn from_json_rejects_decree_dates_that_contradict_the_rules() {
        // A day off on a Saturday.
        let json = file_with_years(r#"[{ "year": 2024, "days_off": ["2024-05-04"] }]"#);
        assert!(matches!(
            WorkingCalendar::from_json(&json),
            Err(CalendarError::DecreeDayOffOnWeekend {
                weekday: Weekday::Sat,
                ..
            })
        ));
        // A working day on a Wednesday.
        let json = file_with_years(r#"[{ "year": 2024, "working_days": ["2024-05-08"] }]"#);
        assert!(matches!(
            WorkingCalendar::from_json(&json),
            Err(CalendarError::DecreeWorkingDayNotWeekend {
                weekday: Weekday::Wed,
                ..
            })
        ));
        // A working day on a holiday (Victory Day, Saturday 9 May 2026).
        let json = file_with_years(r#"[{ "year": 2026, "working_days": ["2026-05-09"] }]"#);
        let err = WorkingCalendar::from_json(&json).expect_err("holiday");
        assert!(
            matches!(&err, CalendarError::DecreeDateIsHoliday { path, holiday, .. }
                if path == "$.years[0].working_days[0]" && holiday == "Victory Day"),
            "{err:?}"
        );
        // Kurban Ait outside its year, a decree date two years away.
        let json = file_with_years(r#"[{ "year": 2026, "kurban_ait": "2027-05-16" }]"#);
        assert!(matches!(
            WorkingCalendar::from_json(&json),
            Err(CalendarError::DateOutsideYear { year: 2026, .. })
        ));
        let json = file_with_years(r#"[{ "year": 2026, "days_off": ["2028-05-08"] }]"#);
        assert!(matches!(
            WorkingCalendar::from_json(&json),
            Err(CalendarError::DateOutsideYear { year: 2026, .. })
        ));
    }

    #[test]
    fn from_json_rejects_impossible_holidays_and_year_ranges() {
        let one = |h: &str| format!(r#"{{ "fixed_holidays": [{h}], "years": [] }}"#);
        let cases = [
            r#"{ "month": 2, "day": 30, "name": "X", "carries_over": true }"#,
            r#"{ "month": 13, "day": 1, "name": "X", "carries_over": true }"#,
            r#"{ "month": 1, "day": 3, "name": " ", "carries_over": true }"#,
            r#"{ "month": 1, "day": 3, "name": "X", "carries_over": true, "from_year": 2030, "until_year": 2020 }"#,
            r#"{ "month": 1, "day": 3, "name": "X", "carries_over": true, "from_year": 2147483647 }"#,
        ];
        let errors: Vec<CalendarError> = cases
            .iter()
            .map(|h| WorkingCalendar::from_json(&one(h)).expect_err(h))
            .collect();
        assert!(matches!(
            errors[0],
            CalendarError::BadMonthDay {
                month: 2,
                day: 30,
                ..
            }
        ));
        assert!(matches!(
            errors[1],
            CalendarError::BadMonthDay { month: 13, .. }
        ));
        assert!(matches!(errors[2], CalendarError::EmptyName { .. }));
        assert!(matches!(errors[3], CalendarError::EmptyYearRange { .. }));
        assert!(
            matches!(&errors[4], CalendarError::YearOutOfRange { path, .. }
                if path == "$.fixed_holidays[0].from_year")
        );
        let json = file_with_years(r#"[{ "year": 99999 }]"#);
        assert!(matches!(
            WorkingCalendar::from_json(&json),
            Err(CalendarError::YearOutOfRange { year: 99999, .. })
        ));
        // 29 February is accepted and only exists in leap years.
        let leap = one(r#"{ "month": 2, "day": 29, "name": "Leap", "carries_over": false }"#);
        let calendar = WorkingCalendar::from_json(&leap).expect("leap day");
        assert_eq!(calendar.day_kind(d(2028, 2, 29)), holiday("Leap"));
        assert!(calendar.special_days(2027).is_empty());
    }

    // --- properties -------------------------------------------------------------------------

    proptest! {
        #[test]
        fn working_days_between_inverts_add_working_days(offset in 0u64..1461, n in 0u32..60) {
            let calendar = cal();
            let date = d(2024, 1, 1) + chrono::Days::new(offset);
            let deadline = calendar.add_working_days(date, n);
            prop_assert_eq!(calendar.working_days_between(date, deadline), i64::from(n));
            prop_assert_eq!(calendar.working_days_between(deadline, date), -i64::from(n));
            if n > 0 {
                prop_assert!(calendar.is_working_day(deadline));
                prop_assert!(deadline > date);
                // The deadline is the first date reaching n working days.
                let before = deadline.pred_opt().expect("after 2024");
                prop_assert_eq!(calendar.working_days_between(date, before), i64::from(n) - 1);
            } else {
                prop_assert_eq!(deadline, date);
            }
        }

        #[test]
        fn a_day_counts_exactly_when_it_is_a_working_day(offset in 0u64..1900) {
            let calendar = cal();
            let date = d(2023, 1, 1) + chrono::Days::new(offset);
            let previous = date.pred_opt().expect("after 2023");
            let counted = calendar.working_days_between(previous, date);
            prop_assert_eq!(counted, i64::from(calendar.is_working_day(date)));
            let next = calendar.next_working_day(date);
            prop_assert!(next > date && calendar.is_working_day(next));
            prop_assert_eq!(calendar.working_days_between(date, next), 1);
        }
    }
}
