//! The accept loop: HTTP/1 and HTTP/2 (as `axum::serve`), plus what `axum::serve` does not
//! expose: a deadline for the request head. A connection that has not sent a complete
//! request head within `--header-timeout-seconds` of opening (slowloris: many connections
//! each trickling a header, or sending nothing) is dropped, and so is a kept-alive one that
//! starts no next request in that time. Graceful shutdown and `ConnectInfo` (the client's
//! address, for throttling and the audit log) work as with `axum::serve`.

pub mod body;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// Serve `app` on `listener` until `shutdown` resolves, then wait for the open requests
/// to finish (the caller bounds that wait: websockets would hold it forever).
pub async fn run(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper's own head deadline, for every request of a kept-alive HTTP/1 connection
    // (it needs a timer to run at all, which `axum::serve` does not give it).
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(err) => {
                    accept_error(err).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        serve_connection(&builder, &graceful, tcp, addr, app.clone(), header_timeout);
    }
    drop(listener);
    graceful.shutdown().await;
}

fn serve_connection(
    builder: &auto::Builder<TokioExecutor>,
    graceful: &GracefulShutdown,
    tcp: TcpStream,
    addr: SocketAddr,
    app: Router,
    header_timeout: Duration,
) {
    // No Nagle: a terminal's echo or a log line is one small write that must leave at
    // once, not wait for the peer's delayed ACK (up to 40 ms on Linux).
    if let Err(err) = tcp.set_nodelay(true) {
        tracing::debug!("could not set TCP_NODELAY: {err}");
    }
    // Set once a first request head is complete (the service is called then).
    let started = Arc::new(AtomicBool::new(false));
    let seen = started.clone();
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        seen.store(true, Ordering::Release);
        req.extensions_mut().insert(ConnectInfo(addr));
        app.clone().oneshot(req)
    });
    let conn = builder
        .serve_connection_with_upgrades(TokioIo::new(tcp), service)
        .into_owned();
    let conn = graceful.watch(conn);
    tokio::spawn(async move {
        tokio::pin!(conn);
        // hyper's deadline covers HTTP/1 heads once it knows the connection is HTTP/1;
        // this one also covers the bytes before (it waits for them to tell HTTP/1 from
        // HTTP/2, with no limit) and the first request of an HTTP/2 connection.
        tokio::select! {
            res = &mut conn => finished(res),
            () = tokio::time::sleep(header_timeout) => {
                if started.load(Ordering::Acquire) {
                    finished(conn.await);
                } else {
                    tracing::debug!("{addr}: no complete request within {header_timeout:?}: closed");
                }
            }
        }
    });
}

fn finished(res: Result<(), Box<dyn std::error::Error + Send + Sync>>) {
    if let Err(err) = res {
        tracing::debug!("connection ended: {err}");
    }
}

/// As `axum::serve`: errors of one connection are that connection's; others (out of file
/// descriptors...) would repeat at once, so wait a little before accepting again.
async fn accept_error(err: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        err.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!("accept failed: {err}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
