//! Tariffs and the charge of one service for one period.
//!
//! Kinds seen on Kazakh utility bills: a flat amount per account, per m² of the premises,
//! per registered resident, metered per unit consumed, and tiered (limits per resident that
//! scale with the number of registered residents). Every tariff has validity dates; when a
//! tariff changes inside a period the charge is prorated by days.

use crate::Lang;
use crate::money::Money;
use crate::period::Period;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The unit a quantity is measured in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Account,
    SquareMetre,
    Person,
    CubicMetre,
    KilowattHour,
    Gigacalorie,
}

impl Unit {
    pub fn code(self) -> &'static str {
        match self {
            Unit::Account => "account",
            Unit::SquareMetre => "m2",
            Unit::Person => "person",
            Unit::CubicMetre => "m3",
            Unit::KilowattHour => "kwh",
            Unit::Gigacalorie => "gcal",
        }
    }

    pub fn symbol(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Unit::Account, Lang::Kk) => "шот",
            (Unit::Account, Lang::Ru) => "л/с",
            (Unit::Account, Lang::En) => "account",
            (Unit::SquareMetre, _) => "m²",
            (Unit::Person, Lang::Kk) => "адам",
            (Unit::Person, Lang::Ru) => "чел.",
            (Unit::Person, Lang::En) => "person",
            (Unit::CubicMetre, _) => "m³",
            (Unit::KilowattHour, Lang::Kk) => "кВт·сағ",
            (Unit::KilowattHour, Lang::Ru) => "кВт·ч",
            (Unit::KilowattHour, Lang::En) => "kWh",
            (Unit::Gigacalorie, Lang::En) => "Gcal",
            (Unit::Gigacalorie, _) => "Гкал",
        }
    }

    /// Whether quantities in this unit come from meter readings.
    pub fn is_metered(self) -> bool {
        matches!(
            self,
            Unit::CubicMetre | Unit::KilowattHour | Unit::Gigacalorie
        )
    }
}

impl FromStr for Unit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "account" => Unit::Account,
            "m2" => Unit::SquareMetre,
            "person" => Unit::Person,
            "m3" => Unit::CubicMetre,
            "kwh" => Unit::KilowattHour,
            "gcal" => Unit::Gigacalorie,
            other => {
                return Err(format!(
                    "unknown unit '{other}': use account, m2, person, m3, kwh or gcal"
                ));
            }
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TariffKind {
    /// A fixed amount per personal account per month.
    Flat,
    /// Per m² of the premises' area per month (e.g. unmetered heating).
    PerArea,
    /// Per registered resident per month (e.g. waste collection).
    PerResident,
    /// Per unit consumed, from meter readings.
    Metered,
    /// Per unit consumed, in tiers whose limits are given per resident.
    Tiered,
}

impl TariffKind {
    pub fn code(self) -> &'static str {
        match self {
            TariffKind::Flat => "flat",
            TariffKind::PerArea => "per_area",
            TariffKind::PerResident => "per_resident",
            TariffKind::Metered => "metered",
            TariffKind::Tiered => "tiered",
        }
    }

    pub fn uses_readings(self) -> bool {
        matches!(self, TariffKind::Metered | TariffKind::Tiered)
    }
}

impl FromStr for TariffKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "flat" => TariffKind::Flat,
            "per_area" => TariffKind::PerArea,
            "per_resident" => TariffKind::PerResident,
            "metered" => TariffKind::Metered,
            "tiered" => TariffKind::Tiered,
            other => {
                return Err(format!(
                    "unknown tariff kind '{other}': use flat, per_area, per_resident, metered or tiered"
                ));
            }
        })
    }
}

/// One tier of a tiered tariff: the rate applies to consumption up to
/// `up_to_per_resident × residents` (cumulative); the last tier has no limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub up_to_per_resident: Option<Decimal>,
    pub rate: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tariff {
    pub kind: TariffKind,
    /// ₸ per unit; for tiered tariffs the rate of the first tier.
    pub rate: Decimal,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<Tier>,
    pub valid_from: NaiveDate,
    /// Inclusive; `None` while in force.
    pub valid_to: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TariffError {
    #[error("rate {0} is negative")]
    NegativeRate(Decimal),
    #[error("a tiered tariff needs at least one tier, the last without a limit")]
    NoTiers,
    #[error("tier limits must increase and only the last tier may be unlimited")]
    BadTierOrder,
    #[error("valid_to {to} is before valid_from {from}")]
    BadValidity { from: NaiveDate, to: NaiveDate },
    #[error("tariffs of one service overlap on {0}")]
    Overlap(NaiveDate),
    #[error("the meter reading {current} is lower than the previous reading {previous}")]
    ReadingDecreased { previous: Decimal, current: Decimal },
    #[error("no {0} for a tariff that needs it")]
    MissingInput(&'static str),
}

impl Tariff {
    pub fn validate(&self) -> Result<(), TariffError> {
        if self.rate.is_sign_negative() && !self.rate.is_zero() {
            return Err(TariffError::NegativeRate(self.rate));
        }
        if let Some(to) = self.valid_to
            && to < self.valid_from
        {
            return Err(TariffError::BadValidity {
                from: self.valid_from,
                to,
            });
        }
        if self.kind == TariffKind::Tiered {
            let Some(last) = self.tiers.last() else {
                return Err(TariffError::NoTiers);
            };
            if last.up_to_per_resident.is_some() {
                return Err(TariffError::BadTierOrder);
            }
            let mut previous = Decimal::ZERO;
            for tier in &self.tiers {
                if tier.rate.is_sign_negative() && !tier.rate.is_zero() {
                    return Err(TariffError::NegativeRate(tier.rate));
                }
                if let Some(limit) = tier.up_to_per_resident {
                    if limit <= previous {
                        return Err(TariffError::BadTierOrder);
                    }
                    previous = limit;
                }
            }
            if self.tiers[..self.tiers.len() - 1]
                .iter()
                .any(|t| t.up_to_per_resident.is_none())
            {
                return Err(TariffError::BadTierOrder);
            }
        }
        Ok(())
    }

    /// Days of `period` this tariff is in force.
    pub fn days_in(&self, period: Period) -> u32 {
        let start = self.valid_from.max(period.first_day());
        let end = self
            .valid_to
            .map_or(period.last_day(), |to| to.min(period.last_day()));
        if end < start {
            0
        } else {
            (end - start).num_days() as u32 + 1
        }
    }
}

/// What the charge of a service depends on, for one account and period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Basis {
    pub area_m2: Decimal,
    pub residents: u32,
    /// Consumption from meter readings, when the service is metered.
    pub consumption: Option<Decimal>,
}

/// One term of a charge's formula: `quantity unit × rate ₸/unit`, prorated by
/// `days.0 / days.1` when a tariff covers part of the period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    pub quantity: Decimal,
    pub unit: Unit,
    pub rate: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<(u32, u32)>,
    /// For tiered tariffs: the tier number (1-based) and its limit for this account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<(u8, Option<Decimal>)>,
}

impl Term {
    pub fn exact(&self) -> Decimal {
        let base = self.quantity * self.rate;
        match self.days {
            Some((d, n)) if n > 0 => base * Decimal::from(d) / Decimal::from(n),
            _ => base,
        }
    }

    pub fn render(&self, lang: Lang) -> String {
        let unit = self.unit.symbol(lang);
        let mut s = format!(
            "{} {unit} × {} ₸/{unit}",
            self.quantity.normalize(),
            self.rate.normalize()
        );
        if let Some((d, n)) = self.days {
            let days = match lang {
                Lang::Kk => "күн",
                Lang::Ru => "дн.",
                Lang::En => "days",
            };
            s.push_str(&format!(" × {d}/{n} {days}"));
        }
        if let Some((n, limit)) = self.tier {
            let tier = match lang {
                Lang::Kk => "саты",
                Lang::Ru => "ступень",
                Lang::En => "tier",
            };
            match limit {
                Some(l) => s.push_str(&format!(" ({tier} {n}, ≤ {} {unit})", l.normalize())),
                None => s.push_str(&format!(" ({tier} {n})")),
            }
        }
        s
    }
}

/// The charge of one service for one period: its quantity, amount (rounded once) and terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    pub quantity: Decimal,
    pub amount: Money,
    pub terms: Vec<Term>,
}

/// Charges one service for `period` under `tariffs` (several when the tariff changed inside
/// the period). Days not covered by any tariff are not charged. `unit` is the service's
/// metered unit, used by metered and tiered tariffs.
pub fn charge(
    tariffs: &[Tariff],
    unit: Unit,
    period: Period,
    basis: Basis,
) -> Result<Charge, TariffError> {
    let period_days = period.days();
    let mut active: Vec<(&Tariff, u32)> = tariffs
        .iter()
        .map(|t| (t, t.days_in(period)))
        .filter(|(_, d)| *d > 0)
        .collect();
    active.sort_by_key(|(t, _)| t.valid_from);
    for pair in active.windows(2) {
        let (a, b) = (pair[0].0, pair[1].0);
        if a.valid_to.is_none_or(|to| to >= b.valid_from) {
            return Err(TariffError::Overlap(b.valid_from));
        }
    }
    let covers_period = active.iter().map(|(_, d)| d).sum::<u32>() == period_days;
    let mut terms = Vec::new();
    let mut quantity = Decimal::ZERO;
    let consumption_total = basis.consumption;
    let mut consumption_left = consumption_total.unwrap_or_default();
    for (i, (tariff, days)) in active.iter().enumerate() {
        tariff.validate()?;
        let partial = (*days != period_days).then_some((*days, period_days));
        match tariff.kind {
            TariffKind::Flat | TariffKind::PerArea | TariffKind::PerResident => {
                let (q, u) = match tariff.kind {
                    TariffKind::Flat => (Decimal::ONE, Unit::Account),
                    TariffKind::PerArea => (basis.area_m2, Unit::SquareMetre),
                    _ => (Decimal::from(basis.residents), Unit::Person),
                };
                quantity = q;
                terms.push(Term {
                    quantity: q,
                    unit: u,
                    rate: tariff.rate,
                    days: partial,
                    tier: None,
                });
            }
            TariffKind::Metered | TariffKind::Tiered => {
                let total = consumption_total.ok_or(TariffError::MissingInput("meter reading"))?;
                // Consumption is shared between tariffs by days, to 0.001 of a unit; the
                // last tariff takes what is left so the parts sum to the consumption.
                let q = if i + 1 == active.len() && covers_period {
                    consumption_left
                } else {
                    (total * Decimal::from(*days) / Decimal::from(period_days)).round_dp(3)
                };
                consumption_left -= q;
                quantity += q;
                if tariff.kind == TariffKind::Metered {
                    terms.push(Term {
                        quantity: q,
                        unit,
                        rate: tariff.rate,
                        days: None,
                        tier: None,
                    });
                } else {
                    tiered_terms(tariff, unit, q, basis.residents, partial, &mut terms);
                }
            }
        }
    }
    let exact: Decimal = terms.iter().map(Term::exact).sum();
    Ok(Charge {
        quantity,
        amount: Money::round(exact),
        terms,
    })
}

/// Splits `q` across the tiers of `tariff`. Limits are per resident (at least one) and,
/// when the tariff covers part of the period, scaled by its share of days.
fn tiered_terms(
    tariff: &Tariff,
    unit: Unit,
    q: Decimal,
    residents: u32,
    partial: Option<(u32, u32)>,
    terms: &mut Vec<Term>,
) {
    let people = Decimal::from(residents.max(1));
    let share = partial.map_or(Decimal::ONE, |(d, n)| Decimal::from(d) / Decimal::from(n));
    let mut left = q;
    let mut floor = Decimal::ZERO;
    for (n, tier) in tariff.tiers.iter().enumerate() {
        let limit = tier
            .up_to_per_resident
            .map(|l| (l * people * share).round_dp(3));
        let in_tier = match limit {
            Some(l) => left.min((l - floor).max(Decimal::ZERO)),
            None => left,
        };
        if in_tier > Decimal::ZERO || (n == 0 && q.is_zero()) {
            terms.push(Term {
                quantity: in_tier,
                unit,
                rate: tier.rate,
                days: None,
                tier: Some((n as u8 + 1, limit)),
            });
        }
        left -= in_tier;
        if let Some(l) = limit {
            floor = l;
        }
        if left <= Decimal::ZERO {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }
    fn date(s: &str) -> NaiveDate {
        NaiveDate::from_str(s).unwrap()
    }
    fn nov() -> Period {
        Period::parse("2026-11").unwrap()
    }
    fn tariff(kind: TariffKind, rate: &str) -> Tariff {
        Tariff {
            kind,
            rate: d(rate),
            tiers: vec![],
            valid_from: date("2025-01-01"),
            valid_to: None,
        }
    }
    fn basis(area: &str, residents: u32, consumption: Option<&str>) -> Basis {
        Basis {
            area_m2: d(area),
            residents,
            consumption: consumption.map(d),
        }
    }

    #[test]
    fn flat_per_account_charges_the_rate() {
        let c = charge(
            &[tariff(TariffKind::Flat, "1500")],
            Unit::Account,
            nov(),
            basis("50", 2, None),
        )
        .unwrap();
        assert_eq!(c.amount, Money::from_tenge(1500));
        assert_eq!(c.terms[0].render(Lang::En), "1 account × 1500 ₸/account");
    }

    #[test]
    fn heating_per_area_is_area_times_rate() {
        let c = charge(
            &[tariff(TariffKind::PerArea, "394.37")],
            Unit::Gigacalorie,
            nov(),
            basis("42.8", 3, None),
        )
        .unwrap();
        assert_eq!(c.amount.to_string(), "16879.04");
        assert_eq!(c.terms[0].render(Lang::En), "42.8 m² × 394.37 ₸/m²");
        assert_eq!(c.quantity, d("42.8"));
    }

    #[test]
    fn waste_per_resident_multiplies_by_registered_residents() {
        let c = charge(
            &[tariff(TariffKind::PerResident, "718.5")],
            Unit::Account,
            nov(),
            basis("60", 3, None),
        )
        .unwrap();
        assert_eq!(c.amount.to_string(), "2155.50");
        assert_eq!(c.terms[0].render(Lang::Kk), "3 адам × 718.5 ₸/адам");
        assert_eq!(c.terms[0].render(Lang::Ru), "3 чел. × 718.5 ₸/чел.");
    }

    #[test]
    fn metered_charges_consumption_times_rate() {
        let c = charge(
            &[tariff(TariffKind::Metered, "83.54")],
            Unit::CubicMetre,
            nov(),
            basis("60", 3, Some("7.25")),
        )
        .unwrap();
        // 7.25 × 83.54 = 605.665 → 605.67
        assert_eq!(c.amount.to_string(), "605.67");
        assert_eq!(c.terms[0].render(Lang::En), "7.25 m³ × 83.54 ₸/m³");
    }

    #[test]
    fn metered_without_a_reading_is_an_error_not_a_zero() {
        let e = charge(
            &[tariff(TariffKind::Metered, "83.54")],
            Unit::CubicMetre,
            nov(),
            basis("60", 3, None),
        )
        .unwrap_err();
        assert_eq!(e, TariffError::MissingInput("meter reading"));
    }

    fn electricity() -> Tariff {
        Tariff {
            kind: TariffKind::Tiered,
            rate: d("35.67"),
            tiers: vec![
                Tier {
                    up_to_per_resident: Some(d("70")),
                    rate: d("35.67"),
                },
                Tier {
                    up_to_per_resident: Some(d("140")),
                    rate: d("42.80"),
                },
                Tier {
                    up_to_per_resident: None,
                    rate: d("53.50"),
                },
            ],
            valid_from: date("2025-07-15"),
            valid_to: None,
        }
    }

    #[test]
    fn tiered_limits_scale_with_residents() {
        // 2 residents: tier 1 up to 140 kWh, tier 2 up to 280 kWh, then tier 3.
        let c = charge(
            &[electricity()],
            Unit::KilowattHour,
            nov(),
            basis("60", 2, Some("300")),
        )
        .unwrap();
        let q: Vec<String> = c
            .terms
            .iter()
            .map(|t| t.quantity.normalize().to_string())
            .collect();
        assert_eq!(q, ["140", "140", "20"]);
        // 140×35.67 + 140×42.80 + 20×53.50 = 4993.8 + 5992 + 1070 = 12055.8
        assert_eq!(c.amount.to_string(), "12055.80");
        assert!(c.terms[1].render(Lang::En).contains("tier 2, ≤ 280"));
        // One resident, same consumption: more in the higher tiers.
        let one = charge(
            &[electricity()],
            Unit::KilowattHour,
            nov(),
            basis("60", 1, Some("300")),
        )
        .unwrap();
        assert!(one.amount > c.amount);
    }

    #[test]
    fn tiered_with_nobody_registered_uses_one_resident_limits() {
        let c = charge(
            &[electricity()],
            Unit::KilowattHour,
            nov(),
            basis("60", 0, Some("50")),
        )
        .unwrap();
        assert_eq!(c.terms.len(), 1);
        assert_eq!(c.amount.to_string(), "1783.50");
    }

    #[test]
    fn a_tariff_change_inside_the_period_is_prorated_by_days() {
        let old = Tariff {
            valid_to: Some(date("2026-11-10")),
            ..tariff(TariffKind::PerArea, "394.37")
        };
        let new = Tariff {
            valid_from: date("2026-11-11"),
            ..tariff(TariffKind::PerArea, "420.00")
        };
        let c = charge(
            &[new, old],
            Unit::Gigacalorie,
            nov(),
            basis("42.8", 1, None),
        )
        .unwrap();
        assert_eq!(c.terms.len(), 2);
        assert_eq!(c.terms[0].days, Some((10, 30)));
        assert_eq!(c.terms[1].days, Some((20, 30)));
        // 42.8×394.37×10/30 + 42.8×420×20/30 = 5626.345333… + 11984 = 17610.345… → 17610.35
        assert_eq!(c.amount.to_string(), "17610.35");
        assert_eq!(
            c.terms[0].render(Lang::En),
            "42.8 m² × 394.37 ₸/m² × 10/30 days"
        );
    }

    #[test]
    fn a_metered_tariff_change_splits_consumption_by_days_exactly() {
        let old = Tariff {
            valid_to: Some(date("2026-11-20")),
            ..tariff(TariffKind::Metered, "91.96")
        };
        let new = Tariff {
            valid_from: date("2026-11-21"),
            ..tariff(TariffKind::Metered, "100.00")
        };
        let c = charge(
            &[old, new],
            Unit::CubicMetre,
            nov(),
            basis("42.8", 1, Some("10")),
        )
        .unwrap();
        assert_eq!(c.terms[0].quantity, d("6.667"));
        assert_eq!(c.terms[1].quantity, d("3.333"));
        assert_eq!(c.quantity, d("10"));
        // 6.667×91.96 + 3.333×100 = 613.09732 + 333.3 = 946.39732
        assert_eq!(c.amount.to_string(), "946.40");
    }

    #[test]
    fn a_service_starting_mid_period_charges_only_its_days() {
        let t = Tariff {
            valid_from: date("2026-11-16"),
            ..tariff(TariffKind::Flat, "3000")
        };
        let c = charge(&[t], Unit::Account, nov(), basis("1", 1, None)).unwrap();
        assert_eq!(c.amount.to_string(), "1500.00");
    }

    #[test]
    fn overlapping_and_invalid_tariffs_are_refused() {
        let a = tariff(TariffKind::Flat, "1");
        let b = Tariff {
            valid_from: date("2026-11-05"),
            ..tariff(TariffKind::Flat, "2")
        };
        assert_eq!(
            charge(&[a, b], Unit::Account, nov(), basis("1", 1, None)).unwrap_err(),
            TariffError::Overlap(date("2026-11-05"))
        );
        let neg = tariff(TariffKind::Flat, "-1");
        assert!(matches!(neg.validate(), Err(TariffError::NegativeRate(_))));
        let mut tiers = electricity();
        tiers.tiers.swap(0, 1);
        assert_eq!(tiers.validate(), Err(TariffError::BadTierOrder));
        let empty = Tariff {
            tiers: vec![],
            ..electricity()
        };
        assert_eq!(empty.validate(), Err(TariffError::NoTiers));
    }
}
