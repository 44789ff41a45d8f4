//! The browser app: the built frontend (`target/ui/`, made by `cargo xtask build`) embedded
//! in the release binary, or a `ui/` folder next to the binary when one is there.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::AppError;

#[derive(RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/../target/ui/"]
#[allow_missing = true]
struct Embedded;

/// Only our own scripts and the wasm they load; styles from our stylesheet (xterm.js and
/// Leptos set inline styles); no frames, no foreign connections.
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn folder_next_to_binary() -> Option<&'static PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::current_exe().ok()?.parent()?.join("ui");
        dir.join("index.html").is_file().then_some(dir)
    })
    .as_ref()
}

fn load(path: &str) -> Option<Vec<u8>> {
    if let Some(dir) = folder_next_to_binary() {
        // `path` comes from the URL: only plain names below the folder are read.
        if path
            .split('/')
            .any(|seg| seg.is_empty() || seg.starts_with('.'))
        {
            return None;
        }
        return std::fs::read(dir.join(path)).ok();
    }
    Embedded::get(path).map(|f| f.data.into_owned())
}

/// For the browser tests of the page chunks' retries: with `BERTH_TEST_FAIL_CHUNK_FETCHES=N`
/// in the environment, the first N requests of every lazily loaded wasm chunk (any `.wasm`
/// but the main `berth_bg.wasm`) answer 503, as a flaky network would. Unset: nothing fails.
fn fail_chunk_fetch(path: &str) -> bool {
    /// How many fetches of each chunk fail, and how many each has had.
    type Fails = (u32, Mutex<HashMap<String, u32>>);
    static FAILS: OnceLock<Option<Fails>> = OnceLock::new();
    let Some((n, seen)) = FAILS.get_or_init(|| {
        let n = std::env::var("BERTH_TEST_FAIL_CHUNK_FETCHES")
            .ok()?
            .parse()
            .ok()?;
        Some((n, Mutex::new(HashMap::new())))
    }) else {
        return false;
    };
    if !path.ends_with(".wasm") || path == "berth_bg.wasm" {
        return false;
    }
    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
    let count = seen.entry(path.to_owned()).or_default();
    *count += 1;
    *count <= *n
}

/// Serve a UI file, or `index.html` for any other path (the app routes on the client).
pub async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path.starts_with("api/") || path == "api" {
        return AppError::NotFound(format!("no API route {}", uri.path())).into_response();
    }
    if fail_chunk_fetch(path) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "failing this chunk once (test flag)",
        )
            .into_response();
    }
    let (body, name) =
        match load(path).filter(|_| !path.is_empty()) {
            Some(body) => (body, path),
            None => match load("index.html") {
                Some(body) => (body, "index.html"),
                None => return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "berth's web UI is not built: run `cargo xtask build` (or `cargo xtask run`).",
                )
                    .into_response(),
            },
        };
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    let mut resp = Response::new(Body::from(body));
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    // index.html must be revalidated so a new build is picked up; assets are small.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}
