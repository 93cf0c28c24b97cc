//! The only place that speaks HTTP: the thin API at `/api/v1`, with the request and response
//! types of `esep_core::api`. The session is the server's HttpOnly cookie; this code never
//! sees it.

use esep_core::Lang;
use esep_core::api::*;
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// Why a request failed, as the page explains it.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// The server was not reached (offline, DNS, reset): the page offers a retry.
    Network,
    /// Not signed in (any more).
    Unauthorized,
    /// The server refused the request and said why (RFC 9457 problem details).
    Problem(Problem),
    /// The server failed (5xx) or answered something unreadable: a retry may help.
    Server,
}

impl ApiError {
    /// The field-level errors, when the server named fields.
    pub fn fields(&self) -> Vec<FieldError> {
        match self {
            ApiError::Problem(p) => p.errors.clone(),
            _ => vec![],
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::Problem(p) => p.status,
            ApiError::Unauthorized => 401,
            _ => 0,
        }
    }
}

async fn read<T: DeserializeOwned>(res: Result<Response, gloo_net::Error>) -> Result<T, ApiError> {
    let res = res.map_err(|_| ApiError::Network)?;
    let status = res.status();
    if (200..300).contains(&status) {
        return res.json::<T>().await.map_err(|_| ApiError::Server);
    }
    if status == 401 {
        return Err(ApiError::Unauthorized);
    }
    if status >= 500 {
        return Err(ApiError::Server);
    }
    match res.json::<Problem>().await {
        Ok(p) => Err(ApiError::Problem(p)),
        Err(_) => Err(ApiError::Problem(Problem {
            kind: "unknown".into(),
            title: res.status_text(),
            status,
            detail: res.status_text(),
            errors: vec![],
        })),
    }
}

async fn get<T: DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    read(Request::get(url).send().await).await
}

async fn send<B: Serialize, T: DeserializeOwned>(
    builder: RequestBuilder,
    body: &B,
) -> Result<T, ApiError> {
    let req = builder.json(body).map_err(|_| ApiError::Server)?;
    read(req.send().await).await
}

fn enc(segment: &str) -> String {
    js_sys::encode_uri_component(segment).into()
}

/// The signed-in user, or `None` when there is no session. On the front page, without the
/// server's readable `esep_signed_in` hint nobody has signed in here, so the app does not
/// ask (a visitor's console shows no 401); a link to a personal page always asks.
pub async fn me() -> Result<Option<Me>, ApiError> {
    let window = web_sys::window();
    let front = window
        .as_ref()
        .and_then(|w| w.location().pathname().ok())
        .is_some_and(|p| p.trim_end_matches('/').ends_with("/cabinet"));
    let hinted = window
        .and_then(|w| w.document())
        .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
        .and_then(|d| d.cookie().ok())
        .is_some_and(|c| c.contains("esep_signed_in=1"));
    if front && !hinted {
        return Ok(None);
    }
    match get::<Me>("/api/v1/me").await {
        Ok(me) => Ok(Some(me)),
        Err(ApiError::Unauthorized) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn sign_in(login: &str, password: &str) -> Result<Me, ApiError> {
    let body = SignInRequest {
        login: login.to_string(),
        password: password.to_string(),
    };
    match send(Request::post("/api/v1/session"), &body).await {
        // A wrong login or password is the person's mistake, not a lost session.
        Err(ApiError::Unauthorized) => Err(ApiError::Problem(Problem {
            kind: "sign-in-failed".into(),
            title: String::new(),
            status: 401,
            detail: String::new(),
            errors: vec![],
        })),
        other => other,
    }
}

pub async fn sign_out() -> Result<(), ApiError> {
    let res = Request::delete("/api/v1/session")
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    match res.status() {
        204 | 401 => Ok(()),
        _ => Err(ApiError::Server),
    }
}

pub async fn accounts() -> Result<Vec<AccountSummary>, ApiError> {
    get("/api/v1/accounts").await
}

pub async fn link_account(req: &LinkAccountRequest) -> Result<AccountSummary, ApiError> {
    send(Request::post("/api/v1/accounts/link"), req).await
}

pub async fn upd(number: &str, lang: Lang) -> Result<UpdView, ApiError> {
    get(&format!("/api/v1/upds/{}?lang={lang}", enc(number))).await
}

pub fn upd_pdf_url(number: &str, lang: Lang) -> String {
    format!("/api/v1/upds/{}/pdf?lang={lang}", enc(number))
}

pub async fn history(account: &str, lang: Lang) -> Result<History, ApiError> {
    get(&format!(
        "/api/v1/accounts/{}/history?lang={lang}",
        enc(account)
    ))
    .await
}

pub async fn meters(account: &str, lang: Lang) -> Result<Vec<MeterView>, ApiError> {
    get(&format!(
        "/api/v1/accounts/{}/meters?lang={lang}",
        enc(account)
    ))
    .await
}

pub async fn submit_reading(req: &ReadingRequest) -> Result<ReadingAccepted, ApiError> {
    send(Request::post("/api/v1/readings"), req).await
}

pub async fn banks() -> Result<Vec<BankView>, ApiError> {
    get("/api/v1/banks").await
}

/// Starts a payment. The same `key` with the same request returns the first answer, so a
/// repeated press, a refresh or the back button never pays twice.
pub async fn pay(req: &PaymentRequest, key: &str) -> Result<PaymentCreated, ApiError> {
    send(
        Request::post("/api/v1/payments").header("Idempotency-Key", key),
        req,
    )
    .await
}

pub async fn payment(id: &str) -> Result<PaymentView, ApiError> {
    get(&format!("/api/v1/payments/{}", enc(id))).await
}

pub async fn complaints() -> Result<Vec<Complaint>, ApiError> {
    get("/api/v1/complaints").await
}

pub async fn file_complaint(req: &ComplaintRequest) -> Result<Complaint, ApiError> {
    send(Request::post("/api/v1/complaints"), req).await
}

pub async fn notices() -> Result<Vec<Notice>, ApiError> {
    get("/api/v1/notices").await
}

pub async fn operator_complaints() -> Result<Vec<Complaint>, ApiError> {
    get("/api/v1/operator/complaints").await
}

/// The applicant's notice of the extension is written in `lang`.
pub async fn extend_complaint(
    number: &str,
    req: &ComplaintExtension,
    lang: Lang,
) -> Result<Complaint, ApiError> {
    send(
        Request::post(&format!(
            "/api/v1/operator/complaints/{}/extend?lang={lang}",
            enc(number)
        )),
        req,
    )
    .await
}

pub async fn answer_complaint(number: &str, req: &ComplaintAnswer) -> Result<Complaint, ApiError> {
    send(
        Request::post(&format!(
            "/api/v1/operator/complaints/{}/answer",
            enc(number)
        )),
        req,
    )
    .await
}

pub async fn discrepancies() -> Result<Vec<Discrepancy>, ApiError> {
    get("/api/v1/operator/discrepancies").await
}

pub async fn close_discrepancy(id: i64, req: &DiscrepancyClose) -> Result<Discrepancy, ApiError> {
    send(
        Request::post(&format!("/api/v1/operator/discrepancies/{id}/close")),
        req,
    )
    .await
}

pub async fn chat() -> Result<ChatView, ApiError> {
    get("/api/v1/chat").await
}

pub async fn chat_post(body: &str) -> Result<ChatMessage, ApiError> {
    let post = ChatPost {
        body: body.to_string(),
    };
    send(Request::post("/api/v1/chat"), &post).await
}

pub async fn operator_chats() -> Result<Vec<ChatThreadSummary>, ApiError> {
    get("/api/v1/operator/chats").await
}

pub async fn operator_thread(id: i64) -> Result<Vec<ChatMessage>, ApiError> {
    get(&format!("/api/v1/operator/chats/{id}")).await
}

pub async fn operator_answer(id: i64, body: &str) -> Result<ChatMessage, ApiError> {
    let post = ChatPost {
        body: body.to_string(),
    };
    send(
        Request::post(&format!("/api/v1/operator/chats/{id}")),
        &post,
    )
    .await
}

/// New chat messages pushed by the server (server-sent events). The browser reconnects by
/// itself after a network loss; dropping the returned value closes the stream.
pub struct ChatEvents {
    source: web_sys::EventSource,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl Drop for ChatEvents {
    fn drop(&mut self) {
        self.source.close();
    }
}

pub fn chat_events(mut on_message: impl FnMut(ChatMessage) + 'static) -> Option<ChatEvents> {
    let source = web_sys::EventSource::new("/api/v1/chat/events").ok()?;
    let closure =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            if let Some(text) = event.data().as_string()
                && let Ok(message) = serde_json::from_str::<ChatMessage>(&text)
            {
                on_message(message);
            }
        });
    source
        .add_event_listener_with_callback("message", closure.as_ref().unchecked_ref())
        .ok()?;
    Some(ChatEvents {
        source,
        _on_message: closure,
    })
}
