//! The key performance indicators a USC publishes (D14d): the versioned file that
//! `esep kpi export` writes and the site generator reads. No personal data: only monthly
//! totals, and a month computed over fewer than [`MIN_ACCOUNTS`] accounts is suppressed.

use crate::money::Money;
use crate::period::Period;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub const KPI_VERSION: u32 = 1;
/// Figures computed over fewer accounts than this are not published.
pub const MIN_ACCOUNTS: u64 = 10;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiFile {
    pub version: u32,
    pub generated_at: String,
    pub usc: String,
    pub period_from: Period,
    pub period_to: Period,
    pub months: Vec<KpiMonth>,
}

/// One month's indicators; `None` means suppressed (too few accounts) or not recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiMonth {
    pub period: Period,
    /// True when the month had fewer than MIN_ACCOUNTS accounts and its figures are withheld.
    pub suppressed: bool,
    pub accounts_served: Option<u64>,
    pub charged: Option<Money>,
    pub payments_count: Option<u64>,
    pub payments_sum: Option<Money>,
    /// Payments received in the month after the period ÷ charged for the period, in %.
    pub collection_rate_pct: Option<Decimal>,
    pub cabinet_users: Option<u64>,
    /// Accounts whose UPD is delivered to a personal cabinet ÷ accounts served, in %.
    pub electronic_upd_share_pct: Option<Decimal>,
    pub complaints_received: Option<u64>,
    pub complaints_answered_on_time_pct: Option<Decimal>,
    pub median_hours_payment_to_payout: Option<Decimal>,
    pub discrepancies_registered_on_time_pct: Option<Decimal>,
}

/// The indicators, in the order they are published, with their keys in KpiMonth.
pub const INDICATORS: &[&str] = &[
    "payments_count",
    "payments_sum",
    "collection_rate_pct",
    "accounts_served",
    "cabinet_users",
    "electronic_upd_share_pct",
    "complaints_received",
    "complaints_answered_on_time_pct",
    "median_hours_payment_to_payout",
    "discrepancies_registered_on_time_pct",
];

impl KpiMonth {
    /// A month whose figures are withheld: too few accounts to publish without revealing
    /// individual households.
    pub fn withheld(period: Period) -> KpiMonth {
        KpiMonth {
            period,
            suppressed: true,
            accounts_served: None,
            charged: None,
            payments_count: None,
            payments_sum: None,
            collection_rate_pct: None,
            cabinet_users: None,
            electronic_upd_share_pct: None,
            complaints_received: None,
            complaints_answered_on_time_pct: None,
            median_hours_payment_to_payout: None,
            discrepancies_registered_on_time_pct: None,
        }
    }

    /// An indicator's value as a decimal, by its key.
    pub fn value(&self, key: &str) -> Option<Decimal> {
        match key {
            "payments_count" => self.payments_count.map(Decimal::from),
            "payments_sum" => self.payments_sum.map(Money::as_decimal),
            "collection_rate_pct" => self.collection_rate_pct,
            "accounts_served" => self.accounts_served.map(Decimal::from),
            "cabinet_users" => self.cabinet_users.map(Decimal::from),
            "electronic_upd_share_pct" => self.electronic_upd_share_pct,
            "complaints_received" => self.complaints_received.map(Decimal::from),
            "complaints_answered_on_time_pct" => self.complaints_answered_on_time_pct,
            "median_hours_payment_to_payout" => self.median_hours_payment_to_payout,
            "discrepancies_registered_on_time_pct" => self.discrepancies_registered_on_time_pct,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_published_indicator_has_a_value_accessor() {
        let m = KpiMonth {
            period: Period::parse("2026-11").unwrap(),
            payments_count: Some(1),
            charged: Some(Money::from_tiyn(1)),
            payments_sum: Some(Money::from_tiyn(1)),
            collection_rate_pct: Some(Decimal::ONE),
            accounts_served: Some(1),
            cabinet_users: Some(1),
            electronic_upd_share_pct: Some(Decimal::ONE),
            complaints_received: Some(1),
            complaints_answered_on_time_pct: Some(Decimal::ONE),
            median_hours_payment_to_payout: Some(Decimal::ONE),
            discrepancies_registered_on_time_pct: Some(Decimal::ONE),
            suppressed: false,
        };
        for key in INDICATORS {
            assert!(m.value(key).is_some(), "{key}");
        }
        assert_eq!(m.value("nonsense"), None);
        let w = KpiMonth::withheld(m.period);
        assert!(w.suppressed && INDICATORS.iter().all(|k| w.value(k).is_none()));
    }
}
