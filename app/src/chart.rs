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

/// An accessible SVG bar chart, `role="img"` with `<title>` and `<desc>`.
pub fn svg(periods: &[HistoryPeriod], title: &str, desc: &str) -> String {
    const W: f64 = 640.0;
    const H: f64 = 260.0;
    const LEFT: f64 = 8.0;
    const BOTTOM: f64 = 28.0;
    const TOP: f64 = 12.0;
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
        .max(1) as f64;
    let n = periods.len().max(1) as f64;
    let slot = (W - LEFT) / n;
    let bar = (slot * 0.7).max(2.0);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" role=\"img\" \
         aria-labelledby=\"chart-title chart-desc\" class=\"chart\">\
         <title id=\"chart-title\">{}</title><desc id=\"chart-desc\">{}</desc>",
        escape(title),
        escape(desc)
    );
    for (i, p) in periods.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = H - BOTTOM;
        for s in &p.services {
            let amount = s.amount.tiyn().max(0) as f64;
            if amount <= 0.0 {
                continue;
            }
            let h = amount / max * (H - BOTTOM - TOP);
            y -= h;
            let class = services
                .iter()
                .position(|(c, _)| *c == s.service_code)
                .unwrap_or(0)
                % 8;
            out.push_str(&format!(
                "<rect class=\"s{class}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\">\
                 <title>{} {}: {}</title></rect>",
                p.period,
                escape(&s.service_name),
                s.amount.display_kzt()
            ));
        }
        let month = p.period.to_string();
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"axis\">{}</text>",
            x + bar / 2.0,
            H - 10.0,
            escape(month.get(5..).unwrap_or(&month))
        ));
    }
    out.push_str("</svg>");
    out
}
