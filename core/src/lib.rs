//! Esep domain: the pure part of a Unified Settlement Center (БЕО / ЕРЦ).
//!
//! No I/O, no async: everything here also builds for `wasm32-unknown-unknown`, so the
//! server and the cabinet share one definition of money, identifiers, periods, tariffs,
//! the unified payment document and the API's request and response types.

pub mod api;
pub mod billing;
pub mod calendar;
pub mod hours;
pub mod i18n;
pub mod ids;
pub mod kpi;
pub mod money;
pub mod period;
pub mod settlement;
pub mod tariff;

pub use billing::{Bill, UpdLine};
pub use calendar::WorkingCalendar;
pub use i18n::{Lang, Localized};
pub use ids::{Bin, Iban, Iin};
pub use money::Money;
pub use period::Period;
