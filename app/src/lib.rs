//! The cabinet as a library, so that its components are tested in the browser
//! (wasm-bindgen-test) apart from the router and the server.

pub mod api;
pub mod chart;
pub mod i18n;
pub mod pages;
pub mod shell;
pub mod upd;
pub mod widgets;
