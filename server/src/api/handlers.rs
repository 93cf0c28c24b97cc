//! The API's handlers. Each checks who is asking before it reads anything.

use super::{
    AccessReason, ApiError, ApiJson, ApiQuery, AppState, CLEAR_SIGNED_IN, ClientIp, SESSION_COOKIE,
    SIGNED_IN_COOKIE, SessionCookie, SignedIn, lang_of,
};
use crate::auth;
use crate::store::accounts::{AccountRow, LineRecord, NewReading, UpdForReader, UpdPage};
use crate::store::users::{LoginField, User};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use esep_core::api::{
    AccountSummary, LineView, LinkAccountRequest, Me, MeterView, ProviderGroup, ReadingAccepted,
    ReadingRequest, Role, SectionView, SignInRequest, UpdSummary, UpdView,
};
use esep_core::billing::Section;
use esep_core::{Iin, Lang, Money, Period};
use serde::Deserialize;
use sqlx::Row;

pub async fn health(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    sqlx::query("SELECT 1").execute(&state.db.pool).await?;
    Ok(Json(serde_json::json!({
        "status": "ok",
        "database": state.db.backend.name(),
    })))
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such resource in /api/v1 (see /api/v1/openapi.json)".into())
}

/// Which column a login is looked up in: a valid IIN, a phone number, or a staff login.
fn classify_login(login: &str) -> Result<(LoginField, String), ApiError> {
    let t = login.trim();
    if t.is_empty() {
        return Err(ApiError::invalid(
            "validation",
            "login",
            "enter your IIN or phone number",
        ));
    }
    if t.len() == 12 && t.chars().all(|c| c.is_ascii_digit()) {
        return Iin::parse(t)
            .map(|i| (LoginField::Iin, i.to_string()))
            .map_err(|e| {
                ApiError::invalid("validation", "login", format!("not a valid IIN: {e}"))
            });
    }
    let digits: String = t.chars().filter(|c| c.is_ascii_digit()).collect();
    let phone_like = t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'));
    if phone_like {
        let national = match digits.len() {
            11 if digits.starts_with('7') || digits.starts_with('8') => &digits[1..],
            10 => &digits[..],
            _ => {
                return Err(ApiError::invalid(
                    "validation",
                    "login",
                    "a phone number has 10 digits after +7, e.g. +7 701 234 5678",
                ));
            }
        };
        return Ok((LoginField::Phone, format!("+7{national}")));
    }
    Ok((LoginField::Login, t.to_lowercase()))
}

pub async fn sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SignInRequest>,
) -> Result<Response, ApiError> {
    let ip_key = ip.clone().unwrap_or_else(|| "unknown".into());
    if let Some(retry_after) = state.limits.per_ip.blocked_for(&ip_key) {
        return Err(ApiError::TooManyRequests { retry_after });
    }
    state.limits.per_ip.record(&ip_key);
    let (field, login) = classify_login(&req.login)?;
    // The per-login key is a hash: the limiter never holds an IIN in memory dumps.
    let login_key = auth::token_hash(&login);
    if let Some(retry_after) = state.limits.per_login.blocked_for(&login_key) {
        return Err(ApiError::TooManyRequests { retry_after });
    }
    if req.password.is_empty() || req.password.len() > 1024 {
        return Err(ApiError::invalid(
            "validation",
            "password",
            "enter your password (at most 1024 characters)",
        ));
    }
    let user = state.db.user_by_login(field, &login).await?;
    let hash = user
        .as_ref()
        .map_or(auth::decoy_hash(), |u| u.password_hash.as_str())
        .to_string();
    let password = req.password.clone();
    let ok = auth::verify_password_pooled(password, hash).await;
    let Some(user) = user.filter(|_| ok) else {
        state.limits.per_login.record(&login_key);
        state
            .db
            .journal(None, "sign-in", "session", "failed", ip.as_deref())
            .await?;
        return Err(ApiError::Invalid {
            status: StatusCode::UNAUTHORIZED,
            kind: "sign-in-failed",
            detail: "the login or the password is wrong".into(),
            errors: vec![],
        });
    };
    state.limits.per_login.clear(&login_key);
    let (token, hash) = auth::new_token();
    state
        .db
        .create_session(&hash, user.id, state.config.session_hours)
        .await?;
    state
        .db
        .journal(Some(user.id), "sign-in", "session", "ok", ip.as_deref())
        .await?;
    let secure = state.config.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes() == b"https");
    let attributes = format!(
        "Path=/; SameSite=Strict; Max-Age={}{}",
        state.config.session_hours * 3600,
        if secure { "; Secure" } else { "" }
    );
    let mut res = Json(me_of(&user)).into_response();
    for cookie in [
        format!("{SESSION_COOKIE}={token}; HttpOnly; {attributes}"),
        format!("{SIGNED_IN_COOKIE}=1; {attributes}"),
    ] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(res)
}

fn me_of(user: &User) -> Me {
    Me {
        id: user.id,
        role: user.role,
        display_name: user.display_name.clone(),
    }
}

pub async fn sign_out(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    SessionCookie(token): SessionCookie,
) -> Result<Response, ApiError> {
    state.db.delete_session(&auth::token_hash(&token)).await?;
    state
        .db
        .journal(Some(user.id), "sign-out", "session", "ok", None)
        .await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    for cookie in [
        "esep_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        CLEAR_SIGNED_IN,
    ] {
        res.headers_mut()
            .append(header::SET_COOKIE, HeaderValue::from_static(cookie));
    }
    Ok(res)
}

pub async fn me(SignedIn(user): SignedIn) -> Json<Me> {
    Json(me_of(&user))
}

async fn summary(state: &AppState, a: &AccountRow) -> Result<AccountSummary, ApiError> {
    let current = state.db.upds_of_account(a.id, 1).await?;
    Ok(AccountSummary {
        number: a.number.clone(),
        address: a.address.clone(),
        area_m2: a.area_m2,
        residents: a.residents,
        holder_name: a.holder_name.clone(),
        current_upd: current.first().map(|u| u.summary()),
    })
}

fn consumer_only(user: &User) -> Result<(), ApiError> {
    if user.role == Role::Consumer {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "this is for consumers; a {} user cannot use it",
            user.role.code()
        )))
    }
}

pub async fn accounts(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Vec<AccountSummary>>, ApiError> {
    consumer_only(&user)?;
    let mut out = Vec::new();
    for a in state.db.accounts_of_user(user.id).await? {
        out.push(summary(&state, &a).await?);
    }
    Ok(Json(out))
}

pub async fn link_account(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(req): ApiJson<LinkAccountRequest>,
) -> Result<Json<AccountSummary>, ApiError> {
    consumer_only(&user)?;
    let key = format!("link:{}", user.id);
    if let Some(retry_after) = state.limits.link.blocked_for(&key) {
        return Err(ApiError::TooManyRequests { retry_after });
    }
    let number = req.account_number.trim();
    let account = state.db.account_by_number(number).await?;
    let last_total = match &account {
        Some(a) => state
            .db
            .upds_of_account(a.id, 1)
            .await?
            .first()
            .map(|u| u.total_due),
        None => None,
    };
    let (Some(account), Some(total)) = (account, last_total) else {
        state.limits.link.record(&key);
        state
            .db
            .journal(Some(user.id), "link-account", "account", "refused", None)
            .await?;
        return Err(link_refused());
    };
    if total != req.last_upd_total {
        state.limits.link.record(&key);
        state
            .db
            .journal(
                Some(user.id),
                "link-account",
                &format!("account:{}", account.id),
                "refused",
                None,
            )
            .await?;
        return Err(link_refused());
    }
    state.db.link_account(user.id, account.id).await?;
    state
        .db
        .journal(
            Some(user.id),
            "link-account",
            &format!("account:{}", account.id),
            "ok",
            None,
        )
        .await?;
    Ok(Json(summary(&state, &account).await?))
}

/// One answer for an unknown number and a wrong total: nothing tells which it was.
fn link_refused() -> ApiError {
    ApiError::Invalid {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        kind: "link-refused",
        detail: "the account number and the total of its last payment document do not match".into(),
        errors: vec![
            esep_core::api::FieldError {
                field: "account_number".into(),
                message: "check the account number printed on the payment document".into(),
            },
            esep_core::api::FieldError {
                field: "last_upd_total".into(),
                message: "enter the total of the last payment document exactly, e.g. 18250.40"
                    .into(),
            },
        ],
    }
}

/// Whether `user` may read the account; staff reads and refused attempts are journaled.
pub async fn authorize_account(
    state: &AppState,
    user: &User,
    account: Option<AccountRow>,
    what: &str,
    reason: &AccessReason,
) -> Result<AccountRow, ApiError> {
    let not_found = || ApiError::NotFound(format!("no such {what}"));
    let Some(account) = account else {
        return Err(not_found());
    };
    let resource = format!("account:{}", account.id);
    match user.role {
        Role::Consumer => {
            if state.db.user_holds_account(user.id, account.id).await? {
                Ok(account)
            } else {
                // Another person's data: answered as if it did not exist, and journaled.
                state
                    .db
                    .journal(Some(user.id), what, &resource, "denied", None)
                    .await?;
                Err(not_found())
            }
        }
        Role::Operator | Role::Auditor => {
            // D11: a staff read of personal data says why, and the journal keeps it.
            let Some(why) = reason.0.as_deref() else {
                return Err(ApiError::Invalid {
                    status: StatusCode::BAD_REQUEST,
                    kind: "access-reason-required",
                    detail: "staff reads of a consumer's data state why: send an X-Access-Reason header (UTF-8, percent-encoded), e.g. the complaint number".into(),
                    errors: vec![],
                });
            };
            state
                .db
                .journal_staff_read(user.id, what, &resource, why)
                .await?;
            Ok(account)
        }
        Role::Provider | Role::Authority => {
            state
                .db
                .journal(Some(user.id), what, &resource, "denied", None)
                .await?;
            Err(ApiError::Forbidden(format!(
                "a {} user cannot read consumers' documents",
                user.role.code()
            )))
        }
    }
}

pub async fn account_upds(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    reason: AccessReason,
    Path(number): Path<String>,
) -> Result<Json<Vec<UpdSummary>>, ApiError> {
    let account = state.db.account_by_number(&number).await?;
    let account = authorize_account(&state, &user, account, "account", &reason).await?;
    let upds = state.db.upds_of_account(account.id, 24).await?;
    Ok(Json(upds.iter().map(|u| u.summary()).collect()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangQuery {
    lang: Option<Lang>,
}

pub async fn account_meters(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    reason: AccessReason,
    Path(number): Path<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Json<Vec<MeterView>>, ApiError> {
    let lang = lang_of(q.lang, &headers);
    let account = state.db.account_by_number(&number).await?;
    let account = authorize_account(&state, &user, account, "account", &reason).await?;
    let next = Period::of(chrono::Utc::now().date_naive()).next();
    let mut out = Vec::new();
    for m in state.db.meters_of_account(account.id).await? {
        let last = state.db.last_reading_before(&m, next).await?;
        out.push(MeterView {
            id: m.id,
            service_code: m.service_code.clone(),
            service_name: m.service_name.get(lang).to_string(),
            unit: m.unit,
            serial: m.serial.clone(),
            last_value: last.value,
            last_period: last.period,
        });
    }
    Ok(Json(out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdQuery {
    lang: Option<Lang>,
    version: Option<u32>,
}

pub async fn upd(
    State(state): State<AppState>,
    SessionCookie(token): SessionCookie,
    reason: AccessReason,
    Path(number): Path<String>,
    ApiQuery(q): ApiQuery<UpdQuery>,
    headers: HeaderMap,
) -> Result<Json<UpdView>, ApiError> {
    let lang = lang_of(q.lang, &headers);
    Ok(Json(
        upd_view(&state, &token, &reason, &number, q.version, lang).await?,
    ))
}

/// A UPD as the reader may see it: the holder of the account, or staff who said why. One
/// query for the session, the document and its lines: the view is the busiest read of
/// month-end (issue 7).
pub async fn upd_view(
    state: &AppState,
    session_token: &str,
    reason: &AccessReason,
    number: &str,
    version: Option<u32>,
    lang: Lang,
) -> Result<UpdView, ApiError> {
    let page = state
        .db
        .upd_page(&auth::token_hash(session_token), number, version)
        .await?;
    let (user, found, lines) = match page {
        UpdPage::NoSession => return Err(ApiError::Unauthenticated),
        UpdPage::Missing(_) => return Err(ApiError::NotFound("no such payment document".into())),
        UpdPage::Found { user, doc, lines } => (user, doc, lines),
    };
    let doc = readable_upd(state, &user, reason, *found).await?;
    Ok(render_upd(doc, lines, lang))
}

/// The holder's own document passes without a journal entry; anyone else goes through
/// [`authorize_account`] (refused and journaled, or a staff read with its reason).
async fn readable_upd(
    state: &AppState,
    user: &User,
    reason: &AccessReason,
    found: UpdForReader,
) -> Result<UpdForReader, ApiError> {
    if found.holder && user.role == Role::Consumer {
        return Ok(found);
    }
    let account =
        authorize_account(state, user, Some(found.account), "payment document", reason).await?;
    Ok(UpdForReader { account, ..found })
}

/// The view of a UPD from its record, account and lines, in the reader's language.
fn render_upd(doc: UpdForReader, lines: Vec<(LineRecord, Money)>, lang: Lang) -> UpdView {
    let UpdForReader {
        record,
        account,
        versions,
        ..
    } = doc;
    let remaining_of = |l: &LineRecord, paid_since: Money| (l.due - paid_since).max(Money::ZERO);
    let remaining: Money = lines.iter().map(|(l, p)| remaining_of(l, *p)).sum();
    let mut sections: Vec<SectionView> = Vec::new();
    for (line, paid_since) in lines {
        let line_remaining = remaining_of(&line, paid_since);
        if sections.last().is_none_or(|s| s.section != line.section) {
            sections.push(SectionView {
                section: line.section,
                title: section_title(line.section, lang).to_string(),
                providers: vec![],
                total_due: Money::ZERO,
            });
        }
        let Some(section) = sections.last_mut() else {
            continue;
        };
        if section
            .providers
            .last()
            .is_none_or(|p| p.provider_id != line.provider_id)
        {
            section.providers.push(ProviderGroup {
                provider_id: line.provider_id,
                name: line.provider_name.clone(),
                bin: line.provider_bin.clone(),
                lines: vec![],
                total_due: Money::ZERO,
            });
        }
        let Some(group) = section.providers.last_mut() else {
            continue;
        };
        group.total_due += line.due;
        section.total_due += line.due;
        group.lines.push(LineView {
            line_no: line.line_no,
            service_code: line.service_code,
            service_name: line.service_name.get(lang).to_string(),
            unit: line.unit,
            quantity: line.quantity,
            opening: line.opening,
            charge: line.charge,
            recalculation: line.recalculation,
            paid: line.paid,
            due: line.due,
            remaining: line_remaining,
            formula: esep_core::billing::formula(&line.explanation, line.unit, lang),
            explanation: line.explanation,
        });
    }
    UpdView {
        number: record.number,
        account_number: account.number,
        address: account.address,
        area_m2: account.area_m2,
        residents: account.residents,
        period: record.period,
        version: record.version,
        reason: record.reason,
        issued_at: record.issued_at,
        due_date: record.due_date,
        sections,
        total_charged: record.total_charged,
        total_due: record.total_due,
        to_pay: record.to_pay,
        remaining,
        versions,
    }
}

fn section_title(section: Section, lang: Lang) -> &'static str {
    match (section, lang) {
        (Section::Utility, Lang::Kk) => "Коммуналдық қызметтер",
        (Section::Utility, Lang::Ru) => "Коммунальные услуги",
        (Section::Utility, Lang::En) => "Utility services",
        (Section::Additional, Lang::Kk) => "Қосымша қызметтер",
        (Section::Additional, Lang::Ru) => "Дополнительные услуги",
        (Section::Additional, Lang::En) => "Additional services",
    }
}

pub async fn submit_reading(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    reason: AccessReason,
    ApiJson(req): ApiJson<ReadingRequest>,
) -> Result<(StatusCode, Json<ReadingAccepted>), ApiError> {
    consumer_only(&user)?;
    let meter = state.db.meter(req.meter_id).await?;
    let account = match &meter {
        Some(m) => state.db.account_by_id(m.account_id).await?,
        None => None,
    };
    let account = authorize_account(&state, &user, account, "meter", &reason).await?;
    let Some(meter) = meter else {
        return Err(ApiError::NotFound("no such meter".into()));
    };
    let today = chrono::Utc::now().date_naive();
    let period = req.period.unwrap_or_else(|| Period::of(today));
    if period > Period::of(today) {
        return Err(ApiError::invalid(
            "validation",
            "period",
            format!("{period} has not begun yet"),
        ));
    }
    if req.value.is_sign_negative()
        || req.value.scale() > 3
        || req.value > rust_decimal::Decimal::from(100_000_000)
    {
        return Err(ApiError::invalid(
            "validation",
            "value",
            "enter the number on the meter: not negative, at most 3 decimals",
        ));
    }
    if state.db.upd_issued(account.id, period).await? {
        return Err(ApiError::invalid(
            "reading-too-late",
            "period",
            format!(
                "the payment document for {period} is already issued; submit the reading for {}",
                period.next()
            ),
        ));
    }
    let mut conn = state.db.pool.acquire().await?;
    let check = crate::readings::check(
        &mut conn,
        meter.id,
        meter.initial_value,
        period,
        req.value,
        state.config.spike_factor,
    )
    .await?;
    drop(conn);
    let flag = match check {
        Err(message) => return Err(ApiError::invalid("reading-refused", "value", message)),
        Ok(flag) => flag,
    };
    let last = state.db.last_reading_before(&meter, period).await?;
    state
        .db
        .put_reading(&NewReading {
            meter_id: meter.id,
            account_id: account.id,
            period,
            value: req.value,
            taken_on: today,
            source: "cabinet",
            flag_reason: flag.as_deref(),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ReadingAccepted {
            meter_id: meter.id,
            period,
            previous: last.value,
            value: req.value,
            consumption: req.value - last.value,
            flagged_for_review: flag.is_some(),
        }),
    ))
}

/// D11: everything held about the signed-in person, to download.
pub async fn my_data(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<serde_json::Value>, ApiError> {
    let db = &state.db;
    let person = sqlx::query(
        "SELECT role, iin, phone, login, display_name, created_at FROM app_user WHERE id = $1",
    )
    .bind(user.id)
    .fetch_one(&db.pool)
    .await?;
    let get = |c: &str| -> Result<Option<String>, sqlx::Error> { person.try_get(c) };
    let mut accounts = Vec::new();
    for a in db.accounts_of_user(user.id).await? {
        let upds: Vec<UpdSummary> = db
            .upds_of_account(a.id, 1000)
            .await?
            .iter()
            .map(|u| u.summary())
            .collect();
        let readings = sqlx::query(
            "SELECT s.code, r.period, r.value, r.taken_on, r.source FROM reading r JOIN meter m ON m.id = r.meter_id \
             JOIN service s ON s.id = m.service_id WHERE r.account_id = $1 ORDER BY r.period, s.code",
        )
        .bind(a.id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| -> Result<serde_json::Value, sqlx::Error> {
            Ok(serde_json::json!({"service": r.try_get::<String, _>(0)?, "period": r.try_get::<String, _>(1)?, "value": r.try_get::<String, _>(2)?,
                "taken_on": r.try_get::<String, _>(3)?, "source": r.try_get::<String, _>(4)?}))
        })
        .collect::<Result<Vec<_>, _>>()?;
        let payments = sqlx::query(
            "SELECT s.code, al.amount_tiyn, al.paid_at, al.source FROM payment_allocation al JOIN service s ON s.id = al.service_id \
             WHERE al.account_id = $1 ORDER BY al.id",
        )
        .bind(a.id)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| -> Result<serde_json::Value, sqlx::Error> {
            Ok(serde_json::json!({"service": r.try_get::<String, _>(0)?, "amount": Money::from_tiyn(r.try_get(1)?), "paid_at": r.try_get::<String, _>(2)?,
                "source": r.try_get::<String, _>(3)?}))
        })
        .collect::<Result<Vec<_>, _>>()?;
        accounts.push(serde_json::json!({"number": a.number, "address": a.address, "area_m2": a.area_m2, "residents": a.residents,
            "holder_name": a.holder_name, "payment_documents": upds, "readings": readings, "payments": payments}));
    }
    let today = chrono::Utc::now().date_naive();
    let complaints = db.complaints_of_user(user.id, today).await?;
    let notices: Vec<serde_json::Value> = db
        .notifications_of_user(user.id)
        .await?
        .into_iter()
        .map(|(at, subject, body)| serde_json::json!({"at": at, "subject": subject, "body": body}))
        .collect();
    db.journal(
        Some(user.id),
        "data-export",
        &format!("user:{}", user.id),
        "ok",
        None,
    )
    .await?;
    Ok(Json(serde_json::json!({
        "exported_at": crate::store::now(),
        "person": {"role": get("role")?, "iin": get("iin")?, "phone": get("phone")?, "login": get("login")?,
                   "display_name": get("display_name")?, "registered_at": get("created_at")?},
        "accounts": accounts,
        "complaints": complaints,
        "notices": notices,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalQuery {
    limit: Option<i64>,
}

/// The access journal (who read or tried to read whose data), for auditors and operators.
pub async fn access_journal(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiQuery(q): ApiQuery<JournalQuery>,
) -> Result<Json<Vec<crate::store::users::JournalEntry>>, ApiError> {
    if !matches!(user.role, Role::Auditor | Role::Operator) {
        return Err(ApiError::Forbidden(format!(
            "only auditors and operators read the access journal, not a {} user",
            user.role.code()
        )));
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    state
        .db
        .journal(
            Some(user.id),
            "read-journal",
            "access_journal",
            "read",
            None,
        )
        .await?;
    Ok(Json(state.db.journal_entries(limit).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_told_apart_and_normalised() {
        let iin = Iin::generate(1990, 1, 1, false, 1).unwrap().to_string();
        assert_eq!(
            classify_login(&iin).unwrap(),
            (LoginField::Iin, iin.clone())
        );
        assert_eq!(
            classify_login("+7 (701) 234-56-78").unwrap(),
            (LoginField::Phone, "+77012345678".into())
        );
        assert_eq!(classify_login("87012345678").unwrap().1, "+77012345678");
        assert_eq!(
            classify_login("Operator").unwrap(),
            (LoginField::Login, "operator".into())
        );
        assert!(
            classify_login("123456789012").is_err(),
            "12 digits with a bad check digit"
        );
        assert!(classify_login("+7 701").is_err());
    }
}
