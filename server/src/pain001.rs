//! ISO 20022 `pain.001.001.09` (customer credit transfer initiation): the payout batch the
//! USC sends the bank holding a transit account, one credit transfer per provider. The
//! beneficiary code КБе and the payment purpose code КНП of each provider travel as
//! regulatory reporting details (and КНП as the purpose), since tenge payments carry ЕКНП.

use crate::store::payments::{BankRow, PayoutLine};
use esep_core::Money;

pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";

fn esc(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c if c.is_control() => " ".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// Cuts a text to at most `n` characters (ISO 20022 `MaxNText`).
fn max(s: &str, n: usize) -> String {
    esc(&s.chars().take(n).collect::<String>())
}

pub struct Debtor<'a> {
    pub name: &'a str,
    pub bin: &'a str,
}

fn org_id(bin: &str) -> String {
    format!(
        "<Id><OrgId><Othr><Id>{}</Id><SchmeNm><Prtry>BIN</Prtry></SchmeNm></Othr></OrgId></Id>",
        esc(bin)
    )
}

/// The pain.001 document of a batch.
pub fn document(
    msg_id: &str,
    created_at: &str,
    value_date: &str,
    debtor: &Debtor<'_>,
    bank: &BankRow,
    lines: &[PayoutLine],
) -> String {
    let total: Money = lines.iter().map(|l| l.amount).sum();
    let mut x = String::with_capacity(1024 + lines.len() * 900);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<Document xmlns=\"{NAMESPACE}\">\n<CstmrCdtTrfInitn>\n"
    ));
    x.push_str(&format!(
        "<GrpHdr><MsgId>{}</MsgId><CreDtTm>{}</CreDtTm><NbOfTxs>{}</NbOfTxs><CtrlSum>{}</CtrlSum><InitgPty><Nm>{}</Nm>{}</InitgPty></GrpHdr>\n",
        max(msg_id, 35),
        esc(created_at),
        lines.len(),
        total,
        max(debtor.name, 140),
        org_id(debtor.bin)
    ));
    x.push_str(&format!(
        "<PmtInf><PmtInfId>{}</PmtInfId><PmtMtd>TRF</PmtMtd><NbOfTxs>{}</NbOfTxs><CtrlSum>{}</CtrlSum>\
         <ReqdExctnDt><Dt>{}</Dt></ReqdExctnDt><Dbtr><Nm>{}</Nm>{}</Dbtr>\
         <DbtrAcct><Id><IBAN>{}</IBAN></Id><Ccy>KZT</Ccy></DbtrAcct><DbtrAgt><FinInstnId><BICFI>{}</BICFI></FinInstnId></DbtrAgt>\n",
        max(msg_id, 35),
        lines.len(),
        total,
        esc(value_date),
        max(debtor.name, 140),
        org_id(debtor.bin),
        esc(&bank.transit_iban),
        esc(&bank.bic)
    ));
    for l in lines {
        x.push_str(&format!(
            "<CdtTrfTxInf><PmtId><EndToEndId>{}</EndToEndId></PmtId><Amt><InstdAmt Ccy=\"KZT\">{}</InstdAmt></Amt>\
             <CdtrAgt><FinInstnId><BICFI>{}</BICFI></FinInstnId></CdtrAgt><Cdtr><Nm>{}</Nm>{}</Cdtr>\
             <CdtrAcct><Id><IBAN>{}</IBAN></Id></CdtrAcct><Purp><Prtry>{}</Prtry></Purp>\
             <RgltryRptg><Dtls><Tp>KBE</Tp><Cd>{}</Cd></Dtls><Dtls><Tp>KNP</Tp><Cd>{}</Cd></Dtls></RgltryRptg>\
             <RmtInf><Ustrd>{}</Ustrd></RmtInf></CdtTrfTxInf>\n",
            max(&l.end_to_end_id, 35),
            l.amount,
            esc(&l.bic),
            max(&l.name, 140),
            org_id(&l.bin),
            esc(&l.iban),
            max(&l.knp, 35),
            max(&l.kbe, 10),
            max(&l.knp, 10),
            max(&format!("Utility payments collected {value_date}, KNP {}, KBe {}", l.knp, l.kbe), 140)
        ));
    }
    x.push_str("</PmtInf>\n</CstmrCdtTrfInitn>\n</Document>\n");
    x
}

/// The few facts a receiving bank checks before it accepts a batch: message id, number of
/// transfers and their control sum, which must equal the sum of the amounts.
pub fn summary(xml: &str) -> Result<(String, usize, Money), String> {
    let tag = |name: &str, from: &str| -> Option<String> {
        let open = format!("<{name}>");
        let start = from.find(&open)? + open.len();
        let end = from[start..].find(&format!("</{name}>"))? + start;
        Some(from[start..end].to_string())
    };
    if !xml.contains(NAMESPACE) {
        return Err("not a pain.001.001.09 document".into());
    }
    let msg_id = tag("MsgId", xml).ok_or("no MsgId")?;
    let count: usize = tag("NbOfTxs", xml)
        .and_then(|n| n.parse().ok())
        .ok_or("no NbOfTxs")?;
    let ctrl = tag("CtrlSum", xml).ok_or("no CtrlSum")?;
    let ctrl = Money::parse(&ctrl).map_err(|e| format!("CtrlSum: {e}"))?;
    let mut sum = Money::ZERO;
    let mut seen = 0;
    for part in xml.split("<InstdAmt Ccy=\"KZT\">").skip(1) {
        let amount = part.split('<').next().unwrap_or("");
        sum += Money::parse(amount).map_err(|e| format!("InstdAmt: {e}"))?;
        seen += 1;
    }
    if seen != count {
        return Err(format!(
            "NbOfTxs is {count} but the document has {seen} transfers"
        ));
    }
    if sum != ctrl {
        return Err(format!("CtrlSum is {ctrl} but the transfers sum to {sum}"));
    }
    Ok((msg_id, count, sum))
}
