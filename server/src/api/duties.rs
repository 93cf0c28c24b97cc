//! Complaints and applications (D13) from the cabinet and in the operators' queue, the
//! applicant's notices, and authorities' debt requests (D15).

use super::{ApiError, ApiJson, ApiQuery, AppState, SignedIn, lang_of};
use crate::duties::{Complaint, NewComplaint, Refusal};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use esep_core::api::{
    ComplaintAnswer, ComplaintExtension, ComplaintRequest, Discrepancy, DiscrepancyClose,
    FieldError, Notice, Role,
};
use esep_core::{Lang, Money, WorkingCalendar};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// A refusal of the duties module as a 422 naming the field; anything else as it is.
fn refused(e: anyhow::Error) -> ApiError {
    match e.downcast_ref::<Refusal>() {
        Some(r) => ApiError::Invalid {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind: "validation",
            detail: r.to_string(),
            errors: vec![FieldError {
                field: r.field.to_string(),
                message: r.message.clone(),
            }],
        },
        None => ApiError::from(e),
    }
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

pub async fn file(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(req): ApiJson<ComplaintRequest>,
) -> Result<(StatusCode, Json<Complaint>), ApiError> {
    if user.role != Role::Consumer {
        return Err(ApiError::Forbidden(
            "operators register complaints with esep complaint register".into(),
        ));
    }
    let account_id = match &req.account_number {
        Some(n) => {
            let a = state.db.account_by_number(n).await?;
            match a {
                Some(a) if state.db.user_holds_account(user.id, a.id).await? => Some(a.id),
                _ => {
                    return Err(ApiError::invalid(
                        "validation",
                        "account_number",
                        "not one of your accounts",
                    ));
                }
            }
        }
        None => None,
    };
    let c = state
        .db
        .register_complaint(
            &WorkingCalendar::kazakhstan(),
            &NewComplaint {
                user_id: Some(user.id),
                account_id,
                channel: "cabinet",
                kind: &req.kind,
                subject: &req.subject,
                body: &req.body,
                registered_on: today(),
                created_by: Some(user.id),
            },
        )
        .await
        .map_err(refused)?;
    Ok((StatusCode::CREATED, Json(c)))
}

pub async fn mine(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Vec<Complaint>>, ApiError> {
    Ok(Json(state.db.complaints_of_user(user.id, today()).await?))
}

pub async fn notices(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Vec<Notice>>, ApiError> {
    Ok(Json(
        state
            .db
            .notifications_of_user(user.id)
            .await?
            .into_iter()
            .map(|(at, subject, body)| Notice { at, subject, body })
            .collect(),
    ))
}

fn operator_only(role: Role) -> Result<(), ApiError> {
    match role {
        Role::Operator => Ok(()),
        other => Err(ApiError::Forbidden(format!(
            "the complaint queue is for operators, not a {} user",
            other.code()
        ))),
    }
}

pub async fn queue(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Vec<Complaint>>, ApiError> {
    if !matches!(user.role, Role::Operator | Role::Auditor) {
        return Err(ApiError::Forbidden(format!(
            "the complaint queue is for operators and auditors, not a {} user",
            user.role.code()
        )));
    }
    state
        .db
        .journal(Some(user.id), "complaint-queue", "complaints", "read", None)
        .await?;
    Ok(Json(state.db.complaint_queue(today()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangQuery {
    lang: Option<Lang>,
}

pub async fn extend(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(number): Path<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ComplaintExtension>,
) -> Result<Json<Complaint>, ApiError> {
    operator_only(user.role)?;
    let lang = lang_of(q.lang, &headers);
    Ok(Json(
        state
            .db
            .extend_complaint(
                &WorkingCalendar::kazakhstan(),
                &number,
                req.days,
                &req.reason,
                Some(user.id),
                lang,
            )
            .await
            .map_err(refused)?,
    ))
}

pub async fn answer(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(number): Path<String>,
    ApiJson(req): ApiJson<ComplaintAnswer>,
) -> Result<Json<Complaint>, ApiError> {
    operator_only(user.role)?;
    Ok(Json(
        state
            .db
            .answer_complaint(&number, &req.answer, Some(user.id), today())
            .await
            .map_err(refused)?,
    ))
}

/// The discrepancy journal (D8, D9) for operators and auditors; the read is journaled.
pub async fn discrepancies(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Vec<Discrepancy>>, ApiError> {
    if !matches!(user.role, Role::Operator | Role::Auditor) {
        return Err(ApiError::Forbidden(format!(
            "the discrepancy journal is for operators and auditors, not a {} user",
            user.role.code()
        )));
    }
    state
        .db
        .journal(
            Some(user.id),
            "discrepancy-journal",
            "discrepancies",
            "read",
            None,
        )
        .await?;
    Ok(Json(state.db.discrepancies().await?))
}

/// An operator closes a corrected discrepancy (or one that needs no correction).
pub async fn close_discrepancy(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DiscrepancyClose>,
) -> Result<Json<Discrepancy>, ApiError> {
    if user.role != Role::Operator {
        return Err(ApiError::Forbidden(format!(
            "discrepancies are closed by operators, not by a {} user",
            user.role.code()
        )));
    }
    let id: i64 = id
        .trim_start_matches("D-")
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no discrepancy {id}")))?;
    if req.note.trim().is_empty() {
        return Err(ApiError::invalid(
            "validation",
            "note",
            "say what was done before closing",
        ));
    }
    let found = state
        .db
        .discrepancies()
        .await?
        .into_iter()
        .any(|d| d.id == id);
    if !found {
        return Err(ApiError::NotFound(format!("no discrepancy D-{id}")));
    }
    state
        .db
        .close_discrepancy(id, req.note.trim(), Some(user.id))
        .await
        .map_err(refused)?;
    let closed = state
        .db
        .discrepancies()
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("no discrepancy D-{id}")))?;
    Ok(Json(closed))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebtRequest {
    pub account_number: String,
    /// The law or decision that entitles the authority to the information.
    pub legal_basis: String,
    /// The authority's own reference number of the request.
    pub reference: String,
}

#[derive(Serialize)]
pub struct DebtLine {
    pub provider_bin: String,
    pub provider_name: String,
    pub service_code: String,
    pub period: String,
    pub debt: Money,
}

#[derive(Serialize)]
pub struct DebtAnswer {
    pub account_number: String,
    pub as_of_period: Option<String>,
    pub lines: Vec<DebtLine>,
    pub total: Money,
}

/// D15: an authority asks for an account's debt; the request and the answer are journaled.
pub async fn debt_request(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(req): ApiJson<DebtRequest>,
) -> Result<(StatusCode, Json<DebtAnswer>), ApiError> {
    if user.role != Role::Authority {
        return Err(ApiError::Forbidden(format!(
            "debt requests are made by authorities, not a {} user",
            user.role.code()
        )));
    }
    if req.legal_basis.trim().len() < 5 {
        return Err(ApiError::invalid(
            "validation",
            "legal_basis",
            "name the law or decision the request rests on",
        ));
    }
    if req.reference.trim().is_empty() {
        return Err(ApiError::invalid(
            "validation",
            "reference",
            "give your reference number of the request",
        ));
    }
    let Some(account) = state
        .db
        .account_by_number(req.account_number.trim())
        .await?
    else {
        state
            .db
            .journal(
                Some(user.id),
                "debt-request",
                "account:unknown",
                "refused",
                None,
            )
            .await?;
        return Err(ApiError::invalid(
            "validation",
            "account_number",
            "no such account",
        ));
    };
    let upd = state.db.upds_of_account(account.id, 1).await?;
    let mut lines = Vec::new();
    if let Some(u) = upd.first() {
        for l in state.db.upd_lines(u.id).await? {
            // What is still owed on the line: its due less what was paid since the UPD.
            let outstanding = state
                .db
                .outstanding(u.id)
                .await?
                .into_iter()
                .find(|o| o.line_no == l.line_no)
                .map_or(l.due, |o| o.due);
            if outstanding.is_positive() {
                lines.push(DebtLine {
                    provider_bin: l.provider_bin,
                    provider_name: l.provider_name,
                    service_code: l.service_code,
                    period: u.period.to_string(),
                    debt: outstanding,
                });
            }
        }
    }
    let answer = DebtAnswer {
        account_number: account.number.clone(),
        as_of_period: upd.first().map(|u| u.period.to_string()),
        total: lines.iter().map(|l| l.debt).sum(),
        lines,
    };
    let text = serde_json::to_string(&answer).map_err(|e| ApiError::Internal(e.into()))?;
    sqlx::query("INSERT INTO debt_request (user_id, account_id, legal_basis, reference, requested_at, answer) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(user.id)
        .bind(account.id)
        .bind(req.legal_basis.trim())
        .bind(req.reference.trim())
        .bind(crate::store::now())
        .bind(text)
        .execute(&state.db.pool)
        .await?;
    state
        .db
        .journal(
            Some(user.id),
            "debt-request",
            &format!("account:{}", account.id),
            "answered",
            None,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(answer)))
}

#[derive(Serialize)]
pub struct DebtRequestRecord {
    pub requested_at: String,
    pub user_id: i64,
    pub account_number: String,
    pub legal_basis: String,
    pub reference: String,
}

/// Auditors see every debt request and its basis.
pub async fn debt_requests(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Vec<DebtRequestRecord>>, ApiError> {
    if user.role != Role::Auditor {
        return Err(ApiError::Forbidden(format!(
            "the debt-request journal is for auditors, not a {} user",
            user.role.code()
        )));
    }
    let rows = sqlx::query(
        "SELECT d.requested_at, d.user_id, a.number, d.legal_basis, d.reference FROM debt_request d JOIN account a ON a.id = d.account_id ORDER BY d.id DESC",
    )
    .fetch_all(&state.db.pool)
    .await?;
    let list = rows
        .iter()
        .map(|r| {
            Ok(DebtRequestRecord {
                requested_at: r.try_get(0)?,
                user_id: r.try_get(1)?,
                account_number: r.try_get(2)?,
                legal_basis: r.try_get(3)?,
                reference: r.try_get(4)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Json(list))
}
