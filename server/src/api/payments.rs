//! Payments through banks: create (with an Idempotency-Key), read the status, and the
//! banks' signed callbacks.

use super::{ApiError, ApiJson, AppState, SignedIn};
use crate::banks::{Callback, CallbackStatus, CreatePayment, FinancialOrganisation, HttpBank};
use crate::store::payments::{Credit, NewPayment};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use esep_core::Money;
use esep_core::api::{
    AllocationView, BankView, FieldError, PaymentCreated, PaymentRequest, PaymentView, Role,
};
use sha2::{Digest, Sha256};

pub async fn banks(
    State(state): State<AppState>,
    SignedIn(_): SignedIn,
) -> Result<Json<Vec<BankView>>, ApiError> {
    Ok(Json(
        state
            .db
            .banks()
            .await?
            .into_iter()
            .map(|b| BankView {
                code: b.code,
                name: b.name,
            })
            .collect(),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PaymentRequest>,
) -> Result<Response, ApiError> {
    if user.role != Role::Consumer {
        return Err(ApiError::Forbidden(
            "only consumers pay their documents".into(),
        ));
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 100)
        .ok_or_else(|| ApiError::Invalid {
            status: StatusCode::BAD_REQUEST,
            kind: "idempotency-key-required",
            detail: "send an Idempotency-Key header (1–100 characters, e.g. a UUID) so a repeated request never pays twice".into(),
            errors: vec![],
        })?
        .to_string();
    let hash = format!(
        "{:x}",
        Sha256::digest(serde_json::to_vec(&req).unwrap_or_default())
    );
    if let Some((first_hash, status, body)) = state.db.idempotent_answer(user.id, &key).await? {
        if first_hash != hash {
            return Err(ApiError::Invalid {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                kind: "idempotency-key-reused",
                detail: "this Idempotency-Key was used for a different request; use a new key"
                    .into(),
                errors: vec![],
            });
        }
        return Ok(replay(status, body));
    }
    let created = create_payment(&state, &user, &req).await?;
    let body = serde_json::to_string(&created).map_err(|e| ApiError::Internal(e.into()))?;
    if !state
        .db
        .keep_idempotent_answer(user.id, &key, &hash, 201, &body)
        .await?
    {
        // A concurrent request with the same key won: answer what it answered.
        if let Some((_, status, body)) = state.db.idempotent_answer(user.id, &key).await? {
            return Ok(replay(status, body));
        }
    }
    Ok(replay(201, body))
}

fn replay(status: u16, body: String) -> Response {
    let mut res = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
    res.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    res
}

async fn create_payment(
    state: &AppState,
    user: &crate::store::users::User,
    req: &PaymentRequest,
) -> Result<PaymentCreated, ApiError> {
    let upd = state.db.upd_by_number(&req.upd_number, None).await?;
    let not_found = || ApiError::NotFound("no such payment document".into());
    let Some(upd) = upd else {
        return Err(not_found());
    };
    if !state.db.user_holds_account(user.id, upd.account_id).await? {
        state
            .db
            .journal(
                Some(user.id),
                "pay",
                &format!("account:{}", upd.account_id),
                "denied",
                None,
            )
            .await?;
        return Err(not_found());
    }
    let Some(bank) = state.db.bank_by_code(&req.bank).await? else {
        return Err(ApiError::invalid(
            "validation",
            "bank",
            format!("no bank '{}' (see GET /api/v1/banks)", req.bank),
        ));
    };
    let lines = state.db.outstanding(upd.id).await?;
    let amount = match req.amount {
        Some(a) => a,
        None => {
            let due = |l: &esep_core::settlement::Outstanding| l.due.max(Money::ZERO);
            match &req.lines {
                Some(chosen) => lines
                    .iter()
                    .filter(|l| chosen.contains(&l.line_no))
                    .map(due)
                    .sum(),
                None => lines.iter().map(due).sum(),
            }
        }
    };
    // Validate the allocation now; it is computed again, exactly, when the money arrives.
    if let Err(e) = esep_core::settlement::allocate(amount, &lines, req.lines.as_deref()) {
        use esep_core::settlement::AllocationError as A;
        let field = match e {
            A::UnknownLine(_) | A::DuplicateLine(_) => "lines",
            _ => "amount",
        };
        return Err(ApiError::Invalid {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind: "payment-refused",
            detail: format!("{field}: {e}"),
            errors: vec![FieldError {
                field: field.into(),
                message: e.to_string(),
            }],
        });
    }
    let public_id = crate::auth::new_token().0[..24].to_string();
    let id = state
        .db
        .create_payment(&NewPayment {
            public_id: &public_id,
            user_id: Some(user.id),
            account_id: upd.account_id,
            upd_id: upd.id,
            bank_id: bank.id,
            channel: "online",
            amount,
            chosen_lines: req.lines.as_deref(),
            bank_ref: None,
        })
        .await?;
    let base = state.config.public_url.trim_end_matches('/');
    let client = HttpBank::new(bank.clone(), state.http.clone());
    let created = client
        .create_payment(&CreatePayment {
            payment_id: public_id.clone(),
            upd_number: upd.number.clone(),
            amount,
            return_url: format!("{base}/cabinet/payments/{public_id}"),
            callback_url: format!("{base}/api/v1/banks/{}/callback", bank.code),
        })
        .await
        .map_err(|e| {
            tracing::warn!(bank = %bank.code, error = %e, "bank unavailable");
            ApiError::Invalid {
                status: StatusCode::BAD_GATEWAY,
                kind: "bank-unavailable",
                detail: format!("bank {} did not accept the payment; nothing was charged, try again or choose another bank", bank.code),
                errors: vec![],
            }
        })?;
    state.db.set_payment_pending(id, &created.bank_ref).await?;
    Ok(PaymentCreated {
        id: public_id,
        status: "pending".into(),
        amount,
        bank: bank.code,
        redirect_url: created.redirect_url,
    })
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<Json<PaymentView>, ApiError> {
    // Roles that never read payments are told so, before anything is looked up.
    if !matches!(user.role, Role::Consumer | Role::Operator | Role::Auditor) {
        return Err(ApiError::Forbidden(format!(
            "payments are read by their payers, operators and auditors, not by a {} user",
            user.role.code()
        )));
    }
    let not_found = || ApiError::NotFound("no such payment".into());
    let Some(p) = state.db.payment_by_public_id(&id).await? else {
        return Err(not_found());
    };
    let allowed = match user.role {
        Role::Consumer => {
            p.user_id == Some(user.id) || state.db.user_holds_account(user.id, p.account_id).await?
        }
        Role::Operator | Role::Auditor => true,
        _ => false,
    };
    if !allowed {
        state
            .db
            .journal(
                Some(user.id),
                "payment",
                &format!("payment:{}", p.id),
                "denied",
                None,
            )
            .await?;
        return Err(not_found());
    }
    let bank = state
        .db
        .bank_by_id(p.bank_id)
        .await?
        .map(|b| b.code)
        .unwrap_or_default();
    let upd_number = state.db.upd_number_of(p.upd_id).await?;
    let mut allocations = Vec::new();
    for (service_id, provider_id, amount, advance) in state.db.allocations_of_payment(p.id).await? {
        let (service_code, provider_bin) = state
            .db
            .service_and_provider(service_id, provider_id)
            .await?;
        allocations.push(AllocationView {
            service_code,
            provider_bin,
            amount,
            advance,
        });
    }
    Ok(Json(PaymentView {
        id: p.public_id,
        status: p.status,
        amount: p.amount,
        bank,
        upd_number,
        allocations,
    }))
}

/// A bank reports a payment's outcome. Signed; idempotent; out-of-order reports of a
/// reversal before its payment are answered 409 so that the bank retries.
pub async fn callback(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(bank) = state.bank(&code).await? else {
        return Err(ApiError::NotFound(format!("no bank '{code}'")));
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let client = HttpBank::new(bank.clone(), state.http.clone());
    let cb: Callback = match client.verify_callback(
        header(crate::banks::TIMESTAMP_HEADER),
        header(crate::banks::SIGNATURE_HEADER),
        &body,
    ) {
        Ok(cb) => cb,
        Err(e) => {
            let detail = format!("{e:#}");
            state
                .db
                .journal_bank_message(&code, "callback", "rejected", &detail)
                .await?;
            let status = if e.downcast_ref::<crate::banks::SignatureError>().is_some() {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::BAD_REQUEST
            };
            return Err(ApiError::Invalid {
                status,
                kind: "callback-rejected",
                detail,
                errors: vec![],
            });
        }
    };
    let payment = match &cb.payment_id {
        Some(id) => state.db.payment_by_public_id(id).await?,
        None => state.db.payment_by_bank_ref(bank.id, &cb.bank_ref).await?,
    }
    .filter(|p| p.bank_id == bank.id);
    let Some(payment) = payment else {
        let detail = format!("unknown payment (bank ref {})", cb.bank_ref);
        state
            .db
            .journal_bank_message(&code, "callback", "rejected", &detail)
            .await?;
        return Err(ApiError::NotFound(detail));
    };
    if cb.amount != payment.amount {
        let detail = format!(
            "amount {} differs from the payment's {}",
            cb.amount, payment.amount
        );
        state
            .db
            .journal_bank_message(&code, "callback", "rejected", &detail)
            .await?;
        return Err(ApiError::invalid("callback-rejected", "amount", detail));
    }
    let outcome = match cb.status {
        // A payment's status becomes succeeded in the transaction that credits it, so a
        // repeated report of a credited payment is answered without touching the ledger.
        CallbackStatus::Succeeded
            if matches!(payment.status.as_str(), "succeeded" | "reversed") =>
        {
            "duplicate"
        }
        CallbackStatus::Succeeded => {
            match state.db.credit_payment(&payment, &bank, &cb.at).await? {
                Credit::Credited(_) => "credited",
                Credit::AlreadyCredited => "duplicate",
            }
        }
        CallbackStatus::Declined => {
            state.db.set_payment_declined(payment.id).await?;
            "declined"
        }
        CallbackStatus::Reversed => {
            if !matches!(payment.status.as_str(), "succeeded" | "reversed") {
                state
                    .db
                    .journal_bank_message(
                        &code,
                        "callback",
                        "deferred",
                        "reversal before its payment",
                    )
                    .await?;
                return Err(ApiError::Invalid {
                    status: StatusCode::CONFLICT,
                    kind: "callback-out-of-order",
                    detail: "the payment is not credited yet; send the reversal again later".into(),
                    errors: vec![],
                });
            }
            if state.db.reverse_payment(&payment, &bank, &cb.at).await? {
                "reversed"
            } else {
                "duplicate"
            }
        }
    };
    Ok(Json(serde_json::json!({"ok": true, "outcome": outcome})).into_response())
}
