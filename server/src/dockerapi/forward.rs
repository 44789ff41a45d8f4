//! Sending a decided request to the daemon and its answer back: one HTTP/1 connection per
//! request over the daemon's socket, bodies streamed both ways (nothing collected but the
//! answers berth filters), and hijacked connections (`Upgrade: tcp`, as `docker attach`,
//! `docker exec -it` and `docker run -it` use) joined byte for byte after both sides agree.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use crate::docker::{raw, Endpoint};
use crate::error::{AppError, AppResult};

/// Headers that describe one hop, not the request: never passed on.
const HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// Headers of the client's that the daemon gets: what the Docker API reads (content type,
/// registry auth, the build's `X-Registry-Config`), never berth's own credentials.
fn outgoing_headers(from: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (k, v) in from {
        let name = k.as_str();
        if HOP.contains(&name) || name == "authorization" || name == "cookie" {
            continue;
        }
        out.append(k.clone(), v.clone());
    }
    out
}

/// What a forwarded request became.
pub enum Answer {
    /// An ordinary response, its body still streaming from the daemon.
    Plain(Response<hyper::body::Incoming>),
    /// `101 UPGRADED`: the caller answers the client with it and joins the two streams.
    Upgraded {
        response: Response<hyper::body::Incoming>,
        daemon: OnUpgrade,
    },
}

/// Send `method path` with `body` to the daemon; `upgrade` asks for a hijacked stream.
pub async fn send(
    ep: &Endpoint,
    method: Method,
    path: &str,
    headers: &HeaderMap,
    body: Body,
    upgrade: bool,
) -> AppResult<Answer> {
    let (io, host) = raw::connect(ep).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| AppError::DockerUnavailable(format!("{}: {e}", ep.host)))?;
    // The connection runs until the exchange (and any hijacked stream) is over.
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });
    let mut req = Request::builder().method(method).uri(path);
    if let Some(h) = req.headers_mut() {
        *h = outgoing_headers(headers);
        if let Ok(v) = HeaderValue::from_str(&host) {
            h.insert(header::HOST, v);
        }
        if upgrade {
            h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
            h.insert(header::UPGRADE, HeaderValue::from_static("tcp"));
        }
    }
    let req = req
        .body(body)
        .map_err(|e| AppError::bad_request("invalid_request", e.to_string()))?;
    let mut response = sender
        .send_request(req)
        .await
        .map_err(|e| AppError::DockerUnavailable(format!("{}: {e}", ep.host)))?;
    if upgrade && response.status() == StatusCode::SWITCHING_PROTOCOLS {
        let daemon = hyper::upgrade::on(&mut response);
        return Ok(Answer::Upgraded { response, daemon });
    }
    Ok(Answer::Plain(response))
}

/// The daemon's answer for the client, streaming; hop headers dropped.
pub fn stream_back(response: Response<hyper::body::Incoming>) -> axum::response::Response {
    let (parts, body) = response.into_parts();
    let mut out = axum::response::Response::new(Body::new(body));
    *out.status_mut() = parts.status;
    for (k, v) in &parts.headers {
        if !HOP.contains(&k.as_str()) || k == header::CONTENT_LENGTH {
            out.headers_mut().append(k.clone(), v.clone());
        }
    }
    out
}

/// A whole (small) answer body, for the answers berth filters; bounded.
pub async fn collect(
    response: Response<hyper::body::Incoming>,
    limit: usize,
) -> AppResult<(StatusCode, HeaderMap, bytes::Bytes)> {
    let (parts, body) = response.into_parts();
    let limited = http_body_util::Limited::new(body, limit);
    let bytes = limited
        .collect()
        .await
        .map_err(|e| AppError::Docker(format!("the daemon's answer could not be read: {e}")))?
        .to_bytes();
    Ok((parts.status, parts.headers, bytes))
}

/// Join the client's upgraded connection and the daemon's, both ways, until either ends.
pub fn join(client: OnUpgrade, daemon: OnUpgrade) {
    tokio::spawn(async move {
        let (Ok(client), Ok(daemon)) = (client.await, daemon.await) else {
            return;
        };
        let mut client = TokioIo::new(client);
        let mut daemon = TokioIo::new(daemon);
        let _ = tokio::io::copy_bidirectional(&mut client, &mut daemon).await;
    });
}

/// The `101` for the client, with the daemon's content type.
pub fn switching(daemon: &Response<hyper::body::Incoming>) -> axum::response::Response {
    let mut out = axum::response::Response::new(Body::empty());
    *out.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = out.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("tcp"));
    if let Some(ct) = daemon.headers().get(header::CONTENT_TYPE) {
        h.insert(header::CONTENT_TYPE, ct.clone());
    }
    out
}
