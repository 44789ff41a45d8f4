//! The docker CLI through berth (`DOCKER_HOST=tcp://…/docker/local`, an admin token in
//! `config.json`) beside the same CLI on the daemon's socket: `docker ps -a` wall time, and
//! `docker logs -f` of a finished container's lines (it ends when they are all read).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::report::{self, Row};
use crate::Ctx;

const DOCKER: &str = "/usr/bin/docker";

/// A `DOCKER_CONFIG` folder with a fresh admin token of this berth.
pub async fn config(ctx: &Ctx) -> Result<tempfile::TempDir> {
    let resp = ctx
        .berth
        .http
        .post(ctx.berth.url("/api/tokens"))
        .json(&serde_json::json!({"name": "bench-cli"}))
        .send()
        .await?;
    let v: serde_json::Value = resp.json().await?;
    let token = v["token"].as_str().context("no token")?;
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::json!({"HttpHeaders": {"Authorization": format!("Bearer {token}")}})
            .to_string(),
    )?;
    Ok(dir)
}

/// Seconds one CLI command takes, through berth or on the socket.
fn time(ctx: &Ctx, config: &Path, through_berth: bool, args: &[&str]) -> Result<f64> {
    let mut cmd = Command::new(DOCKER);
    if through_berth {
        cmd.env(
            "DOCKER_HOST",
            ctx.berth.url("/docker/local").replace("http://", "tcp://"),
        )
        .env("DOCKER_CONFIG", config);
    } else {
        cmd.env("DOCKER_HOST", ctx.daemon.host())
            .env("DOCKER_CONFIG", config);
    }
    let t = Instant::now();
    let out = cmd
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()?;
    let took = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!("docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(took)
}

/// `docker ps -a` at the list bench's container count, both ways, alternating.
pub async fn ps(ctx: &Ctx, ours: usize, rounds: usize) -> Result<Row> {
    let config = config(ctx).await?;
    let (mut b, mut r) = (Vec::new(), Vec::new());
    time(ctx, config.path(), true, &["ps", "-a", "-q"])?;
    for _ in 0..rounds {
        b.push(time(ctx, config.path(), true, &["ps", "-a"])? * 1000.0);
        r.push(time(ctx, config.path(), false, &["ps", "-a"])? * 1000.0);
    }
    let (bm, rm) = (report::median(&b), report::median(&r));
    let ratio = bm / rm;
    let row = Row::new(
        format!("docker ps -a through berth, {ours} containers, p50"),
        report::ms(bm),
        format!("{} docker CLI on the socket", report::ms(rm)),
    )
    .ratio(report::times(ratio))
    .target("≤ 1.2×", ratio <= 1.2);
    report::announce(&row);
    Ok(row)
}

/// `docker logs -f` of a finished container with many lines, both ways: lines per second.
pub async fn logs(ctx: &Ctx, rounds: usize) -> Result<Row> {
    let lines = 200_000;
    let name = format!("berth-bench-{}-cli-logs", ctx.daemon.run);
    let script = format!("i=0; while [ $i -lt {lines} ]; do echo \"line $i of the docker cli log bench\"; i=$((i+1)); done");
    let id = ctx
        .daemon
        .create(&name, &["sh", "-c", &script], serde_json::json!({}), true)
        .await?;
    // Wait until it has written everything and stopped.
    ctx.daemon
        .json("POST", &format!("/containers/{id}/wait"), None)
        .await?;
    let config = config(ctx).await?;
    let (mut b, mut r) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        b.push(lines as f64 / time(ctx, config.path(), true, &["logs", "-f", &id])?);
        r.push(lines as f64 / time(ctx, config.path(), false, &["logs", "-f", &id])?);
    }
    let (bm, rm) = (report::median(&b), report::median(&r));
    let ratio = bm / rm;
    let row = Row::new(
        "docker logs -f through berth (200k lines), p50".to_string(),
        format!("{:.0} lines/s", bm),
        format!("{:.0} lines/s docker CLI on the socket", rm),
    )
    .ratio(format!("{ratio:.2}"))
    .target("≥ 0.9", ratio >= 0.9);
    report::announce(&row);
    Ok(row)
}
