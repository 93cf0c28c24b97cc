//! Monthly reports to providers (D3): planned charges (the issued UPD lines) against the
//! payments received and paid out, by service and territory, with the debt on the documents.

use crate::store::Db;
use anyhow::{Context, Result};
use esep_core::{Money, Period};
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ReportRow {
    pub service: String,
    pub territory: String,
    /// Σ charge + recalculation of the period's issued UPD lines.
    pub planned: Money,
    /// Payments allocated to the provider during the month.
    pub received: Money,
    /// Of everything allocated to the provider, what was paid out to it during the month.
    pub paid_out: Money,
    /// Σ due of the period's UPD lines: the consumers' debt (less advances) on the documents.
    pub debt: Money,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProviderReport {
    pub provider_bin: String,
    pub provider_name: String,
    pub period: Period,
    pub rows: Vec<ReportRow>,
    pub total: ReportRow,
}

impl Db {
    pub async fn provider_id_by_bin(&self, bin: &str) -> Result<Option<(i64, String)>> {
        let row = sqlx::query("SELECT id, name FROM provider WHERE bin = $1")
            .bind(bin)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    pub async fn provider_report(
        &self,
        bin: &str,
        period: Period,
    ) -> Result<Option<ProviderReport>> {
        let Some((provider, name)) = self.provider_id_by_bin(bin).await? else {
            return Ok(None);
        };
        let p = period.to_string();
        let (start, end) = (
            period.first_day().to_string(),
            period.next().first_day().to_string(),
        );
        let mut rows: BTreeMap<(String, String), ReportRow> = BTreeMap::new();
        let mut add = |service: String, territory: String, f: &dyn Fn(&mut ReportRow)| {
            let row = rows
                .entry((service.clone(), territory.clone()))
                .or_insert_with(|| ReportRow {
                    service,
                    territory,
                    ..ReportRow::default()
                });
            f(row);
        };
        for r in sqlx::query(
            "SELECT s.code, t.code, CAST(SUM(l.charge_tiyn + l.recalculation_tiyn) AS BIGINT), CAST(SUM(l.due_tiyn) AS BIGINT) \
             FROM upd u JOIN upd_line l ON l.upd_id = u.id JOIN service s ON s.id = l.service_id \
             JOIN account a ON a.id = u.account_id JOIN premises pr ON pr.id = a.premises_id JOIN territory t ON t.id = pr.territory_id \
             WHERE u.period = $1 AND l.provider_id = $2 \
             AND u.version = (SELECT MAX(v.version) FROM upd v WHERE v.account_id = u.account_id AND v.period = u.period) \
             GROUP BY s.code, t.code",
        )
        .bind(&p)
        .bind(provider)
        .fetch_all(&self.pool)
        .await?
        {
            let (planned, debt) = (Money::from_tiyn(r.try_get(2)?), Money::from_tiyn(r.try_get(3)?));
            add(r.try_get(0)?, r.try_get(1)?, &|row| {
                row.planned += planned;
                row.debt += debt;
            });
        }
        for r in sqlx::query(
            "SELECT s.code, t.code, CAST(SUM(al.amount_tiyn) AS BIGINT) FROM payment_allocation al JOIN service s ON s.id = al.service_id \
             JOIN account a ON a.id = al.account_id JOIN premises pr ON pr.id = a.premises_id JOIN territory t ON t.id = pr.territory_id \
             WHERE al.provider_id = $1 AND al.paid_at >= $2 AND al.paid_at < $3 GROUP BY s.code, t.code",
        )
        .bind(provider)
        .bind(&start)
        .bind(&end)
        .fetch_all(&self.pool)
        .await?
        {
            let received = Money::from_tiyn(r.try_get(2)?);
            add(r.try_get(0)?, r.try_get(1)?, &|row| row.received += received);
        }
        for r in sqlx::query(
            "SELECT s.code, t.code, CAST(SUM(al.amount_tiyn) AS BIGINT) FROM payment_allocation al JOIN service s ON s.id = al.service_id \
             JOIN account a ON a.id = al.account_id JOIN premises pr ON pr.id = a.premises_id JOIN territory t ON t.id = pr.territory_id \
             JOIN payout_item i ON i.id = al.payout_item_id JOIN payout_batch b ON b.id = i.batch_id \
             WHERE al.provider_id = $1 AND b.status = 'confirmed' AND b.value_date >= $2 AND b.value_date < $3 GROUP BY s.code, t.code",
        )
        .bind(provider)
        .bind(&start)
        .bind(&end)
        .fetch_all(&self.pool)
        .await?
        {
            let paid = Money::from_tiyn(r.try_get(2)?);
            add(r.try_get(0)?, r.try_get(1)?, &|row| row.paid_out += paid);
        }
        let rows: Vec<ReportRow> = rows.into_values().collect();
        let total = ReportRow {
            service: "total".into(),
            territory: String::new(),
            planned: rows.iter().map(|r| r.planned).sum(),
            received: rows.iter().map(|r| r.received).sum(),
            paid_out: rows.iter().map(|r| r.paid_out).sum(),
            debt: rows.iter().map(|r| r.debt).sum(),
        };
        Ok(Some(ProviderReport {
            provider_bin: bin.to_string(),
            provider_name: name,
            period,
            rows,
            total,
        }))
    }
}

pub fn csv(r: &ProviderReport) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "provider_bin",
        "period",
        "service",
        "territory",
        "planned",
        "received",
        "paid_out",
        "debt",
    ])?;
    for row in r.rows.iter().chain(std::iter::once(&r.total)) {
        w.write_record([
            r.provider_bin.as_str(),
            &r.period.to_string(),
            &row.service,
            &row.territory,
            &row.planned.to_string(),
            &row.received.to_string(),
            &row.paid_out.to_string(),
            &row.debt.to_string(),
        ])?;
    }
    String::from_utf8(w.into_inner().context("writing the CSV")?).context("CSV is UTF-8")
}

/// The report as an A4 PDF (labels in Kazakh, Russian and English).
pub fn pdf(r: &ProviderReport) -> Result<Vec<u8>> {
    let mut doc = crate::pdf::Pdf::new();
    doc.title("Жеткізушіге есеп · Отчёт поставщику · Provider report");
    doc.field(
        "Жеткізуші · Поставщик · Provider",
        &format!("{} (БСН/БИН/BIN {})", r.provider_name, r.provider_bin),
    );
    doc.field("Кезең · Период · Period", &r.period.to_string());
    doc.gap();
    let cols = |row: &ReportRow| -> [String; 6] {
        [
            row.service.clone(),
            row.territory.clone(),
            row.planned.display_kzt(),
            row.received.display_kzt(),
            row.paid_out.display_kzt(),
            row.debt.display_kzt(),
        ]
    };
    let at = [0.0, 80.0, 170.0, 250.0, 330.0, 410.0];
    let header = [
        "Қызмет/Услуга",
        "Аумақ/Территория",
        "Есептелді/Начислено",
        "Түсті/Поступило",
        "Аударылды/Перечислено",
        "Борыш/Долг",
    ];
    doc.row(
        &at.iter()
            .copied()
            .zip(header.iter().copied())
            .collect::<Vec<_>>(),
        7.5,
    );
    for row in r.rows.iter().chain(std::iter::once(&r.total)) {
        let cells = cols(row);
        doc.row(
            &at.iter()
                .copied()
                .zip(cells.iter().map(String::as_str))
                .collect::<Vec<_>>(),
            8.5,
        );
    }
    doc.gap();
    doc.text("Есептелді: кезеңнің шығарылған бірыңғай төлем құжаттарындағы жолдар. Начислено: строки выпущенных единых платёжных документов периода. Planned: the lines of the period's issued unified payment documents (D3).");
    doc.finish()
}
