//! Financial organisations (T3): the banks and payment organisations the USC has contracts
//! with (D11: at least two). Each has a transit account (T5) and a shared secret; every
//! message either way is signed with HMAC-SHA256 over `timestamp.body` and refused when the
//! timestamp is older than five minutes. The protocol is in docs/bank-protocol.md; the
//! sandbox banks (`esep sandbox-bank`) speak it exactly as a bank's adapter would.

use crate::store::payments::BankRow;
use anyhow::{Context, Result, bail};
use esep_core::Money;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub const TIMESTAMP_HEADER: &str = "x-esep-timestamp";
pub const SIGNATURE_HEADER: &str = "x-esep-signature";
/// A signed message older (or newer) than this is refused.
pub const MAX_AGE_SECONDS: i64 = 300;

pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {0} header is missing")]
    Missing(&'static str),
    #[error("the timestamp is not a number of seconds")]
    BadTimestamp,
    #[error("the timestamp is {0} s away from now; at most {MAX_AGE_SECONDS} s is accepted")]
    Stale(i64),
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Verifies a signed message in constant time.
pub fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let ts = timestamp.ok_or(SignatureError::Missing(TIMESTAMP_HEADER))?;
    let sig = signature.ok_or(SignatureError::Missing(SIGNATURE_HEADER))?;
    let ts: i64 = ts
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    if (now - ts).abs() > MAX_AGE_SECONDS {
        return Err(SignatureError::Stale(now - ts));
    }
    let expected = sig
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Mismatch)?;
    let expected = hex::decode(expected).map_err(|_| SignatureError::Mismatch)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| SignatureError::Mismatch)?;
    mac.update(ts.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// Reads a verified callback body: the JSON of a [`Callback`], its time in RFC 3339, returned
/// normalised to UTC (`YYYY-MM-DDTHH:MM:SSZ`), the form payouts compare with their cut-off.
pub fn parse_callback(body: &[u8]) -> Result<Callback> {
    let mut cb: Callback =
        serde_json::from_slice(body).context("the callback body is not a valid callback")?;
    cb.at = utc_time(&cb.at).map_err(|_| {
        anyhow::anyhow!(
            "the callback's time 'at' is not an RFC 3339 time, e.g. 2026-11-30T14:05:00Z"
        )
    })?;
    Ok(cb)
}

/// An RFC 3339 time from a bank, in the ledger's form: UTC, whole seconds, `Z`.
pub fn utc_time(text: &str) -> Result<String, chrono::ParseError> {
    let t = chrono::DateTime::parse_from_rfc3339(text.trim())?;
    Ok(t.with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string())
}

pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The USC asks the bank to take a payment for a UPD.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePayment {
    pub payment_id: String,
    pub upd_number: String,
    pub amount: Money,
    /// Where the bank sends the payer back.
    pub return_url: String,
    /// Where the bank reports the outcome.
    pub callback_url: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreatedPayment {
    pub bank_ref: String,
    pub redirect_url: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackStatus {
    Succeeded,
    Declined,
    Reversed,
}

/// The bank reports a payment's outcome.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Callback {
    pub event_id: String,
    pub bank_ref: String,
    pub payment_id: Option<String>,
    pub status: CallbackStatus,
    pub amount: Money,
    /// When the bank took (or reversed) the payment, RFC 3339.
    pub at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PayoutAck {
    pub status: String,
    pub msg_id: String,
}

/// A bank or payment organisation, as the USC uses it.
pub trait FinancialOrganisation {
    fn code(&self) -> &str;
    fn create_payment(
        &self,
        req: &CreatePayment,
    ) -> impl Future<Output = Result<CreatedPayment>> + Send;
    fn verify_callback(
        &self,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Callback>;
    fn fetch_registry(
        &self,
        date: chrono::NaiveDate,
    ) -> impl Future<Output = Result<String>> + Send;
    fn submit_payouts(&self, pain001: &str) -> impl Future<Output = Result<PayoutAck>> + Send;
}

/// A bank reached over HTTP with the Esep bank protocol.
pub struct HttpBank {
    pub row: BankRow,
    client: reqwest::Client,
}

/// The HTTP client for talking to banks: build it once and share it (it pools connections).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}

impl HttpBank {
    pub fn new(row: BankRow, client: reqwest::Client) -> HttpBank {
        HttpBank { row, client }
    }

    fn signed(&self, req: reqwest::RequestBuilder, body: &[u8]) -> reqwest::RequestBuilder {
        let ts = unix_now();
        req.header(TIMESTAMP_HEADER, ts.to_string())
            .header(SIGNATURE_HEADER, sign(&self.row.secret, ts, body))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.row.base_url.trim_end_matches('/'))
    }
}

impl FinancialOrganisation for HttpBank {
    fn code(&self) -> &str {
        &self.row.code
    }

    async fn create_payment(&self, req: &CreatePayment) -> Result<CreatedPayment> {
        let body = serde_json::to_vec(req)?;
        let res = self
            .signed(self.client.post(self.url("/api/payments")), &body)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .with_context(|| format!("reaching bank {}", self.row.code))?;
        if !res.status().is_success() {
            bail!(
                "bank {} refused the payment: {} {}",
                self.row.code,
                res.status(),
                res.text().await.unwrap_or_default()
            );
        }
        Ok(res.json().await?)
    }

    fn verify_callback(
        &self,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Callback> {
        verify(&self.row.secret, timestamp, signature, body, unix_now())?;
        parse_callback(body)
    }

    async fn fetch_registry(&self, date: chrono::NaiveDate) -> Result<String> {
        let res = self
            .signed(
                self.client
                    .get(self.url(&format!("/api/registry?date={date}"))),
                b"",
            )
            .send()
            .await
            .with_context(|| format!("reaching bank {}", self.row.code))?;
        if !res.status().is_success() {
            bail!(
                "bank {} refused the registry request: {}",
                self.row.code,
                res.status()
            );
        }
        Ok(res.text().await?)
    }

    async fn submit_payouts(&self, pain001: &str) -> Result<PayoutAck> {
        let res = self
            .signed(
                self.client.post(self.url("/api/payouts")),
                pain001.as_bytes(),
            )
            .header("content-type", "application/xml")
            .body(pain001.to_string())
            .send()
            .await
            .with_context(|| format!("reaching bank {}", self.row.code))?;
        if !res.status().is_success() {
            bail!(
                "bank {} refused the payout batch: {} {}",
                self.row.code,
                res.status(),
                res.text().await.unwrap_or_default()
            );
        }
        Ok(res.json().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_body_secret_and_time() {
        let body = br#"{"x":1}"#;
        let sig = sign("s3cret", 1_000_000, body);
        assert_eq!(
            verify("s3cret", Some("1000000"), Some(&sig), body, 1_000_100),
            Ok(())
        );
        assert_eq!(
            verify("other", Some("1000000"), Some(&sig), body, 1_000_100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(
                "s3cret",
                Some("1000000"),
                Some(&sig),
                b"{\"x\":2}",
                1_000_100
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("s3cret", Some("1000001"), Some(&sig), body, 1_000_100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("s3cret", Some("1000000"), Some(&sig), body, 1_000_301),
            Err(SignatureError::Stale(301))
        );
        assert_eq!(
            verify("s3cret", None, Some(&sig), body, 1),
            Err(SignatureError::Missing(TIMESTAMP_HEADER))
        );
        assert_eq!(
            verify("s3cret", Some("x"), Some(&sig), body, 1),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(
            verify(
                "s3cret",
                Some("1000000"),
                Some("sha256=zz"),
                body,
                1_000_000
            ),
            Err(SignatureError::Mismatch)
        );
    }
}
