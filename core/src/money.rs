//! Exact money in tenge (KZT, ₸) with tiyn as the minor unit.
//!
//! A `Money` always holds a whole number of tiyn. Exact intermediate amounts (tariff ×
//! quantity) are `Decimal`s and become `Money` only through [`Money::round`], which rounds
//! half away from zero to the tiyn: once per line, so totals are sums of rounded lines.

use rust_decimal::{Decimal, RoundingStrategy, prelude::ToPrimitive};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

/// An exact amount of tenge, a whole number of tiyn. Serialised as a decimal string
/// ("1234.50") so that no JSON reader turns it into a float.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

/// Why a text is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error(
        "'{0}' is not a number (expected digits with an optional '.' and at most 2 decimals, e.g. 1250.50)"
    )]
    NotANumber(String),
    #[error("'{0}' has more than 2 decimal places; tenge amounts are exact to the tiyn (0.01)")]
    TooPrecise(String),
    #[error("'{0}' is too large for an amount of money")]
    Overflow(String),
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_tiyn(tiyn: i64) -> Money {
        Money(tiyn)
    }

    pub const fn tiyn(self) -> i64 {
        self.0
    }

    pub fn from_tenge(tenge: i64) -> Money {
        Money(tenge * 100)
    }

    /// Rounds an exact amount half away from zero to the tiyn.
    pub fn round(exact: Decimal) -> Money {
        let tiyn = (exact * Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
        Money(tiyn.to_i64().unwrap_or(if tiyn.is_sign_negative() {
            i64::MIN
        } else {
            i64::MAX
        }))
    }

    /// Parses an exact amount ("1250", "1250.5", "-3.07"); more than two decimals is an
    /// error, never silently rounded.
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        let t = text.trim();
        let valid_chars = !t.is_empty()
            && t.chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && c == '-'));
        if !valid_chars {
            return Err(MoneyError::NotANumber(text.to_string()));
        }
        let d = Decimal::from_str(t).map_err(|_| MoneyError::NotANumber(text.to_string()))?;
        if d.normalize().scale() > 2 {
            return Err(MoneyError::TooPrecise(text.to_string()));
        }
        // Checked: 28 digits times 100 overflow the decimal itself (found by the `ids` fuzz
        // target: a panic on "5008585057655000576556050060").
        d.checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|t| t.to_i64())
            .map(Money)
            .ok_or_else(|| MoneyError::Overflow(text.to_string()))
    }

    pub fn as_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn max(self, other: Money) -> Money {
        Money(self.0.max(other.0))
    }

    pub fn min(self, other: Money) -> Money {
        Money(self.0.min(other.0))
    }

    /// Splits `self` into parts proportional to `weights` by the largest-remainder method.
    /// The parts always sum back to `self` exactly; for a non-negative amount and
    /// non-negative weights no part is negative. Ties go to the earlier weight.
    /// Returns `None` when the weights are empty, any is negative, or all are zero.
    pub fn split(self, weights: &[Money]) -> Option<Vec<Money>> {
        if weights.is_empty() || weights.iter().any(|w| w.is_negative()) {
            return None;
        }
        let total_weight: i128 = weights.iter().map(|w| i128::from(w.0)).sum();
        if total_weight == 0 {
            return None;
        }
        let amount = i128::from(self.0);
        let sign = if amount < 0 { -1 } else { 1 };
        let amount = amount.abs();
        let mut parts: Vec<i128> = Vec::with_capacity(weights.len());
        let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
        for (i, w) in weights.iter().enumerate() {
            let product = amount * i128::from(w.0);
            parts.push(product / total_weight);
            remainders.push((product % total_weight, i));
        }
        let mut left = amount - parts.iter().sum::<i128>();
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, i) in remainders {
            if left == 0 {
                break;
            }
            parts[i] += 1;
            left -= 1;
        }
        // Each part is at most |self|, which came from an i64.
        Some(
            parts
                .into_iter()
                .map(|p| Money((sign * p) as i64))
                .collect(),
        )
    }

    /// "12 345.67 ₸": groups of thousands separated by a narrow no-break space, as on bills.
    pub fn display_kzt(self) -> String {
        let abs = self.0.unsigned_abs();
        let whole = (abs / 100).to_string();
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push('\u{202F}');
            }
            grouped.push(c);
        }
        let sign = if self.0 < 0 { "−" } else { "" };
        format!("{sign}{grouped}.{:02}\u{00A0}₸", abs % 100)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({self})")
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse(s)
    }
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Money::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Money) {
        self.0 -= rhs.0;
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Money {
        iter.copied().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn rounding_is_half_away_from_zero_to_the_tiyn() {
        assert_eq!(Money::round(d("0.005")), Money::from_tiyn(1));
        assert_eq!(Money::round(d("0.0049")), Money::from_tiyn(0));
        assert_eq!(Money::round(d("-0.005")), Money::from_tiyn(-1));
        assert_eq!(Money::round(d("16878.996")), Money::from_tiyn(1_687_900));
        assert_eq!(Money::round(d("2.675")), Money::from_tiyn(268));
    }

    #[test]
    fn heating_by_area_rounds_once_per_line() {
        // 42.8 m² × 394.37 ₸/m² = 16 879.036 ₸
        assert_eq!(
            Money::round(d("42.8") * d("394.37")).to_string(),
            "16879.04"
        );
    }

    #[test]
    fn parse_accepts_exact_amounts_and_refuses_fractions_of_a_tiyn() {
        assert_eq!(Money::parse("1250").unwrap(), Money::from_tiyn(125_000));
        assert_eq!(Money::parse("1250.5").unwrap(), Money::from_tiyn(125_050));
        assert_eq!(Money::parse("-3.07").unwrap(), Money::from_tiyn(-307));
        assert_eq!(Money::parse("1.230").unwrap(), Money::from_tiyn(123));
        assert!(matches!(
            Money::parse("1.234"),
            Err(MoneyError::TooPrecise(_))
        ));
        assert!(matches!(
            Money::parse("12a"),
            Err(MoneyError::NotANumber(_))
        ));
        assert!(matches!(Money::parse(""), Err(MoneyError::NotANumber(_))));
        assert!(matches!(
            Money::parse("1e5"),
            Err(MoneyError::NotANumber(_))
        ));
        assert!(matches!(
            Money::parse("99999999999999999999999"),
            Err(MoneyError::NotANumber(_) | MoneyError::Overflow(_))
        ));
        // 28 digits: the decimal itself overflows when scaled to tiyn (a panic, once).
        assert!(matches!(
            Money::parse("5008585057655000576556050060"),
            Err(MoneyError::Overflow(_))
        ));
    }

    #[test]
    fn serialises_as_a_decimal_string() {
        let m = Money::from_tiyn(-5);
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"-0.05\"");
        let back: Money = serde_json::from_str("\"17.30\"").unwrap();
        assert_eq!(back, Money::from_tiyn(1730));
        assert!(serde_json::from_str::<Money>("17.3").is_err());
    }

    #[test]
    fn display_for_bills_groups_thousands() {
        assert_eq!(
            Money::from_tiyn(1_234_567).display_kzt(),
            "12\u{202F}345.67\u{00A0}₸"
        );
        assert_eq!(Money::from_tiyn(-50).display_kzt(), "−0.50\u{00A0}₸");
    }

    #[test]
    fn split_gives_the_remainder_to_the_largest_fractions() {
        let parts = Money::from_tiyn(100)
            .split(&[
                Money::from_tiyn(1),
                Money::from_tiyn(1),
                Money::from_tiyn(1),
            ])
            .unwrap();
        assert_eq!(
            parts,
            vec![
                Money::from_tiyn(34),
                Money::from_tiyn(33),
                Money::from_tiyn(33)
            ]
        );
        let parts = Money::from_tiyn(1000)
            .split(&[Money::from_tiyn(500), Money::ZERO, Money::from_tiyn(1500)])
            .unwrap();
        assert_eq!(
            parts,
            vec![Money::from_tiyn(250), Money::ZERO, Money::from_tiyn(750)]
        );
    }

    #[test]
    fn split_refuses_degenerate_weights() {
        assert_eq!(Money::from_tiyn(5).split(&[]), None);
        assert_eq!(Money::from_tiyn(5).split(&[Money::ZERO]), None);
        assert_eq!(
            Money::from_tiyn(5).split(&[Money::from_tiyn(3), Money::from_tiyn(-1)]),
            None
        );
    }

    proptest! {
        #[test]
        fn split_always_sums_back_and_is_never_negative(
            amount in -10_000_000_000i64..10_000_000_000,
            weights in proptest::collection::vec(0i64..1_000_000_000, 1..12),
        ) {
            let weights: Vec<Money> = weights.into_iter().map(Money::from_tiyn).collect();
            if let Some(parts) = Money::from_tiyn(amount).split(&weights) {
                prop_assert_eq!(parts.len(), weights.len());
                prop_assert_eq!(parts.iter().sum::<Money>(), Money::from_tiyn(amount));
                for (p, w) in parts.iter().zip(&weights) {
                    if amount >= 0 { prop_assert!(!p.is_negative()); } else { prop_assert!(!p.is_positive()); }
                    if w.is_zero() { prop_assert!(p.is_zero()); }
                }
            } else {
                prop_assert!(weights.iter().all(|w| w.is_zero()));
            }
        }

        #[test]
        fn split_parts_are_within_one_tiyn_of_the_exact_share(
            amount in 0i64..1_000_000_000,
            weights in proptest::collection::vec(1i64..1_000_000, 1..8),
        ) {
            let ws: Vec<Money> = weights.iter().copied().map(Money::from_tiyn).collect();
            let parts = Money::from_tiyn(amount).split(&ws).unwrap();
            let total: i128 = weights.iter().map(|&w| i128::from(w)).sum();
            for (p, w) in parts.iter().zip(&weights) {
                let exact_floor = i128::from(amount) * i128::from(*w) / total;
                let got = i128::from(p.tiyn());
                prop_assert!(got == exact_floor || got == exact_floor + 1);
            }
        }

        #[test]
        fn display_and_parse_round_trip(tiyn in -1_000_000_000_000i64..1_000_000_000_000) {
            let m = Money::from_tiyn(tiyn);
            prop_assert_eq!(Money::parse(&m.to_string()).unwrap(), m);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,30}") {
            let _ = Money::parse(&s);
        }
    }
}
