//! Component tests in a real browser (wasm-bindgen-test, headless Chromium): the UPD view
//! and the pay form, mounted with data of our own, driven through the DOM.

use esep_app::upd::{PayForm, UpdDocument};
use esep_app::widgets::{Ctx, FormErrors};
use esep_core::api::{BankView, LineView, PaymentRequest, ProviderGroup, SectionView, UpdView};
use esep_core::billing::{Explanation, Section};
use esep_core::tariff::Unit;
use esep_core::{Lang, Money, Period};
use leptos::prelude::*;
use rust_decimal::Decimal;
use std::sync::{Arc, Mutex};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn line(line_no: u32, code: &str, name: &str, due: i64) -> LineView {
    LineView {
        line_no,
        service_code: code.into(),
        service_name: name.into(),
        unit: Unit::CubicMetre,
        quantity: Decimal::new(725, 2),
        opening: Money::ZERO,
        charge: Money::from_tiyn(due),
        recalculation: Money::ZERO,
        paid: Money::ZERO,
        due: Money::from_tiyn(due),
        remaining: Money::from_tiyn(due),
        formula: format!("7.25 m³ × {} ₸/m³", due / 725),
        explanation: Explanation::default(),
    }
}

fn sample() -> UpdView {
    let group = |id: i64, name: &str, lines: Vec<LineView>| ProviderGroup {
        provider_id: id,
        name: name.into(),
        bin: "123456789012".into(),
        total_due: lines.iter().map(|l| l.due).sum(),
        lines,
    };
    let utility = vec![
        group(
            1,
            "Water Co",
            vec![line(1, "cold_water", "Cold water", 66_671)],
        ),
        group(
            2,
            "Power Co",
            vec![line(2, "electricity", "Electricity", 120_000)],
        ),
    ];
    let additional = vec![group(3, "Lift Co", vec![line(3, "lift", "Lift", 50_000)])];
    UpdView {
        number: "0000001-202611".into(),
        account_number: "0000001".into(),
        address: "Demo street 1, flat 1".into(),
        area_m2: Decimal::new(428, 1),
        residents: 2,
        period: Period::new(2026, 11).unwrap(),
        version: 1,
        reason: None,
        issued_at: "2026-12-01T00:00:00Z".into(),
        due_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 25).unwrap(),
        sections: vec![
            SectionView {
                section: Section::Utility,
                title: "Utility services".into(),
                total_due: Money::from_tiyn(186_671),
                providers: utility,
            },
            SectionView {
                section: Section::Additional,
                title: "Additional services".into(),
                total_due: Money::from_tiyn(50_000),
                providers: additional,
            },
        ],
        total_charged: Money::from_tiyn(236_671),
        total_due: Money::from_tiyn(236_671),
        to_pay: Money::from_tiyn(236_671),
        remaining: Money::from_tiyn(236_671),
        versions: vec![1],
    }
}

fn container() -> web_sys::HtmlElement {
    let doc = document();
    let div = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

/// Lets the reactive system and the DOM settle.
async fn tick() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 30)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

fn find(root: &web_sys::HtmlElement, css: &str) -> web_sys::HtmlElement {
    root.query_selector(css)
        .unwrap()
        .unwrap_or_else(|| panic!("no {css}"))
        .unchecked_into()
}

#[wasm_bindgen_test]
async fn the_upd_view_keeps_sections_apart_and_opens_a_line_to_its_formula() {
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), || {
        provide_context(Ctx::new(Lang::En));
        view! { <UpdDocument upd=sample() /> }
    });
    tick().await;
    let headings: Vec<String> = (0..root
        .query_selector_all("section.upd-section h2")
        .unwrap()
        .length())
        .map(|i| {
            root.query_selector_all("section.upd-section h2")
                .unwrap()
                .get(i)
                .unwrap()
                .text_content()
                .unwrap()
        })
        .collect();
    assert_eq!(headings, vec!["Utility services", "Additional services"]);
    assert_eq!(
        root.query_selector_all("div.provider").unwrap().length(),
        3,
        "grouped by provider"
    );
    let details: web_sys::HtmlDetailsElement = root
        .query_selector("details.line")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert!(!details.open());
    find(&root, "details.line summary").click();
    tick().await;
    assert!(details.open(), "the line opens");
    let formula = find(&root, "details.line .formula").text_content().unwrap();
    assert!(formula.contains("7.25 m³ × 91 ₸/m³"), "{formula}");
    let remaining = find(&root, "[data-testid=remaining]")
        .text_content()
        .unwrap();
    assert_eq!(remaining, Money::from_tiyn(236_671).display_kzt());
    drop(handle);
}

#[wasm_bindgen_test]
async fn the_pay_form_follows_the_chosen_lines_and_refuses_a_zero_amount() {
    let root = container();
    let sent: Arc<Mutex<Vec<PaymentRequest>>> = Arc::default();
    let sink = sent.clone();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        provide_context(Ctx::new(Lang::En));
        let banks = vec![
            BankView {
                code: "halyk".into(),
                name: "Sandbox Halyk".into(),
            },
            BankView {
                code: "kaspi".into(),
                name: "Sandbox Kaspi".into(),
            },
        ];
        let on_pay = Callback::new(move |req: PaymentRequest| sink.lock().unwrap().push(req));
        view! { <PayForm upd=sample() banks=banks on_pay=on_pay errors=FormErrors::new() busy=false /> }
    });
    tick().await;
    let amount: web_sys::HtmlInputElement = find(&root, "#pay-amount").unchecked_into();
    assert_eq!(amount.value(), "2366.71", "everything by default");
    let button = find(&root, "button[type=submit]");
    // Leave out the first line: the amount follows.
    find(&root, "#pay-line-1").click();
    tick().await;
    assert_eq!(amount.value(), "1700.00");
    assert!(
        button
            .text_content()
            .unwrap()
            .contains(&Money::from_tiyn(170_000).display_kzt())
    );
    // Choose the second bank and pay.
    find(&root, "#pay-bank-1").click();
    tick().await;
    button.click();
    tick().await;
    {
        let sent = sent.lock().unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].lines, Some(vec![2, 3]));
        assert_eq!(sent[0].bank, "kaspi");
        assert_eq!(
            sent[0].amount, None,
            "the suggested amount is left to the server"
        );
    }
    // A zero amount is refused at the field, with a summary linking to it.
    amount.set_value("0");
    amount
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    tick().await;
    button.click();
    tick().await;
    assert_eq!(sent.lock().unwrap().len(), 1, "nothing sent");
    let summary = find(&root, ".error-summary");
    assert!(!summary.class_list().contains("hidden"));
    assert_eq!(
        find(&root, ".error-summary a")
            .get_attribute("href")
            .as_deref(),
        Some("#pay-amount")
    );
    assert_eq!(
        amount.get_attribute("aria-invalid").as_deref(),
        Some("true")
    );
    // A typed amount with a comma is sent as typed.
    amount.set_value("1 000,50");
    amount
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    tick().await;
    button.click();
    tick().await;
    let sent = sent.lock().unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].amount, Some(Money::from_tiyn(100_050)));
    drop(handle);
}
