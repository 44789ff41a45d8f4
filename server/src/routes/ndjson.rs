//! `application/x-ndjson` answers for long operations: one JSON object a line, as the
//! daemon reports progress, ending with `{"done":{...}}` or `{"error":{"code","message"}}`.
//!
//! The first line is awaited before answering: a failure the daemon reports at once (a bad
//! reference, an unreachable registry, a context that is not a tar) gets its own HTTP
//! status instead of a 200 with an error inside. After that the body is pulled by the
//! client: nothing is read from the daemon faster than the browser takes it.

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use sqlx::SqlitePool;
use wire::ProgressLine;

use crate::auth::CurrentUser;
use crate::docker::progress::Lines;
use crate::error::{AppError, AppResult};
use crate::store::audit;

/// Who to audit when the stream ends, and as what.
pub struct Audit {
    pub db: SqlitePool,
    pub user: CurrentUser,
    pub action: &'static str,
    pub target: String,
}

impl Audit {
    /// `ok`, or the error's code.
    async fn record(&self, result: &str) {
        audit::record(
            &self.db,
            audit::Entry {
                user: Some(&self.user.username),
                action: self.action,
                target: Some(&self.target),
                result,
                peer: None,
            },
        )
        .await;
    }
}

/// The audit of a running stream: recorded once, at its end; a stream the client dropped
/// before its end is recorded as `cancelled`.
struct Pending(Option<Audit>);

impl Pending {
    fn take(&mut self) -> Option<Audit> {
        self.0.take()
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(a) = self.0.take() {
            tokio::spawn(async move { a.record("cancelled").await });
        }
    }
}

fn encode(line: &ProgressLine) -> axum::body::Bytes {
    let mut out = serde_json::to_vec(line).unwrap_or_else(|_| b"{}".to_vec());
    out.push(b'\n');
    out.into()
}

fn error_line(err: &AppError) -> ProgressLine {
    let body = err.body();
    ProgressLine {
        error: Some(wire::ErrorDetailLite {
            code: body.error.code,
            message: body.error.message,
        }),
        ..Default::default()
    }
}

/// The response for a running operation.
pub async fn respond(mut lines: Lines, audit: Audit) -> AppResult<Response> {
    let first = match lines.recv().await {
        Some(Ok(line)) => line,
        Some(Err(err)) => {
            audit.record(err.code()).await;
            return Err(err);
        }
        None => {
            let err = AppError::Docker("the daemon ended the operation without a word".into());
            audit.record(err.code()).await;
            return Err(err);
        }
    };
    // State: the channel, the audit (taken once the end is seen), the first line.
    let state = (lines, Pending(Some(audit)), Some(first));
    let body = futures::stream::unfold(state, |(mut lines, mut audit, first)| async move {
        let next = match first {
            Some(line) => Some(Ok(line)),
            None => lines.recv().await,
        };
        let bytes = match next {
            Some(Ok(line)) => {
                if line.done.is_some() {
                    if let Some(a) = audit.take() {
                        a.record("ok").await;
                    }
                }
                encode(&line)
            }
            Some(Err(err)) => {
                if let Some(a) = audit.take() {
                    a.record(err.code()).await;
                }
                tracing::debug!(code = err.code(), "stream ended with {err}");
                encode(&error_line(&err))
            }
            None => {
                // The channel closed: the operation's task ended (its last line was sent).
                return None;
            }
        };
        Some((Ok::<_, std::io::Error>(bytes), (lines, audit, None)))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            // Proxies must not hold progress back to fill a buffer.
            (header::CACHE_CONTROL, "no-cache"),
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(body.boxed()),
    )
        .into_response())
}
