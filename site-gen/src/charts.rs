//! KPI charts (D14d): an accessible inline SVG bar chart per indicator, drawn with
//! plotters without system fonts, followed by the same data as a table and links to it as
//! CSV and JSON.

use crate::esc;
use crate::i18n::{self, INDICATORS};
use esep_core::kpi::KpiFile;
use plotters::prelude::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

fn label(k: &KpiFile, i: usize) -> String {
    k.months
        .get(i)
        .map_or(String::new(), |m| m.period.to_string())
}

/// The SVG of one indicator's monthly values; `None` values draw no bar.
fn svg(k: &KpiFile, key: &str, title: &str, desc: &str, id: &str) -> String {
    let values: Vec<Option<f64>> = k
        .months
        .iter()
        .map(|m| m.value(key).and_then(|v| v.to_f64()))
        .collect();
    let max = values.iter().flatten().fold(0.0f64, |a, b| a.max(*b));
    let top = if max > 0.0 { max * 1.15 } else { 1.0 };
    let mut buf = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut buf, (720, 300)).into_drawing_area();
        let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            let n = k.months.len().max(1);
            let mut chart = ChartBuilder::on(&root)
                .margin(14)
                .x_label_area_size(44)
                .y_label_area_size(84)
                .build_cartesian_2d(
                    (0usize..n.saturating_sub(1).max(1)).into_segmented(),
                    0f64..top,
                )?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(n)
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => label(k, *i),
                    _ => String::new(),
                })
                .y_labels(5)
                .y_label_formatter(&|v| short(*v))
                .label_style(("sans-serif", 22).into_font().color(&BLACK))
                .axis_style(BLACK.mix(0.8))
                .light_line_style(BLACK.mix(0.08))
                .draw()?;
            let bar = RGBColor(0x12, 0x35, 0x5b);
            chart.draw_series(values.iter().enumerate().filter_map(|(i, v)| {
                v.map(|v| {
                    let mut r = Rectangle::new(
                        [
                            (SegmentValue::Exact(i), 0.0),
                            (SegmentValue::Exact(i + 1), v),
                        ],
                        bar.filled(),
                    );
                    r.set_margin(0, 0, 10, 10);
                    r
                })
            }))?;
            root.present()?;
            Ok(())
        })();
        drawn.is_ok()
    };
    if !drawn {
        buf.clear();
    }
    // Make the SVG responsive and name it for assistive technology.
    let body = buf.find('>').map_or("", |i| &buf[i + 1..]);
    format!(
        "<svg viewBox=\"0 0 720 300\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\"><title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>{body}",
        esc(title),
        esc(desc)
    )
}

/// An axis label: 1 250 000 → "1.25M".
fn short(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.2}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// A table cell: money keeps its two decimals, other figures drop trailing zeros.
fn fmt(v: Option<Decimal>, unit: &str) -> Option<String> {
    v.map(|d| {
        let d = d.round_dp(2);
        if unit == "₸" {
            d.to_string()
        } else {
            d.normalize().to_string()
        }
    })
}

/// The KPI section of the KPI page: every indicator with its formula, chart, table and data.
pub fn kpi_section(k: &KpiFile, lang: &str, base: &str) -> String {
    let w = i18n::words(lang);
    let li = i18n::lang_index(lang);
    let mut s = String::new();
    for (key, unit, names, formulas) in INDICATORS {
        let name = names[li];
        let unit_label = if unit.is_empty() {
            String::new()
        } else {
            format!(", {unit}")
        };
        s.push_str(&format!(
            "<section aria-labelledby=\"kpi-{key}\"><h2 id=\"kpi-{key}\">{}{}</h2>",
            esc(name),
            esc(&unit_label)
        ));
        s.push_str(&format!(
            "<p><strong>{}:</strong> {}</p>",
            w.formula,
            esc(formulas[li])
        ));
        s.push_str(&format!(
            "<figure class=\"chart\">{}</figure>",
            svg(k, key, name, w.chart_desc, &format!("chart-{key}"))
        ));
        s.push_str(&format!(
            "{}<caption>{}{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            crate::table_wrap(name),
            esc(name),
            esc(&unit_label),
            w.month,
            esc(name)
        ));
        for m in &k.months {
            let cell = if m.suppressed {
                w.suppressed.to_string()
            } else {
                fmt(m.value(key), unit).unwrap_or_else(|| w.no_data.to_string())
            };
            s.push_str(&format!(
                "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td></tr>",
                m.period,
                esc(&cell)
            ));
        }
        s.push_str(&format!(
            "</tbody></table></div><p>{}: <a href=\"{base}data/kpi-{key}.csv\">CSV</a> · <a href=\"{base}data/kpi-{key}.json\">JSON</a></p></section>",
            w.data
        ));
    }
    s
}

/// Every indicator as CSV and JSON, and the whole KPI file.
pub fn data_files(k: &KpiFile) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for (key, unit, names, _) in INDICATORS {
        let mut csv = format!("period,{key}\n");
        let mut json = Vec::new();
        for m in &k.months {
            let v = if m.suppressed {
                None
            } else {
                fmt(m.value(key), unit)
            };
            csv.push_str(&format!("{},{}\n", m.period, v.clone().unwrap_or_default()));
            json.push(serde_json::json!({"period": m.period.to_string(), "value": v, "suppressed": m.suppressed}));
        }
        let doc = serde_json::json!({"indicator": key, "unit": unit, "name": {"kk": names[0], "ru": names[1], "en": names[2]}, "values": json});
        files.push((format!("kpi-{key}.csv"), csv));
        files.push((
            format!("kpi-{key}.json"),
            serde_json::to_string_pretty(&doc).unwrap_or_default(),
        ));
    }
    files.push((
        "kpi.json".into(),
        serde_json::to_string_pretty(k).unwrap_or_default(),
    ));
    files
}
