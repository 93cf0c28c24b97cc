//! Esep server: storage, the thin API, imports, the billing run, the demo city and the CLI.
#![recursion_limit = "256"]

pub mod api;
pub mod audit;
pub mod auth;
pub mod banks;
pub mod bench;
pub mod billing_run;
pub mod demo;
pub mod duties;
pub mod fuzzing;
pub mod import;
pub mod ozhazh;
pub mod pain001;
pub mod pdf;
pub mod readings;
pub mod reports;
pub mod sandbox_bank;
pub mod settle;
pub mod store;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use esep_core::ids::BankDirectory;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// The bank directory shipped with Esep (core/data/banks.csv).
pub fn banks() -> &'static BankDirectory {
    static BANKS: OnceLock<BankDirectory> = OnceLock::new();
    BANKS.get_or_init(|| {
        BankDirectory::builtin()
            .unwrap_or_else(|e| panic!("the built-in bank directory is invalid: {e}"))
    })
}

/// Where the static parts are served from.
#[derive(Clone, Default)]
pub struct StaticDirs {
    /// The generated disclosure site, served at `/`.
    pub site: Option<PathBuf>,
    /// The built cabinet, served at `/cabinet/` with its index.html as fallback.
    pub cabinet: Option<PathBuf>,
}

/// The whole application: API, cabinet and site, with the security headers on every answer.
pub fn app(state: api::AppState, dirs: &StaticDirs) -> Router {
    let mut router = api::router(state);
    if let Some(cabinet) = &dirs.cabinet {
        let index = cabinet.join("index.html");
        // Brotli copies written at build time (`cargo xtask`) go to browsers that accept
        // them; the file names carry a content hash, so they may be cached for a year.
        let files = ServeDir::new(cabinet)
            .precompressed_br()
            .fallback(ServeFile::new(index).precompressed_br());
        router = router.nest_service(
            "/cabinet",
            tower::ServiceBuilder::new()
                .layer(axum::middleware::from_fn(cabinet_cache_control))
                .service(files),
        );
    }
    // Browsers ask every site for /favicon.ico; "no content" rather than a 404 in their
    // consoles (the pages name no icon of their own).
    router = router.route(
        "/favicon.ico",
        axum::routing::get(|| async {
            (
                axum::http::StatusCode::NO_CONTENT,
                [(header::CACHE_CONTROL, "public, max-age=86400")],
            )
        }),
    );
    router = match &dirs.site {
        Some(site) => router.fallback_service(ServeDir::new(site)),
        None => router.route("/", axum::routing::get(placeholder_home)),
    };
    let headers: [(HeaderName, &'static str); 5] = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ),
    ];
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
}

/// `immutable` for the assets whose names carry Trunk's content hash (`name-<16 hex>.ext`),
/// `no-cache` for index.html and boot.js, whose names stay the same from build to build.
async fn cabinet_cache_control(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let hashed = is_hashed_asset(req.uri().path());
    let mut res = next.run(req).await;
    let value = if hashed && res.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    res
}

fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    let stem = name.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

async fn placeholder_home() -> axum::response::Html<&'static str> {
    axum::response::Html(include_str!("home.html"))
}

pub fn state(db: store::Db, config: api::Config) -> api::AppState {
    api::AppState {
        db,
        config: Arc::new(config),
        limits: Arc::new(api::Limits::default()),
        banks: Arc::new(banks().clone()),
        http: crate::banks::http_client(),
        bank_cache: Default::default(),
        chat: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_trunks_hashed_names_are_cached_for_good() {
        assert!(super::is_hashed_asset(
            "/cabinet/esep-app-92e8df12ac5e5213_bg.wasm"
        ));
        assert!(super::is_hashed_asset(
            "/cabinet/esep-app-92e8df12ac5e5213.js"
        ));
        assert!(super::is_hashed_asset(
            "/cabinet/style-217f961e6cc904a3.css"
        ));
        assert!(!super::is_hashed_asset("/cabinet/boot.js"));
        assert!(!super::is_hashed_asset("/cabinet/index.html"));
        assert!(!super::is_hashed_asset("/cabinet/upds/0000001-202611"));
    }
}
