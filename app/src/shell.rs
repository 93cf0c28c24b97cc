//! The frame of every page: skip link, header with the language switch (remembered), the
//! navigation, and the router.

use crate::pages::*;
use crate::widgets::{Ctx, ctx, remember_lang, remembered_lang};
use esep_core::Lang;
use esep_core::api::Role;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

#[component]
pub fn App() -> impl IntoView {
    let lang = remembered_lang();
    remember_lang(lang);
    let ctx = Ctx::new(lang);
    provide_context(ctx);
    leptos::task::spawn_local(async move {
        match crate::api::me().await {
            Ok(me) => ctx.me.set(me),
            Err(_) => ctx.me.set(None),
        }
        ctx.checked.set(true);
    });
    Effect::new(move |_| {
        let t = ctx.t();
        document().set_title(t.brand);
    });
    view! {
        <Router>
            // The texts are plain strings: a change of language renders the page again
            // (and fetches its data again, in that language).
            {move || {
                ctx.lang.track();
                view! { <a class="skip" href="#main">{ctx.t().skip}</a> <Header /> }
            }}
            <main id="main" tabindex="-1">
                {move || {
                    ctx.lang.track();
                    view! { <Pages /> }
                }}
            </main>
        </Router>
    }
}

#[component]
fn Pages() -> impl IntoView {
    view! {
                <Routes fallback=|| view! { <Fallback /> }>
                    <Route path=path!("/cabinet") view=AccountsPage />
                    <Route path=path!("/cabinet/upds/:number") view=UpdPage />
                    <Route path=path!("/cabinet/upds/:number/pay") view=PayPage />
                    <Route path=path!("/cabinet/payments/:id") view=ResultPage />
                    <Route path=path!("/cabinet/accounts/:number/history") view=HistoryPage />
                    <Route path=path!("/cabinet/accounts/:number/readings") view=ReadingsPage />
                    <Route path=path!("/cabinet/complaints") view=ComplaintsPage />
                    <Route path=path!("/cabinet/chat") view=ChatPage />
                    <Route path=path!("/cabinet/operator") view=OperatorPage />
                    <Route path=path!("/cabinet/operator/complaints") view=OperatorComplaintsPage />
                    <Route path=path!("/cabinet/operator/discrepancies") view=OperatorDiscrepanciesPage />
                </Routes>
    }
}

#[component]
fn Header() -> impl IntoView {
    let ctx = ctx();
    let t = ctx.t();
    // Signed out, every page shows the sign-in form in place.
    let sign_out = move |_| {
        leptos::task::spawn_local(async move {
            if crate::api::sign_out().await.is_ok() {
                ctx.me.set(None);
            }
        });
    };
    let switch = Lang::ALL
        .into_iter()
        .map(|l| {
            view! {
                <button
                    type="button"
                    class="lang"
                    lang=l.code()
                    aria-pressed=if ctx.lang.get_untracked() == l { "true" } else { "false" }
                    on:click=move |_| {
                        ctx.lang.set(l);
                        remember_lang(l);
                    }
                >
                    {crate::i18n::text(l).lang_name}
                </button>
            }
        })
        .collect_view();
    view! {
        <header class="top">
            <div class="bar">
                <a class="brand" href="/cabinet">{t.brand}</a>
                <nav class="langs" aria-label=t.language>{switch}</nav>
            </div>
            <Show when=move || ctx.me.get().is_some()>
                <nav class="menu" aria-label=t.brand>
                    <Show when=move || ctx.me.with(|m| m.as_ref().is_some_and(|m| m.role == Role::Consumer))>
                        <a href="/cabinet">{t.nav_accounts}</a>
                        <a href="/cabinet/complaints">{t.nav_complaints}</a>
                        <a href="/cabinet/chat">{t.nav_chat}</a>
                    </Show>
                    <Show when=move || ctx.me.with(|m| m.as_ref().is_some_and(|m| m.role == Role::Operator))>
                        <a href="/cabinet/operator">{t.nav_op_chats}</a>
                        <a href="/cabinet/operator/complaints">{t.nav_op_complaints}</a>
                        <a href="/cabinet/operator/discrepancies">{t.nav_op_discrepancies}</a>
                    </Show>
                    <button type="button" class="link" on:click=sign_out>
                        {t.sign_out}
                    </button>
                </nav>
            </Show>
        </header>
    }
}
