//! The `berth` binary: flags and environment → `Config`, logging, graceful shutdown.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use berth::config::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Healthcheck) = cli.command {
        return healthcheck(cli.config.listen).await;
    }

    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,berth=info")),
        )
        .init();

    match run(cli.config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("berth stopped: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: berth::config::Config) -> anyhow::Result<()> {
    let listen = config.listen;
    let state = berth::state::AppState::start(config).await?;
    let app = berth::app(state);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    tracing::info!("berth listening on http://{}", listener.local_addr()?);
    // No Nagle: a terminal's echo or a log line is one small write that must leave at
    // once, not wait for the peer's delayed ACK (up to 40 ms on Linux).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!("could not set TCP_NODELAY: {err}");
        }
    });

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stop_rx.await;
        })
        .await
    });
    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(());
    // Open websockets (logs, terminals) would hold a graceful shutdown forever: give
    // in-flight requests a few seconds, then go.
    match tokio::time::timeout(Duration::from_secs(5), server).await {
        Ok(joined) => joined??,
        Err(_) => tracing::info!("closing remaining connections"),
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// `berth healthcheck`: a plain HTTP/1.0 request to our own `/api/health`, no client library.
async fn healthcheck(listen: std::net::SocketAddr) -> ExitCode {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut addr = listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream
            .write_all(b"GET /api/health HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut buf = Vec::new();
        stream.read_to_end(&mut buf).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&buf).into_owned())
    };
    match tokio::time::timeout(Duration::from_secs(5), attempt).await {
        Ok(Ok(resp)) if resp.starts_with("HTTP/1.0 200") || resp.starts_with("HTTP/1.1 200") => {
            let body = resp.split("\r\n\r\n").nth(1).unwrap_or("");
            println!("{body}");
            ExitCode::SUCCESS
        }
        Ok(Ok(resp)) => {
            eprintln!(
                "unhealthy: {}",
                resp.lines().next().unwrap_or("empty answer")
            );
            ExitCode::FAILURE
        }
        Ok(Err(e)) => {
            eprintln!("unhealthy: cannot reach berth at {addr}: {e}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("unhealthy: no answer from {addr} within 5 s");
            ExitCode::FAILURE
        }
    }
}
