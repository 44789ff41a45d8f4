//! The `berth` binary: flags and environment → `Config`, logging, graceful shutdown.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use berth::config::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    return_big_allocations();
    let cli = Cli::parse();
    if let Some(Command::Healthcheck) = cli.command {
        // With --public-url, berth answers only to those names: ask as the first one.
        let host = cli
            .config
            .public_urls
            .first()
            .map_or_else(|| "localhost".to_owned(), |u| u.host_header());
        return healthcheck(cli.config.listen, host).await;
    }

    // Colours only on a terminal: a log file or pipe gets plain words (and NO_COLOR wins).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_ansi(ansi)
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

/// glibc serves allocations above a *sliding* threshold with mmap: once a big block (a
/// login's 19 MiB argon2 memory) is freed, the threshold rises past it and the next such
/// block comes from the heap, where it stays resident after use: 20 MB more RSS for good
/// after the second login. A fixed threshold keeps big blocks in mmap, returned on free.
/// 4 MiB: above the buffers of streams (file chunks of 512 KiB are reused from the heap,
/// not mapped and faulted in afresh each time), far below argon2's 19 MiB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn return_big_allocations() {
    // SAFETY: mallopt only sets an allocator parameter; called once, first thing in main.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_big_allocations() {}

async fn run(config: berth::config::Config) -> anyhow::Result<()> {
    let listen = config.listen;
    let header_timeout = Duration::from_secs(config.header_timeout_seconds);
    if config.public_urls.is_empty() && !listen.ip().is_loopback() {
        tracing::warn!(
            "listening on {listen} without --public-url: berth answers to any host name, so \
             a page whose name an attacker points at this address (DNS rebinding) reaches it. \
             Set --public-url (BERTH_PUBLIC_URL) to the URL people use, e.g. \
             --public-url https://berth.example.com"
        );
    }
    let state = berth::state::AppState::start(config).await?;
    let app = berth::app(state);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    tracing::info!("berth listening on http://{}", listener.local_addr()?);

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(berth::serve::run(listener, app, header_timeout, async {
        let _ = stop_rx.await;
    }));
    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(());
    // Open websockets (logs, terminals) would hold a graceful shutdown forever: give
    // in-flight requests a few seconds, then go.
    match tokio::time::timeout(Duration::from_secs(5), server).await {
        Ok(joined) => joined?,
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
async fn healthcheck(listen: std::net::SocketAddr, host: String) -> ExitCode {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut addr = listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream
            .write_all(format!("GET /api/health HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
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
