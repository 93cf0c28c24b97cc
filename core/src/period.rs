//! A billing period: one calendar month, written `YYYY-MM`.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{input}' is not a billing period: {reason} (expected YYYY-MM, e.g. 2026-11)")]
pub struct PeriodError {
    pub input: String,
    pub reason: &'static str,
}

impl Period {
    pub fn new(year: i32, month: u32) -> Option<Period> {
        ((2000..=2100).contains(&year) && (1..=12).contains(&month))
            .then_some(Period { year, month })
    }

    pub fn of(date: NaiveDate) -> Period {
        Period {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn parse(text: &str) -> Result<Period, PeriodError> {
        let err = |reason| PeriodError {
            input: text.to_string(),
            reason,
        };
        let b = text.as_bytes();
        if b.len() != 7 || b[4] != b'-' {
            return Err(err("wrong shape"));
        }
        if !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 4 || c.is_ascii_digit())
        {
            return Err(err("year and month must be digits"));
        }
        let year: i32 = text[..4].parse().map_err(|_| err("bad year"))?;
        let month: u32 = text[5..].parse().map_err(|_| err("bad month"))?;
        if !(1..=12).contains(&month) {
            return Err(err("month must be 01 to 12"));
        }
        if !(2000..=2100).contains(&year) {
            return Err(err("year must be between 2000 and 2100"));
        }
        Ok(Period { year, month })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or(NaiveDate::MIN)
    }

    pub fn days(self) -> u32 {
        self.last_day().day()
    }

    pub fn next(self) -> Period {
        if self.month == 12 {
            Period {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Period {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn prev(self) -> Period {
        if self.month == 1 {
            Period {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Period {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// Payment is due by the 25th of the month after the billing month.
    pub fn due_date(self) -> NaiveDate {
        let n = self.next();
        NaiveDate::from_ymd_opt(n.year, n.month, 25).unwrap_or(NaiveDate::MIN)
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        Period::of(date) == self
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::parse(s)
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Period::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_year_month() {
        let p = Period::parse("2026-11").unwrap();
        assert_eq!(p.to_string(), "2026-11");
        assert_eq!(p.days(), 30);
        assert_eq!(p.next().to_string(), "2026-12");
        assert_eq!(p.next().next().to_string(), "2027-01");
        assert_eq!(
            Period::parse("2026-01").unwrap().prev().to_string(),
            "2025-12"
        );
        assert_eq!(Period::parse("2028-02").unwrap().days(), 29);
    }

    #[test]
    fn due_date_is_the_25th_of_the_next_month() {
        assert_eq!(
            Period::parse("2026-12").unwrap().due_date(),
            NaiveDate::from_ymd_opt(2027, 1, 25).unwrap()
        );
    }

    #[test]
    fn bad_periods_say_why() {
        for (input, reason) in [
            ("2026-13", "month must be 01 to 12"),
            ("2026-00", "month must be 01 to 12"),
            ("26-11", "wrong shape"),
            ("2026/11", "wrong shape"),
            ("2026-1a", "year and month must be digits"),
            ("1999-05", "year must be between 2000 and 2100"),
            ("", "wrong shape"),
        ] {
            assert_eq!(Period::parse(input).unwrap_err().reason, reason, "{input}");
        }
    }
}
