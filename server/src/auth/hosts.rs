//! DNS rebinding refusal. A page on a foreign name that an attacker makes resolve to
//! berth's address is, to the browser, same-origin with itself: the origin check and the
//! SameSite cookie see nothing wrong. Only the `Host` header tells: it carries the foreign
//! name. With `--public-url` set, berth answers only to the hosts named there.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::PublicUrl;
use crate::error::AppError;
use crate::state::AppState;

pub async fn guard(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let allowed = &state.config.public_urls;
    if allowed.is_empty() {
        return next.run(req).await;
    }
    // HTTP/1.1 sends `Host`; HTTP/2 may send the authority in the request line instead.
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    match host {
        Some(h) if allowed_host(allowed, h) => next.run(req).await,
        other => refusal(allowed, other).into_response(),
    }
}

pub fn allowed_host(allowed: &[PublicUrl], host: &str) -> bool {
    allowed.iter().any(|u| u.matches_host(host))
}

fn refusal(allowed: &[PublicUrl], host: Option<&str>) -> AppError {
    let names: Vec<String> = allowed.iter().map(PublicUrl::host_header).collect();
    AppError::coded(
        StatusCode::MISDIRECTED_REQUEST,
        "unknown_host",
        format!(
            "berth answers only to {} (--public-url / BERTH_PUBLIC_URL); this request was \
             for {}. If that is one of berth's own addresses, add it to --public-url",
            names.join(", "),
            host.map_or_else(|| "no host".to_owned(), |h| format!("{h:?}")),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_default_ports() {
        let allowed = vec![
            PublicUrl::parse("https://Berth.Example.com/").unwrap(),
            PublicUrl::parse("http://127.0.0.1:8080").unwrap(),
            PublicUrl::parse("http://[::1]:8080").unwrap(),
        ];
        for ok in [
            "berth.example.com",
            "BERTH.example.com:443",
            "127.0.0.1:8080",
            "[::1]:8080",
        ] {
            assert!(allowed_host(&allowed, ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "berth.example.com:80",
            "berth.example.com.evil.example",
            "127.0.0.1",
            "127.0.0.1:9090",
            "",
            "user@berth.example.com",
        ] {
            assert!(!allowed_host(&allowed, bad), "{bad}");
        }
        let msg = refusal(&allowed, Some("evil.example")).to_string();
        assert!(
            msg.contains("--public-url") && msg.contains("evil.example"),
            "{msg}"
        );
    }

    #[test]
    fn bad_public_urls_are_refused_at_start() {
        for bad in ["berth.example.com", "ftp://x", "https://", "https://u:p@x"] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
        let u = PublicUrl::parse("https://berth.example.com:8443/ui").unwrap();
        assert_eq!(u.to_string(), "https://berth.example.com:8443");
        assert!(u.matches_origin("https://berth.example.com:8443"));
        assert!(!u.matches_origin("http://berth.example.com:8443"));
        assert!(!u.matches_origin("null"));
    }
}
