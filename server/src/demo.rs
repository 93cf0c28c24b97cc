//! `esep demo`: seeds a synthetic demo city — one territory, one USC, 8 providers with
//! tariffs from public Almaty figures (reference/KAZAKHSTAN.md), premises, meters, months of
//! readings, and UPDs issued by the real billing run with synthetic payments between months.
//! Every person and organisation is fictional; IINs, BINs and IBANs are generated with the
//! real check digits. Payments are labelled `demo-history`.

use crate::auth::hash_password;
use crate::billing_run::{self, RunOptions};
use crate::store::users::NewUser;
use crate::store::{Db, now};
use anyhow::Result;
use esep_core::api::Role;
use esep_core::ids::{BinEntity, BinKind, BinUnit};
use esep_core::{Bin, Iban, Iin, Money, Period};
use rust_decimal::Decimal;
use sqlx::{AssertSqlSafe, Row};

pub const TERRITORY: &str = "almaty-demo";
pub const DEMO_PASSWORD: &str = "demo-password";

/// A tiny deterministic generator, so the demo city is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

pub struct DemoOptions {
    pub accounts: usize,
    /// Months billed, ending with `through`.
    pub months: u32,
    pub through: Period,
    pub consumers: usize,
    pub progress: bool,
}

pub struct DemoUser {
    pub role: Role,
    pub login: String,
    pub display: String,
    pub accounts: Vec<String>,
}

pub struct DemoReport {
    pub seeded: bool,
    pub users: Vec<DemoUser>,
    pub accounts: i64,
}

struct ProviderSpec {
    name: &'static str,
    bank: &'static str,
    service: &'static str,
    section: &'static str,
    unit: &'static str,
    names: [&'static str; 3],
    tariffs: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    )],
}

/// Providers and their tariffs: (kind, rate, tiers, valid_from, valid_to).
const PROVIDERS: &[ProviderSpec] = &[
    ProviderSpec {
        name: "Demo Su Arnasy LLP (cold water)",
        bank: "601",
        service: "cold_water",
        section: "utility",
        unit: "m3",
        names: ["Суық су", "Холодная вода", "Cold water"],
        // 91.96 ₸/m³ up to 3 m³ per person; the higher tier's rate is a demo figure.
        tariffs: &[("tiered", "91.96", "3:91.96|*:137.94", "2025-01-01", "")],
    },
    ProviderSpec {
        name: "Demo Su Arnasy LLP (sewerage)",
        bank: "601",
        service: "sewerage",
        section: "utility",
        unit: "person",
        names: ["Су бұру", "Водоотведение", "Sewerage"],
        // 83.54 ₸/m³ × a demo norm of 4.5 m³ per resident.
        tariffs: &[("per_resident", "375.93", "", "2025-01-01", "")],
    },
    ProviderSpec {
        name: "Demo Teplo Energo JSC (hot water)",
        bank: "722",
        service: "hot_water",
        section: "utility",
        unit: "m3",
        names: ["Ыстық су", "Горячая вода", "Hot water"],
        tariffs: &[("metered", "640", "", "2025-01-01", "")],
    },
    ProviderSpec {
        name: "Demo Almaty Heat Networks JSC",
        bank: "722",
        service: "heating",
        section: "utility",
        unit: "m2",
        names: ["Жылыту", "Отопление", "Heating"],
        tariffs: &[("per_area", "394.37", "", "2025-09-01", "")],
    },
    ProviderSpec {
        name: "Demo Energo Sbyt LLP",
        bank: "856",
        service: "electricity",
        section: "utility",
        unit: "kwh",
        names: ["Электр энергиясы", "Электроэнергия", "Electricity"],
        // Base 35.67 ₸/kWh from 15 Jul 2025; the tier limits and upper rates, and the
        // change of 15 Jul 2026, are demo figures that show a mid-period tariff change.
        tariffs: &[
            (
                "tiered",
                "35.67",
                "70:35.67|140:42.80|*:53.50",
                "2025-07-15",
                "2026-07-14",
            ),
            (
                "tiered",
                "38.20",
                "70:38.20|140:45.80|*:57.25",
                "2026-07-15",
                "",
            ),
        ],
    },
    ProviderSpec {
        name: "Demo Taza Qala LLP (waste)",
        bank: "601",
        service: "waste",
        section: "utility",
        unit: "person",
        names: ["Қатты тұрмыстық қалдықтар", "Вывоз ТБО", "Waste collection"],
        tariffs: &[("per_resident", "718.5", "", "2025-01-01", "")],
    },
    ProviderSpec {
        name: "Demo Uy Servis LLP (building maintenance)",
        bank: "856",
        service: "maintenance",
        section: "additional",
        unit: "m2",
        names: [
            "Үйді күтіп ұстау",
            "Содержание дома",
            "Building maintenance",
        ],
        tariffs: &[("per_area", "45", "", "2025-01-01", "")],
    },
    ProviderSpec {
        name: "Demo Lift Service LLP",
        bank: "601",
        service: "lift",
        section: "additional",
        unit: "account",
        names: ["Лифт", "Лифт", "Lift"],
        tariffs: &[("flat", "650", "", "2025-01-01", "")],
    },
];

const STREETS: &[&str] = &[
    "Абай даңғылы",
    "Төле би көшесі",
    "Сейфуллин даңғылы",
    "Жібек жолы көшесі",
    "Гоголь көшесі",
    "Байзақов көшесі",
    "Тимирязев көшесі",
    "Әл-Фараби даңғылы",
];

const NAMES: &[&str] = &[
    "Айгерім Сәрсенова",
    "Нұрлан Жақсылықов",
    "Әсел Қасымова",
    "Ерлан Омаров",
    "Гүлнара Бекова",
    "Дәурен Мұратов",
    "Жанар Әбенова",
    "Санжар Төлеуов",
];

/// Seeds the demo city unless it is already there.
pub async fn seed(db: &Db, opts: &DemoOptions) -> Result<DemoReport> {
    if db.territory_id(TERRITORY).await?.is_some() {
        let accounts: i64 = sqlx::query("SELECT COUNT(*) FROM account")
            .fetch_one(&db.pool)
            .await?
            .try_get(0)?;
        return Ok(DemoReport {
            seeded: false,
            users: demo_users(db).await?,
            accounts,
        });
    }
    let mut rng = Rng(0x5eed_e5e9_2026_1203);
    let periods: Vec<Period> = {
        let mut v = vec![opts.through];
        for _ in 1..opts.months.max(1) {
            let p = v[v.len() - 1].prev();
            v.push(p);
        }
        v.reverse();
        v
    };

    let mut tx = db.pool.begin().await?;
    let territory: i64 =
        sqlx::query("INSERT INTO territory (code, name) VALUES ($1, $2) RETURNING id")
            .bind(TERRITORY)
            .bind("Almaty (demo city)")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
    let head_office = BinKind {
        entity: BinEntity::ResidentLegalEntity,
        unit: BinUnit::HeadOffice,
    };
    // A serial whose check digit is undefined is skipped, as the registry would.
    let usc_bin = (10_001..10_100)
        .find_map(|serial| Bin::generate(25, 9, head_office, serial))
        .ok_or_else(|| anyhow::anyhow!("no BIN for the demo USC"))?;
    let usc: i64 = sqlx::query("INSERT INTO usc (bin, name) VALUES ($1, $2) RETURNING id")
        .bind(usc_bin.to_string())
        .bind("Demo Unified Settlement Center LLP (fictional)")
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    sqlx::query("INSERT INTO usc_territory (usc_id, territory_id) VALUES ($1, $2)")
        .bind(usc)
        .bind(territory)
        .execute(&mut *tx)
        .await?;

    let mut service_ids: Vec<(String, i64, i64)> = Vec::new();
    for (n, p) in PROVIDERS.iter().enumerate() {
        let first = 20_000 + n as u32 * 10;
        let bin = (first..first + 100)
            .find_map(|serial| Bin::generate(5 + n as u32, 3, head_office, serial))
            .ok_or_else(|| anyhow::anyhow!("no BIN for a demo provider"))?;
        let iban = Iban::from_parts(p.bank, &format!("KZT{:010}", 4_100_100 + n as u64 * 7919))?;
        let bank = crate::banks().lookup(&iban).cloned();
        let provider: i64 = sqlx::query(
            "INSERT INTO provider (usc_id, bin, name, iban, bic, bank_name, iban_verified_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (usc_id, bin) DO UPDATE SET name = provider.name RETURNING id",
        )
        .bind(usc)
        .bind(bin.to_string())
        .bind(p.name)
        .bind(iban.to_string())
        .bind(bank.as_ref().map_or("", |b| b.bic()).to_string())
        .bind(bank.as_ref().map_or("", |b| b.name()).to_string())
        .bind(now())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let service: i64 = sqlx::query(
            "INSERT INTO service (provider_id, code, section, unit, source, name_kk, name_ru, name_en) \
             VALUES ($1, $2, $3, $4, 'tariff', $5, $6, $7) RETURNING id",
        )
        .bind(provider)
        .bind(p.service)
        .bind(p.section)
        .bind(p.unit)
        .bind(p.names[0])
        .bind(p.names[1])
        .bind(p.names[2])
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        for (kind, rate, tiers, from, to) in p.tariffs {
            let tiers = if tiers.is_empty() {
                "[]".to_string()
            } else {
                serde_json::to_string(
                    &crate::import::parse_tiers(tiers).map_err(anyhow::Error::msg)?,
                )?
            };
            sqlx::query(
                "INSERT INTO tariff (service_id, territory_id, kind, rate, tiers, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(service)
            .bind(territory)
            .bind(*kind)
            .bind(*rate)
            .bind(tiers)
            .bind(*from)
            .bind((!to.is_empty()).then_some(*to))
            .execute(&mut *tx)
            .await?;
        }
        service_ids.push((p.service.to_string(), service, provider));
    }
    let all: Vec<String> = service_ids.iter().map(|s| s.0.clone()).collect();
    let no_lift: Vec<String> = all.iter().filter(|s| *s != "lift").cloned().collect();
    let ids_of = |codes: &[String]| -> Vec<i64> {
        service_ids
            .iter()
            .filter(|s| codes.contains(&s.0))
            .map(|s| s.1)
            .collect()
    };
    let set_lift = crate::store::imports::service_set(&mut tx, &all, &ids_of(&all)).await?;
    let set_no_lift =
        crate::store::imports::service_set(&mut tx, &no_lift, &ids_of(&no_lift)).await?;
    tx.commit().await?;

    let metered: Vec<(i64, &str)> = service_ids
        .iter()
        .filter(|s| matches!(s.0.as_str(), "cold_water" | "hot_water" | "electricity"))
        .map(|s| (s.1, if s.0 == "electricity" { "kwh" } else { "m3" }))
        .collect();

    // Premises, accounts, meters and readings, in batches of multi-row inserts.
    let pb = if opts.progress {
        indicatif::ProgressBar::new(opts.accounts as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    pb.set_message("Seeding premises");
    const BATCH: usize = 2000;
    let mut account_no = 0usize;
    while account_no < opts.accounts {
        let n = BATCH.min(opts.accounts - account_no);
        let mut tx = db.pool.begin().await?;
        let mut premises = Vec::with_capacity(n);
        for i in account_no..account_no + n {
            let building = i / 60;
            let flat = i % 60 + 1;
            let street = STREETS[building % STREETS.len()];
            let area = Decimal::new(2800 + rng.below(9200) as i64, 2).round_dp(1);
            let residents = if rng.chance(4) { 0 } else { 1 + rng.below(5) };
            let lift = building % 3 != 2;
            premises.push((
                format!("DEMO-REG-{:08}", i + 1),
                format!("{street} {}, пәтер {flat}", building / STREETS.len() + 1),
                area,
                residents as i64,
                format!("{:09}", 100_000_001 + i),
                NAMES[i % NAMES.len()],
                if lift { set_lift } else { set_no_lift },
            ));
        }
        let sql = format!(
            "INSERT INTO premises (territory_id, register_id, address, area_m2, residents) VALUES {} RETURNING id, register_id",
            db.values_list(n, 5)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for p in &premises {
            q = q
                .bind(territory)
                .bind(p.0.clone())
                .bind(p.1.clone())
                .bind(p.2.to_string())
                .bind(p.3);
        }
        let mut premises_ids = std::collections::HashMap::new();
        for r in q.fetch_all(&mut *tx).await? {
            premises_ids.insert(r.try_get::<String, _>(1)?, r.try_get::<i64, _>(0)?);
        }
        let sql = format!(
            "INSERT INTO account (number, premises_id, usc_id, service_set_id, holder_name) VALUES {} RETURNING id, number",
            db.values_list(n, 5)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for p in &premises {
            q = q
                .bind(p.4.clone())
                .bind(premises_ids.get(&p.0).copied().unwrap_or_default())
                .bind(usc)
                .bind(p.6)
                .bind(p.5);
        }
        let mut accounts: Vec<(i64, String)> = Vec::with_capacity(n);
        for r in q.fetch_all(&mut *tx).await? {
            accounts.push((r.try_get(0)?, r.try_get(1)?));
        }
        accounts.sort();
        let residents: std::collections::HashMap<String, i64> =
            premises.iter().map(|p| (p.4.clone(), p.3)).collect();
        // Meters: cold water, hot water, electricity.
        let mut meter_rows = Vec::with_capacity(n * metered.len());
        for (aid, number) in &accounts {
            for (sid, unit) in &metered {
                let start = if *unit == "kwh" {
                    rng.below(20_000)
                } else {
                    rng.below(900)
                };
                meter_rows.push((
                    *aid,
                    *sid,
                    format!("M{sid}-{number}"),
                    Decimal::from(start),
                    *unit,
                    residents[number],
                ));
            }
        }
        let mut meter_ids = Vec::with_capacity(meter_rows.len());
        for chunk in meter_rows.chunks(2000) {
            let sql = format!(
                "INSERT INTO meter (account_id, service_id, serial, initial_value) VALUES {} RETURNING id, serial",
                db.values_list(chunk.len(), 4)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for m in chunk {
                q = q
                    .bind(m.0)
                    .bind(m.1)
                    .bind(m.2.clone())
                    .bind(m.3.to_string());
            }
            let mut ids: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
            for r in q.fetch_all(&mut *tx).await? {
                ids.insert(r.try_get(1)?, r.try_get(0)?);
            }
            for m in chunk {
                meter_ids.push(ids.get(&m.2).copied().unwrap_or_default());
            }
        }
        // Monthly readings for every billed period; about 3 % of readings are missing.
        let mut readings: Vec<(i64, i64, String, String, String)> = Vec::new();
        for (m, meter_id) in meter_rows.iter().zip(&meter_ids) {
            let mut value = m.3;
            let people = Decimal::from(m.5.max(1));
            for p in &periods {
                let per_person = if m.4 == "kwh" {
                    Decimal::from(40 + rng.below(60))
                } else {
                    Decimal::new(15 + rng.below(25) as i64, 1)
                };
                value += (per_person * people).round_dp(1);
                if rng.chance(3) {
                    continue;
                }
                let taken = format!("{}-{:02}-{:02}", p.year(), p.month(), 20 + rng.below(6));
                readings.push((*meter_id, m.0, p.to_string(), value.to_string(), taken));
            }
        }
        for chunk in readings.chunks(3000) {
            let sql = format!(
                "INSERT INTO reading (meter_id, account_id, period, value, taken_on, source) VALUES {}",
                db.values_list(chunk.len(), 6)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(r.0)
                    .bind(r.1)
                    .bind(r.2.clone())
                    .bind(r.3.clone())
                    .bind(r.4.clone())
                    .bind("demo");
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        account_no += n;
        pb.inc(n as u64);
    }
    pb.finish_and_clear();

    let users = create_users(db, opts, &service_ids).await?;
    // The demo's history begins with its first billed month: so do its cabinets.
    let since = format!("{}T08:00:00Z", periods[0].first_day());
    sqlx::query("UPDATE app_user SET created_at = $1")
        .bind(&since)
        .execute(&db.pool)
        .await?;
    sqlx::query("UPDATE user_account SET linked_at = $1")
        .bind(&since)
        .execute(&db.pool)
        .await?;
    add_sandbox_banks(db).await?;

    // Bill month by month; between months, synthetic payments (most pay in full).
    if opts.months > 0 {
        for (i, p) in periods.iter().enumerate() {
            if i > 0 {
                pay_previous(db, *p, &mut rng).await?;
            }
            let s = billing_run::run(
                db,
                &RunOptions {
                    period: *p,
                    territory: Some(TERRITORY.to_string()),
                    reissue_reason: None,
                    batch: 2000,
                    progress: opts.progress,
                },
            )
            .await?;
            if opts.progress {
                eprintln!("  {p}: {} UPDs issued", s.issued);
            }
        }
    }
    Ok(DemoReport {
        seeded: true,
        users,
        accounts: opts.accounts as i64,
    })
}

/// The demo's two partner banks (D11): SANDBOX banks on ports 8091 and 8092, started by
/// `cargo xtask demo` with the same secrets.
pub const SANDBOX_BANKS: &[(&str, &str, u16, &str, &str)] = &[
    (
        "halyk-sandbox",
        "Sandbox Halyk (demo)",
        8091,
        "601",
        "demo-sandbox-secret-1",
    ),
    (
        "kaspi-sandbox",
        "Sandbox Kaspi (demo)",
        8092,
        "722",
        "demo-sandbox-secret-2",
    ),
];

async fn add_sandbox_banks(db: &Db) -> Result<()> {
    for (i, (code, name, port, bank_code, secret)) in SANDBOX_BANKS.iter().enumerate() {
        let iban = Iban::from_parts(bank_code, &format!("KZT77700000{i:02}"))?;
        let bic = crate::banks()
            .lookup(&iban)
            .map(|b| b.bic().to_string())
            .unwrap_or_default();
        db.put_bank(
            &crate::store::payments::BankRow {
                id: 0,
                code: code.to_string(),
                name: name.to_string(),
                base_url: format!("http://127.0.0.1:{port}"),
                transit_iban: iban.to_string(),
                bic,
                secret: secret.to_string(),
            },
            true,
        )
        .await?;
    }
    Ok(())
}

/// Payments against the UPDs of the period before `p`: 80 % pay every line in full, 10 %
/// pay half, 10 % pay nothing; paid in the first days of `p`.
async fn pay_previous(db: &Db, p: Period, rng: &mut Rng) -> Result<()> {
    let prev = p.prev().to_string();
    let rows = sqlx::query(
        "SELECT u.account_id, l.service_id, l.provider_id, l.due_tiyn FROM upd u JOIN upd_line l ON l.upd_id = u.id \
         WHERE u.period = $1 AND l.due_tiyn > 0 ORDER BY u.account_id, l.line_no",
    )
    .bind(&prev)
    .fetch_all(&db.pool)
    .await?;
    let mut allocations: Vec<(i64, i64, i64, i64, String)> = Vec::new();
    let mut current = -1i64;
    let mut share = 100i64;
    for r in rows {
        let account: i64 = r.try_get(0)?;
        if account != current {
            current = account;
            share = match rng.below(10) {
                0 => 0,
                1 => 50,
                _ => 100,
            };
        }
        let due = Money::from_tiyn(r.try_get(3)?);
        let paid = Money::round(due.as_decimal() * Decimal::from(share) / Decimal::ONE_HUNDRED);
        if paid.is_positive() {
            let at = format!(
                "{}-{:02}-{:02}T09:00:00Z",
                p.year(),
                p.month(),
                1 + rng.below(20)
            );
            allocations.push((account, r.try_get(1)?, r.try_get(2)?, paid.tiyn(), at));
        }
    }
    for chunk in allocations.chunks(3000) {
        let mut tx = db.pool.begin().await?;
        let sql = format!(
            "INSERT INTO payment_allocation (account_id, service_id, provider_id, amount_tiyn, paid_at, source) VALUES {}",
            db.values_list(chunk.len(), 6)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for a in chunk {
            q = q
                .bind(a.0)
                .bind(a.1)
                .bind(a.2)
                .bind(a.3)
                .bind(a.4.clone())
                .bind("demo-history");
        }
        q.execute(&mut *tx).await?;
        tx.commit().await?;
    }
    Ok(())
}

async fn create_users(
    db: &Db,
    opts: &DemoOptions,
    service_ids: &[(String, i64, i64)],
) -> Result<Vec<DemoUser>> {
    let hash = hash_password(DEMO_PASSWORD)?;
    let mut users = Vec::new();
    let consumers = opts.consumers.min(opts.accounts);
    for i in 0..consumers {
        let female = i % 2 == 0;
        let mut serial = 1000 + i as u32 * 3;
        let iin = loop {
            if let Some(iin) = Iin::generate(
                1960 + (i as i32 * 7) % 40,
                1 + (i as u32 % 12),
                1 + (i as u32 % 28),
                female,
                serial,
            ) {
                break iin;
            }
            serial += 1;
        };
        let phone = format!("+7701{:07}", 1_000_000 + i);
        let name = NAMES[i % NAMES.len()];
        let id = db
            .create_user(&NewUser {
                role: Role::Consumer,
                iin: Some(&iin.to_string()),
                phone: Some(&phone),
                login: None,
                password_hash: &hash,
                display_name: name,
                provider_id: None,
            })
            .await?;
        // The first consumer holds two accounts; the others one each.
        let mut accounts = vec![format!("{:09}", 100_000_001 + i)];
        if i == 0 && opts.accounts > consumers {
            accounts.push(format!("{:09}", 100_000_001 + consumers));
        }
        for number in &accounts {
            if let Some(a) = db.account_by_number(number).await? {
                db.link_account(id, a.id).await?;
            }
        }
        users.push(DemoUser {
            role: Role::Consumer,
            login: iin.to_string(),
            display: format!("{name} (phone {phone})"),
            accounts,
        });
    }
    let provider_id = service_ids.first().map(|s| s.2);
    for (role, login, name, provider) in [
        (Role::Operator, "operator", "Demo operator", None),
        (Role::Auditor, "auditor", "Demo internal auditor", None),
        (
            Role::Provider,
            "provider",
            "Demo provider user (cold water)",
            provider_id,
        ),
        (Role::Authority, "akimat", "Demo akimat officer", None),
    ] {
        db.create_user(&NewUser {
            role,
            iin: None,
            phone: None,
            login: Some(login),
            password_hash: &hash,
            display_name: name,
            provider_id: provider,
        })
        .await?;
        users.push(DemoUser {
            role,
            login: login.to_string(),
            display: name.to_string(),
            accounts: vec![],
        });
    }
    Ok(users)
}

/// The demo users already in the database (for a re-run that keeps the data).
async fn demo_users(db: &Db) -> Result<Vec<DemoUser>> {
    let rows = sqlx::query(
        "SELECT u.role, COALESCE(u.iin, u.login) AS login, u.display_name, \
         (SELECT MIN(a.number) FROM user_account ua JOIN account a ON a.id = ua.account_id WHERE ua.user_id = u.id) AS account \
         FROM app_user u ORDER BY u.id LIMIT 12",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            let role: String = r.try_get(0)?;
            let account: Option<String> = r.try_get(3)?;
            Ok(DemoUser {
                role: Role::parse(&role).unwrap_or(Role::Consumer),
                login: r.try_get(1)?,
                display: r.try_get(2)?,
                accounts: account.into_iter().collect(),
            })
        })
        .collect()
}

/// Removes every row, for `esep demo --reset` on PostgreSQL (SQLite deletes the file).
/// TRUNCATE, unlike DELETE, does not fire the triggers that keep issued UPDs immutable.
pub async fn wipe(db: &Db) -> Result<()> {
    let tables = [
        "access_journal",
        "session",
        "user_account",
        "app_user",
        "billing_run",
        "payment_allocation",
        "upd_line",
        "upd",
        "import_batch",
        "provider_line",
        "reading",
        "meter",
        "account",
        "premises",
        "service_set_item",
        "service_set",
        "tariff",
        "service",
        "provider",
        "usc_territory",
        "usc",
        "territory",
    ];
    let mut tx = db.pool.begin().await?;
    for t in tables {
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {t}")))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
