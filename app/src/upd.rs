//! The unified payment document as the consumer reads it (D1, T4) and the form that pays it
//! (T5). Both take their data as props: the pages fetch it, the component tests supply it.

use crate::widgets::{ErrorSummary, FieldError, FormError, FormErrors, ctx, kzt};
use esep_core::Money;
use esep_core::api::{BankView, LineView, PaymentRequest, UpdView};
use leptos::prelude::*;

/// The document: utility and additional services in separate sections, grouped by
/// provider; each line opens to show how it was calculated.
#[component]
pub fn UpdDocument(upd: UpdView) -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let UpdView {
        number,
        account_number,
        address,
        period,
        version,
        reason,
        issued_at,
        due_date,
        sections,
        total_charged,
        total_due,
        remaining,
        ..
    } = upd;
    let issued = issued_at.get(..10).unwrap_or(&issued_at).to_string();
    let sections = sections
        .into_iter()
        .map(|section| {
            let providers = section
                .providers
                .into_iter()
                .map(|group| {
                    let lines = group.lines.into_iter().map(line_view).collect_view();
                    view! {
                        <div class="provider">
                            <h3>
                                {group.name} " "
                                <span class="muted">{t.bin} " " {group.bin}</span>
                            </h3>
                            <ul class="lines">{lines}</ul>
                        </div>
                    }
                })
                .collect_view();
            view! {
                <section class="upd-section">
                    <h2>{section.title}</h2>
                    {providers}
                    <p class="section-total">
                        {t.section_total} ": " <strong>{kzt(section.total_due)}</strong>
                    </p>
                </section>
            }
        })
        .collect_view();
    view! {
        <article class="upd">
            <h1>{t.upd_title} " № " {number.clone()}</h1>
            <dl class="facts">
                <div><dt>{t.account}</dt><dd>{account_number}</dd></div>
                <div><dt>{t.address}</dt><dd>{address}</dd></div>
                <div><dt>{t.period}</dt><dd>{period.to_string()}</dd></div>
                <div><dt>{t.due_date}</dt><dd>{crate::i18n::date(due_date)}</dd></div>
                <div><dt>{t.issued}</dt><dd>{issued}</dd></div>
                <div>
                    <dt>{t.version}</dt>
                    <dd>
                        {version}
                        {reason.map(|r| view! { " — " <span>{t.reason} ": " {r}</span> })}
                    </dd>
                </div>
            </dl>
            {sections}
            <dl class="totals">
                <div><dt>{t.total_charged}</dt><dd>{kzt(total_charged)}</dd></div>
                <div><dt>{t.total_due}</dt><dd>{kzt(total_due)}</dd></div>
                <div class="grand">
                    <dt>{t.remaining_now}</dt>
                    <dd data-testid="remaining">{kzt(remaining)}</dd>
                </div>
            </dl>
        </article>
    }
}

fn line_view(line: LineView) -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let LineView {
        line_no,
        service_name,
        opening,
        charge,
        recalculation,
        paid,
        due,
        remaining,
        formula,
        ..
    } = line;
    view! {
        <li>
            <details class="line" id=format!("line-{line_no}")>
                <summary>
                    <span class="service">{service_name}</span>
                    <span class="amount">{kzt(due)}</span>
                </summary>
                <div class="line-body">
                    <p class="formula">
                        <span class="muted">{t.how_calculated} ": "</span>
                        {formula}
                    </p>
                    <dl class="line-facts">
                        <div><dt>{t.opening}</dt><dd>{kzt(opening)}</dd></div>
                        <div><dt>{t.charged}</dt><dd>{kzt(charge)}</dd></div>
                        <div><dt>{t.recalculation}</dt><dd>{kzt(recalculation)}</dd></div>
                        <div><dt>{t.paid}</dt><dd>{kzt(paid)}</dd></div>
                        <div><dt>{t.due}</dt><dd>{kzt(due)}</dd></div>
                        <div><dt>{t.remaining}</dt><dd>{kzt(remaining)}</dd></div>
                    </dl>
                </div>
            </details>
        </li>
    }
}

/// Reads an amount as people type it: spaces and a decimal comma are accepted.
pub fn parse_amount(text: &str) -> Option<Money> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202F}' && *c != '₸')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    Money::parse(&cleaned).ok()
}

/// The payable lines of a document: those with something still to pay.
pub fn payable(upd: &UpdView) -> Vec<LineView> {
    upd.sections
        .iter()
        .flat_map(|s| s.providers.iter())
        .flat_map(|p| p.lines.iter())
        .filter(|l| l.remaining.is_positive())
        .cloned()
        .collect()
}

/// The pay form: all or chosen lines, an amount that may be changed, one of the banks.
/// `on_pay` gets a checked request; the caller sends it and goes to the bank.
#[component]
pub fn PayForm(
    upd: UpdView,
    banks: Vec<BankView>,
    on_pay: Callback<PaymentRequest>,
    errors: FormErrors,
    #[prop(into)] busy: Signal<bool>,
) -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let lines = payable(&upd);
    let all: Vec<u32> = lines.iter().map(|l| l.line_no).collect();
    let chosen = RwSignal::new(all.clone());
    let edited = RwSignal::new(None::<String>);
    let bank = RwSignal::new(banks.first().map(|b| b.code.clone()));
    let dues: Vec<(u32, Money)> = lines.iter().map(|l| (l.line_no, l.remaining)).collect();
    let default_amount = Memo::new(move |_| {
        chosen.with(|c| {
            dues.iter()
                .filter(|(n, _)| c.contains(n))
                .map(|(_, d)| *d)
                .sum::<Money>()
        })
    });
    let amount_text = move || {
        edited
            .get()
            .unwrap_or_else(|| default_amount.get().to_string())
    };
    let number = upd.number.clone();
    let first_line_id = "pay-lines";
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let t = ctx.t();
        let mut problems = vec![];
        let picked = chosen.get_untracked();
        if picked.is_empty() {
            problems.push(FormError::new(first_line_id, t.err_no_lines));
        }
        let amount = match edited.get_untracked() {
            None => Some(default_amount.get_untracked()),
            Some(text) => parse_amount(&text),
        };
        match amount {
            None => problems.push(FormError::new("pay-amount", t.err_amount)),
            Some(a) if !a.is_positive() => {
                problems.push(FormError::new("pay-amount", t.err_amount_positive))
            }
            _ => {}
        }
        let Some(code) = bank.get_untracked() else {
            problems.push(FormError::new("pay-bank-0", t.err_bank));
            errors.show(problems);
            return;
        };
        if !problems.is_empty() {
            errors.show(problems);
            return;
        }
        errors.clear();
        let every = picked.len() == all.len();
        on_pay.run(PaymentRequest {
            upd_number: number.clone(),
            bank: code,
            lines: (!every).then_some(picked),
            amount: edited.get_untracked().and(amount),
        });
    };
    let amount_error = Signal::derive(errors.at("pay-amount"));
    let lines_error = Signal::derive(errors.at(first_line_id));
    let bank_error = Signal::derive(errors.at("pay-bank-0"));
    let checkboxes = lines
        .into_iter()
        .map(|line| {
            let n = line.line_no;
            let id = format!("pay-line-{n}");
            view! {
                <div class="choice">
                    <input
                        type="checkbox"
                        id=id.clone()
                        name="lines"
                        value=n.to_string()
                        prop:checked=move || chosen.with(|c| c.contains(&n))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            chosen.update(|c| {
                                c.retain(|x| *x != n);
                                if on {
                                    c.push(n);
                                    c.sort_unstable();
                                }
                            });
                        }
                    />
                    <label for=id>
                        {line.service_name} " — " <span class="amount">{kzt(line.remaining)}</span>
                    </label>
                </div>
            }
        })
        .collect_view();
    let bank_choices = banks
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let id = format!("pay-bank-{i}");
            let code = b.code.clone();
            let code2 = b.code.clone();
            view! {
                <div class="choice">
                    <input
                        type="radio"
                        id=id.clone()
                        name="bank"
                        value=b.code.clone()
                        prop:checked=move || bank.get().as_deref() == Some(code.as_str())
                        on:change=move |_| bank.set(Some(code2.clone()))
                    />
                    <label for=id>{b.name}</label>
                </div>
            }
        })
        .collect_view();
    view! {
        <form class="pay-form" novalidate on:submit=submit>
            <ErrorSummary errors=errors />
            <fieldset
                id="pay-lines"
                tabindex="-1"
                aria-describedby=move || lines_error.get().map(|_| "pay-lines-error")
            >
                <legend>{t.choose_lines}</legend>
                <FieldError id=first_line_id message=lines_error />
                {checkboxes}
            </fieldset>
            <div class="field" class:field-invalid=move || amount_error.get().is_some()>
                <label for="pay-amount">{t.amount}</label>
                <p class="hint" id="pay-amount-hint">{t.amount_hint}</p>
                <FieldError id="pay-amount" message=amount_error />
                <input
                    id="pay-amount"
                    name="amount"
                    type="text"
                    inputmode="decimal"
                    autocomplete="off"
                    aria-describedby=move || {
                        if amount_error.get().is_some() {
                            "pay-amount-hint pay-amount-error"
                        } else {
                            "pay-amount-hint"
                        }
                    }
                    aria-invalid=move || amount_error.get().is_some().then_some("true")
                    prop:value=amount_text
                    on:input=move |ev| edited.set(Some(event_target_value(&ev)))
                />
            </div>
            <fieldset>
                <legend>{t.bank}</legend>
                <FieldError id="pay-bank-0" message=bank_error />
                {bank_choices}
            </fieldset>
            <button type="submit" class="button" disabled=move || busy.get()>
                {t.pay_amount} " "
                {move || {
                    edited
                        .get()
                        .and_then(|e| parse_amount(&e))
                        .map_or_else(|| kzt(default_amount.get()), kzt)
                }}
            </button>
        </form>
    }
}
