//! Request bodies that stall are ended. The timeout is on *inactivity*: the clock runs only
//! while a handler waits for the next piece of the body and none comes, and restarts with
//! each piece. A long upload that keeps flowing takes as long as it needs; one that stops
//! sending (a slow-body attack, a dead client on a half-open connection) is answered 408
//! after `--body-idle-seconds`, and its connection closed.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::State;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::error::AppError;
use crate::state::AppState;

pub async fn guard(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    // Most requests (GETs, websocket handshakes) have no body: nothing to watch.
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let idle = Duration::from_secs(state.config.body_idle_seconds);
    let stalled = Arc::new(AtomicBool::new(false));
    let flag = stalled.clone();
    let req = req.map(|body| Body::new(IdleBody::new(body, idle, flag)));
    let resp = next.run(req).await;
    if !stalled.load(Ordering::Acquire) {
        return resp;
    }
    // Whatever the handler made of the broken body (a 400 for bad JSON, an upload error),
    // the cause is the client's silence. The rest of its body is never read: close.
    let mut resp = AppError::coded(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        format!(
            "the request body stalled: nothing came for {} s (--body-idle-seconds)",
            idle.as_secs()
        ),
    )
    .into_response();
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// A body that fails when its next frame is awaited for longer than `idle`.
struct IdleBody {
    inner: Body,
    idle: Duration,
    /// Armed while the consumer waits for a frame that has not come.
    timer: Option<Pin<Box<Sleep>>>,
    waiting: bool,
    stalled: Arc<AtomicBool>,
}

impl IdleBody {
    fn new(inner: Body, idle: Duration, stalled: Arc<AtomicBool>) -> Self {
        IdleBody {
            inner,
            idle,
            timer: None,
            waiting: false,
            stalled,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the request body sent nothing for {0:?}")]
struct Stalled(Duration);

impl HttpBody for IdleBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        // Every field is Unpin (the body and the timer are boxed).
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            this.waiting = false;
            return Poll::Ready(frame);
        }
        // Nothing yet: start the clock if this wait just began, then see if it ran out.
        if !this.waiting {
            this.waiting = true;
            let deadline = Instant::now() + this.idle;
            match &mut this.timer {
                Some(timer) => timer.as_mut().reset(deadline),
                None => this.timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
        }
        match this.timer.as_mut().map(|t| t.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => {
                this.stalled.store(true, Ordering::Release);
                Poll::Ready(Some(Err(axum::Error::new(Stalled(this.idle)))))
            }
            _ => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    const IDLE: Duration = Duration::from_millis(300);

    fn body_of(
        chunks: impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    ) -> (Body, Arc<AtomicBool>) {
        let flag = Arc::new(AtomicBool::new(false));
        let body = Body::new(IdleBody::new(Body::from_stream(chunks), IDLE, flag.clone()));
        (body, flag)
    }

    #[tokio::test]
    async fn a_flowing_body_may_take_long_a_stalled_one_ends() {
        // A chunk every 100 ms for a second: much longer than IDLE in all, never idle.
        let slow = futures::stream::iter(0..10).then(|_| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok::<_, std::io::Error>(Bytes::from_static(b"data"))
        });
        let (body, flag) = body_of(slow);
        let got = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        assert_eq!(got.len(), 40);
        assert!(!flag.load(Ordering::Acquire));

        // One chunk, then silence.
        let stalls =
            futures::stream::iter([Ok(Bytes::from_static(b"x"))]).chain(futures::stream::pending());
        let (body, flag) = body_of(stalls);
        let started = std::time::Instant::now();
        assert!(axum::body::to_bytes(body, usize::MAX).await.is_err());
        assert!(flag.load(Ordering::Acquire));
        assert!(started.elapsed() < IDLE * 3);
    }
}
