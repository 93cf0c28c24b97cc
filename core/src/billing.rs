//! Billing: a pure function from one account's inputs for a period to its unified payment
//! document (UPD, T8; Kazakh «бірыңғай төлем құжаты», Russian «единый платёжный документ»).
//!
//! D1: every provider's charges for the account are merged into one document. D6: each line
//! keeps the inputs it was computed from, so an audit can recompute it. T4: utility and
//! additional services are kept in separate sections.

use crate::Lang;
use crate::money::Money;
use crate::period::Period;
use crate::tariff::{self, Basis, Tariff, TariffError, Term, Unit};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// T4: utility services, and additional services tied to the upkeep of housing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Utility,
    Additional,
}

impl Section {
    pub fn code(self) -> &'static str {
        match self {
            Section::Utility => "utility",
            Section::Additional => "additional",
        }
    }
}

impl FromStr for Section {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "utility" => Ok(Section::Utility),
            "additional" => Ok(Section::Additional),
            other => Err(format!(
                "unknown section '{other}': use utility or additional"
            )),
        }
    }
}

/// How a service's charge is formed: by the USC from tariffs, or submitted by the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeSource {
    Tariff,
    Provider,
}

/// What billing needs to know of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRef {
    pub service_id: i64,
    pub provider_id: i64,
    pub section: Section,
    /// The metered unit (m³, kWh, Gcal) or the unit of the tariff.
    pub unit: Unit,
    pub source: ChargeSource,
}

/// The two readings a metered charge is computed from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readings {
    pub previous: Decimal,
    pub current: Decimal,
}

/// A charge the provider computed and submitted itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderItem {
    pub amount: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    pub description: String,
}

/// A correction of an earlier period's charge (by a provider or after a discrepancy, D8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recalculation {
    pub amount: Money,
    pub reason: String,
}

/// Why a line carries no charge although the service is billed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Note {
    /// No meter reading this period: nothing is charged now; the consumption is charged
    /// in full with the next reading, since meters count cumulatively.
    NoReading,
    /// No tariff in force during the period.
    NoTariff,
}

/// Everything a line was computed from, kept with the issued UPD.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<Term>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readings: Option<Readings>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provider_items: Vec<ProviderItem>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recalculations: Vec<Recalculation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Note>,
}

/// One line of a UPD: one service of one provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdLine {
    pub service_id: i64,
    pub provider_id: i64,
    pub section: Section,
    pub unit: Unit,
    pub quantity: Decimal,
    /// Debt (positive) or advance (negative) carried from the previous UPD.
    pub opening: Money,
    pub charge: Money,
    pub recalculation: Money,
    /// Paid since the previous UPD.
    pub paid: Money,
    /// opening + charge + recalculation − paid.
    pub due: Money,
    pub explanation: Explanation,
}

impl UpdLine {
    /// The human-readable formula of the charge, e.g. "42.8 m² × 394.37 ₸/m²".
    pub fn formula(&self, lang: Lang) -> String {
        formula(&self.explanation, self.unit, lang)
    }
}

/// The human-readable formula of a line's charge from what it was computed from.
pub fn formula(e: &Explanation, unit: Unit, lang: Lang) -> String {
    let mut parts: Vec<String> = Vec::new();
    let terms: Vec<String> = e.terms.iter().map(|t| t.render(lang)).collect();
    if !terms.is_empty() {
        parts.push(terms.join(" + "));
    }
    for item in &e.provider_items {
        parts.push(format!("{} ({} ₸)", item.description, item.amount));
    }
    if let Some(note) = e.note {
        parts.push(note_text(note, lang).to_string());
    }
    for r in &e.recalculations {
        let label = match lang {
            Lang::Kk => "қайта есептеу",
            Lang::Ru => "перерасчёт",
            Lang::En => "recalculation",
        };
        parts.push(format!("{label} {} ₸: {}", r.amount, r.reason));
    }
    let body = parts.join("; ");
    match &e.readings {
        Some(r) => {
            let label = match lang {
                Lang::Kk => "көрсеткіштер",
                Lang::Ru => "показания",
                Lang::En => "readings",
            };
            format!(
                "{label} {} → {} = {} {}: {body}",
                r.previous.normalize(),
                r.current.normalize(),
                (r.current - r.previous).normalize(),
                unit.symbol(lang)
            )
        }
        None => body,
    }
}

fn note_text(note: Note, lang: Lang) -> &'static str {
    match (note, lang) {
        (Note::NoReading, Lang::Kk) => "көрсеткіш берілмеді: тұтыну келесі көрсеткішпен есептеледі",
        (Note::NoReading, Lang::Ru) => {
            "показания не переданы: расход будет начислен по следующим показаниям"
        }
        (Note::NoReading, Lang::En) => {
            "no reading: the consumption is charged with the next reading"
        }
        (Note::NoTariff, Lang::Kk) => "кезеңде тариф қолданылмады",
        (Note::NoTariff, Lang::Ru) => "в периоде тариф не действовал",
        (Note::NoTariff, Lang::En) => "no tariff in force in the period",
    }
}

/// The inputs of one service for one account and period.
#[derive(Clone, Debug)]
pub struct ServiceInput<'a> {
    pub service: &'a ServiceRef,
    /// The tariffs of the service that may apply in the period.
    pub tariffs: &'a [Tariff],
    pub readings: Option<Readings>,
    pub provider_items: Vec<ProviderItem>,
    pub recalculations: Vec<Recalculation>,
    pub opening: Money,
    pub paid: Money,
}

/// The inputs of one account for one period.
#[derive(Clone, Debug)]
pub struct AccountInput<'a> {
    pub period: Period,
    pub area_m2: Decimal,
    pub residents: u32,
    pub services: Vec<ServiceInput<'a>>,
}

/// The computed content of a UPD; numbering and versions are the store's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bill {
    pub period: Period,
    pub due_date: NaiveDate,
    /// Lines ordered by section (utility first), then provider, then service.
    pub lines: Vec<UpdLine>,
    /// Σ charge + recalculation of the lines.
    pub total_charged: Money,
    /// Σ due of the lines (debts minus advances).
    pub total_due: Money,
    /// Σ of the positive dues: what the consumer is asked to pay. An advance with one
    /// provider does not pay another provider's charges.
    pub to_pay: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillingError {
    #[error("service {service_id}: {source}")]
    Tariff {
        service_id: i64,
        #[source]
        source: TariffError,
    },
}

/// Bills one account for one period.
pub fn bill(input: &AccountInput<'_>) -> Result<Bill, BillingError> {
    let mut lines = Vec::with_capacity(input.services.len());
    for s in &input.services {
        let line = bill_service(input, s).map_err(|source| BillingError::Tariff {
            service_id: s.service.service_id,
            source,
        })?;
        let empty = line.charge.is_zero()
            && line.recalculation.is_zero()
            && line.opening.is_zero()
            && line.paid.is_zero()
            && line.explanation.terms.is_empty()
            && line.explanation.note.is_none()
            && line.explanation.provider_items.is_empty();
        if !empty {
            lines.push(line);
        }
    }
    lines.sort_by_key(|l| (l.section, l.provider_id, l.service_id));
    let total_charged = lines.iter().map(|l| l.charge + l.recalculation).sum();
    let total_due = lines.iter().map(|l| l.due).sum();
    let to_pay = lines.iter().map(|l| l.due.max(Money::ZERO)).sum();
    Ok(Bill {
        period: input.period,
        due_date: input.period.due_date(),
        lines,
        total_charged,
        total_due,
        to_pay,
    })
}

fn bill_service(input: &AccountInput<'_>, s: &ServiceInput<'_>) -> Result<UpdLine, TariffError> {
    let mut explanation = Explanation {
        recalculations: s.recalculations.clone(),
        ..Explanation::default()
    };
    let (quantity, charge) = match s.service.source {
        ChargeSource::Provider => {
            explanation.provider_items = s.provider_items.clone();
            let q = s.provider_items.iter().filter_map(|i| i.quantity).sum();
            (q, s.provider_items.iter().map(|i| i.amount).sum())
        }
        ChargeSource::Tariff => {
            let period = input.period;
            let in_force = s.tariffs.iter().any(|t| t.days_in(period) > 0);
            let needs_reading = s
                .tariffs
                .iter()
                .any(|t| t.days_in(period) > 0 && t.kind.uses_readings());
            if !in_force {
                explanation.note = Some(Note::NoTariff);
                (Decimal::ZERO, Money::ZERO)
            } else if needs_reading && s.readings.is_none() {
                explanation.note = Some(Note::NoReading);
                (Decimal::ZERO, Money::ZERO)
            } else {
                let consumption = match &s.readings {
                    Some(r) if needs_reading => {
                        if r.current < r.previous {
                            return Err(TariffError::ReadingDecreased {
                                previous: r.previous,
                                current: r.current,
                            });
                        }
                        explanation.readings = Some(r.clone());
                        Some(r.current - r.previous)
                    }
                    _ => None,
                };
                let c = tariff::charge(
                    s.tariffs,
                    s.service.unit,
                    period,
                    Basis {
                        area_m2: input.area_m2,
                        residents: input.residents,
                        consumption,
                    },
                )?;
                explanation.terms = c.terms;
                (c.quantity, c.amount)
            }
        }
    };
    let recalculation: Money = s.recalculations.iter().map(|r| r.amount).sum();
    Ok(UpdLine {
        service_id: s.service.service_id,
        provider_id: s.service.provider_id,
        section: s.service.section,
        unit: s.service.unit,
        quantity,
        opening: s.opening,
        charge,
        recalculation,
        paid: s.paid,
        due: s.opening + charge + recalculation - s.paid,
        explanation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tariff::{TariffKind, Tier};

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }
    fn date(s: &str) -> NaiveDate {
        NaiveDate::from_str(s).unwrap()
    }
    fn t(kind: TariffKind, rate: &str) -> Tariff {
        Tariff {
            kind,
            rate: d(rate),
            tiers: vec![],
            valid_from: date("2025-01-01"),
            valid_to: None,
        }
    }
    fn svc(id: i64, provider: i64, section: Section, unit: Unit) -> ServiceRef {
        ServiceRef {
            service_id: id,
            provider_id: provider,
            section,
            unit,
            source: ChargeSource::Tariff,
        }
    }
    fn input<'a>(s: &'a ServiceRef, tariffs: &'a [Tariff]) -> ServiceInput<'a> {
        ServiceInput {
            service: s,
            tariffs,
            readings: None,
            provider_items: vec![],
            recalculations: vec![],
            opening: Money::ZERO,
            paid: Money::ZERO,
        }
    }
    fn nov() -> Period {
        Period::parse("2026-11").unwrap()
    }

    #[test]
    fn a_upd_merges_every_provider_with_sections_apart_and_totals_equal_the_lines() {
        let heating = svc(4, 40, Section::Utility, Unit::Gigacalorie);
        let water = svc(1, 10, Section::Utility, Unit::CubicMetre);
        let lift = svc(8, 80, Section::Additional, Unit::Account);
        let ht = [t(TariffKind::PerArea, "394.37")];
        let wt = [t(TariffKind::Metered, "91.96")];
        let lt = [t(TariffKind::Flat, "650")];
        let mut w = input(&water, &wt);
        w.readings = Some(Readings {
            previous: d("120.5"),
            current: d("127.75"),
        });
        w.opening = Money::from_tiyn(50_000);
        w.paid = Money::from_tiyn(50_000);
        let mut l = input(&lift, &lt);
        l.opening = Money::from_tiyn(-20_000);
        let acc = AccountInput {
            period: nov(),
            area_m2: d("42.8"),
            residents: 2,
            services: vec![l, input(&heating, &ht), w],
        };
        let b = bill(&acc).unwrap();
        let ids: Vec<i64> = b.lines.iter().map(|l| l.service_id).collect();
        assert_eq!(ids, [1, 4, 8], "utility first, additional last");
        assert_eq!(b.lines[2].section, Section::Additional);
        // water 7.25 × 91.96 = 666.71; heating 16879.04; lift 650 − 200 advance
        assert_eq!(b.lines[0].charge.to_string(), "666.71");
        assert_eq!(b.lines[0].due.to_string(), "666.71");
        assert_eq!(b.lines[2].due.to_string(), "450.00");
        assert_eq!(b.total_due, b.lines.iter().map(|l| l.due).sum());
        assert_eq!(b.total_due.to_string(), "17995.75");
        assert_eq!(b.total_charged.to_string(), "18195.75");
        assert_eq!(b.due_date, date("2026-12-25"));
        assert_eq!(
            b.lines[0].formula(Lang::En),
            "readings 120.5 → 127.75 = 7.25 m³: 7.25 m³ × 91.96 ₸/m³"
        );
    }

    #[test]
    fn debt_carries_over_per_provider_and_an_advance_does_not_pay_another_provider() {
        let a = svc(1, 10, Section::Utility, Unit::Account);
        let b = svc(2, 20, Section::Utility, Unit::Account);
        let ta = [t(TariffKind::Flat, "1000")];
        let tb = [t(TariffKind::Flat, "500")];
        let mut ia = input(&a, &ta);
        ia.opening = Money::from_tenge(2500); // unpaid for two months and a half
        ia.paid = Money::from_tenge(1000);
        let mut ib = input(&b, &tb);
        ib.opening = Money::from_tenge(-800); // advance
        let acc = AccountInput {
            period: nov(),
            area_m2: d("50"),
            residents: 1,
            services: vec![ia, ib],
        };
        let bill = bill(&acc).unwrap();
        assert_eq!(bill.lines[0].due, Money::from_tenge(2500));
        assert_eq!(bill.lines[1].due, Money::from_tenge(-300));
        assert_eq!(bill.total_due, Money::from_tenge(2200));
        assert_eq!(bill.to_pay, Money::from_tenge(2500));
    }

    #[test]
    fn a_missing_reading_charges_nothing_now_and_says_why() {
        let water = svc(1, 10, Section::Utility, Unit::CubicMetre);
        let wt = [t(TariffKind::Metered, "91.96")];
        let acc = AccountInput {
            period: nov(),
            area_m2: d("50"),
            residents: 1,
            services: vec![input(&water, &wt)],
        };
        let b = bill(&acc).unwrap();
        assert_eq!(b.lines[0].charge, Money::ZERO);
        assert_eq!(b.lines[0].explanation.note, Some(Note::NoReading));
        assert!(
            b.lines[0]
                .formula(Lang::Ru)
                .contains("показания не переданы")
        );
    }

    #[test]
    fn a_decreasing_reading_is_an_error_naming_the_service() {
        let water = svc(7, 10, Section::Utility, Unit::CubicMetre);
        let wt = [t(TariffKind::Metered, "91.96")];
        let mut i = input(&water, &wt);
        i.readings = Some(Readings {
            previous: d("10"),
            current: d("9"),
        });
        let acc = AccountInput {
            period: nov(),
            area_m2: d("50"),
            residents: 1,
            services: vec![i],
        };
        let e = bill(&acc).unwrap_err();
        assert_eq!(
            e.to_string(),
            "service 7: the meter reading 9 is lower than the previous reading 10"
        );
    }

    #[test]
    fn provider_submitted_lines_and_recalculations_appear_with_their_reasons() {
        let mut gas = svc(6, 60, Section::Utility, Unit::CubicMetre);
        gas.source = ChargeSource::Provider;
        let mut i = input(&gas, &[]);
        i.provider_items = vec![ProviderItem {
            amount: Money::from_tiyn(123_456),
            quantity: Some(d("12.5")),
            description: "Gas 12.5 m³ × 98.76".into(),
        }];
        i.recalculations = vec![Recalculation {
            amount: Money::from_tiyn(-10_000),
            reason: "October: meter verified, 1 m³ less".into(),
        }];
        let acc = AccountInput {
            period: nov(),
            area_m2: d("50"),
            residents: 1,
            services: vec![i],
        };
        let b = bill(&acc).unwrap();
        let l = &b.lines[0];
        assert_eq!(l.charge.to_string(), "1234.56");
        assert_eq!(l.recalculation.to_string(), "-100.00");
        assert_eq!(l.due.to_string(), "1134.56");
        assert_eq!(l.quantity, d("12.5"));
        let f = l.formula(Lang::En);
        assert!(f.contains("Gas 12.5 m³ × 98.76 (1234.56 ₸)"), "{f}");
        assert!(f.contains("; recalculation -100.00 ₸: October"), "{f}");
    }

    #[test]
    fn tiered_electricity_line_explains_each_tier() {
        let el = svc(5, 50, Section::Utility, Unit::KilowattHour);
        let tariffs = [Tariff {
            kind: TariffKind::Tiered,
            rate: d("35.67"),
            tiers: vec![
                Tier {
                    up_to_per_resident: Some(d("70")),
                    rate: d("35.67"),
                },
                Tier {
                    up_to_per_resident: None,
                    rate: d("42.80"),
                },
            ],
            valid_from: date("2025-07-15"),
            valid_to: None,
        }];
        let mut i = input(&el, &tariffs);
        i.readings = Some(Readings {
            previous: d("1000"),
            current: d("1100"),
        });
        let acc = AccountInput {
            period: nov(),
            area_m2: d("50"),
            residents: 1,
            services: vec![i],
        };
        let b = bill(&acc).unwrap();
        // 70 × 35.67 + 30 × 42.80 = 2496.9 + 1284 = 3780.90
        assert_eq!(b.lines[0].charge.to_string(), "3780.90");
        let f = b.lines[0].formula(Lang::En);
        assert!(f.contains("tier 1, ≤ 70 kWh"), "{f}");
        assert!(f.contains(" + 30 kWh × 42.8 ₸/kWh (tier 2)"), "{f}");
    }

    #[test]
    fn a_service_with_nothing_to_show_has_no_line() {
        let a = svc(1, 10, Section::Utility, Unit::Account);
        let expired = [Tariff {
            valid_to: Some(date("2025-12-31")),
            ..t(TariffKind::Flat, "100")
        }];
        let acc = AccountInput {
            period: nov(),
            area_m2: d("50"),
            residents: 1,
            services: vec![input(&a, &expired)],
        };
        let b = bill(&acc).unwrap();
        assert_eq!(b.lines.len(), 1, "a NoTariff note is shown");
        assert_eq!(b.lines[0].explanation.note, Some(Note::NoTariff));
    }
}
