//! Settlement: how a payment against a UPD is allocated to its lines (T5: the transit
//! account's money is distributed automatically to the providers).
//!
//! The payer may choose lines; the payment then pays those lines pro rata to what is still
//! due on them, and may not exceed it. Without a choice the payment is split pro rata to what
//! is due on every line; money beyond the total due is kept as an advance, split over the
//! lines by their charges, which the next billing run carries as negative opening balances.
//! Parts are exact to the tiyn and always sum to the payment.

use crate::money::Money;
use serde::{Deserialize, Serialize};

/// What is still due on one UPD line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outstanding {
    pub line_no: u32,
    pub service_id: i64,
    pub provider_id: i64,
    /// The line's due less what was paid against it since the UPD was issued.
    pub due: Money,
    /// The line's charge for the period (weights an advance).
    pub charge: Money,
}

/// One part of a payment, for one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub line_no: u32,
    pub service_id: i64,
    pub provider_id: i64,
    pub amount: Money,
    /// The part of `amount` beyond what was due: an advance.
    pub advance: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("the amount must be greater than zero, got {0}")]
    NotPositive(Money),
    #[error("line {0} is not on this payment document")]
    UnknownLine(u32),
    #[error("line {0} is chosen twice")]
    DuplicateLine(u32),
    #[error("nothing is due on the chosen lines")]
    NothingDue,
    #[error("{amount} is more than the {due} due on the chosen lines")]
    AboveChosen { amount: Money, due: Money },
    #[error("the payment document has no lines")]
    NoLines,
}

/// Allocates `amount` over `lines`, or over the `chosen` line numbers only.
pub fn allocate(
    amount: Money,
    lines: &[Outstanding],
    chosen: Option<&[u32]>,
) -> Result<Vec<Allocation>, AllocationError> {
    if !amount.is_positive() {
        return Err(AllocationError::NotPositive(amount));
    }
    if lines.is_empty() {
        return Err(AllocationError::NoLines);
    }
    let selected: Vec<&Outstanding> = match chosen {
        Some(numbers) => {
            let mut picked = Vec::with_capacity(numbers.len());
            for (i, n) in numbers.iter().enumerate() {
                if numbers[..i].contains(n) {
                    return Err(AllocationError::DuplicateLine(*n));
                }
                picked.push(
                    lines
                        .iter()
                        .find(|l| l.line_no == *n)
                        .ok_or(AllocationError::UnknownLine(*n))?,
                );
            }
            let due: Money = picked.iter().map(|l| l.due.max(Money::ZERO)).sum();
            if due.is_zero() {
                return Err(AllocationError::NothingDue);
            }
            if amount > due {
                return Err(AllocationError::AboveChosen { amount, due });
            }
            picked
        }
        None => lines.iter().collect(),
    };
    let dues: Vec<Money> = selected.iter().map(|l| l.due.max(Money::ZERO)).collect();
    let total_due: Money = dues.iter().sum();
    let to_dues = amount.min(total_due);
    let mut parts = if to_dues.is_positive() {
        to_dues.split(&dues).ok_or(AllocationError::NothingDue)?
    } else {
        vec![Money::ZERO; selected.len()]
    };
    let excess = amount - to_dues;
    let mut advances = vec![Money::ZERO; selected.len()];
    if excess.is_positive() {
        let charges: Vec<Money> = selected.iter().map(|l| l.charge.max(Money::ZERO)).collect();
        advances = excess.split(&charges).unwrap_or_else(|| {
            // Nothing was charged: the advance goes to the first line.
            let mut v = vec![Money::ZERO; selected.len()];
            v[0] = excess;
            v
        });
        for (p, a) in parts.iter_mut().zip(&advances) {
            *p += *a;
        }
    }
    Ok(selected
        .iter()
        .zip(parts.iter().zip(&advances))
        .filter(|(_, (p, _))| !p.is_zero())
        .map(|(l, (p, a))| Allocation {
            line_no: l.line_no,
            service_id: l.service_id,
            provider_id: l.provider_id,
            amount: *p,
            advance: *a,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(no: u32, provider: i64, due: i64, charge: i64) -> Outstanding {
        Outstanding {
            line_no: no,
            service_id: no as i64,
            provider_id: provider,
            due: Money::from_tiyn(due),
            charge: Money::from_tiyn(charge),
        }
    }

    fn amounts(a: &[Allocation]) -> Vec<i64> {
        a.iter().map(|x| x.amount.tiyn()).collect()
    }

    #[test]
    fn partial_payment_splits_pro_rata_to_the_tiyn() {
        let lines = [
            line(1, 10, 10_000, 10_000),
            line(2, 20, 20_000, 20_000),
            line(3, 30, 0, 500),
        ];
        let a = allocate(Money::from_tiyn(10_001), &lines, None).unwrap();
        assert_eq!(amounts(&a), [3_334, 6_667]);
        assert!(a.iter().all(|x| x.advance.is_zero()));
    }

    #[test]
    fn chosen_lines_are_paid_and_may_not_be_overpaid() {
        let lines = [line(1, 10, 10_000, 10_000), line(2, 20, 20_000, 20_000)];
        let a = allocate(Money::from_tiyn(20_000), &lines, Some(&[2])).unwrap();
        assert_eq!(amounts(&a), [20_000]);
        assert_eq!(a[0].provider_id, 20);
        assert_eq!(
            allocate(Money::from_tiyn(20_001), &lines, Some(&[2])),
            Err(AllocationError::AboveChosen {
                amount: Money::from_tiyn(20_001),
                due: Money::from_tiyn(20_000)
            })
        );
        assert_eq!(
            allocate(Money::from_tiyn(1), &lines, Some(&[9])),
            Err(AllocationError::UnknownLine(9))
        );
        assert_eq!(
            allocate(Money::from_tiyn(1), &lines, Some(&[1, 1])),
            Err(AllocationError::DuplicateLine(1))
        );
    }

    #[test]
    fn an_overpayment_becomes_an_advance_split_by_charges() {
        let lines = [line(1, 10, 1_000, 1_000), line(2, 20, -500, 3_000)];
        let a = allocate(Money::from_tiyn(5_000), &lines, None).unwrap();
        // 1 000 pays line 1; the 4 000 left is split 1:3 by the charges.
        assert_eq!(amounts(&a), [2_000, 3_000]);
        assert_eq!(a[0].advance, Money::from_tiyn(1_000));
        assert_eq!(a[1].advance, Money::from_tiyn(3_000));
    }

    #[test]
    fn zero_and_negative_amounts_are_refused() {
        let lines = [line(1, 10, 1_000, 1_000)];
        assert!(matches!(
            allocate(Money::ZERO, &lines, None),
            Err(AllocationError::NotPositive(_))
        ));
        assert!(matches!(
            allocate(Money::from_tiyn(-5), &lines, None),
            Err(AllocationError::NotPositive(_))
        ));
        assert_eq!(
            allocate(Money::from_tiyn(5), &[], None),
            Err(AllocationError::NoLines)
        );
    }

    proptest! {
        #[test]
        fn allocations_sum_to_the_payment_and_never_go_negative(
            amount in 1i64..100_000_000,
            dues in proptest::collection::vec((-50_000i64..5_000_000, 0i64..5_000_000), 1..9),
        ) {
            let lines: Vec<Outstanding> = dues
                .iter()
                .enumerate()
                .map(|(i, (d, c))| line(i as u32 + 1, i as i64, *d, *c))
                .collect();
            let a = allocate(Money::from_tiyn(amount), &lines, None).unwrap();
            prop_assert_eq!(a.iter().map(|x| x.amount).sum::<Money>(), Money::from_tiyn(amount));
            for x in &a {
                prop_assert!(x.amount.is_positive());
                let l = lines.iter().find(|l| l.line_no == x.line_no).unwrap();
                // No line gets more than its due unless there is an advance.
                prop_assert!(x.amount - x.advance <= l.due.max(Money::ZERO));
            }
            let total_due: Money = lines.iter().map(|l| l.due.max(Money::ZERO)).sum();
            let advance: Money = a.iter().map(|x| x.advance).sum();
            prop_assert_eq!(advance, (Money::from_tiyn(amount) - total_due).max(Money::ZERO));
        }
    }
}
