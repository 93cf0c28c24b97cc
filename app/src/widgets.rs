//! Shared pieces: the app's context (language, signed-in user), loading states, and errors
//! shown the GOV.UK Design System way — a summary at the top that links to each field, and a
//! message at the field itself.

use crate::api::ApiError;
use crate::i18n::{Text, text};
use esep_core::Lang;
use esep_core::api::Me;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// What every page reads: the language and who is signed in.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub lang: RwSignal<Lang>,
    pub me: RwSignal<Option<Me>>,
    /// The first `GET /me` has answered (until then the page shows "loading").
    pub checked: RwSignal<bool>,
}

impl Ctx {
    pub fn new(lang: Lang) -> Ctx {
        Ctx {
            lang: RwSignal::new(lang),
            me: RwSignal::new(None),
            checked: RwSignal::new(false),
        }
    }

    /// The strings of the current language (reactive).
    pub fn t(&self) -> &'static Text {
        text(self.lang.get())
    }
}

pub fn ctx() -> Ctx {
    use_context::<Ctx>().unwrap_or_else(|| Ctx::new(Lang::Kk))
}

/// A remote value on its way.
#[derive(Clone, Debug, PartialEq)]
pub enum Load<T> {
    Loading,
    Ready(T),
    Failed(ApiError),
}

/// Runs `fut` and puts its outcome into `target`; a lost session shows the sign-in form.
pub fn load_into<T, F>(target: RwSignal<Load<T>>, fut: F)
where
    T: Send + Sync + 'static,
    F: Future<Output = Result<T, ApiError>> + 'static,
{
    target.set(Load::Loading);
    let ctx = ctx();
    leptos::task::spawn_local(async move {
        match fut.await {
            Ok(v) => target.set(Load::Ready(v)),
            Err(ApiError::Unauthorized) => ctx.me.set(None),
            Err(e) => target.set(Load::Failed(e)),
        }
    });
}

/// A failure that is not the user's: what happened and a button to try again.
#[component]
pub fn Failure(error: ApiError, retry: Callback<()>) -> impl IntoView {
    let ctx = ctx();
    let message = move || match &error {
        ApiError::Network => ctx.t().network_error.to_string(),
        ApiError::Problem(p) if p.status == 404 => ctx.t().not_found.to_string(),
        ApiError::Problem(p) => p.detail.clone(),
        _ => ctx.t().server_error.to_string(),
    };
    view! {
        <div class="notice notice-error" role="alert">
            <p>{message}</p>
            <button type="button" class="button secondary" on:click=move |_| retry.run(())>
                {ctx.t().retry}
            </button>
        </div>
    }
}

#[component]
pub fn Loading() -> impl IntoView {
    let ctx = ctx();
    view! { <p class="loading" role="status">{ctx.t().loading}</p> }
}

/// One error of a form: the id of the field it belongs to (empty for the whole form).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormError {
    pub field: String,
    pub message: String,
}

impl FormError {
    pub fn new(field: &str, message: &str) -> FormError {
        FormError {
            field: field.to_string(),
            message: message.to_string(),
        }
    }
}

/// The errors of a form in the order of its fields, and the summary to focus.
#[derive(Clone, Copy)]
pub struct FormErrors {
    pub list: RwSignal<Vec<FormError>>,
    summary: NodeRef<html::Div>,
}

impl Default for FormErrors {
    fn default() -> Self {
        Self::new()
    }
}

impl FormErrors {
    pub fn new() -> FormErrors {
        FormErrors {
            list: RwSignal::new(vec![]),
            summary: NodeRef::new(),
        }
    }

    /// Shows these errors and moves the focus to their summary (as screen readers expect).
    pub fn show(&self, errors: Vec<FormError>) {
        let empty = errors.is_empty();
        self.list.set(errors);
        if !empty {
            let summary = self.summary;
            request_animation_frame(move || {
                if let Some(el) = summary.get_untracked() {
                    let _ = el.focus();
                }
            });
        }
    }

    pub fn clear(&self) {
        self.list.set(vec![]);
    }

    /// The message at one field, if any.
    pub fn at(&self, field: impl Into<String>) -> impl Fn() -> Option<String> + Clone + 'static {
        let list = self.list;
        let field = field.into();
        move || {
            list.with(|l| {
                l.iter()
                    .find(|e| e.field == field)
                    .map(|e| e.message.clone())
            })
        }
    }

    /// Maps the server's refusal onto the form's fields (`server field → field id`); what
    /// names no known field goes to the summary alone.
    pub fn from_api(&self, error: &ApiError, fields: &[(&str, &str)], t: &Text) {
        let mut errors: Vec<FormError> = error
            .fields()
            .iter()
            .map(|f| {
                let id = fields
                    .iter()
                    .find(|(server, _)| *server == f.field)
                    .map_or("", |(_, id)| id);
                FormError::new(id, &f.message)
            })
            .collect();
        if errors.is_empty() {
            let message = match error {
                ApiError::Network => t.network_error.to_string(),
                ApiError::Problem(p) if !p.detail.is_empty() => p.detail.clone(),
                _ => t.server_error.to_string(),
            };
            errors.push(FormError::new("", &message));
        }
        self.show(errors);
    }
}

/// The summary at the top of a form: each error links to its field.
#[component]
pub fn ErrorSummary(errors: FormErrors) -> impl IntoView {
    let ctx = ctx();
    let list = errors.list;
    view! {
        <div
            class="error-summary"
            class:hidden=move || list.with(Vec::is_empty)
            tabindex="-1"
            aria-labelledby="error-summary-title"
            role="alert"
            node_ref=errors.summary
        >
            <h2 id="error-summary-title">{ctx.t().problem}</h2>
            <ul>
                {move || {
                    list.get()
                        .into_iter()
                        .map(|e| {
                            if e.field.is_empty() {
                                view! { <li>{e.message}</li> }.into_any()
                            } else {
                                let id = e.field.clone();
                                view! {
                                    <li>
                                        <a
                                            href=format!("#{}", e.field)
                                            on:click=move |ev| {
                                                ev.prevent_default();
                                                focus_id(&id);
                                            }
                                        >
                                            {e.message}
                                        </a>
                                    </li>
                                }
                                    .into_any()
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}

/// The message under a field.
#[component]
pub fn FieldError(#[prop(into)] id: String, message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <p class="field-error" id=format!("{id}-error")>
                {move || message.get().unwrap_or_default()}
            </p>
        </Show>
    }
}

/// A labelled multi-line field with its message, in the GOV.UK manner: the error (when there
/// is one) between the label and the box, named by `aria-describedby`.
#[component]
pub fn TextAreaField(
    #[prop(into)] id: String,
    label: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    #[prop(default = 3)] rows: u32,
    #[prop(default = 2000)] maxlength: u32,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    view! {
        <div class="field" class:field-invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <FieldError id=id.clone() message=error />
            <textarea
                id=id
                rows=rows.to_string()
                maxlength=maxlength.to_string()
                aria-describedby=move || error.get().map(|_| error_id.clone())
                aria-invalid=move || error.get().is_some().then_some("true")
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            ></textarea>
        </div>
    }
}

pub fn focus_id(id: &str) {
    if let Some(el) = document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

pub fn local_storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

pub fn session_storage() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

/// 128 random bits as hex, from the browser's cryptographic generator.
pub fn random_key() -> String {
    let mut bytes = [0u8; 16];
    if let Ok(crypto) = window().crypto() {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The language the person chose before, or Kazakh.
pub fn remembered_lang() -> Lang {
    local_storage()
        .and_then(|s| s.get_item("esep.lang").ok().flatten())
        .and_then(|l| l.parse().ok())
        .unwrap_or_default()
}

pub fn remember_lang(lang: Lang) {
    if let Some(s) = local_storage() {
        let _ = s.set_item("esep.lang", lang.code());
    }
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("lang", lang.code());
    }
}

/// "12 345.67 ₸"
pub fn kzt(m: esep_core::Money) -> String {
    m.display_kzt()
}

/// A reactive part of a page with its type erased: every such part shares one copy of the
/// rendering code instead of one per closure, which keeps the wasm small on a phone.
pub fn dynamic(f: impl Fn() -> AnyView + Send + Sync + 'static) -> impl IntoView {
    erased(std::sync::Arc::new(f))
}

fn erased(f: std::sync::Arc<dyn Fn() -> AnyView + Send + Sync>) -> impl IntoView {
    move || f()
}
