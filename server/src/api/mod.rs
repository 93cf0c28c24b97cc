//! The thin API, `/api/v1`: JSON in and out, errors as `application/problem+json`,
//! deny by default.

pub mod cabinet;
mod duties;
mod handlers;
pub mod openapi;
pub mod payments;
mod reports;

use crate::auth::RateLimiter;
use crate::store::Db;
use crate::store::users::User;
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderValue};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use esep_core::Lang;
use esep_core::api::{FieldError, Problem};
use esep_core::ids::BankDirectory;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::set_header::SetResponseHeaderLayer;

pub const SESSION_COOKIE: &str = "esep_session";
/// A cookie scripts may read, set beside the session's (HttpOnly) one: it says only that a
/// session was opened, so that the cabinet asks `GET /me` only then (no 401 in the console
/// of a visitor who is not signed in). Any 401 clears it.
pub const SIGNED_IN_COOKIE: &str = "esep_signed_in";

/// Ends the [`SIGNED_IN_COOKIE`] hint (sign-out and any 401).
pub const CLEAR_SIGNED_IN: &str = "esep_signed_in=; Path=/; SameSite=Strict; Max-Age=0";
/// Requests of the API are small; anything larger is refused before it is read.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Clone)]
pub struct Config {
    /// Mark the session cookie `Secure` (behind TLS).
    pub secure_cookies: bool,
    /// A reading whose monthly consumption exceeds this factor of the usual one is flagged.
    pub spike_factor: Decimal,
    pub session_hours: i64,
    /// The address consumers and banks reach this server at (return and callback URLs).
    pub public_url: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: false,
            spike_factor: Decimal::from(3),
            session_hours: 12,
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

pub struct Limits {
    /// Failed sign-ins per login (the person's account).
    pub per_login: RateLimiter,
    /// Sign-in attempts per client address.
    pub per_ip: RateLimiter,
    /// Failed attempts to link an account, per user.
    pub link: RateLimiter,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_login: RateLimiter::new(5, Duration::from_secs(15 * 60)),
            per_ip: RateLimiter::new(30, Duration::from_secs(5 * 60)),
            link: RateLimiter::new(5, Duration::from_secs(15 * 60)),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub limits: Arc<Limits>,
    pub banks: Arc<BankDirectory>,
    /// One pooled HTTP client for the banks.
    pub http: reqwest::Client,
    /// The banks by code, read from the database at most every 30 s (a changed secret or
    /// address applies within that time).
    pub bank_cache: Arc<std::sync::Mutex<BankCache>>,
    /// The chat's live event streams (D12).
    pub chat: Arc<cabinet::ChatHub>,
}

/// When the banks were last read, and the banks by code.
#[derive(Default)]
pub struct BankCache(
    Option<std::time::Instant>,
    std::collections::HashMap<String, crate::store::payments::BankRow>,
);

impl AppState {
    /// A bank by its code, from the cache when it is fresh.
    pub async fn bank(
        &self,
        code: &str,
    ) -> anyhow::Result<Option<crate::store::payments::BankRow>> {
        {
            let cache = self.bank_cache.lock().unwrap_or_else(|e| e.into_inner());
            if cache
                .0
                .is_some_and(|t| t.elapsed() < Duration::from_secs(30))
                && let Some(b) = cache.1.get(code)
            {
                return Ok(Some(b.clone()));
            }
        }
        let banks = self.db.banks().await?;
        let mut cache = self.bank_cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.1 = banks.into_iter().map(|b| (b.code.clone(), b)).collect();
        cache.0 = Some(std::time::Instant::now());
        Ok(cache.1.get(code).cloned())
    }
}

/// Every route of the API: method, path (as in the OpenAPI document) and who may call it.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/api/v1/health", "anyone"),
    ("GET", "/api/v1/openapi.json", "anyone"),
    ("POST", "/api/v1/session", "anyone"),
    ("DELETE", "/api/v1/session", "signed in"),
    ("GET", "/api/v1/me", "signed in"),
    ("GET", "/api/v1/accounts", "consumer"),
    ("POST", "/api/v1/accounts/link", "consumer"),
    (
        "GET",
        "/api/v1/accounts/{number}/upds",
        "consumer holding the account; operator, auditor",
    ),
    (
        "GET",
        "/api/v1/accounts/{number}/meters",
        "consumer holding the account; operator, auditor",
    ),
    (
        "GET",
        "/api/v1/upds/{number}",
        "consumer holding the account; operator, auditor",
    ),
    ("POST", "/api/v1/readings", "consumer holding the account"),
    ("GET", "/api/v1/access-journal", "auditor, operator"),
    ("GET", "/api/v1/banks", "signed in"),
    ("POST", "/api/v1/payments", "consumer holding the account"),
    (
        "GET",
        "/api/v1/payments/{id}",
        "the payer, a holder of the account; operator, auditor",
    ),
    (
        "POST",
        "/api/v1/banks/{code}/callback",
        "the bank (HMAC-SHA256 signature)",
    ),
    ("POST", "/api/v1/complaints", "consumer"),
    ("GET", "/api/v1/complaints", "signed in (their own)"),
    ("GET", "/api/v1/notices", "signed in (their own)"),
    ("GET", "/api/v1/operator/complaints", "operator, auditor"),
    (
        "POST",
        "/api/v1/operator/complaints/{number}/extend",
        "operator",
    ),
    (
        "POST",
        "/api/v1/operator/complaints/{number}/answer",
        "operator",
    ),
    ("POST", "/api/v1/debt-requests", "authority"),
    ("GET", "/api/v1/debt-requests", "auditor"),
    (
        "GET",
        "/api/v1/reports/provider",
        "the provider's users; operator, auditor",
    ),
    (
        "GET",
        "/api/v1/me/data",
        "signed in (all data held about themselves)",
    ),
    (
        "GET",
        "/api/v1/accounts/{number}/history",
        "consumer holding the account; operator, auditor",
    ),
    (
        "GET",
        "/api/v1/upds/{number}/pdf",
        "consumer holding the account; operator, auditor",
    ),
    ("GET", "/api/v1/chat", "consumer (their own)"),
    ("POST", "/api/v1/chat", "consumer"),
    (
        "GET",
        "/api/v1/chat/events",
        "consumer (their own); operator (all)",
    ),
    ("GET", "/api/v1/operator/discrepancies", "operator, auditor"),
    (
        "POST",
        "/api/v1/operator/discrepancies/{id}/close",
        "operator",
    ),
    ("GET", "/api/v1/operator/chats", "operator"),
    ("GET", "/api/v1/operator/chats/{id}", "operator"),
    ("POST", "/api/v1/operator/chats/{id}", "operator"),
];

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/health", get(handlers::health))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route(
            "/api/v1/session",
            post(handlers::sign_in).delete(handlers::sign_out),
        )
        .route("/api/v1/me", get(handlers::me))
        .route("/api/v1/accounts", get(handlers::accounts))
        .route("/api/v1/accounts/link", post(handlers::link_account))
        .route(
            "/api/v1/accounts/{number}/upds",
            get(handlers::account_upds),
        )
        .route(
            "/api/v1/accounts/{number}/meters",
            get(handlers::account_meters),
        )
        .route("/api/v1/upds/{number}", get(handlers::upd))
        .route("/api/v1/readings", post(handlers::submit_reading))
        .route("/api/v1/access-journal", get(handlers::access_journal))
        .route("/api/v1/banks", get(payments::banks))
        .route("/api/v1/payments", post(payments::create))
        .route("/api/v1/payments/{id}", get(payments::show))
        .route("/api/v1/banks/{code}/callback", post(payments::callback))
        .route("/api/v1/complaints", post(duties::file).get(duties::mine))
        .route("/api/v1/notices", get(duties::notices))
        .route("/api/v1/operator/complaints", get(duties::queue))
        .route(
            "/api/v1/operator/complaints/{number}/extend",
            post(duties::extend),
        )
        .route(
            "/api/v1/operator/complaints/{number}/answer",
            post(duties::answer),
        )
        .route(
            "/api/v1/debt-requests",
            post(duties::debt_request).get(duties::debt_requests),
        )
        .route("/api/v1/reports/provider", get(reports::provider))
        .route("/api/v1/me/data", get(handlers::my_data))
        .route("/api/v1/accounts/{number}/history", get(cabinet::history))
        .route("/api/v1/upds/{number}/pdf", get(cabinet::upd_pdf))
        .route("/api/v1/chat", get(cabinet::chat).post(cabinet::chat_post))
        .route("/api/v1/chat/events", get(cabinet::chat_events))
        .route("/api/v1/operator/discrepancies", get(duties::discrepancies))
        .route(
            "/api/v1/operator/discrepancies/{id}/close",
            post(duties::close_discrepancy),
        )
        .route("/api/v1/operator/chats", get(cabinet::operator_chats))
        .route(
            "/api/v1/operator/chats/{id}",
            get(cabinet::operator_thread).post(cabinet::operator_answer),
        )
        .fallback(handlers::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Answers compressed for clients that accept it (brotli, else gzip), at a quality
        // cheap enough for every request: a UPD's 4,958 bytes of JSON cross as 1,599 (tests/api.rs).
        // Server-sent events and tiny answers stay as they are (tower-http's predicate).
        // Answers of the API are personal data or change by the minute: no browser or proxy
        // keeps them (an answer that says otherwise keeps its own).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(
            tower_http::compression::CompressionLayer::new()
                .quality(tower_http::compression::CompressionLevel::Precise(4)),
        )
        .with_state(state)
}

/// An API error: rendered as RFC 9457 problem details with a stable `type`.
#[derive(Debug)]
pub enum ApiError {
    /// The request is malformed or breaks a rule; `errors` name the fields.
    Invalid {
        status: StatusCode,
        kind: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    Unauthenticated,
    Forbidden(String),
    NotFound(String),
    TooManyRequests {
        retry_after: u64,
    },
    Unavailable,
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn invalid(kind: &'static str, field: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError::Invalid {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind,
            detail: format!("{field}: {message}"),
            errors: vec![FieldError {
                field: field.to_string(),
                message,
            }],
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        let unavailable = e.chain().any(|c| {
            c.downcast_ref::<sqlx::Error>().is_some_and(|s| {
                match s {
                    sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Io(_)
                    | sqlx::Error::WorkerCrashed => true,
                    // Connection exceptions (class 08) and a server shutting down or
                    // starting (57P01–57P03): what a restarted PostgreSQL answers.
                    sqlx::Error::Database(d) => d
                        .code()
                        .is_some_and(|c| c.starts_with("08") || c.starts_with("57P0")),
                    _ => false,
                }
            })
        });
        if unavailable {
            ApiError::Unavailable
        } else {
            ApiError::Internal(e)
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::from(anyhow::Error::from(e))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title, detail, errors, retry) = match self {
            ApiError::Invalid {
                status,
                kind,
                detail,
                errors,
            } => (
                status,
                kind,
                "The request is not valid",
                detail,
                errors,
                None,
            ),
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Sign in first",
                "this needs a signed-in session (POST /api/v1/session)".to_string(),
                vec![],
                None,
            ),
            ApiError::Forbidden(d) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed",
                d,
                vec![],
                None,
            ),
            ApiError::NotFound(d) => (
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                d,
                vec![],
                None,
            ),
            ApiError::TooManyRequests { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many attempts",
                format!("too many attempts; try again in {retry_after} s"),
                vec![],
                Some(retry_after),
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Temporarily unavailable",
                "the database is not reachable; try again shortly".to_string(),
                vec![],
                Some(5),
            ),
            ApiError::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "an internal error occurred; it has been logged".to_string(),
                    vec![],
                    None,
                )
            }
        };
        let problem = Problem {
            kind: format!("/api/v1/problems/{kind}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail,
            errors,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(s) = retry
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().append(
                header::SET_COOKIE,
                HeaderValue::from_static(CLEAR_SIGNED_IN),
            );
        }
        res
    }
}

/// A JSON body whose rejections are problem documents naming the fault.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    let (status, kind) = match &r {
        JsonRejection::MissingJsonContentType(_) => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type")
        }
        JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "malformed-json"),
        JsonRejection::JsonDataError(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-body"),
        JsonRejection::BytesRejection(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body-too-large"),
        _ => (StatusCode::BAD_REQUEST, "bad-request"),
    };
    let detail = match &r {
        JsonRejection::BytesRejection(_) => format!("the body is larger than {BODY_LIMIT} bytes"),
        JsonRejection::MissingJsonContentType(_) => {
            "send the body as Content-Type: application/json".to_string()
        }
        other => std::error::Error::source(other)
            .and_then(std::error::Error::source)
            .map_or_else(|| other.body_text(), |e| e.to_string()),
    };
    ApiError::Invalid {
        status,
        kind,
        detail,
        errors: vec![],
    }
}

/// Query parameters that refuse unknown or malformed fields with a problem document.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(ApiError::Invalid {
                status: StatusCode::BAD_REQUEST,
                kind: "invalid-query",
                detail: query_detail(&e),
                errors: vec![],
            }),
        }
    }
}

fn query_detail(e: &QueryRejection) -> String {
    std::error::Error::source(e).map_or_else(|| e.body_text(), |s| s.to_string())
}

/// The signed-in user, from the session cookie.
pub struct SignedIn(pub User);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = session_token(parts).ok_or(ApiError::Unauthenticated)?;
        let user = state
            .db
            .session_user(&crate::auth::token_hash(&token))
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        Ok(SignedIn(user))
    }
}

/// The session cookie's token, not yet checked: for a handler that looks the session up
/// in the same query as its data (the UPD view). No cookie at all is a 401 at once.
pub struct SessionCookie(pub String);

impl<S: Send + Sync> FromRequestParts<S> for SessionCookie {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        session_token(parts)
            .map(SessionCookie)
            .ok_or(ApiError::Unauthenticated)
    }
}

pub fn session_token(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
}

/// Why a staff member reads personal data (D11): the `X-Access-Reason` header, UTF-8
/// percent-encoded (e.g. `complaint%20C-2026-000012`).
pub struct AccessReason(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for AccessReason {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let raw = parts
            .headers
            .get("x-access-reason")
            .and_then(|v| v.to_str().ok());
        Ok(AccessReason(
            raw.map(percent_decode)
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty()),
        ))
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The client's address, when the server was started with connection info.
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
        ))
    }
}

/// The language of the answer: `?lang=`, else `Accept-Language`, else Kazakh.
pub fn lang_of(parts_lang: Option<Lang>, headers: &axum::http::HeaderMap) -> Lang {
    parts_lang.unwrap_or_else(|| {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(Lang::from_accept_language)
            .unwrap_or_default()
    })
}
