//! The pages of the cabinet. Each fetches what it shows through `api`, shows "loading", a
//! retry on failure, and asks to sign in when there is no session.

use crate::api::{self, ApiError, ChatEvents};
use crate::chart;
use crate::i18n::date;
use crate::upd::{PayForm, UpdDocument, parse_amount, payable};
use crate::widgets::*;
use esep_core::api::*;
use esep_core::{Money, Period};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_params_map};
use send_wrapper::SendWrapper;
use std::time::Duration;

/// Shows its children to a signed-in user, the sign-in form to anyone else.
#[component]
pub fn Guard(children: ChildrenFn) -> impl IntoView {
    let ctx = ctx();
    move || {
        if !ctx.checked.get() {
            view! { <Loading /> }.into_any()
        } else if ctx.me.with(Option::is_none) {
            view! { <SignIn /> }.into_any()
        } else {
            children().into_any()
        }
    }
}

fn param(name: &'static str) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || params.with(|p| p.get(name).unwrap_or_default())
}

#[component]
pub fn SignIn() -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let login = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let errors = FormErrors::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = ctx.t();
        let mut problems = vec![];
        if login.get_untracked().trim().is_empty() {
            problems.push(FormError::new("login", t.err_login_empty));
        }
        if password.get_untracked().is_empty() {
            problems.push(FormError::new("password", t.err_password_empty));
        }
        if !problems.is_empty() {
            errors.show(problems);
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = api::sign_in(&login.get_untracked(), &password.get_untracked()).await;
            busy.try_set(false);
            match result {
                Ok(me) => {
                    errors.clear();
                    ctx.me.set(Some(me));
                }
                Err(ApiError::Problem(p)) if p.status == 401 => {
                    errors.show(vec![FormError::new("login", ctx.t().err_signin_failed)])
                }
                Err(ApiError::Problem(p)) if p.status == 429 => {
                    errors.show(vec![FormError::new("", ctx.t().err_too_many)])
                }
                Err(e) => {
                    errors.from_api(&e, &[("login", "login"), ("password", "password")], ctx.t())
                }
            }
        });
    };
    let login_error = Signal::derive(errors.at("login"));
    let password_error = Signal::derive(errors.at("password"));
    view! {
        <section class="narrow">
            <h1>{t.signin_title}</h1>
            <p>{t.signin_intro}</p>
            <form novalidate on:submit=submit>
                <ErrorSummary errors=errors />
                <div class="field" class:field-invalid=move || login_error.get().is_some()>
                    <label for="login">{t.login_label}</label>
                    <p class="hint" id="login-hint">{t.login_hint}</p>
                    <FieldError id="login" message=login_error />
                    <input
                        id="login"
                        name="username"
                        type="text"
                        autocomplete="username"
                        autocapitalize="off"
                        spellcheck="false"
                        aria-describedby=move || {
                            if login_error.get().is_some() { "login-hint login-error" } else { "login-hint" }
                        }
                        aria-invalid=move || login_error.get().is_some().then_some("true")
                        bind:value=login
                    />
                </div>
                <div class="field" class:field-invalid=move || password_error.get().is_some()>
                    <label for="password">{t.password_label}</label>
                    <FieldError id="password" message=password_error />
                    <input
                        id="password"
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        aria-describedby=move || password_error.get().map(|_| "password-error")
                        aria-invalid=move || password_error.get().is_some().then_some("true")
                        bind:value=password
                    />
                </div>
                <button type="submit" class="button" disabled=move || busy.get()>
                    {t.signin_button}
                </button>
            </form>
        </section>
    }
}

#[component]
pub fn AccountsPage() -> impl IntoView {
    view! {
        <Guard>
            <Accounts />
        </Guard>
    }
}

#[component]
fn Accounts() -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let data = RwSignal::new(Load::Loading);
    let reload = move || load_into(data, api::accounts());
    reload();
    let list = dynamic(move || match data.get() {
        Load::Loading => view! { <Loading /> }.into_any(),
        Load::Failed(e) => {
            view! { <Failure error=e retry=Callback::new(move |_| reload()) /> }.into_any()
        }
        Load::Ready(accounts) if accounts.is_empty() => view! { <p>{t.no_accounts}</p> }.into_any(),
        Load::Ready(accounts) => accounts
            .into_iter()
            .map(|a| {
                let number = a.number.clone();
                let upd = a.current_upd.clone();
                view! {
                    <article class="card account">
                        <h2>{t.account} " " {a.number.clone()}</h2>
                        <p>{a.address.clone()}</p>
                        {upd.map(|u| {
                            view! {
                                <dl class="facts">
                                    <div><dt>{t.period}</dt><dd>{u.period.to_string()}</dd></div>
                                    <div><dt>{t.to_pay}</dt><dd>{kzt(u.to_pay)}</dd></div>
                                    <div><dt>{t.due_date}</dt><dd>{date(u.due_date)}</dd></div>
                                </dl>
                                <p class="actions">
                                    <a class="button" href=format!("/cabinet/upds/{}", u.number)>
                                        {t.open_document}
                                    </a>
                                </p>
                            }
                        })}
                        <p class="links">
                            <a href=format!("/cabinet/accounts/{number}/history")>{t.history}</a>
                            <a href=format!("/cabinet/accounts/{number}/readings")>{t.readings}</a>
                        </p>
                    </article>
                }
            })
            .collect_view()
            .into_any(),
    });
    view! {
        <h1>{t.accounts_title}</h1>
        {list}
        <LinkAccount on_linked=Callback::new(move |_| reload()) />
    }
}

#[component]
fn LinkAccount(on_linked: Callback<()>) -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let number = RwSignal::new(String::new());
    let total = RwSignal::new(String::new());
    let done = RwSignal::new(false);
    let errors = FormErrors::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = ctx.t();
        let mut problems = vec![];
        let n = number.get_untracked().trim().to_string();
        if n.is_empty() {
            problems.push(FormError::new("link-number", t.err_number_empty));
        }
        let amount = parse_amount(&total.get_untracked());
        if amount.is_none() {
            problems.push(FormError::new("link-total", t.err_amount));
        }
        let (Some(amount), true) = (amount, problems.is_empty()) else {
            errors.show(problems);
            return;
        };
        done.set(false);
        leptos::task::spawn_local(async move {
            let req = LinkAccountRequest {
                account_number: n,
                last_upd_total: amount,
            };
            match api::link_account(&req).await {
                Ok(_) => {
                    errors.clear();
                    number.set(String::new());
                    total.set(String::new());
                    done.set(true);
                    on_linked.run(());
                }
                Err(ApiError::Unauthorized) => ctx.me.set(None),
                Err(e) => errors.from_api(
                    &e,
                    &[
                        ("account_number", "link-number"),
                        ("last_upd_total", "link-total"),
                    ],
                    ctx.t(),
                ),
            }
        });
    };
    let number_error = Signal::derive(errors.at("link-number"));
    let total_error = Signal::derive(errors.at("link-total"));
    view! {
        <section class="card">
            <h2>{t.link_title}</h2>
            <p>{t.link_intro}</p>
            <form novalidate on:submit=submit>
                <ErrorSummary errors=errors />
                <Show when=move || done.get()>
                    <p class="notice" role="status">{t.linked}</p>
                </Show>
                <div class="field" class:field-invalid=move || number_error.get().is_some()>
                    <label for="link-number">{t.link_number}</label>
                    <FieldError id="link-number" message=number_error />
                    <input
                        id="link-number"
                        type="text"
                        inputmode="numeric"
                        autocomplete="off"
                        aria-describedby=move || number_error.get().map(|_| "link-number-error")
                        aria-invalid=move || number_error.get().is_some().then_some("true")
                        bind:value=number
                    />
                </div>
                <div class="field" class:field-invalid=move || total_error.get().is_some()>
                    <label for="link-total">{t.link_total}</label>
                    <p class="hint" id="link-total-hint">{t.link_total_hint}</p>
                    <FieldError id="link-total" message=total_error />
                    <input
                        id="link-total"
                        type="text"
                        inputmode="decimal"
                        autocomplete="off"
                        aria-describedby=move || {
                            if total_error.get().is_some() { "link-total-hint link-total-error" } else { "link-total-hint" }
                        }
                        aria-invalid=move || total_error.get().is_some().then_some("true")
                        bind:value=total
                    />
                </div>
                <button type="submit" class="button secondary">{t.link_button}</button>
            </form>
        </section>
    }
}

#[component]
pub fn UpdPage() -> impl IntoView {
    view! {
        <Guard>
            <Upd />
        </Guard>
    }
}

#[component]
fn Upd() -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let number = param("number");
    let data = RwSignal::new(Load::Loading);
    let reload = move || {
        let (n, lang) = (number(), ctx.lang.get_untracked());
        load_into(data, async move { api::upd(&n, lang).await });
    };
    Effect::new(move |_| {
        number();
        ctx.lang.track();
        reload();
    });
    dynamic(move || match data.get() {
        Load::Loading => view! { <Loading /> }.into_any(),
        Load::Failed(e) => {
            view! { <Failure error=e retry=Callback::new(move |_| reload()) /> }.into_any()
        }
        Load::Ready(upd) => {
            let pay = format!("/cabinet/upds/{}/pay", upd.number);
            let pdf = api::upd_pdf_url(&upd.number, ctx.lang.get_untracked());
            let account = upd.account_number.clone();
            let can_pay = upd.remaining.is_positive();
            view! {
                <UpdDocument upd=upd />
                <p class="actions">
                    <Show when=move || can_pay>
                        <a class="button" href=pay.clone()>{t.pay}</a>
                    </Show>
                    <a class="button secondary" href=pdf download>{t.download_pdf}</a>
                </p>
                <p class="links">
                    <a href=format!("/cabinet/accounts/{account}/history")>{t.history}</a>
                    <a href=format!("/cabinet/accounts/{account}/readings")>{t.readings}</a>
                </p>
            }
            .into_any()
        }
    })
}

#[component]
pub fn PayPage() -> impl IntoView {
    view! {
        <Guard>
            <Pay />
        </Guard>
    }
}

/// The key of one payment intent, kept for the tab's life: sending the same request again
/// (a double press, a refresh, the back button) reuses it and the server answers with the
/// first payment instead of a second one.
fn idempotency_key(req: &PaymentRequest) -> String {
    let slot = format!("esep.pay.{}", req.upd_number);
    let request = serde_json::to_string(req).unwrap_or_default();
    let storage = session_storage();
    if let Some(s) = &storage
        && let Ok(Some(saved)) = s.get_item(&slot)
        && let Some((saved_request, key)) = saved.rsplit_once('\u{1F}')
        && saved_request == request
    {
        return key.to_string();
    }
    let key = random_key();
    if let Some(s) = storage {
        let _ = s.set_item(&slot, &format!("{request}\u{1F}{key}"));
    }
    key
}

fn forget_payment_intent(upd_number: &str) {
    if let Some(s) = session_storage() {
        let _ = s.remove_item(&format!("esep.pay.{upd_number}"));
    }
}

#[component]
fn Pay() -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let number = param("number");
    let data = RwSignal::new(Load::Loading);
    let reload = move || {
        let (n, lang) = (number(), ctx.lang.get_untracked());
        load_into(data, async move {
            let upd = api::upd(&n, lang).await?;
            let banks = api::banks().await?;
            Ok((upd, banks))
        });
    };
    Effect::new(move |_| {
        number();
        ctx.lang.track();
        reload();
    });
    let busy = RwSignal::new(false);
    let errors = FormErrors::new();
    let on_pay = Callback::new(move |req: PaymentRequest| {
        busy.set(true);
        let key = idempotency_key(&req);
        leptos::task::spawn_local(async move {
            match api::pay(&req, &key).await {
                Ok(created) => {
                    let _ = window().location().assign(&created.redirect_url);
                }
                Err(ApiError::Unauthorized) => ctx.me.set(None),
                Err(e) => {
                    busy.try_set(false);
                    errors.from_api(
                        &e,
                        &[
                            ("amount", "pay-amount"),
                            ("lines", "pay-lines"),
                            ("bank", "pay-bank-0"),
                        ],
                        ctx.t(),
                    );
                }
            }
        });
    });
    view! {
        <h1>{t.pay_title}</h1>
        {dynamic(move || match data.get() {
            Load::Loading => view! { <Loading /> }.into_any(),
            Load::Failed(e) => view! { <Failure error=e retry=Callback::new(move |_| reload()) /> }.into_any(),
            Load::Ready((upd, _)) if payable(&upd).is_empty() => view! {
                <p>{t.nothing_to_pay}</p>
                <p><a href=format!("/cabinet/upds/{}", upd.number)>{t.back_to_document}</a></p>
            }
                .into_any(),
            Load::Ready((upd, banks)) => view! {
                <p class="lead">
                    {t.upd_title} " № " {upd.number.clone()} ", " {upd.period.to_string()}
                    " — " {t.remaining} ": " <strong>{kzt(upd.remaining)}</strong>
                </p>
                <PayForm upd=upd banks=banks on_pay=on_pay errors=errors busy=busy />
                <Show when=move || busy.get()>
                    <p role="status">{t.redirecting}</p>
                </Show>
            }
                .into_any(),
        })}
    }
}

#[component]
pub fn ResultPage() -> impl IntoView {
    view! {
        <Guard>
            <PaymentResult />
        </Guard>
    }
}

fn poll_payment(
    id: String,
    data: RwSignal<Load<PaymentView>>,
    upd: RwSignal<Option<UpdView>>,
    tries: u32,
    ctx: Ctx,
) {
    leptos::task::spawn_local(async move {
        match api::payment(&id).await {
            Ok(p) => {
                let pending = matches!(p.status.as_str(), "pending" | "created");
                let upd_number = p.upd_number.clone();
                data.try_set(Load::Ready(p));
                if pending && tries < 60 {
                    set_timeout(
                        move || poll_payment(id, data, upd, tries + 1, ctx),
                        Duration::from_millis(1000),
                    );
                } else {
                    // The intent is settled: a new payment needs a new key.
                    forget_payment_intent(&upd_number);
                    if let Ok(view) = api::upd(&upd_number, ctx.lang.get_untracked()).await {
                        upd.try_set(Some(view));
                    }
                }
            }
            Err(ApiError::Unauthorized) => {
                ctx.me.try_set(None);
            }
            Err(e) => {
                data.try_set(Load::Failed(e));
            }
        }
    });
}

#[component]
fn PaymentResult() -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let id = param("id");
    let data = RwSignal::new(Load::Loading);
    let upd = RwSignal::new(None::<UpdView>);
    let reload = move || poll_payment(id(), data, upd, 0, ctx);
    reload();
    let service_name = move |code: &str| {
        upd.with(|u| {
            u.as_ref()
                .and_then(|u| {
                    u.sections
                        .iter()
                        .flat_map(|s| s.providers.iter())
                        .flat_map(|p| p.lines.iter())
                        .find(|l| l.service_code == code)
                        .map(|l| l.service_name.clone())
                })
                .unwrap_or_else(|| code.to_string())
        })
    };
    view! {
        <h1>{t.result_title}</h1>
        {dynamic(move || match data.get() {
            Load::Loading => view! { <Loading /> }.into_any(),
            Load::Failed(e) => view! { <Failure error=e retry=Callback::new(move |_| reload()) /> }.into_any(),
            Load::Ready(p) => {
                let status = p.status.clone();
                let ok = status == "succeeded";
                let message = move || {
                    match status.as_str() {
                        "succeeded" => t.status_succeeded,
                        "pending" => t.status_pending,
                        "declined" => t.status_declined,
                        "reversed" => t.status_reversed,
                        _ => t.status_created,
                    }
                };
                let rows = p
                    .allocations
                    .iter()
                    .map(|a| {
                        let code = a.service_code.clone();
                        view! {
                            <tr>
                                <td>{move || service_name(&code)}</td>
                                <td>{a.provider_bin.clone()}</td>
                                <td class="num">{kzt(a.amount)}</td>
                                <td class="num">{kzt(a.advance)}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                let has_rows = !p.allocations.is_empty();
                let number = p.upd_number.clone();
                view! {
                    <div class="notice" class:notice-ok=ok role="status" data-status=p.status.clone()>
                        <p>
                            <strong>{message}</strong> " — " {kzt(p.amount)}
                        </p>
                    </div>
                    <Show when=move || has_rows>
                        <h2>{t.allocation}</h2>
                    </Show>
                    // Keyboard users scroll a wide table too (WCAG 2.1.1).
                    <div class="table-wrap" tabindex="0" role="region" aria-label=t.allocation>
                        <table class:hidden=!has_rows>
                            <thead>
                                <tr>
                                    <th scope="col">{t.service}</th>
                                    <th scope="col">{t.provider}</th>
                                    <th scope="col" class="num">{t.paid}</th>
                                    <th scope="col" class="num">{t.advance}</th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                    {move || upd.get().map(|u| view! {
                        <p class="balance">
                            {t.remaining_now} ": " <strong data-testid="balance">{kzt(u.remaining)}</strong>
                        </p>
                    })}
                    <p><a href=format!("/cabinet/upds/{number}")>{t.back_to_document}</a></p>
                }
                    .into_any()
            }
        })}
    }
}

#[component]
pub fn HistoryPage() -> impl IntoView {
    view! {
        <Guard>
            <HistoryView />
        </Guard>
    }
}

#[component]
fn HistoryView() -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let number = param("number");
    let data = RwSignal::new(Load::Loading);
    let reload = move || {
        let (n, lang) = (number(), ctx.lang.get_untracked());
        load_into(data, async move { api::history(&n, lang).await });
    };
    Effect::new(move |_| {
        number();
        ctx.lang.track();
        reload();
    });
    view! {
        <h1>{t.history_title}</h1>
        <p>{t.account} " " {number}</p>
        {dynamic(move || match data.get() {
            Load::Loading => view! { <Loading /> }.into_any(),
            Load::Failed(e) => view! { <Failure error=e retry=Callback::new(move |_| reload()) /> }.into_any(),
            Load::Ready(h) if h.periods.is_empty() => view! { <p>{t.no_history}</p> }.into_any(),
            Load::Ready(h) => history_view(h, ctx).into_any(),
        })}
    }
}

fn history_view(h: History, ctx: Ctx) -> impl IntoView {
    let t = ctx.t();
    let tx = ctx.t();
    let svg = chart::svg(&h.periods, tx.chart_title, tx.chart_desc);
    let services = chart::services(&h.periods);
    let legend = services
        .iter()
        .enumerate()
        .map(|(i, (_, name))| {
            view! { <li><span class=format!("swatch s{}", i % 8) aria-hidden="true"></span>{name.clone()}</li> }
        })
        .collect_view();
    let head = services
        .iter()
        .map(|(_, name)| view! { <th scope="col" class="num">{name.clone()}</th> })
        .collect_view();
    let rows = h
        .periods
        .iter()
        .map(|p| {
            let cells = services
                .iter()
                .map(|(code, _)| {
                    let amount = p
                        .services
                        .iter()
                        .find(|s| s.service_code == *code)
                        .map_or(Money::ZERO, |s| s.amount);
                    view! { <td class="num">{kzt(amount)}</td> }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row"><a href=format!("/cabinet/upds/{}", p.upd_number)>{p.period.to_string()}</a></th>
                    {cells}
                    <td class="num">{kzt(p.total_charged)}</td>
                </tr>
            }
        })
        .collect_view();
    let payments = h
        .payments
        .iter()
        .map(|p| {
            view! {
                <tr>
                    <td>{p.created_at.get(..10).unwrap_or(&p.created_at).to_string()}</td>
                    <td>{p.upd_number.clone()}</td>
                    <td>{p.bank.clone()}</td>
                    <td>{p.status.clone()}</td>
                    <td class="num">{kzt(p.amount)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <figure class="chart-figure">
            <div class="chart-box" inner_html=svg></div>
            <figcaption>
                <ul class="legend">{legend}</ul>
            </figcaption>
        </figure>
        <div class="table-wrap" tabindex="0" role="region" aria-label=t.chart_title>
            <table>
                <caption>{t.chart_title}</caption>
                <thead>
                    <tr><th scope="col">{t.period}</th>{head}<th scope="col" class="num">{t.total}</th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <h2>{t.payments}</h2>
        <div class="table-wrap" tabindex="0" role="region" aria-label=t.payments>
            <table>
                <thead>
                    <tr>
                        <th scope="col">{t.date}</th>
                        <th scope="col">{t.upd_title}</th>
                        <th scope="col">{t.bank}</th>
                        <th scope="col">{t.status}</th>
                        <th scope="col" class="num">{t.amount}</th>
                    </tr>
                </thead>
                <tbody>{payments}</tbody>
            </table>
        </div>
    }
}

#[component]
pub fn ReadingsPage() -> impl IntoView {
    view! {
        <Guard>
            <Readings />
        </Guard>
    }
}

#[component]
fn Readings() -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let number = param("number");
    let data = RwSignal::new(Load::Loading);
    let reload = move || {
        let (n, lang) = (number(), ctx.lang.get_untracked());
        load_into(data, async move { api::meters(&n, lang).await });
    };
    Effect::new(move |_| {
        number();
        ctx.lang.track();
        reload();
    });
    view! {
        <h1>{t.readings_title}</h1>
        <p>{t.account} " " {number}</p>
        {dynamic(move || match data.get() {
            Load::Loading => view! { <Loading /> }.into_any(),
            Load::Failed(e) => view! { <Failure error=e retry=Callback::new(move |_| reload()) /> }.into_any(),
            Load::Ready(meters) if meters.is_empty() => view! { <p>{t.no_meters}</p> }.into_any(),
            Load::Ready(meters) => meters
                .into_iter()
                .map(|m| view! { <MeterForm meter=m /> })
                .collect_view()
                .into_any(),
        })}
    }
}

#[component]
fn MeterForm(meter: MeterView) -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let value = RwSignal::new(String::new());
    let accepted = RwSignal::new(None::<ReadingAccepted>);
    let errors = FormErrors::new();
    let id = format!("reading-{}", meter.id);
    let field = id.clone();
    let previous = meter.last_value;
    let meter_id = meter.id;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = ctx.t();
        let text = value.get_untracked().trim().replace(',', ".");
        let problem = if text.is_empty() {
            Some(t.err_reading_empty)
        } else {
            match text.parse::<rust_decimal::Decimal>() {
                Err(_) => Some(t.err_reading_number),
                Ok(v) if v < previous => Some(t.err_reading_lower),
                Ok(_) => None,
            }
        };
        if let Some(p) = problem {
            errors.show(vec![FormError::new(&field, p)]);
            return;
        }
        let Ok(v) = text.parse::<rust_decimal::Decimal>() else {
            return;
        };
        let field = field.clone();
        leptos::task::spawn_local(async move {
            let req = ReadingRequest {
                meter_id,
                value: v,
                period: None,
            };
            match api::submit_reading(&req).await {
                Ok(a) => {
                    errors.clear();
                    accepted.try_set(Some(a));
                }
                Err(ApiError::Unauthorized) => {
                    ctx.me.try_set(None);
                }
                Err(e) => errors.from_api(&e, &[("value", field.as_str())], ctx.t()),
            }
        });
    };
    let error = Signal::derive(errors.at(id.clone()));
    let unit = meter.unit.symbol(ctx.lang.get_untracked());
    let last_period = meter
        .last_period
        .map(|p: Period| p.to_string())
        .unwrap_or_default();
    let input_id = id.clone();
    let error_id = format!("{id}-error");
    view! {
        <section class="card meter">
            <h2>{meter.service_name.clone()} " — " {t.meter} " " {meter.serial.clone()}</h2>
            <p>
                {t.previous} ": " <strong data-testid="previous">{previous.to_string()} " " {unit}</strong>
                " (" {last_period} ")"
            </p>
            <form novalidate on:submit=submit>
                <ErrorSummary errors=errors />
                <Show when=move || accepted.get().is_some()>
                    <p class="notice notice-ok" role="status">
                        {t.reading_saved} " "
                        {move || accepted.get().map(|a| a.consumption.to_string()).unwrap_or_default()}
                        " " {unit}
                        <Show when=move || accepted.get().is_some_and(|a| a.flagged_for_review)>
                            " " {t.reading_flagged}
                        </Show>
                    </p>
                </Show>
                <div class="field" class:field-invalid=move || error.get().is_some()>
                    <label for=input_id.clone()>{t.new_value} ", " {unit}</label>
                    <Show when=move || error.get().is_some()>
                        <p class="field-error" id=error_id.clone()>{move || error.get().unwrap_or_default()}</p>
                    </Show>
                    <input
                        id=input_id.clone()
                        type="text"
                        inputmode="decimal"
                        autocomplete="off"
                        aria-describedby={
                            let e = format!("{id}-error");
                            move || error.get().map(|_| e.clone())
                        }
                        aria-invalid=move || error.get().is_some().then_some("true")
                        bind:value=value
                    />
                </div>
                <button type="submit" class="button">{t.submit_reading}</button>
            </form>
        </section>
    }
}

#[component]
pub fn ComplaintsPage() -> impl IntoView {
    view! {
        <Guard>
            <Complaints />
        </Guard>
    }
}

#[component]
fn Complaints() -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let data = RwSignal::new(Load::Loading);
    let accounts = RwSignal::new(Vec::<AccountSummary>::new());
    let notices = RwSignal::new(Load::Loading);
    let reload = move || {
        load_into(data, api::complaints());
        load_into(notices, api::notices());
    };
    reload();
    leptos::task::spawn_local(async move {
        if let Ok(a) = api::accounts().await {
            accounts.try_set(a);
        }
    });
    let kind = RwSignal::new("complaint".to_string());
    let subject = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let account = RwSignal::new(String::new());
    let filed = RwSignal::new(None::<Complaint>);
    let errors = FormErrors::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = ctx.t();
        let mut problems = vec![];
        if subject.get_untracked().trim().is_empty() {
            problems.push(FormError::new("c-subject", t.err_subject));
        }
        if body.get_untracked().trim().is_empty() {
            problems.push(FormError::new("c-body", t.err_body));
        }
        if !problems.is_empty() {
            errors.show(problems);
            return;
        }
        let req = ComplaintRequest {
            kind: kind.get_untracked(),
            subject: subject.get_untracked().trim().to_string(),
            body: body.get_untracked().trim().to_string(),
            account_number: Some(account.get_untracked()).filter(|a| !a.is_empty()),
        };
        leptos::task::spawn_local(async move {
            match api::file_complaint(&req).await {
                Ok(c) => {
                    errors.clear();
                    subject.set(String::new());
                    body.set(String::new());
                    filed.set(Some(c));
                    reload();
                }
                Err(ApiError::Unauthorized) => ctx.me.set(None),
                Err(e) => errors.from_api(
                    &e,
                    &[
                        ("subject", "c-subject"),
                        ("body", "c-body"),
                        ("kind", "c-kind-0"),
                        ("account_number", "c-account"),
                    ],
                    ctx.t(),
                ),
            }
        });
    };
    let subject_error = Signal::derive(errors.at("c-subject"));
    let body_error = Signal::derive(errors.at("c-body"));
    let kinds = move || {
        [
            ("complaint", t.kind_complaint),
            ("application", t.kind_application),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, (code, label))| {
            let id = format!("c-kind-{i}");
            view! {
                <div class="choice">
                    <input
                        type="radio"
                        name="kind"
                        id=id.clone()
                        value=code
                        prop:checked=move || kind.get() == code
                        on:change=move |_| kind.set(code.to_string())
                    />
                    <label for=id>{label}</label>
                </div>
            }
        })
        .collect_view()
    };
    let status_text = move |c: &Complaint| match c.status.as_str() {
        "answered" => t.st_answered,
        "extended" => t.st_extended,
        _ => t.st_registered,
    };
    view! {
        <h1>{t.complaints_title}</h1>
        <p>{t.complaints_intro}</p>
        <section class="card">
            <form novalidate on:submit=submit>
                <ErrorSummary errors=errors />
                {move || filed.get().map(|c| view! {
                    <div class="notice notice-ok" role="status" data-testid="filed">
                        <p>
                            {c.number.clone()} ". " {t.filed} " "
                            <strong data-testid="deadline">{date(c.due)}</strong>
                        </p>
                    </div>
                })}
                <fieldset>
                    <legend>{t.kind}</legend>
                    {kinds}
                </fieldset>
                <div class="field">
                    <label for="c-account">{t.about_account}</label>
                    <select id="c-account" on:change=move |ev| account.set(event_target_value(&ev))>
                        <option value="">{t.none}</option>
                        {move || accounts.get().into_iter().map(|a| {
                            view! { <option value=a.number.clone()>{a.number.clone()} " — " {a.address.clone()}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field" class:field-invalid=move || subject_error.get().is_some()>
                    <label for="c-subject">{t.subject}</label>
                    <FieldError id="c-subject" message=subject_error />
                    <input
                        id="c-subject"
                        type="text"
                        maxlength="200"
                        aria-describedby=move || subject_error.get().map(|_| "c-subject-error")
                        aria-invalid=move || subject_error.get().is_some().then_some("true")
                        bind:value=subject
                    />
                </div>
                <div class="field" class:field-invalid=move || body_error.get().is_some()>
                    <label for="c-body">{t.body}</label>
                    <FieldError id="c-body" message=body_error />
                    <textarea
                        id="c-body"
                        rows="5"
                        aria-describedby=move || body_error.get().map(|_| "c-body-error")
                        aria-invalid=move || body_error.get().is_some().then_some("true")
                        prop:value=move || body.get()
                        on:input=move |ev| body.set(event_target_value(&ev))
                    ></textarea>
                </div>
                <button type="submit" class="button">{t.file}</button>
            </form>
        </section>
        <h2>{t.my_complaints}</h2>
        {dynamic(move || match data.get() {
            Load::Loading => view! { <Loading /> }.into_any(),
            Load::Failed(e) => view! { <Failure error=e retry=Callback::new(move |_| reload()) /> }.into_any(),
            Load::Ready(list) if list.is_empty() => view! { <p>{t.no_complaints}</p> }.into_any(),
            Load::Ready(list) => list
                .into_iter()
                .map(|c| {
                    let status = status_text(&c);
                    view! {
                        <article class="card complaint">
                            <h3>{c.number.clone()} " — " {c.subject.clone()}</h3>
                            <dl class="facts">
                                <div><dt>{t.status}</dt><dd>{status}</dd></div>
                                <div><dt>{t.registered}</dt><dd>{date(c.registered_on)}</dd></div>
                                <div><dt>{t.deadline}</dt><dd>{date(c.deadline)}</dd></div>
                                {c.extended_deadline.map(|d| view! {
                                    <div>
                                        <dt>{t.extended_to}</dt>
                                        <dd>{date(d)} " — " {c.extension_reason.clone().unwrap_or_default()}</dd>
                                    </div>
                                })}
                                {c.answer.clone().map(|a| view! {
                                    <div><dt>{t.answer}</dt><dd>{a}</dd></div>
                                })}
                            </dl>
                            <Show when=move || c.overdue>
                                <p class="field-error">{t.overdue}</p>
                            </Show>
                        </article>
                    }
                })
                .collect_view()
                .into_any(),
        })}
        // What the USC has told the applicant: an extended deadline and its reason (D13).
        <h2>{t.notices_title}</h2>
        {dynamic(move || match notices.get() {
            Load::Loading => view! { <Loading /> }.into_any(),
            Load::Failed(e) => view! { <Failure error=e retry=Callback::new(move |_| reload()) /> }.into_any(),
            Load::Ready(list) if list.is_empty() => view! { <p>{t.no_notices}</p> }.into_any(),
            Load::Ready(list) => view! {
                <ul class="notices">
                    {list.into_iter().map(|n| view! {
                        <li class="notice notice-item">
                            <p><strong>{n.subject}</strong> " · " <span class="muted">{local_time(&n.at)}</span></p>
                            <p>{n.body}</p>
                        </li>
                    }).collect_view()}
                </ul>
            }
                .into_any(),
        })}
    }
}

fn local_time(at: &str) -> String {
    // "2026-12-03T09:00" → "03.12.2026 09:00"
    match (at.get(..4), at.get(5..7), at.get(8..10), at.get(11..16)) {
        (Some(y), Some(m), Some(d), Some(time)) => format!("{d}.{m}.{y} {time}"),
        _ => at.to_string(),
    }
}

fn message_list(messages: Vec<ChatMessage>, ctx: Ctx, operator_view: bool) -> impl IntoView {
    let t = ctx.t();
    messages
        .into_iter()
        .map(|m| {
            let mine = m.from_operator == operator_view;
            let who = m.author.clone();
            view! {
                <li class="msg" class:mine=mine class:theirs=!mine>
                    <p class="who">
                        {move || {
                            if mine { t.you.to_string() } else if m.from_operator { format!("{} ({})", t.operator, who) } else { who.clone() }
                        }}
                        " · " <time>{local_time(&m.at)}</time>
                    </p>
                    <p class="text">{m.body.clone()}</p>
                </li>
            }
        })
        .collect_view()
}

#[component]
pub fn ChatPage() -> impl IntoView {
    view! {
        <Guard>
            <Chat />
        </Guard>
    }
}

#[component]
fn Chat() -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let data = RwSignal::new(Load::Loading);
    let messages = RwSignal::new(Vec::<ChatMessage>::new());
    let reload = move || {
        data.set(Load::Loading);
        leptos::task::spawn_local(async move {
            match api::chat().await {
                Ok(v) => {
                    messages.try_set(v.messages.clone());
                    data.try_set(Load::Ready(v));
                }
                Err(ApiError::Unauthorized) => {
                    ctx.me.try_set(None);
                }
                Err(e) => {
                    data.try_set(Load::Failed(e));
                }
            }
        });
    };
    reload();
    let add = move |m: ChatMessage| {
        messages.update(|list| {
            if !list.iter().any(|x| x.id == m.id) {
                list.push(m);
            }
        });
    };
    let events: Option<ChatEvents> = api::chat_events(move |m| {
        messages.try_update(|list| {
            if !list.iter().any(|x| x.id == m.id) {
                list.push(m);
            }
        });
    });
    let events = SendWrapper::new(events);
    on_cleanup(move || drop(events));
    let text = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = text.get_untracked().trim().to_string();
        if body.is_empty() {
            errors.show(vec![FormError::new("chat-text", ctx.t().err_message)]);
            return;
        }
        leptos::task::spawn_local(async move {
            match api::chat_post(&body).await {
                Ok(m) => {
                    errors.clear();
                    text.set(String::new());
                    add(m);
                }
                Err(ApiError::Unauthorized) => ctx.me.set(None),
                Err(e) => errors.from_api(&e, &[("body", "chat-text")], ctx.t()),
            }
        });
    };
    let error = Signal::derive(errors.at("chat-text"));
    view! {
        <h1>{t.chat_title}</h1>
        {dynamic(move || match data.get() {
            Load::Loading => view! { <Loading /> }.into_any(),
            Load::Failed(e) => view! { <Failure error=e retry=Callback::new(move |_| reload()) /> }.into_any(),
            Load::Ready(v) => {
                let next = v.next_open.clone().map(|n| local_time(&n)).unwrap_or_default();
                if v.open_now {
                    view! { <p class="notice notice-ok" data-testid="hours">{t.chat_open}</p> }.into_any()
                } else {
                    view! { <p class="notice" data-testid="hours">{t.chat_closed} " " <strong>{next.clone()}</strong></p> }.into_any()
                }
            }
        })}
        <ol class="messages" aria-live="polite" aria-label=t.chat_title>
            {move || {
                let list = messages.get();
                if list.is_empty() {
                    view! { <li class="muted">{t.no_messages}</li> }.into_any()
                } else {
                    message_list(list, ctx, false).into_any()
                }
            }}
        </ol>
        <form novalidate on:submit=submit class="chat-form">
            <ErrorSummary errors=errors />
            <div class="field" class:field-invalid=move || error.get().is_some()>
                <label for="chat-text">{t.message}</label>
                <FieldError id="chat-text" message=error />
                <textarea
                    id="chat-text"
                    rows="3"
                    maxlength="2000"
                    aria-describedby=move || error.get().map(|_| "chat-text-error")
                    aria-invalid=move || error.get().is_some().then_some("true")
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                ></textarea>
            </div>
            <button type="submit" class="button">{t.send}</button>
        </form>
    }
}

#[component]
pub fn OperatorPage() -> impl IntoView {
    let ctx = ctx();
    view! {
        <Guard>
            {move || {
                if ctx.me.with(|m| m.as_ref().is_some_and(|m| m.role == Role::Operator)) {
                    view! { <Operator /> }.into_any()
                } else {
                    view! { <p class="notice">{ctx.t().operators_only}</p> }.into_any()
                }
            }}
        </Guard>
    }
}

#[component]
fn Operator() -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let threads = RwSignal::new(Load::Loading);
    let selected = RwSignal::new(None::<(i64, String)>);
    let messages = RwSignal::new(Vec::<ChatMessage>::new());
    let reload = move || load_into(threads, api::operator_chats());
    reload();
    let open = move |id: i64, who: String| {
        selected.set(Some((id, who)));
        leptos::task::spawn_local(async move {
            if let Ok(list) = api::operator_thread(id).await {
                messages.try_set(list);
            }
        });
    };
    let events = api::chat_events(move |m| {
        let current = selected.try_get_untracked().flatten().map(|(id, _)| id);
        if current == Some(m.thread_id) {
            messages.try_update(|list| {
                if !list.iter().any(|x| x.id == m.id) {
                    list.push(m);
                }
            });
        }
        leptos::task::spawn_local(async move {
            if let Ok(list) = api::operator_chats().await {
                threads.try_set(Load::Ready(list));
            }
        });
    });
    let events = SendWrapper::new(events);
    on_cleanup(move || drop(events));
    let text = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some((id, _)) = selected.get_untracked() else {
            return;
        };
        let body = text.get_untracked().trim().to_string();
        if body.is_empty() {
            errors.show(vec![FormError::new("answer-text", ctx.t().err_message)]);
            return;
        }
        leptos::task::spawn_local(async move {
            match api::operator_answer(id, &body).await {
                Ok(m) => {
                    errors.clear();
                    text.set(String::new());
                    messages.update(|list| {
                        if !list.iter().any(|x| x.id == m.id) {
                            list.push(m);
                        }
                    });
                    reload();
                }
                Err(ApiError::Unauthorized) => ctx.me.set(None),
                Err(e) => errors.from_api(&e, &[("body", "answer-text")], ctx.t()),
            }
        });
    };
    let error = Signal::derive(errors.at("answer-text"));
    view! {
        <h1>{t.operator_title}</h1>
        {dynamic(move || match threads.get() {
            Load::Loading => view! { <Loading /> }.into_any(),
            Load::Failed(e) => view! { <Failure error=e retry=Callback::new(move |_| reload()) /> }.into_any(),
            Load::Ready(list) if list.is_empty() => view! { <p>{t.no_conversations}</p> }.into_any(),
            Load::Ready(list) => view! {
                <ul class="threads">
                    {list.into_iter().map(|th| {
                        let who = th.consumer.clone();
                        let id = th.thread_id;
                        view! {
                            <li>
                                <button type="button" class="thread" on:click=move |_| open(id, who.clone())>
                                    <strong>{th.consumer.clone()}</strong>
                                    " — " {th.last_message.clone()} " · "
                                    <span class:waiting=th.waiting>
                                        {move || if th.waiting { t.waiting } else { t.answered }}
                                    </span>
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }
                .into_any(),
        })}
        {move || selected.get().map(|(_, who)| view! {
            <section class="card">
                <h2>{t.conversation_with} " " {who.clone()}</h2>
                <ol class="messages" aria-live="polite">
                    {move || message_list(messages.get(), ctx, true)}
                </ol>
                <form novalidate on:submit=submit class="chat-form">
                    <ErrorSummary errors=errors />
                    <div class="field" class:field-invalid=move || error.get().is_some()>
                        <label for="answer-text">{t.your_answer}</label>
                        <FieldError id="answer-text" message=error />
                        <textarea
                            id="answer-text"
                            rows="3"
                            maxlength="2000"
                            aria-describedby=move || error.get().map(|_| "answer-text-error")
                            aria-invalid=move || error.get().is_some().then_some("true")
                            prop:value=move || text.get()
                            on:input=move |ev| text.set(event_target_value(&ev))
                        ></textarea>
                    </div>
                    <button type="submit" class="button">{t.send}</button>
                </form>
            </section>
        })}
    }
}

/// Paths the routes do not know: `/cabinet/` is the accounts page; anything else is "not
/// found" with a way back.
#[component]
pub fn Fallback() -> impl IntoView {
    let ctx = ctx();
    let location = use_location();
    move || {
        if location.pathname.get().trim_end_matches('/') == "/cabinet" {
            view! { <AccountsPage /> }.into_any()
        } else {
            view! {
                <h1>{ctx.t().not_found}</h1>
                <p><a href="/cabinet">{ctx.t().back_home}</a></p>
            }
            .into_any()
        }
    }
}

/// A page only operators use; anyone else is told so.
#[component]
fn OperatorOnly(children: ChildrenFn) -> impl IntoView {
    let ctx = ctx();
    move || {
        if !ctx.checked.get() {
            view! { <Loading /> }.into_any()
        } else if ctx.me.with(Option::is_none) {
            view! { <SignIn /> }.into_any()
        } else if ctx
            .me
            .with(|m| m.as_ref().is_some_and(|m| m.role == Role::Operator))
        {
            children().into_any()
        } else {
            view! { <p class="notice">{ctx.t().operators_only}</p> }.into_any()
        }
    }
}

#[component]
pub fn OperatorComplaintsPage() -> impl IntoView {
    view! {
        <OperatorOnly>
            <OperatorComplaints />
        </OperatorOnly>
    }
}

/// The complaint queue (D13): overdue first; each open one can be answered, or extended once
/// by at most 5 working days with a reason that reaches the applicant.
#[component]
fn OperatorComplaints() -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let data = RwSignal::new(Load::Loading);
    let reload = move || load_into(data, api::operator_complaints());
    reload();
    let done = RwSignal::new(None::<&'static str>);
    let on_done = Callback::new(move |message: &'static str| {
        done.set(Some(message));
        reload();
    });
    view! {
        <h1>{t.nav_op_complaints}</h1>
        <p>{t.op_complaints_intro}</p>
        {move || done.get().map(|m| view! { <p class="notice notice-ok" role="status">{m}</p> })}
        {dynamic(move || match data.get() {
            Load::Loading => view! { <Loading /> }.into_any(),
            Load::Failed(e) => view! { <Failure error=e retry=Callback::new(move |_| reload()) /> }.into_any(),
            Load::Ready(list) if list.is_empty() => view! { <p>{t.no_queue}</p> }.into_any(),
            Load::Ready(list) => list
                .into_iter()
                .enumerate()
                .map(|(i, c)| view! { <QueuedComplaint c=c index=i on_done=on_done /> })
                .collect_view()
                .into_any(),
        })}
    }
}

fn complaint_status(t: &'static crate::i18n::Text, status: &str) -> &'static str {
    match status {
        "answered" => t.st_answered,
        "extended" => t.st_extended,
        _ => t.st_registered,
    }
}

#[component]
fn QueuedComplaint(c: Complaint, index: usize, on_done: Callback<&'static str>) -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let open = c.status != "answered";
    let can_extend = open && c.extended_deadline.is_none();
    let number = c.number.clone();
    let (answer_id, days_id, reason_id) = (
        format!("q{index}-answer"),
        format!("q{index}-days"),
        format!("q{index}-reason"),
    );
    let answer = RwSignal::new(String::new());
    let days = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let answer_errors = FormErrors::new();
    let extend_errors = FormErrors::new();
    let submit_answer = {
        let (number, answer_id) = (number.clone(), answer_id.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let text = answer.get_untracked().trim().to_string();
            if text.is_empty() {
                answer_errors.show(vec![FormError::new(&answer_id, ctx.t().err_answer_empty)]);
                return;
            }
            let (number, answer_id) = (number.clone(), answer_id.clone());
            leptos::task::spawn_local(async move {
                match api::answer_complaint(&number, &ComplaintAnswer { answer: text }).await {
                    Ok(_) => on_done.run(ctx.t().done_answered),
                    Err(ApiError::Unauthorized) => ctx.me.set(None),
                    Err(e) => answer_errors.from_api(&e, &[("answer", &answer_id)], ctx.t()),
                }
            });
        }
    };
    let submit_extend = {
        let (number, days_id, reason_id) = (number.clone(), days_id.clone(), reason_id.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let t = ctx.t();
            let mut problems = vec![];
            let n = days
                .get_untracked()
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=5).contains(n));
            if n.is_none() {
                problems.push(FormError::new(&days_id, t.err_days));
            }
            let why = reason.get_untracked().trim().to_string();
            if why.is_empty() {
                problems.push(FormError::new(&reason_id, t.err_reason));
            }
            let Some(n) = n.filter(|_| problems.is_empty()) else {
                extend_errors.show(problems);
                return;
            };
            let (number, days_id, reason_id) = (number.clone(), days_id.clone(), reason_id.clone());
            let lang = ctx.lang.get_untracked();
            leptos::task::spawn_local(async move {
                let req = ComplaintExtension {
                    days: n,
                    reason: why,
                };
                match api::extend_complaint(&number, &req, lang).await {
                    Ok(_) => on_done.run(ctx.t().done_extended),
                    Err(ApiError::Unauthorized) => ctx.me.set(None),
                    Err(e) => extend_errors.from_api(
                        &e,
                        &[("days", &days_id), ("reason", &reason_id)],
                        ctx.t(),
                    ),
                }
            });
        }
    };
    let answer_error = Signal::derive(answer_errors.at(answer_id.clone()));
    let days_error = Signal::derive(extend_errors.at(days_id.clone()));
    let reason_error = Signal::derive(extend_errors.at(reason_id.clone()));
    let days_error_id = format!("{days_id}-error");
    view! {
        <article class="card queued" data-number=c.number.clone()>
            <h2>{c.number.clone()} " — " {c.subject.clone()}</h2>
            <dl class="facts">
                <div><dt>{t.status}</dt><dd>{complaint_status(t, &c.status)}</dd></div>
                <div><dt>{t.registered}</dt><dd>{date(c.registered_on)}</dd></div>
                <div><dt>{t.deadline}</dt><dd data-testid="due">{date(c.due)}</dd></div>
                {c.extended_deadline.map(|d| view! {
                    <div>
                        <dt>{t.extended_to}</dt>
                        <dd>{date(d)} " — " {c.extension_reason.clone().unwrap_or_default()}</dd>
                    </div>
                })}
            </dl>
            <Show when=move || c.overdue>
                <p class="field-error">{t.overdue}</p>
            </Show>
            <h3>{t.applicant_text}</h3>
            <p class="formula">{c.body.clone()}</p>
            <Show when=move || open>
                <form novalidate class="answer-form" on:submit=submit_answer.clone()>
                    <ErrorSummary errors=answer_errors />
                    <TextAreaField
                        id=answer_id.clone()
                        label=t.answer
                        value=answer
                        error=answer_error
                        rows=4
                        maxlength=4000
                    />
                    <button type="submit" class="button">{t.answer_button}</button>
                </form>
            </Show>
            <Show when=move || can_extend>
                <form novalidate class="extend-form" on:submit=submit_extend.clone()>
                    <ErrorSummary errors=extend_errors />
                    <div class="field" class:field-invalid=move || days_error.get().is_some()>
                        <label for=days_id.clone()>{t.extend_days}</label>
                        <FieldError id=days_id.clone() message=days_error />
                        <input
                            id=days_id.clone()
                            type="text"
                            inputmode="numeric"
                            autocomplete="off"
                            maxlength="1"
                            aria-describedby={
                                let id = days_error_id.clone();
                                move || days_error.get().map(|_| id.clone())
                            }
                            aria-invalid=move || days_error.get().is_some().then_some("true")
                            bind:value=days
                        />
                    </div>
                    <TextAreaField
                        id=reason_id.clone()
                        label=t.extend_reason
                        value=reason
                        error=reason_error
                        rows=3
                        maxlength=1000
                    />
                    <button type="submit" class="button secondary">{t.extend_button}</button>
                </form>
            </Show>
        </article>
    }
}

#[component]
pub fn OperatorDiscrepanciesPage() -> impl IntoView {
    view! {
        <OperatorOnly>
            <OperatorDiscrepancies />
        </OperatorOnly>
    }
}

/// The discrepancy journal (D8, D9): each record with its detection, registration deadline
/// and lateness, who answers for it, its correction; a corrected one can be closed.
#[component]
fn OperatorDiscrepancies() -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let data = RwSignal::new(Load::Loading);
    let reload = move || load_into(data, api::discrepancies());
    reload();
    let done = RwSignal::new(false);
    let on_done = Callback::new(move |_: ()| {
        done.set(true);
        reload();
    });
    view! {
        <h1>{t.nav_op_discrepancies}</h1>
        <p>{t.discrepancies_intro}</p>
        <Show when=move || done.get()>
            <p class="notice notice-ok" role="status">{t.done_closed}</p>
        </Show>
        {dynamic(move || match data.get() {
            Load::Loading => view! { <Loading /> }.into_any(),
            Load::Failed(e) => view! { <Failure error=e retry=Callback::new(move |_| reload()) /> }.into_any(),
            Load::Ready(list) if list.is_empty() => view! { <p>{t.no_discrepancies}</p> }.into_any(),
            // Newest first: the journal keeps them in order of registration.
            Load::Ready(list) => list
                .into_iter()
                .rev()
                .map(|d| view! { <JournalEntry d=d on_done=on_done /> })
                .collect_view()
                .into_any(),
        })}
    }
}

fn discrepancy_status(t: &'static crate::i18n::Text, status: &str) -> &'static str {
    match status {
        "notified" => t.d_st_notified,
        "correcting" => t.d_st_correcting,
        "corrected" => t.d_st_corrected,
        "closed" => t.d_st_closed,
        _ => t.d_st_registered,
    }
}

#[component]
fn JournalEntry(d: Discrepancy, on_done: Callback<()>) -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    let id = d.id;
    let can_close = d.can_close();
    let note_id = format!("close-note-{id}");
    let note = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let submit = {
        let note_id = note_id.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let text = note.get_untracked().trim().to_string();
            if text.is_empty() {
                errors.show(vec![FormError::new(&note_id, ctx.t().err_note)]);
                return;
            }
            let note_id = note_id.clone();
            leptos::task::spawn_local(async move {
                match api::close_discrepancy(id, &DiscrepancyClose { note: text }).await {
                    Ok(_) => on_done.run(()),
                    Err(ApiError::Unauthorized) => ctx.me.set(None),
                    Err(e) => errors.from_api(&e, &[("note", &note_id), ("id", &note_id)], ctx.t()),
                }
            });
        }
    };
    let error = Signal::derive(errors.at(note_id.clone()));
    view! {
        <article class="card discrepancy" data-id=id.to_string() data-status=d.status.clone()>
            <h2>"D-" {id} " — " {d.description.clone()}</h2>
            <dl class="facts">
                <div><dt>{t.status}</dt><dd>{discrepancy_status(t, &d.status)}</dd></div>
                <div><dt>{t.d_source}</dt><dd>{d.source.clone()}</dd></div>
                <div><dt>{t.d_detected}</dt><dd>{date(d.detected_on)}</dd></div>
                <div><dt>{t.registered}</dt><dd>{date(d.registered_on)}</dd></div>
                <div><dt>{t.d_reg_deadline}</dt><dd>{date(d.registration_deadline)}</dd></div>
                <div><dt>{t.d_responsible}</dt><dd>{d.responsible.clone()}</dd></div>
                <div><dt>{t.d_justification}</dt><dd>{d.justification.clone()}</dd></div>
                {d.correction.clone().map(|c| view! { <div><dt>{t.d_correction}</dt><dd>{c}</dd></div> })}
            </dl>
            <Show when=move || d.late>
                <p class="field-error">{t.d_late}</p>
            </Show>
            <Show when=move || can_close>
                <form novalidate class="close-form" on:submit=submit.clone()>
                    <ErrorSummary errors=errors />
                    <TextAreaField
                        id=note_id.clone()
                        label=t.close_note
                        value=note
                        error=error
                        rows=3
                        maxlength=2000
                    />
                    <button type="submit" class="button">{t.close_button}</button>
                </form>
            </Show>
        </article>
    }
}
