//! A SANDBOX bank: a real HTTP service that behaves like a partner bank towards the USC —
//! a hosted payment page, signed callbacks (retried with backoff until acknowledged, and on
//! purpose sometimes sent twice or out of order), payments at the bank's own cash desk that
//! only the daily registry reports, reversals, and acceptance of pain.001 payout batches.
//! No money moves: it exists so that the whole flow runs locally and in tests. Every page
//! it serves says so.

use crate::banks::{self, Callback, CallbackStatus, CreatePayment, CreatedPayment, PayoutAck};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use esep_core::Money;
use serde::Deserialize;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Test cards (the sandbox's documented behaviour).
pub const CARD_SUCCESS: &str = "4242424242424242";
pub const CARD_DECLINE: &str = "4000000000000002";
pub const CARD_3DS: &str = "4000000000003220";
pub const CODE_3DS: &str = "123456";

#[derive(Clone, Debug)]
struct SandboxPayment {
    payment_id: Option<String>,
    upd_number: String,
    amount: Money,
    return_url: String,
    callback_url: String,
    channel: &'static str,
    /// created, awaiting_3ds, paid, declined, reversed
    status: &'static str,
    paid_at: Option<String>,
    reversed_at: Option<String>,
}

struct Delivery {
    due: Instant,
    attempt: u32,
    url: String,
    body: Vec<u8>,
}

pub struct Sandbox {
    pub name: String,
    secret: String,
    chaos: bool,
    rng: Mutex<u64>,
    payments: Mutex<BTreeMap<String, SandboxPayment>>,
    outbox: Mutex<VecDeque<Delivery>>,
    /// Deliveries taken from the outbox and not yet answered.
    in_flight: std::sync::atomic::AtomicUsize,
    /// Executed payout batches by MsgId: (transfers, control sum, times submitted). A bank
    /// executes a MsgId once; a resubmission is acknowledged without moving money again.
    payouts: Mutex<BTreeMap<String, (usize, Money, u32)>>,
    /// How long the bank takes to answer a payout batch (a slow bank, for fault tests).
    payout_delay_ms: std::sync::atomic::AtomicU64,
    seq: Mutex<u64>,
}

impl Sandbox {
    pub fn new(name: &str, secret: &str, chaos: bool, seed: u64) -> Arc<Sandbox> {
        Arc::new(Sandbox {
            name: name.to_string(),
            secret: secret.to_string(),
            chaos,
            rng: Mutex::new(seed | 1),
            payments: Mutex::new(BTreeMap::new()),
            outbox: Mutex::new(VecDeque::new()),
            in_flight: Default::default(),
            payouts: Mutex::new(BTreeMap::new()),
            payout_delay_ms: Default::default(),
            seq: Mutex::new(0),
        })
    }

    /// Answers payout batches only after `ms` milliseconds (the batch is executed on receipt).
    pub fn set_payout_delay(&self, ms: u64) {
        self.payout_delay_ms
            .store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    fn random(&self, n: u64) -> u64 {
        let mut s = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s % n.max(1)
    }

    fn next_ref(&self) -> String {
        let mut s = self.seq.lock().unwrap_or_else(|e| e.into_inner());
        *s += 1;
        format!("{}-{:06}", self.name.to_uppercase(), *s)
    }

    /// Queues a signed callback; in chaos mode it may be delayed (so callbacks overtake
    /// each other) and sent twice.
    fn notify(&self, bank_ref: &str, p: &SandboxPayment, status: CallbackStatus, at: &str) {
        let event = Callback {
            event_id: format!("{bank_ref}-{status:?}").to_lowercase(),
            bank_ref: bank_ref.to_string(),
            payment_id: p.payment_id.clone(),
            status,
            amount: p.amount,
            at: at.to_string(),
        };
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let copies = if self.chaos && self.random(3) == 0 {
            2
        } else {
            1
        };
        let mut outbox = self.outbox.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..copies {
            let delay = if self.chaos { self.random(300) } else { 0 };
            outbox.push_back(Delivery {
                due: Instant::now() + Duration::from_millis(delay),
                attempt: 0,
                url: p.callback_url.clone(),
                body: body.clone(),
            });
        }
    }

    fn now() -> String {
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

/// How many callbacks a sandbox bank (with chaos) has on the wire at once, as a bank's
/// sender would.
const DELIVERY_WIDTH: usize = 8;

/// Delivers queued callbacks until acknowledged, with exponential backoff (capped at 5 s),
/// up to [`DELIVERY_WIDTH`] at a time.
pub async fn deliver_callbacks(sandbox: Arc<Sandbox>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_default();
    // Without chaos, one at a time: every callback once and in order.
    let width = if sandbox.chaos { DELIVERY_WIDTH } else { 1 };
    let width = Arc::new(tokio::sync::Semaphore::new(width));
    loop {
        let due: Vec<Delivery> = {
            let mut outbox = sandbox.outbox.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let (ready, waiting): (VecDeque<Delivery>, VecDeque<Delivery>) =
                outbox.drain(..).partition(|d| d.due <= now);
            *outbox = waiting;
            // Counted as pending until each is delivered (or refused), below.
            sandbox
                .in_flight
                .fetch_add(ready.len(), std::sync::atomic::Ordering::SeqCst);
            ready.into()
        };
        if due.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        for d in due {
            let Ok(permit) = width.clone().acquire_owned().await else {
                return;
            };
            let (sandbox, client) = (sandbox.clone(), client.clone());
            tokio::spawn(async move {
                deliver(&sandbox, &client, d).await;
                sandbox
                    .in_flight
                    .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                drop(permit);
            });
        }
    }
}

/// One delivery attempt; what is not acknowledged goes back to the outbox with a backoff.
async fn deliver(sandbox: &Sandbox, client: &reqwest::Client, mut d: Delivery) {
    let ts = banks::unix_now();
    let sent = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header(banks::TIMESTAMP_HEADER, ts.to_string())
        .header(
            banks::SIGNATURE_HEADER,
            banks::sign(&sandbox.secret, ts, &d.body),
        )
        .body(d.body.clone())
        .send()
        .await;
    let acknowledged = matches!(&sent, Ok(r) if r.status().is_success());
    // 4xx other than 409 (out of order) and 429 means the USC refused the message
    // for good; a real bank would raise it with its operators.
    let refused = matches!(&sent, Ok(r) if r.status().is_client_error() && r.status() != 409 && r.status() != 429);
    if !acknowledged && !refused {
        d.attempt += 1;
        let backoff = Duration::from_millis((50u64 << d.attempt.min(7)).min(5_000));
        d.due = Instant::now() + backoff;
        sandbox
            .outbox
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(d);
    }
}

pub fn router(sandbox: Arc<Sandbox>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/api/payments", post(create_payment))
        .route("/pay/{bank_ref}", get(pay_page).post(pay_submit))
        .route("/pay/{bank_ref}/confirm", post(confirm_3ds))
        .route("/api/cash-desk", post(cash_desk))
        .route("/api/payments/{bank_ref}/reverse", post(reverse))
        .route("/api/registry", get(registry))
        .route("/api/payouts", post(payouts).get(executed_payouts))
        .route("/api/pending-callbacks", get(pending))
        .with_state(sandbox)
}

/// The refusal of a message whose signature does not verify.
fn verify(s: &Sandbox, headers: &HeaderMap, body: &[u8]) -> Option<Response> {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    banks::verify(
        &s.secret,
        h(banks::TIMESTAMP_HEADER),
        h(banks::SIGNATURE_HEADER),
        body,
        banks::unix_now(),
    )
    .err()
    .map(|e| (StatusCode::UNAUTHORIZED, e.to_string()).into_response())
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:0 auto;padding:1rem;line-height:1.5;color:#111}\
.sandbox{background:#fff3b0;border:2px solid #8a6d00;padding:.5rem .75rem;font-weight:700}\
label{display:block;margin-top:1rem;font-weight:600}input{font-size:1.125rem;padding:.6rem;width:100%;box-sizing:border-box;border:2px solid #333;border-radius:4px}\
button{margin-top:1.25rem;width:100%;font-size:1.125rem;padding:.8rem;background:#0b5;color:#000;border:2px solid #063;border-radius:4px;font-weight:700}\
.error{color:#a00;font-weight:700}";

fn page(title: &str, bank: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"kk\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — SANDBOX {bank}</title><style>{STYLE}</style></head><body><main>\
         <p class=\"sandbox\" role=\"note\">SANDBOX · Құмсалғыш банк · Тестовый банк: ақша аударылмайды · деньги не списываются · no real money moves</p>\
         <h1>{title}</h1>{body}</main></body></html>"
    ))
}

async fn home(State(s): State<Arc<Sandbox>>) -> Html<String> {
    page(
        &format!("Sandbox bank {}", s.name),
        &s.name,
        &format!(
            "<p>Test cards: {CARD_SUCCESS} succeeds, {CARD_DECLINE} is declined, {CARD_3DS} asks for the code {CODE_3DS}.</p>"
        ),
    )
}

async fn create_payment(
    State(s): State<Arc<Sandbox>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = verify(&s, &headers, &body) {
        return r;
    }
    let req: CreatePayment = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    if !req.amount.is_positive() {
        return (StatusCode::UNPROCESSABLE_ENTITY, "amount must be positive").into_response();
    }
    let bank_ref = s.next_ref();
    s.payments.lock().unwrap_or_else(|e| e.into_inner()).insert(
        bank_ref.clone(),
        SandboxPayment {
            payment_id: Some(req.payment_id),
            upd_number: req.upd_number,
            amount: req.amount,
            return_url: req.return_url,
            callback_url: req.callback_url,
            channel: "card",
            status: "created",
            paid_at: None,
            reversed_at: None,
        },
    );
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    axum::Json(CreatedPayment {
        redirect_url: format!("http://{host}/pay/{bank_ref}"),
        bank_ref,
    })
    .into_response()
}

fn card_form(bank_ref: &str, p: &SandboxPayment, error: Option<&str>) -> String {
    let error = error.map_or(String::new(), |e| {
        format!("<p class=\"error\" role=\"alert\" id=\"card-error\">{e}</p>")
    });
    format!(
        "<p>Төлем құжаты / Документ / Document: <strong>{upd}</strong></p>{error}\
         <form method=\"post\" action=\"/pay/{bank_ref}\">\
         <label for=\"card\">Карта нөмірі · Номер карты · Card number</label>\
         <input id=\"card\" name=\"card\" inputmode=\"numeric\" autocomplete=\"cc-number\" required>\
         <label for=\"expiry\">Мерзімі · Срок · Expiry (MM/YY)</label>\
         <input id=\"expiry\" name=\"expiry\" inputmode=\"numeric\" autocomplete=\"cc-exp\" placeholder=\"MM/YY\" required>\
         <button type=\"submit\">Төлеу · Оплатить · Pay {amount}</button></form>",
        upd = p.upd_number,
        amount = p.amount.display_kzt(),
    )
}

async fn pay_page(State(s): State<Arc<Sandbox>>, Path(bank_ref): Path<String>) -> Response {
    let payments = s.payments.lock().unwrap_or_else(|e| e.into_inner());
    match payments.get(&bank_ref) {
        Some(p) if p.status == "created" => page(
            "Төлем · Оплата · Payment",
            &s.name,
            &card_form(&bank_ref, p, None),
        )
        .into_response(),
        Some(p) => page(
            "Төлем · Оплата · Payment",
            &s.name,
            &format!(
                "<p>Status: {}</p><p><a href=\"{}\">Back</a></p>",
                p.status, p.return_url
            ),
        )
        .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            page("Not found", &s.name, "<p>No such payment.</p>"),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
struct CardForm {
    card: String,
    expiry: String,
}

fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else {
            return false;
        };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    digits.len() >= 12 && sum % 10 == 0
}

async fn pay_submit(
    State(s): State<Arc<Sandbox>>,
    Path(bank_ref): Path<String>,
    axum::Form(form): axum::Form<CardForm>,
) -> Response {
    let card: String = form.card.chars().filter(|c| !c.is_whitespace()).collect();
    let mut payments = s.payments.lock().unwrap_or_else(|e| e.into_inner());
    let Some(p) = payments.get_mut(&bank_ref) else {
        return (StatusCode::NOT_FOUND, "no such payment").into_response();
    };
    if p.status != "created" {
        return Redirect::to(&p.return_url).into_response();
    }
    let expiry_ok = form.expiry.len() == 5 && form.expiry.as_bytes()[2] == b'/';
    if !luhn(&card) || !expiry_ok {
        let msg = "Карта нөмірі немесе мерзімі қате · Неверный номер карты или срок · The card number or expiry is not valid";
        return page(
            "Төлем · Оплата · Payment",
            &s.name,
            &card_form(&bank_ref, p, Some(msg)),
        )
        .into_response();
    }
    match card.as_str() {
        CARD_DECLINE => {
            p.status = "declined";
            let snapshot = p.clone();
            s.notify(
                &bank_ref,
                &snapshot,
                CallbackStatus::Declined,
                &Sandbox::now(),
            );
            Redirect::to(&snapshot.return_url).into_response()
        }
        CARD_3DS => {
            p.status = "awaiting_3ds";
            page(
                "3-D Secure",
                &s.name,
                &format!(
                    "<form method=\"post\" action=\"/pay/{bank_ref}/confirm\"><label for=\"code\">SMS коды · Код из SMS · Code from SMS ({CODE_3DS})</label>\
                     <input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required>\
                     <button type=\"submit\">Растау · Подтвердить · Confirm</button></form>"
                ),
            )
            .into_response()
        }
        _ => {
            let at = Sandbox::now();
            p.status = "paid";
            p.paid_at = Some(at.clone());
            let snapshot = p.clone();
            s.notify(&bank_ref, &snapshot, CallbackStatus::Succeeded, &at);
            Redirect::to(&snapshot.return_url).into_response()
        }
    }
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
}

async fn confirm_3ds(
    State(s): State<Arc<Sandbox>>,
    Path(bank_ref): Path<String>,
    axum::Form(form): axum::Form<CodeForm>,
) -> Response {
    let mut payments = s.payments.lock().unwrap_or_else(|e| e.into_inner());
    let Some(p) = payments
        .get_mut(&bank_ref)
        .filter(|p| p.status == "awaiting_3ds")
    else {
        return (StatusCode::NOT_FOUND, "no payment awaits confirmation").into_response();
    };
    let at = Sandbox::now();
    let status = if form.code.trim() == CODE_3DS {
        p.status = "paid";
        p.paid_at = Some(at.clone());
        CallbackStatus::Succeeded
    } else {
        p.status = "declined";
        CallbackStatus::Declined
    };
    let snapshot = p.clone();
    s.notify(&bank_ref, &snapshot, status, &at);
    Redirect::to(&snapshot.return_url).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CashDesk {
    upd_number: String,
    amount: Money,
}

/// A payment at the bank's own cash desk or terminal: known to the USC only through the
/// daily registry.
async fn cash_desk(
    State(s): State<Arc<Sandbox>>,
    axum::Json(req): axum::Json<CashDesk>,
) -> Response {
    if !req.amount.is_positive() {
        return (StatusCode::UNPROCESSABLE_ENTITY, "amount must be positive").into_response();
    }
    let bank_ref = s.next_ref();
    s.payments.lock().unwrap_or_else(|e| e.into_inner()).insert(
        bank_ref.clone(),
        SandboxPayment {
            payment_id: None,
            upd_number: req.upd_number,
            amount: req.amount,
            return_url: String::new(),
            callback_url: String::new(),
            channel: "cash",
            status: "paid",
            paid_at: Some(Sandbox::now()),
            reversed_at: None,
        },
    );
    axum::Json(serde_json::json!({"bank_ref": bank_ref})).into_response()
}

async fn reverse(State(s): State<Arc<Sandbox>>, Path(bank_ref): Path<String>) -> Response {
    let mut payments = s.payments.lock().unwrap_or_else(|e| e.into_inner());
    let Some(p) = payments.get_mut(&bank_ref).filter(|p| p.status == "paid") else {
        return (StatusCode::NOT_FOUND, "no paid payment with this reference").into_response();
    };
    let at = Sandbox::now();
    p.status = "reversed";
    p.reversed_at = Some(at.clone());
    let snapshot = p.clone();
    if snapshot.channel == "card" {
        s.notify(&bank_ref, &snapshot, CallbackStatus::Reversed, &at);
    }
    axum::Json(serde_json::json!({"bank_ref": bank_ref, "status": "reversed"})).into_response()
}

#[derive(Deserialize)]
struct RegistryQuery {
    date: String,
}

/// The daily registry (docs/bank-protocol.md): every payment and reversal of the day.
async fn registry(
    State(s): State<Arc<Sandbox>>,
    headers: HeaderMap,
    Query(q): Query<RegistryQuery>,
) -> Response {
    if let Some(r) = verify(&s, &headers, b"") {
        return r;
    }
    let mut out = format!(
        "# esep-registry v1; bank {}; date {}\nbank_ref,channel,upd_number,payment_id,amount,at,event\n",
        s.name, q.date
    );
    let payments = s.payments.lock().unwrap_or_else(|e| e.into_inner());
    for (bank_ref, p) in payments.iter() {
        let id = p.payment_id.clone().unwrap_or_default();
        if let Some(at) = p.paid_at.as_ref().filter(|at| at.starts_with(&q.date)) {
            out.push_str(&format!(
                "{bank_ref},{},{},{id},{},{at},paid\n",
                p.channel, p.upd_number, p.amount
            ));
        }
        if let Some(at) = p.reversed_at.as_ref().filter(|at| at.starts_with(&q.date)) {
            out.push_str(&format!(
                "{bank_ref},{},{},{id},{},{at},reversed\n",
                p.channel, p.upd_number, p.amount
            ));
        }
    }
    ([("content-type", "text/csv; charset=utf-8")], out).into_response()
}

/// Accepts a pain.001 batch whose control sum and count are right and executes it once: a
/// MsgId seen before is acknowledged again and moves nothing (as banks refuse duplicate
/// message ids).
async fn payouts(State(s): State<Arc<Sandbox>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = verify(&s, &headers, &body) {
        return r;
    }
    let xml = String::from_utf8_lossy(&body).to_string();
    match crate::pain001::summary(&xml) {
        Ok((msg_id, transfers, sum)) => {
            s.payouts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(msg_id.clone())
                .or_insert((transfers, sum, 0))
                .2 += 1;
            let delay = s.payout_delay_ms.load(std::sync::atomic::Ordering::Relaxed);
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            axum::Json(PayoutAck {
                status: "accepted".into(),
                msg_id,
            })
            .into_response()
        }
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, e).into_response(),
    }
}

/// The payout batches this bank executed: MsgId, transfers, control sum, times submitted.
async fn executed_payouts(State(s): State<Arc<Sandbox>>) -> Response {
    let batches: Vec<serde_json::Value> = s
        .payouts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(id, (n, sum, times))| {
            serde_json::json!({"msg_id": id, "transfers": n, "ctrl_sum": sum, "submitted": times})
        })
        .collect();
    axum::Json(batches).into_response()
}

async fn pending(State(s): State<Arc<Sandbox>>) -> Response {
    // Queued, and taken from the queue but not yet delivered.
    let n = s.outbox.lock().unwrap_or_else(|e| e.into_inner()).len()
        + s.in_flight.load(std::sync::atomic::Ordering::SeqCst);
    axum::Json(serde_json::json!({"pending_callbacks": n})).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn luhn_accepts_the_test_cards_and_refuses_typos() {
        for c in [super::CARD_SUCCESS, super::CARD_DECLINE, super::CARD_3DS] {
            assert!(super::luhn(c), "{c}");
        }
        assert!(!super::luhn("4242424242424241"));
        assert!(!super::luhn("42x2"));
    }
}
