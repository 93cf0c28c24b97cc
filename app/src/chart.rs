//! The history chart: amounts by service per month as stacked bars, an SVG made as text (no
//! script, no inline style: colours come from the stylesheet's `.s0`…`.s7` classes), with a
//! title and a description for screen readers and the same data in a table beside it.

use esep_core::api::HistoryPeriod;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The services in the order of their first appearance: (code, name).
pub fn services(periods: &[HistoryPeriod]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for p in periods {
        for s in &p.services {
            if !out.iter().any(|(c, _)| *c == s.service_code) {
                out.push((s.service_code.clone(), s.service_name.clone()));
            }
        }
    }
    out
}

/// A coordinate kept in tenths of a unit, written as `12.3`: integers only, because float
/// formatting would add kilobytes to the wasm a phone downloads.
fn tenths(v: i64) -> String {
    let v = v.max(0);
    format!("{}.{}", v / 10, v % 10)
}

/// An accessible SVG bar chart, `role="img"` with `<title>` and `<desc>`.
pub fn svg(periods: &[HistoryPeriod], title: &str, desc: &str) -> String {
    // In tenths of a viewBox unit.
    const W: i64 = 6400;
    const H: i64 = 2600;
    const LEFT: i64 = 80;
    const BOTTOM: i64 = 280;
    const TOP: i64 = 120;
    const RANGE: i64 = H - BOTTOM - TOP;
    let services = services(periods);
    let max = periods
        .iter()
        .map(|p| {
            p.services
                .iter()
                .map(|s| s.amount.tiyn().max(0))
                .sum::<i64>()
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let n = (periods.len() as i64).max(1);
    let slot = (W - LEFT) / n;
    let bar = (slot * 7 / 10).max(20);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" role=\"img\" \
         aria-labelledby=\"chart-title chart-desc\" class=\"chart\">\
         <title id=\"chart-title\">{}</title><desc id=\"chart-desc\">{}</desc>",
        W / 10,
        H / 10,
        escape(title),
        escape(desc)
    );
    // The top of a stack holding `sum` tiyn: exact integer arithmetic, so the bars of one
    // month meet without gaps.
    let top_of =
        |sum: i64| H - BOTTOM - (i128::from(sum) * i128::from(RANGE) / i128::from(max)) as i64;
    for (i, p) in periods.iter().enumerate() {
        let x = LEFT + slot * i as i64 + (slot - bar) / 2;
        let mut sum = 0i64;
        for s in &p.services {
            let amount = s.amount.tiyn().max(0);
            if amount == 0 {
                continue;
            }
            let bottom = top_of(sum);
            sum += amount;
            let y = top_of(sum);
            let class = services
                .iter()
                .position(|(c, _)| *c == s.service_code)
                .unwrap_or(0)
                % 8;
            out.push_str(&format!(
                "<rect class=\"s{class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\">\
                 <title>{} {}: {}</title></rect>",
                tenths(x),
                tenths(y),
                tenths(bar),
                tenths(bottom - y),
                p.period,
                escape(&s.service_name),
                s.amount.display_kzt()
            ));
        }
        let month = p.period.to_string();
        out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"axis\">{}</text>",
            tenths(x + bar / 2),
            tenths(H - 100),
            escape(month.get(5..).unwrap_or(&month))
        ));
    }
    out.push_str("</svg>");
    out
}
