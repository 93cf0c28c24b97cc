//! The fuzz targets: every parser of outside input, each with the properties it must keep
//! for any bytes at all (issue 7). `fuzz/` runs them under libFuzzer (`cargo xtask fuzz`);
//! `tests/tests/fuzz_corpora.rs` replays the committed corpora in `cargo xtask test`.
//!
//! A target panics when a property breaks; returning is passing. Outside input is whatever a
//! provider's CSV file, a bank's directory, registry or callback, a typed identifier or a
//! page of the site may hold.

use crate::import::{self, Kind};
use esep_core::ids::BankDirectory;
use esep_core::{Bin, Iban, Iin, Money};
use std::path::Path;
use std::sync::OnceLock;

/// A fuzz target: any bytes in; a panic when a property breaks.
pub type Target = fn(&[u8]);

/// Every target by name; the names are the directories of `fuzz/corpus/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("csv_import", csv_import),
    ("bank_directory", bank_directory),
    ("bank_registry", bank_registry),
    ("callback", callback),
    ("ids", ids),
    ("front_matter", front_matter),
];

const KINDS: [Kind; 6] = [
    Kind::Providers,
    Kind::Services,
    Kind::Tariffs,
    Kind::Premises,
    Kind::Readings,
    Kind::Charges,
];

fn banks() -> &'static BankDirectory {
    static BANKS: OnceLock<BankDirectory> = OnceLock::new();
    BANKS.get_or_init(|| {
        BankDirectory::builtin().unwrap_or_else(|e| panic!("the built-in directory: {e}"))
    })
}

/// The six CSV imports (D2, D3). The first byte picks the kind and whether the right header
/// goes first (so that the fuzzer spends its time on rows); the rest is the file.
/// Properties: an accepted file's rows and refused rows together are no more than its data
/// lines; every error names a line of the file and says something; a refused file has errors.
pub fn csv_import(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(body) = std::str::from_utf8(rest) else {
        return;
    };
    let kind = KINDS[usize::from(selector) % KINDS.len()];
    let text = if selector & 0x80 == 0 {
        format!("{}\n{body}", kind.columns().join(","))
    } else {
        body.to_string()
    };
    let physical_lines = text.lines().count().max(1) as u64;
    let check = |errors: &[import::RowError]| {
        for e in errors {
            assert!(!e.message.trim().is_empty(), "an empty error: {e:?}");
            assert!(
                e.line <= physical_lines + 1,
                "error on line {} of a {physical_lines}-line file: {e:?}",
                e.line
            );
        }
    };
    match import::parse(kind, &text, banks()) {
        Ok((rows, errors)) => {
            check(&errors);
            let refused: std::collections::BTreeSet<u64> = errors.iter().map(|e| e.line).collect();
            assert!(
                rows.len() + refused.len() <= physical_lines as usize,
                "{} rows and {} refused lines from {physical_lines} lines",
                rows.len(),
                refused.len()
            );
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "a refused file says why");
            check(&errors);
        }
    }
}

/// The bank directory (`code,bic,name`): what it accepts can be looked up by its code and
/// gives back non-empty fields; what it refuses says why.
pub fn bank_directory(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match BankDirectory::parse(text) {
        Ok(dir) => {
            assert_eq!(dir.iter().count(), dir.len());
            for bank in dir.iter() {
                assert!(!bank.code().is_empty() && !bank.bic().is_empty());
                assert!(!bank.name().is_empty(), "{bank:?}");
                assert_eq!(
                    dir.get(bank.code()).map(|b| b.bic()),
                    Some(bank.bic()),
                    "looked up by its own code"
                );
            }
        }
        Err(e) => assert!(!e.to_string().trim().is_empty()),
    }
}

/// A bank's daily registry, line by line: an accepted line has a positive amount, a bank
/// reference and a UTC time that reads back as itself; a refused one says why.
pub fn bank_registry(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines() {
        match crate::settle::parse_registry_line(line) {
            Ok(None) => {}
            Ok(Some(l)) => {
                assert!(l.amount.is_positive(), "{l:?}");
                assert!(!l.bank_ref.trim().is_empty(), "{l:?}");
                assert_eq!(
                    crate::banks::utc_time(&l.at).as_deref(),
                    Ok(l.at.as_str()),
                    "a normalised time is a fixed point"
                );
                assert!(line.contains(l.upd_number) && line.contains(l.channel));
            }
            Err(msg) => assert!(!msg.trim().is_empty()),
        }
    }
}

/// A bank's signed callback. The bytes are split on `0xff` into secret, timestamp,
/// signature and body. Properties: verification never panics on any headers; the body
/// signed with the secret verifies, and the same signature fails for any other body; a
/// verified body either parses into a callback with a UTC time or is refused.
pub fn callback(data: &[u8]) {
    let mut parts = data.splitn(4, |&b| b == 0xff);
    let secret = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let ts = std::str::from_utf8(parts.next().unwrap_or_default()).ok();
    let sig = std::str::from_utf8(parts.next().unwrap_or_default()).ok();
    let body = parts.next().unwrap_or_default();
    let now = 1_780_000_000;
    let verdict = crate::banks::verify(&secret, ts, sig, body, now);
    if verdict.is_ok() {
        let ts: i64 = ts.unwrap_or_default().trim().parse().unwrap_or_default();
        // Hex digits in either case are the same signature.
        let true_sig = crate::banks::sign(&secret, ts, body);
        assert!(
            sig.is_some_and(|s| s.trim().eq_ignore_ascii_case(&true_sig)),
            "only the true signature verifies: {sig:?}"
        );
    }
    let good = crate::banks::sign(&secret, now, body);
    assert_eq!(
        crate::banks::verify(&secret, Some(&now.to_string()), Some(&good), body, now),
        Ok(())
    );
    let mut tampered = body.to_vec();
    tampered.push(b' ');
    assert!(
        crate::banks::verify(&secret, Some(&now.to_string()), Some(&good), &tampered, now).is_err(),
        "a changed body fails"
    );
    assert!(
        crate::banks::verify(
            &secret,
            Some(&(now - 301).to_string()),
            Some(&good),
            body,
            now
        )
        .is_err(),
        "a stale signature fails"
    );
    if let Ok(cb) = crate::banks::parse_callback(body) {
        assert_eq!(
            crate::banks::utc_time(&cb.at).as_deref(),
            Ok(cb.at.as_str())
        );
        let again = serde_json::to_vec(&cb).unwrap_or_default();
        let back = crate::banks::parse_callback(&again)
            .unwrap_or_else(|e| panic!("a callback we wrote reads back: {e:#}"));
        assert_eq!(back.amount, cb.amount);
        assert_eq!(back.bank_ref, cb.bank_ref);
    }
}

/// IIN, BIN, IBAN and amounts as typed by people: whatever is accepted prints in a form that
/// is accepted again as the same value.
pub fn ids(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(iin) = Iin::parse(text) {
        assert_eq!(Iin::parse(&iin.to_string()), Ok(iin));
        let masked = iin.masked();
        assert_ne!(masked, iin.to_string(), "a masked IIN hides digits");
        let (y, m, d) = iin.birth_date();
        assert!(
            (1..=12).contains(&m) && (1..=31).contains(&d),
            "{y}-{m}-{d}"
        );
    }
    if let Ok(bin) = Bin::parse(text) {
        assert_eq!(Bin::parse(&bin.to_string()), Ok(bin));
    }
    if let Ok(iban) = Iban::parse(text) {
        assert_eq!(Iban::parse(&iban.to_string()).as_ref(), Ok(&iban));
        assert_eq!(Iban::parse(&iban.formatted()).as_ref(), Ok(&iban));
        assert_eq!(
            Iban::from_parts(iban.bank_code(), iban.account()).as_ref(),
            Ok(&iban)
        );
    }
    if let Ok(m) = Money::parse(text) {
        assert_eq!(Money::parse(&m.to_string()), Ok(m));
    }
}

/// A page of the disclosure site: its TOML front matter between `+++` lines, then Markdown.
/// Any text is read or refused with a message naming the file; the body of a page that is
/// read is part of the text.
pub fn front_matter(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match esep_site::parse_page(Path::new("content/kk/fuzz.md"), "kk", text) {
        Ok(page) => {
            assert_eq!(page.slug, "fuzz");
            assert!(
                text.contains(page.body.trim()),
                "the body comes from the file"
            );
        }
        Err(e) => assert!(e.to_string().contains("fuzz.md"), "{e}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_target_takes_empty_and_odd_input() {
        for (name, target) in super::TARGETS {
            for input in [
                &b""[..],
                b"\xff\xff\xff",
                b"\x00",
                b"+++\n+++\n",
                b"bank_ref,channel\n",
            ] {
                eprintln!("{name}: {input:?}");
                target(input);
            }
        }
    }
}
