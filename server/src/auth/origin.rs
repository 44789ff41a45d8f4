//! Cross-site request refusal. The session cookie is SameSite=Strict already; this checks
//! `Origin` (and `Sec-Fetch-Site`) on every state-changing request and websocket upgrade,
//! because axum's websocket extractor does not, and a cross-site websocket would otherwise
//! ride the user's session.

use axum::body::Body;
use axum::http::{header, Method, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

pub async fn guard(req: Request<Body>, next: Next) -> Response {
    if needs_check(&req) {
        if let Err(reason) = same_origin(&req) {
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
/// credentials worth forging, and are judged by their session or token alone.
fn same_origin(req: &Request<Body>) -> Result<(), String> {
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
    if !host.is_empty() && origin_host.eq_ignore_ascii_case(host) {
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
        assert!(same_origin(&req(Method::POST, None, host)).is_ok());
        assert!(same_origin(&req(Method::POST, Some("http://127.0.0.1:8080"), host)).is_ok());
        assert!(same_origin(&req(Method::POST, Some("http://evil.example"), host)).is_err());
        assert!(same_origin(&req(Method::POST, Some("http://127.0.0.1:9090"), host)).is_err());
        assert!(same_origin(&req(Method::POST, Some("null"), host)).is_err());
        assert!(!needs_check(&req(
            Method::GET,
            Some("http://evil.example"),
            host
        )));
    }
}
