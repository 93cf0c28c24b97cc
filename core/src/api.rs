//! Request and response types of the thin API (`/api/v1`), shared by the server and the
//! cabinet. Requests refuse unknown fields; money travels as decimal strings.

use crate::billing::{Explanation, Section};
use crate::money::Money;
use crate::period::Period;
use crate::tariff::Unit;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Consumer,
    Provider,
    Operator,
    Auditor,
    Authority,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Consumer => "consumer",
            Role::Provider => "provider",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
            Role::Authority => "authority",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "consumer" => Role::Consumer,
            "provider" => Role::Provider,
            "operator" => Role::Operator,
            "auditor" => Role::Auditor,
            "authority" => Role::Authority,
            _ => return None,
        })
    }
}

/// Sign in with an IIN, a phone number (+7…) or a staff login, and a password.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub login: String,
    pub password: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: i64,
    pub role: Role,
    pub display_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub number: String,
    pub address: String,
    pub area_m2: Decimal,
    pub residents: u32,
    pub holder_name: String,
    pub current_upd: Option<UpdSummary>,
}

/// Link an account to oneself: its number and the total of its last UPD prove that the
/// person holds the paper document.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkAccountRequest {
    pub account_number: String,
    pub last_upd_total: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdSummary {
    pub number: String,
    pub period: Period,
    pub version: u32,
    pub issued_at: String,
    #[serde(with = "ymd")]
    pub due_date: NaiveDate,
    pub total_due: Money,
    pub to_pay: Money,
}

/// A unified payment document as the consumer reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdView {
    pub number: String,
    pub account_number: String,
    pub address: String,
    pub area_m2: Decimal,
    pub residents: u32,
    pub period: Period,
    pub version: u32,
    /// Why this version was issued, when it corrects an earlier one.
    pub reason: Option<String>,
    pub issued_at: String,
    #[serde(with = "ymd")]
    pub due_date: NaiveDate,
    /// Utility services first, then additional services (T4).
    pub sections: Vec<SectionView>,
    pub total_charged: Money,
    pub total_due: Money,
    pub to_pay: Money,
    /// What is still to pay now, after the payments received since the UPD was issued.
    pub remaining: Money,
    pub versions: Vec<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionView {
    pub section: Section,
    pub title: String,
    pub providers: Vec<ProviderGroup>,
    pub total_due: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderGroup {
    pub provider_id: i64,
    pub name: String,
    pub bin: String,
    pub lines: Vec<LineView>,
    pub total_due: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineView {
    pub line_no: u32,
    pub service_code: String,
    pub service_name: String,
    pub unit: Unit,
    pub quantity: Decimal,
    pub opening: Money,
    pub charge: Money,
    pub recalculation: Money,
    pub paid: Money,
    pub due: Money,
    /// What is still due on the line now: `due` less the payments since the UPD was issued.
    pub remaining: Money,
    /// The charge in words, in the requested language.
    pub formula: String,
    pub explanation: Explanation,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterView {
    pub id: i64,
    pub service_code: String,
    pub service_name: String,
    pub unit: Unit,
    pub serial: String,
    pub last_value: Decimal,
    pub last_period: Option<Period>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadingRequest {
    pub meter_id: i64,
    /// The value on the meter, a decimal string ("127.75").
    pub value: Decimal,
    /// The billing period; the current month when absent.
    #[serde(default)]
    pub period: Option<Period>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadingAccepted {
    pub meter_id: i64,
    pub period: Period,
    pub previous: Decimal,
    pub value: Decimal,
    pub consumption: Decimal,
    /// True when the consumption is beyond the configured factor of the usual one: the
    /// reading is kept and an operator reviews it.
    pub flagged_for_review: bool,
}

/// One field-level error inside a problem document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// RFC 9457 problem details (`application/problem+json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

// Payments (issue "Payments through banks").

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    pub upd_number: String,
    /// The bank's code (see GET /api/v1/banks).
    pub bank: String,
    /// Pay only these lines (their `line_no`); all lines when absent.
    #[serde(default)]
    pub lines: Option<Vec<u32>>,
    /// The amount; what is due on the chosen (or all) lines when absent.
    #[serde(default)]
    pub amount: Option<Money>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PaymentCreated {
    pub id: String,
    pub status: String,
    pub amount: Money,
    pub bank: String,
    pub redirect_url: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AllocationView {
    pub service_code: String,
    pub provider_bin: String,
    pub amount: Money,
    pub advance: Money,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PaymentView {
    pub id: String,
    pub status: String,
    pub amount: Money,
    pub bank: String,
    pub upd_number: String,
    pub allocations: Vec<AllocationView>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BankView {
    pub code: String,
    pub name: String,
}

// Applications and complaints (D13).

/// An application or complaint with its legal deadline (15 working days, once extended by at
/// most 5 with a reason).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    pub number: String,
    pub kind: String,
    pub channel: String,
    pub subject: String,
    pub body: String,
    pub account_number: Option<String>,
    #[serde(with = "ymd")]
    pub registered_on: NaiveDate,
    #[serde(with = "ymd")]
    pub deadline: NaiveDate,
    #[serde(with = "ymd::option", default)]
    pub extended_deadline: Option<NaiveDate>,
    pub extension_reason: Option<String>,
    pub status: String,
    pub answer: Option<String>,
    #[serde(with = "ymd::option", default)]
    pub answered_on: Option<NaiveDate>,
    /// The deadline in force: the extended one if there is one.
    #[serde(with = "ymd")]
    pub due: NaiveDate,
    pub overdue: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintRequest {
    /// `complaint` or `application`.
    pub kind: String,
    pub subject: String,
    pub body: String,
    /// The account it concerns, if any (one of the applicant's own).
    #[serde(default)]
    pub account_number: Option<String>,
}

// History (the cabinet's last 12 months).

/// What was charged for one service in one period (charge plus recalculation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAmount {
    pub service_code: String,
    pub service_name: String,
    pub amount: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPeriod {
    pub period: Period,
    pub upd_number: String,
    pub total_charged: Money,
    pub to_pay: Money,
    pub services: Vec<ServiceAmount>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSummary {
    pub id: String,
    pub created_at: String,
    pub amount: Money,
    pub bank: String,
    pub status: String,
    pub upd_number: String,
}

/// The last 12 UPDs (oldest first) and the last payments (newest first) of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub account_number: String,
    pub periods: Vec<HistoryPeriod>,
    pub payments: Vec<PaymentSummary>,
}

/// An operator extends a complaint's deadline once, by 1–5 working days, with a reason the
/// applicant is told (D13).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintExtension {
    pub days: u32,
    pub reason: String,
}

/// An operator's answer to a complaint or application.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintAnswer {
    pub answer: String,
}

/// A notice to the signed-in user (an extended deadline and its reason, an answer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub at: String,
    pub subject: String,
    pub body: String,
}

// The discrepancy journal (D8, D9).

/// A discrepancy as the journal keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discrepancy {
    pub id: i64,
    /// check, complaint, audit, bank_reconciliation or operator.
    pub source: String,
    #[serde(with = "ymd")]
    pub detected_on: NaiveDate,
    #[serde(with = "ymd")]
    pub registered_on: NaiveDate,
    #[serde(with = "ymd")]
    pub registration_deadline: NaiveDate,
    /// Registered later than 3 working days after detection (D8).
    pub late: bool,
    pub description: String,
    pub justification: String,
    pub responsible: String,
    /// registered, notified, correcting, corrected or closed.
    pub status: String,
    pub correction: Option<String>,
}

impl Discrepancy {
    /// Only a corrected discrepancy, or one that needs no correction, can be closed.
    pub fn can_close(&self) -> bool {
        matches!(self.status.as_str(), "corrected" | "notified")
    }
}

/// An operator closes a discrepancy with a note of what was done.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscrepancyClose {
    pub note: String,
}

// Consultation (D12): the cabinet chat.

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub id: i64,
    pub thread_id: i64,
    /// True when an operator wrote it.
    pub from_operator: bool,
    /// The operator's or the consumer's display name.
    pub author: String,
    pub body: String,
    pub at: String,
}

/// A consumer's conversation and whether someone is there to answer now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatView {
    pub thread_id: Option<i64>,
    pub messages: Vec<ChatMessage>,
    /// Operators are at work now (the published hours, Almaty time).
    pub open_now: bool,
    /// When the next working period starts (Almaty time, `YYYY-MM-DDTHH:MM`), if closed.
    pub next_open: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatPost {
    pub body: String,
}

/// One conversation in the operators' list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatThreadSummary {
    pub thread_id: i64,
    pub consumer: String,
    pub last_message: String,
    pub last_at: String,
    /// The last word is the consumer's: an answer is owed.
    pub waiting: bool,
}

/// Dates as `YYYY-MM-DD`, read without chrono's general parser: the cabinet is compiled to
/// wasm for phones, and that parser would be most of chrono's share of it.
mod ymd {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn parse(s: &str) -> Option<NaiveDate> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            s.get(r)?.bytes().try_fold(0u32, |n, c| {
                c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
            })
        };
        NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)
    }

    pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse(&text).ok_or_else(|| D::Error::custom(format!("not a date YYYY-MM-DD: {text:?}")))
    }

    pub mod option {
        use chrono::NaiveDate;
        use serde::{Deserialize, Deserializer, Serializer, de::Error};

        pub fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => s.collect_str(d),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
            match <Option<std::borrow::Cow<'de, str>>>::deserialize(d)? {
                None => Ok(None),
                Some(text) => super::parse(&text)
                    .map(Some)
                    .ok_or_else(|| D::Error::custom(format!("not a date YYYY-MM-DD: {text:?}"))),
            }
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn reads_exactly_what_it_writes_and_refuses_the_rest() {
            let d = chrono::NaiveDate::from_ymd_opt(2027, 3, 22).unwrap();
            assert_eq!(super::parse(&d.to_string()), Some(d));
            for bad in [
                "2027-3-22",
                "2027-02-30",
                "2027-13-01",
                "20270322xx",
                "2027-0a-01",
                "",
            ] {
                assert_eq!(super::parse(bad), None, "{bad}");
            }
        }
    }
}
