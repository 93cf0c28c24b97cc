//! The published consultation hours (D12): when the cabinet chat is staffed, and when a
//! message written outside them will be answered.
//!
//! Times are Almaty time (UTC+5, the single time zone of Kazakhstan since 1 March 2024).
//! The schedule is the one published on the site's "Work schedule" page: Monday to Friday
//! 09:00–18:00, Saturday 10:00–14:00, closed on Sundays, law holidays, carried-over and
//! decree days off; a Saturday that a decree makes a working day has weekday hours.

use crate::calendar::{DayKind, WorkingCalendar};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono::{Offset, Weekday};

/// Almaty time, UTC+5.
pub fn almaty() -> FixedOffset {
    // 5 × 3600 s is within a day, so the offset always exists.
    FixedOffset::east_opt(5 * 3600).unwrap_or_else(|| Utc.fix())
}

/// The chat's opening and closing time on a date, or `None` when it is closed all day.
pub fn hours_on(calendar: &WorkingCalendar, date: NaiveDate) -> Option<(NaiveTime, NaiveTime)> {
    let t = |h| NaiveTime::from_hms_opt(h, 0, 0);
    match calendar.day_kind(date) {
        DayKind::Working | DayKind::DecreeWorkingDay => Some((t(9)?, t(18)?)),
        DayKind::Weekend if date.weekday() == Weekday::Sat => Some((t(10)?, t(14)?)),
        _ => None,
    }
}

/// Whether the chat is staffed at this local (Almaty) time.
pub fn is_open(calendar: &WorkingCalendar, at: NaiveDateTime) -> bool {
    hours_on(calendar, at.date())
        .is_some_and(|(open, close)| at.time() >= open && at.time() < close)
}

/// The next local time the chat is staffed: `at` itself when open now. Looks at most a
/// year ahead (the longest closure, the New Year and Nauryz holidays, is a few days).
pub fn next_open(calendar: &WorkingCalendar, at: NaiveDateTime) -> Option<NaiveDateTime> {
    if is_open(calendar, at) {
        return Some(at);
    }
    let mut date = at.date();
    for _ in 0..366 {
        if let Some((open, _)) = hours_on(calendar, date) {
            let start = date.and_time(open);
            if start > at {
                return Some(start);
            }
        }
        date += Duration::days(1);
    }
    None
}

/// The local time of a UTC instant.
pub fn local(at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&almaty()).naive_local()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn weekday_hours_and_saturday_hours() {
        let cal = WorkingCalendar::kazakhstan();
        // Thursday 3 December 2026.
        assert!(!is_open(&cal, at("2026-12-03 08:59")));
        assert!(is_open(&cal, at("2026-12-03 09:00")));
        assert!(is_open(&cal, at("2026-12-03 17:59")));
        assert!(!is_open(&cal, at("2026-12-03 18:00")));
        // Saturday 5 December 2026: 10–14.
        assert!(is_open(&cal, at("2026-12-05 10:00")));
        assert!(!is_open(&cal, at("2026-12-05 14:00")));
        // Sunday: closed all day.
        assert!(!is_open(&cal, at("2026-12-06 12:00")));
    }

    #[test]
    fn a_message_out_of_hours_is_answered_at_the_next_opening() {
        let cal = WorkingCalendar::kazakhstan();
        // Thursday evening → Friday 09:00.
        assert_eq!(
            next_open(&cal, at("2026-12-03 20:00")),
            Some(at("2026-12-04 09:00"))
        );
        // Saturday evening → Monday 09:00.
        assert_eq!(
            next_open(&cal, at("2026-12-05 19:00")),
            Some(at("2026-12-07 09:00"))
        );
        // Saturday early → Saturday 10:00.
        assert_eq!(
            next_open(&cal, at("2026-12-05 07:00")),
            Some(at("2026-12-05 10:00"))
        );
        // Open now → now.
        assert_eq!(
            next_open(&cal, at("2026-12-03 12:30")),
            Some(at("2026-12-03 12:30"))
        );
    }

    #[test]
    fn holidays_are_closed() {
        let cal = WorkingCalendar::kazakhstan();
        // 16 December (Independence Day) 2026 is a Wednesday: closed; the 17th opens.
        assert_eq!(
            hours_on(&cal, NaiveDate::from_ymd_opt(2026, 12, 16).unwrap()),
            None
        );
        assert_eq!(
            next_open(&cal, at("2026-12-15 18:30")),
            Some(at("2026-12-17 09:00"))
        );
    }
}
