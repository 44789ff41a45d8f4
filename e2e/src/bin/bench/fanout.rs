//! Stats fan-out: 20 containers, each watched by 10 viewers of `/api/containers/{id}/stats/ws`.
//! Counted: how many connections berth holds to the daemon's socket once all 200 viewers
//! get frames, less those it held before (its event stream, an idle pooled connection).
//! One stats stream per watched container is the target.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures::StreamExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::report::{self, Row};
use crate::Ctx;

const CONTAINERS: usize = 20;
const VIEWERS: usize = 10;

/// berth's unix connections whose peer is the daemon's listening socket, from `ss -xpn`
/// (columns: netid state recv-q send-q local inode peer peer-inode process).
pub fn daemon_connections(pid: u32, socket: &Path) -> Result<usize> {
    let out = std::process::Command::new("ss")
        .arg("-xpn")
        .output()
        .context("cannot run `ss` (iproute2)")?;
    if !out.status.success() {
        bail!("`ss -xpn` failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let socket = socket.to_string_lossy();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let daemon_side: HashSet<&str> = rows
        .iter()
        .filter(|t| t.len() >= 8 && t[4] == socket)
        .map(|t| t[5])
        .collect();
    let mine = format!("pid={pid},");
    Ok(rows
        .iter()
        .filter(|t| t.len() >= 9 && t[8..].iter().any(|p| p.contains(&mine)))
        .filter(|t| daemon_side.contains(t[7]))
        .count())
}

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let mut ids = Vec::new();
    let idle = "trap 'exit 0' TERM; while true; do sleep 1; done";
    for i in 0..CONTAINERS {
        let name = format!("berth-bench-{}-stats-{i}", ctx.daemon.run);
        ids.push(
            ctx.daemon
                .create(&name, &["sh", "-c", idle], json!({}), true)
                .await?,
        );
    }
    let res = measure(ctx, &ids).await;
    for id in &ids {
        let _ = ctx
            .daemon
            .json("DELETE", &format!("/containers/{id}?force=1"), None)
            .await;
    }
    let (baseline, during) = res?;
    let opened = during.saturating_sub(baseline);
    let row = Row::new(
        format!(
            "stats fan-out: {CONTAINERS} containers × {VIEWERS} viewers, daemon streams opened"
        ),
        format!("{opened} (berth's daemon connections {baseline} → {during})"),
        format!("{CONTAINERS} containers watched"),
    )
    .ratio(format!("{:.2}", opened as f64 / CONTAINERS as f64))
    .target("equal (one per container)", opened == CONTAINERS);
    report::announce(&row);
    Ok(vec![row])
}

async fn measure(ctx: &Ctx, ids: &[String]) -> Result<(usize, usize)> {
    // Settle: one request so the pooled connection exists before the baseline.
    ctx.berth
        .http
        .get(ctx.berth.url("/api/containers"))
        .send()
        .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let baseline = daemon_connections(ctx.berth.pid, ctx.daemon.socket())?;
    let (got_tx, mut got_rx) = tokio::sync::mpsc::channel::<()>(CONTAINERS * VIEWERS);
    let mut readers = Vec::new();
    // Viewer by viewer, so the access checks reuse one pooled connection rather than
    // opening many at once (which would blur the count).
    for _ in 0..VIEWERS {
        for id in ids {
            let mut ws = ctx
                .berth
                .ws(&format!("/api/containers/{id}/stats/ws"))
                .await?;
            let got = got_tx.clone();
            readers.push(tokio::spawn(async move {
                let mut first = true;
                while let Some(Ok(m)) = ws.next().await {
                    if first && matches!(m, Message::Text(_)) {
                        first = false;
                        let _ = got.send(()).await;
                    }
                }
            }));
        }
    }
    let all = async {
        for _ in 0..readers.len() {
            got_rx.recv().await;
        }
    };
    let flowing = tokio::time::timeout(Duration::from_secs(30), all)
        .await
        .is_ok();
    let during = daemon_connections(ctx.berth.pid, ctx.daemon.socket());
    for r in &readers {
        r.abort();
    }
    if !flowing {
        bail!("not every viewer got a stats frame within 30 s");
    }
    Ok((baseline, during?))
}
