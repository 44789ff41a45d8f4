//! `bench`: berth side by side with the Docker daemon itself and with nginx, in one run.
//! Started by `cargo xtask bench`, which builds everything and sets the variables below;
//! prints the table and rewrites the generated part of BENCHMARKS.md.
//!
//! Every comparison alternates (berth, reference, berth, ...) over several rounds and
//! reports medians, because the machines are noisy. Every loop is bounded in count and
//! time; everything talks to 127.0.0.1 or the daemon's unix socket only. Containers carry
//! the label `berth-bench=1` and this run's `berth-bench-run` id and are removed at the end,
//! also on Ctrl-C.
//!
//! Variables: BERTH_TEST_DOCKER_HOST (required, `unix://`), BERTH_BIN (release berth),
//! BERTH_TEST_IMAGE, BERTH_UI_DIR, BERTH_CHROMIUM, BERTH_CHROMEDRIVER, BERTH_NGINX,
//! BERTH_BENCH_OUT (the markdown file to update), BERTH_BENCH_ONLY (comma-separated
//! groups: weight, list, load, logs, exec, stats, files, envs), BERTH_BENCH_QUICK=1 (fewer
//! rounds), BERTH_TEST_HOSTS (the hosts file of `cargo xtask hosts`, for envs).

mod berth;
mod cli;
mod docker;
mod envs;
mod exec;
mod fanout;
mod files;
mod frontend;
mod list;
mod logs;
mod nginx;
mod report;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use report::Row;

pub fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

pub fn image() -> String {
    std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into())
}

/// Fewer rounds, for trying the bench out.
pub fn quick() -> bool {
    std::env::var_os("BERTH_BENCH_QUICK").is_some_and(|v| v != "0")
}

/// Rounds of an alternating comparison.
pub fn rounds(full: usize) -> usize {
    if quick() {
        full.div_ceil(3).max(2)
    } else {
        full
    }
}

fn selected(group: &str) -> bool {
    match std::env::var("BERTH_BENCH_ONLY") {
        Ok(only) if !only.trim().is_empty() => only.split(',').any(|g| g.trim() == group),
        _ => true,
    }
}

/// Everything a bench may need, started once.
pub struct Ctx {
    pub berth: berth::Berth,
    pub daemon: docker::Daemon,
    pub files: files::Fixture,
    /// berth's RSS right after start and login (before anything else ran).
    pub idle_rss: u64,
    /// Whether this berth has `--share` (issue 7).
    pub shares: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let host = std::env::var("BERTH_TEST_DOCKER_HOST")
        .context("BERTH_TEST_DOCKER_HOST is not set: run `cargo xtask bench`")?;
    let bin: PathBuf = std::env::var_os("BERTH_BIN")
        .map(Into::into)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/berth")
        });
    let daemon = docker::Daemon::new(&host)?;

    let fixture = files::Fixture::make()?;
    // Before issue 7 berth has no --share flag: the share rows then say so.
    let shares = if berth::knows_flag(&bin, "--share") {
        fixture.shares()
    } else {
        eprintln!(
            "bench: {} has no --share flag; the share rows will not run",
            bin.display()
        );
        Vec::new()
    };
    let has_shares = !shares.is_empty();
    let berth = berth::Berth::start(&bin, &host, &shares).await?;
    // Idle: started, logged in, one API call answered; nothing else has run yet.
    let _ = berth.http.get(berth.url("/api/auth/me")).send().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss = berth.rss()?;
    let mut ctx = Ctx {
        berth,
        daemon: daemon.clone(),
        files: fixture,
        idle_rss,
        shares: has_shares,
    };

    let benches = async {
        let mut rows: Vec<Row> = Vec::new();
        rows.push(report::idle_row(ctx.idle_rss));
        if selected("weight") {
            rows.extend(report::or_failed("frontend weight", frontend::weight()));
        }
        if selected("list") || selected("load") {
            rows.extend(report::or_failed(
                "container list",
                list::run(&mut ctx, selected("list"), selected("load")).await,
            ));
        }
        if selected("logs") {
            rows.extend(report::or_failed("log follow", logs::run(&ctx).await));
        }
        if selected("exec") {
            rows.extend(report::or_failed("terminal echo", exec::run(&ctx).await));
        }
        if selected("stats") {
            rows.extend(report::or_failed("stats fan-out", fanout::run(&ctx).await));
        }
        if selected("files") {
            rows.extend(report::or_failed("shares", files::run(&ctx).await));
        }
        if selected("envs") {
            rows.extend(report::or_failed("environments", envs::run(&ctx).await));
        }
        rows
    };
    // Ctrl-C or SIGTERM (passed on by xtask) still removes what the run created.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let rows = tokio::select! {
        rows = benches => Some(rows),
        _ = tokio::signal::ctrl_c() => None,
        _ = term.recv() => None,
    };
    match daemon.remove_run().await {
        Ok(n) if n > 0 => eprintln!("bench: removed the run's {n} containers"),
        Ok(_) => {}
        Err(e) => eprintln!("bench: cleanup failed: {e:#}"),
    }
    let rows = rows.context("interrupted")?;
    let table = report::markdown(&rows);
    println!("\n{table}");
    if let Some(out) = std::env::var_os("BERTH_BENCH_OUT") {
        report::write(&PathBuf::from(out), &table)?;
    }
    Ok(())
}
