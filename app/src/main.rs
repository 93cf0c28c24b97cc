//! Esep personal cabinet (D1, D2, D12, D13, T8): a Leptos client-side app served by `esep
//! serve` at `/cabinet/`. It reads and pays the unified payment document on a phone, in
//! Kazakh (the default), Russian and English.

use esep_app::shell::App;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
