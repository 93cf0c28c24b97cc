//! The rules a meter reading must pass, shared by the API and the CSV import: never lower
//! than the previous reading, never higher than a later one, and a spike beyond the
//! configured factor of the usual consumption is kept but flagged for an operator's review.

use crate::store::accounts::month_index;
use crate::store::decimal;
use anyhow::Result;
use esep_core::Period;
use rust_decimal::Decimal;
use sqlx::{AnyConnection, Row};

/// `Ok(Err(message))` when the reading is refused; `Ok(Ok(Some(reason)))` when it is
/// accepted but flagged for review.
pub async fn check(
    conn: &mut AnyConnection,
    meter_id: i64,
    initial_value: Decimal,
    period: Period,
    value: Decimal,
    spike_factor: Decimal,
) -> Result<Result<Option<String>, String>> {
    let rows = sqlx::query(
        "SELECT period, value FROM reading WHERE meter_id = $1 AND period < $2 ORDER BY period DESC LIMIT 7",
    )
    .bind(meter_id)
    .bind(period.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut earlier: Vec<(Period, Decimal)> = Vec::with_capacity(rows.len());
    for r in &rows {
        let p: String = r.try_get(0)?;
        earlier.push((Period::parse(&p)?, decimal(r, "value")?));
    }
    let (previous, previous_period) = earlier
        .first()
        .map_or((initial_value, None), |(p, v)| (*v, Some(*p)));
    if value < previous {
        let when = previous_period.map_or("the meter's initial value".to_string(), |p| {
            format!("the reading of {p}")
        });
        return Ok(Err(format!(
            "{} is lower than the previous reading {} ({when}); a meter never runs backwards",
            value.normalize(),
            previous.normalize()
        )));
    }
    let later = sqlx::query("SELECT period, value FROM reading WHERE meter_id = $1 AND period > $2 ORDER BY period LIMIT 1")
        .bind(meter_id)
        .bind(period.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(r) = later {
        let next = decimal(&r, "value")?;
        let p: String = r.try_get(0)?;
        if value > next {
            return Ok(Err(format!(
                "{} is higher than the later reading {} of {p}",
                value.normalize(),
                next.normalize()
            )));
        }
    }
    if earlier.len() >= 2 {
        let (newest, oldest) = (&earlier[0], &earlier[earlier.len() - 1]);
        let months = Decimal::from((month_index(newest.0) - month_index(oldest.0)).max(1));
        let usual = (newest.1 - oldest.1) / months;
        let gap = Decimal::from((month_index(period) - month_index(newest.0)).max(1));
        let monthly = (value - previous) / gap;
        if usual > Decimal::ZERO && monthly > usual * spike_factor {
            return Ok(Ok(Some(format!(
                "monthly consumption {} is more than {}× the usual {}",
                monthly.round_dp(3).normalize(),
                spike_factor.normalize(),
                usual.round_dp(3).normalize()
            ))));
        }
    }
    Ok(Ok(None))
}
