//! What the personal cabinet needs beside the documents themselves: an account's history
//! (D1), the UPD on paper as a PDF with a QR code to pay it (T8), and the consultation chat
//! with operators (D12), pushed to the browser as server-sent events.

use super::handlers::{authorize_account, upd_view};
use super::{
    AccessReason, ApiError, ApiJson, ApiQuery, AppState, SessionCookie, SignedIn, lang_of,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use esep_core::api::{ChatMessage, ChatPost, ChatThreadSummary, ChatView, History, Role, UpdView};
use esep_core::{Lang, WorkingCalendar, hours};
use futures_util::StreamExt;
use serde::Deserialize;
use std::convert::Infallible;
use tokio::sync::{broadcast, watch};
use tokio_stream::wrappers::BroadcastStream;

/// A chat message as it is announced to the open event streams.
#[derive(Clone, Debug)]
pub struct ChatEvent {
    /// The consumer whose conversation it belongs to.
    pub owner: i64,
    pub message: ChatMessage,
}

/// The live side of the chat: new messages for the open event streams, and the signal
/// that ends them when the server shuts down.
pub struct ChatHub {
    events: broadcast::Sender<ChatEvent>,
    closing: watch::Sender<bool>,
}

impl Default for ChatHub {
    fn default() -> Self {
        ChatHub {
            events: broadcast::channel(1024).0,
            closing: watch::channel(false).0,
        }
    }
}

impl ChatHub {
    /// Ends every open event stream (the browsers reconnect to the next server).
    pub fn close(&self) {
        let _ = self.closing.send(true);
    }

    fn announce(&self, owner: i64, message: &ChatMessage) {
        // No open stream is not an error: the message is stored and read on the next visit.
        let _ = self.events.send(ChatEvent {
            owner,
            message: message.clone(),
        });
    }
}

const MAX_MESSAGE: usize = 2000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangQuery {
    lang: Option<Lang>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PdfQuery {
    lang: Option<Lang>,
    version: Option<u32>,
}

pub async fn history(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    reason: AccessReason,
    Path(number): Path<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Json<History>, ApiError> {
    let lang = lang_of(q.lang, &headers);
    let account = state.db.account_by_number(&number).await?;
    let account = authorize_account(&state, &user, account, "account", &reason).await?;
    Ok(Json(History {
        periods: state.db.history_periods(account.id, 12, lang).await?,
        payments: state.db.payments_of_account(account.id, 24).await?,
        account_number: account.number,
    }))
}

/// The paper form of a UPD (T8): A4, fonts embedded, a QR code that opens its payment page.
pub async fn upd_pdf(
    State(state): State<AppState>,
    SessionCookie(token): SessionCookie,
    reason: AccessReason,
    Path(number): Path<String>,
    ApiQuery(q): ApiQuery<PdfQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = lang_of(q.lang, &headers);
    let upd = upd_view(&state, &token, &reason, &number, q.version, lang).await?;
    let pay_url = pay_url(&state.config.public_url, &upd.number);
    let bytes = render_upd_pdf(&upd, &pay_url, lang).map_err(ApiError::Internal)?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"UPD-{}-v{}.pdf\"",
        upd.number, upd.version
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(res)
}

/// The cabinet's payment page of a UPD, which the QR code on paper opens.
pub fn pay_url(public_url: &str, upd_number: &str) -> String {
    format!(
        "{}/cabinet/upds/{upd_number}/pay",
        public_url.trim_end_matches('/')
    )
}

fn words(lang: Lang) -> [&'static str; 12] {
    match lang {
        Lang::Kk => [
            "Бірыңғай төлем құжаты",
            "Дербес шот",
            "Мекенжай",
            "Кезең",
            "Төлеу мерзімі",
            "Нұсқа",
            "Қызмет",
            "Есептелді",
            "Қайта есептеу",
            "Төлеуге",
            "Барлығы төлеуге",
            "Төлеу үшін QR кодты сканерлеңіз",
        ],
        Lang::Ru => [
            "Единый платёжный документ",
            "Лицевой счёт",
            "Адрес",
            "Период",
            "Оплатить до",
            "Версия",
            "Услуга",
            "Начислено",
            "Перерасчёт",
            "К оплате",
            "Итого к оплате",
            "Отсканируйте QR-код, чтобы оплатить",
        ],
        Lang::En => [
            "Unified payment document",
            "Personal account",
            "Address",
            "Period",
            "Pay by",
            "Version",
            "Service",
            "Charged",
            "Recalculation",
            "Due",
            "Total to pay",
            "Scan the QR code to pay",
        ],
    }
}

pub fn render_upd_pdf(upd: &UpdView, pay_url: &str, lang: Lang) -> anyhow::Result<Vec<u8>> {
    let w = words(lang);
    let mut pdf = crate::pdf::Pdf::new();
    pdf.title(&format!("{} № {}", w[0], upd.number));
    pdf.field(w[1], &upd.account_number);
    pdf.field(w[2], &upd.address);
    pdf.field(w[3], &upd.period.to_string());
    pdf.field(w[4], &upd.due_date.format("%d.%m.%Y").to_string());
    let mut version = upd.version.to_string();
    if let Some(reason) = &upd.reason {
        version = format!("{version} — {reason}");
    }
    pdf.field(w[5], &version);
    for section in &upd.sections {
        pdf.heading(&section.title);
        for group in &section.providers {
            pdf.row(
                &[(0.0, &format!("{} (БСН/BIN {})", group.name, group.bin))],
                9.5,
            );
            pdf.row(
                &[(10.0, w[6]), (250.0, w[7]), (330.0, w[8]), (420.0, w[9])],
                8.0,
            );
            for line in &group.lines {
                pdf.row(
                    &[
                        (10.0, &line.service_name),
                        (250.0, &line.charge.to_string()),
                        (330.0, &line.recalculation.to_string()),
                        (420.0, &line.due.to_string()),
                    ],
                    9.0,
                );
                pdf.row(&[(20.0, &line.formula)], 7.5);
            }
        }
    }
    pdf.gap();
    pdf.field(w[10], &format!("{} ₸", upd.to_pay));
    pdf.gap();
    pdf.qr(pay_url, 110.0, &format!("{}: {pay_url}", w[11]))?;
    pdf.finish()
}

fn consumer_only(role: Role) -> Result<(), ApiError> {
    match role {
        Role::Consumer => Ok(()),
        other => Err(ApiError::Forbidden(format!(
            "the chat is for consumers; a {} user answers in the operators' list",
            other.code()
        ))),
    }
}

fn operator_only(role: Role) -> Result<(), ApiError> {
    match role {
        Role::Operator => Ok(()),
        other => Err(ApiError::Forbidden(format!(
            "answering chats is for operators, not a {} user",
            other.code()
        ))),
    }
}

fn chat_body(post: &ChatPost) -> Result<String, ApiError> {
    let body = post.body.trim();
    if body.is_empty() {
        return Err(ApiError::invalid("validation", "body", "write a message"));
    }
    if body.chars().count() > MAX_MESSAGE {
        return Err(ApiError::invalid(
            "validation",
            "body",
            "a message has at most 2000 characters",
        ));
    }
    Ok(body.to_string())
}

fn schedule_now() -> (bool, Option<String>) {
    let calendar = WorkingCalendar::kazakhstan();
    let now = hours::local(chrono::Utc::now());
    let open = hours::is_open(&calendar, now);
    let next = if open {
        None
    } else {
        hours::next_open(&calendar, now).map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
    };
    (open, next)
}

pub async fn chat(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<ChatView>, ApiError> {
    consumer_only(user.role)?;
    let thread_id = state.db.chat_thread_of(user.id).await?;
    let messages = match thread_id {
        Some(id) => state.db.chat_messages(id).await?,
        None => vec![],
    };
    let (open_now, next_open) = schedule_now();
    Ok(Json(ChatView {
        thread_id,
        messages,
        open_now,
        next_open,
    }))
}

pub async fn chat_post(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(post): ApiJson<ChatPost>,
) -> Result<(StatusCode, Json<ChatMessage>), ApiError> {
    consumer_only(user.role)?;
    let body = chat_body(&post)?;
    let message = state
        .db
        .post_chat_message(user.id, user.id, false, &body)
        .await?;
    state.chat.announce(user.id, &message);
    Ok((StatusCode::CREATED, Json(message)))
}

/// New messages as server-sent events: a consumer's own conversation, or every
/// conversation for an operator.
pub async fn chat_events(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<impl IntoResponse, ApiError> {
    let everyone = match user.role {
        Role::Operator => true,
        Role::Consumer => false,
        other => {
            return Err(ApiError::Forbidden(format!(
                "a {} user has no chat",
                other.code()
            )));
        }
    };
    let me = user.id;
    let mut closing = state.chat.closing.subscribe();
    let closing = Box::pin(async move {
        let _ = closing.wait_for(|closed| *closed).await;
    });
    let stream = BroadcastStream::new(state.chat.events.subscribe())
        .filter_map(move |event| async move {
            // A lagging stream skips what it missed; the page reloads the thread on focus.
            let event = event.ok()?;
            if !everyone && event.owner != me {
                return None;
            }
            Event::default()
                .event("message")
                .json_data(&event.message)
                .ok()
                .map(Ok::<_, Infallible>)
        })
        .take_until(closing);
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Sse::new(stream).keep_alive(KeepAlive::default()),
    ))
}

fn thread_id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::NotFound("no such conversation".into()))
}

pub async fn operator_chats(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Vec<ChatThreadSummary>>, ApiError> {
    operator_only(user.role)?;
    Ok(Json(state.db.chat_threads(200).await?))
}

pub async fn operator_thread(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<Json<Vec<ChatMessage>>, ApiError> {
    operator_only(user.role)?;
    let id = thread_id(&id)?;
    if state.db.chat_thread_owner(id).await?.is_none() {
        return Err(ApiError::NotFound("no such conversation".into()));
    }
    state
        .db
        .journal(Some(user.id), "chat", &format!("chat:{id}"), "read", None)
        .await?;
    Ok(Json(state.db.chat_messages(id).await?))
}

pub async fn operator_answer(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
    ApiJson(post): ApiJson<ChatPost>,
) -> Result<(StatusCode, Json<ChatMessage>), ApiError> {
    operator_only(user.role)?;
    let id = thread_id(&id)?;
    let body = chat_body(&post)?;
    let Some(owner) = state.db.chat_thread_owner(id).await? else {
        return Err(ApiError::NotFound("no such conversation".into()));
    };
    let message = state
        .db
        .post_chat_message(owner, user.id, true, &body)
        .await?;
    state.chat.announce(owner, &message);
    Ok((StatusCode::CREATED, Json(message)))
}
