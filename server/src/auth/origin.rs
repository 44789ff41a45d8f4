//! Cross-site request refusal. The session cookie is SameSite=Strict already; this checks
//! `Origin` (and `Sec-Fetch-Site`) on every state-changing request and websocket upgrade,
//! because axum's websocket extractor does not, and a cross-site websocket would otherwise
//! ride the user's session.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Method, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::PublicUrl;
use crate::error::AppError;
use crate::state::AppState;

pub async fn guard(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    if needs_check(&req) {
        if let Err(reason) = same_origin(&req, &state.config.public_urls) {
            return AppError::Forbidden(reason).into_response();
        }
    }
    next.run(req).await
}

fn needs_check(req: &Request<Body>) -> bool {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let upgrade = req
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    !safe || upgrade
}

/// Requests without `Origin` (curl, scripts) pass: they carry no ambient browser
/// credentials worth forging, and are judged by their session or token alone. Berth's own
/// origin is the one the request was sent to (`Host`), or one of `--public-url` (behind a
/// proxy that does not pass the browser's `Host` on).
fn same_origin(req: &Request<Body>, public: &[PublicUrl]) -> Result<(), String> {
    let headers = req.headers();
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return Err("cross-site requests are refused".into());
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // `Origin: null` (sandboxed frames, file://) never matches.
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or("");
    if (!host.is_empty() && origin_host.eq_ignore_ascii_case(host))
        || public.iter().any(|u| u.matches_origin(origin))
    {
        Ok(())
    } else {
        Err(format!(
            "requests from origin {origin:?} are refused: berth only accepts its own origin"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: Method, origin: Option<&str>, host: &str) -> Request<Body> {
        let mut b = Request::builder()
            .method(method)
            .uri("/api/x")
            .header("host", host);
        if let Some(o) = origin {
            b = b.header("origin", o);
        }
        b.body(Body::empty()).unwrap()
    }

    #[test]
    fn origins() {
        let host = "127.0.0.1:8080";
        let check = |origin| same_origin(&req(Method::POST, origin, host), &[]);
        assert!(check(None).is_ok());
        assert!(check(Some("http://127.0.0.1:8080")).is_ok());
        assert!(check(Some("http://evil.example")).is_err());
        assert!(check(Some("http://127.0.0.1:9090")).is_err());
        assert!(check(Some("null")).is_err());
        assert!(!needs_check(&req(
            Method::GET,
            Some("http://evil.example"),
            host
        )));
    }

    #[test]
    fn the_public_url_is_our_origin_too() {
        let public = [PublicUrl::parse("https://berth.example.com").unwrap()];
        // Behind a proxy that sends its own Host upstream.
        let r = req(
            Method::POST,
            Some("https://berth.example.com"),
            "127.0.0.1:8080",
        );
        assert!(same_origin(&r, &public).is_ok());
        let r = req(
            Method::POST,
            Some("http://berth.example.com"),
            "127.0.0.1:8080",
        );
        assert!(
            same_origin(&r, &public).is_err(),
            "another scheme is another origin"
        );
        let r = req(Method::POST, Some("https://evil.example"), "127.0.0.1:8080");
        assert!(same_origin(&r, &public).is_err());
    }
}
