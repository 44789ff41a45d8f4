//! Log follow: throughput and latency through `/api/containers/{id}/logs/ws` against the
//! daemon's own `GET /containers/{id}/logs?follow=1` on its socket, and berth's memory with
//! 100 log streams open.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;

use crate::berth::Ws;
use crate::docker::{Conn, Demux};
use crate::report::{self, Row};
use crate::Ctx;

/// Long enough that a round sees many thousands of lines; short enough for the run.
const WINDOW: Duration = Duration::from_secs(3);

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    rows.push(report::or_failed_one(
        "log follow throughput",
        throughput(ctx).await,
    ));
    rows.push(report::or_failed_one(
        "log follow latency",
        latency(ctx).await,
    ));
    rows.push(report::or_failed_one(
        "memory: 100 log streams",
        hundred_streams(ctx).await,
    ));
    Ok(rows)
}

fn ws_path(id: &str) -> String {
    format!("/api/containers/{id}/logs/ws?follow=true&tail=0")
}

fn raw_path(id: &str) -> String {
    format!("/containers/{id}/logs?follow=1&stdout=1&stderr=1&tail=0")
}

/// A container's log stream, through berth or straight from the daemon.
enum Follow {
    Berth(Box<Ws>),
    /// The head is read with the first arrival: the daemon may hold its headers back
    /// until the container writes something.
    Raw(Conn, Option<crate::docker::Head>, Demux),
}

impl Follow {
    async fn open(ctx: &Ctx, id: &str, berth: bool) -> Result<Follow> {
        if berth {
            Ok(Follow::Berth(Box::new(ctx.berth.ws(&ws_path(id)).await?)))
        } else {
            let mut c = ctx.daemon.conn().await?;
            c.send("GET", &raw_path(id), None).await?;
            Ok(Follow::Raw(c, None, Demux::default()))
        }
    }

    /// Waits for the next arrival and calls `each` with every line's text it carries
    /// (berth: the frame's JSON text, one or more lines; raw: a payload). False at the end.
    async fn next(&mut self, piece: &mut Vec<u8>, mut each: impl FnMut(&[u8])) -> Result<bool> {
        match self {
            Follow::Berth(ws) => loop {
                match ws.next().await {
                    Some(Ok(Message::Text(t))) => {
                        each(t.as_bytes());
                        return Ok(true);
                    }
                    Some(Ok(Message::Ping(p))) => ws.send(Message::Pong(p)).await?,
                    Some(Ok(Message::Close(_))) | None => return Ok(false),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e.into()),
                }
            },
            Follow::Raw(c, head, demux) => {
                if head.is_none() {
                    let h = c.head().await?;
                    if h.status != 200 {
                        bail!("daemon logs answered {}", h.status);
                    }
                    *head = Some(h);
                }
                let Some(head) = head.as_ref() else {
                    return Ok(false);
                };
                if !c.next_piece(head, piece).await? {
                    return Ok(false);
                }
                demux.feed(piece, |_, payload| each(payload));
                Ok(true)
            }
        }
    }
}

/// How many log lines an arrival holds: berth frames carry `"line":` once per line (a
/// quote inside a line is escaped, so the key cannot be faked); raw payloads end in `\n`.
fn lines_in(bytes: &[u8], berth: bool) -> usize {
    if berth {
        bytes.windows(7).filter(|w| w == b"\"line\":").count()
    } else {
        bytes.iter().filter(|&&b| b == b'\n').count()
    }
}

async fn throughput(ctx: &Ctx) -> Result<Row> {
    let name = format!("berth-bench-{}-spam", ctx.daemon.run);
    // Rotated small, so minutes of spam cannot fill the daemon's disk.
    let log = json!({ "HostConfig": { "NetworkMode": "none",
        "LogConfig": { "Type": "json-file", "Config": { "max-size": "20m", "max-file": "2" } } } });
    let id = ctx
        .daemon
        .create(
            &name,
            &[
                "yes",
                "berth bench: a log line of about sixty characters, 0123456789",
            ],
            log,
            true,
        )
        .await?;
    let res = async {
        let (mut b, mut r) = (Vec::new(), Vec::new());
        for round in 0..crate::rounds(5) {
            // Alternate which goes first, so neither always gets the fresher daemon.
            for berth in [round % 2 == 0, round % 2 != 0] {
                let rate = rate_once(ctx, &id, berth).await?;
                if berth {
                    b.push(rate)
                } else {
                    r.push(rate)
                }
            }
        }
        Ok::<_, anyhow::Error>((report::median(&b), report::median(&r)))
    }
    .await;
    let _ = ctx
        .daemon
        .json("DELETE", &format!("/containers/{id}?force=1"), None)
        .await;
    let (bm, rm) = res?;
    let ratio = bm / rm;
    let row = Row::new(
        "log follow throughput (`yes` in a container), lines/s, median",
        format!("{bm:.0} lines/s"),
        format!("{rm:.0} lines/s daemon socket"),
    )
    .ratio(format!("{ratio:.2}"))
    .target("≥ 0.95", ratio >= 0.95);
    report::announce(&row);
    Ok(row)
}

/// Lines per second over [`WINDOW`], counted from the first arrival.
async fn rate_once(ctx: &Ctx, id: &str, berth: bool) -> Result<f64> {
    let mut f = Follow::open(ctx, id, berth).await?;
    let mut piece = Vec::new();
    let mut count = 0usize;
    let first = tokio::time::timeout(Duration::from_secs(10), f.next(&mut piece, |_| {}))
        .await
        .context("no log line within 10 s")??;
    if !first {
        bail!("the stream ended at once");
    }
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + WINDOW;
    loop {
        match tokio::time::timeout_at(
            deadline,
            f.next(&mut piece, |bytes| count += lines_in(bytes, berth)),
        )
        .await
        {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => bail!("the stream ended early"),
            Ok(Err(e)) => return Err(e),
            Err(_) => break,
        }
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

/// A `cat` container whose stdin we hold (the daemon's attach hijack): what we write is
/// its next log line.
async fn cat_container(ctx: &Ctx, tag: &str) -> Result<(String, tokio::net::UnixStream)> {
    let name = format!("berth-bench-{}-{tag}", ctx.daemon.run);
    let extra = json!({ "OpenStdin": true, "StdinOnce": false, "AttachStdin": true, "Tty": false });
    let id = ctx.daemon.create(&name, &["cat"], extra, true).await?;
    let stdin = ctx
        .daemon
        .hijack(&format!("/containers/{id}/attach?stream=1&stdin=1"), None)
        .await?;
    Ok((id, stdin))
}

/// Waits until a line containing `marker` arrives; None if the stream ended or `within` passed.
async fn until(
    f: &mut Follow,
    piece: &mut Vec<u8>,
    marker: &[u8],
    within: Duration,
) -> Result<Option<Instant>> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let mut seen = false;
        let got = tokio::time::timeout_at(
            deadline,
            f.next(piece, |bytes| {
                seen |= bytes.windows(marker.len()).any(|w| w == marker);
            }),
        )
        .await;
        match got {
            Ok(Ok(true)) if seen => return Ok(Some(Instant::now())),
            Ok(Ok(true)) => {}
            Ok(Ok(false)) | Err(_) => return Ok(None),
            Ok(Err(e)) => return Err(e),
        }
    }
}

async fn latency(ctx: &Ctx) -> Result<Row> {
    let (id, mut stdin) = cat_container(ctx, "cat").await?;
    let res = async {
        let (mut b, mut r) = (Vec::new(), Vec::new());
        let per_round = 40;
        for round in 0..crate::rounds(6) {
            for berth in [round % 2 == 0, round % 2 != 0] {
                let mut f = Follow::open(ctx, &id, berth).await?;
                let mut piece = Vec::new();
                // The stream is live once a line written now comes through.
                let sync = format!("sync-{round}-{berth}");
                let mut live = false;
                for _ in 0..20 {
                    stdin.write_all(format!("{sync}\n").as_bytes()).await?;
                    if until(&mut f, &mut piece, sync.as_bytes(), Duration::from_secs(1))
                        .await?
                        .is_some()
                    {
                        live = true;
                        break;
                    }
                }
                if !live {
                    bail!(
                        "the {} stream never showed a line",
                        if berth { "berth" } else { "daemon" }
                    );
                }
                for i in 0..per_round {
                    let marker = format!("mark-{round}-{berth}-{i}");
                    let sent = Instant::now();
                    stdin.write_all(format!("{marker}\n").as_bytes()).await?;
                    let Some(at) = until(
                        &mut f,
                        &mut piece,
                        marker.as_bytes(),
                        Duration::from_secs(5),
                    )
                    .await?
                    else {
                        bail!("line {marker} did not arrive within 5 s");
                    };
                    let ms = (at - sent).as_secs_f64() * 1000.0;
                    if berth {
                        b.push(ms)
                    } else {
                        r.push(ms)
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }
        Ok::<_, anyhow::Error>((b, r))
    }
    .await;
    let _ = ctx
        .daemon
        .json("DELETE", &format!("/containers/{id}?force=1"), None)
        .await;
    let (b, r) = res?;
    let (b99, r99) = (report::percentile(&b, 99.0), report::percentile(&r, 99.0));
    let row = Row::new(
        format!(
            "log follow latency, line written → seen, {} lines each",
            b.len()
        ),
        format!(
            "p50 {} / p99 {}",
            report::ms(report::median(&b)),
            report::ms(b99)
        ),
        format!(
            "p50 {} / p99 {} daemon socket",
            report::ms(report::median(&r)),
            report::ms(r99)
        ),
    )
    .ratio(format!("p99 +{}", report::ms(b99 - r99)))
    .target("p99 ≤ raw + 5 ms", b99 <= r99 + 5.0);
    report::announce(&row);
    Ok(row)
}

/// 10 containers printing ten lines a second, each followed by 10 websockets.
async fn hundred_streams(ctx: &Ctx) -> Result<Row> {
    let mut ids = Vec::new();
    for i in 0..10 {
        let name = format!("berth-bench-{}-ticker-{i}", ctx.daemon.run);
        let script = "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done";
        ids.push(
            ctx.daemon
                .create(&name, &["sh", "-c", script], json!({}), true)
                .await?,
        );
    }
    let mut readers = Vec::new();
    let (got_tx, mut got_rx) = tokio::sync::mpsc::channel::<()>(128);
    for id in &ids {
        for _ in 0..10 {
            let mut ws = ctx.berth.ws(&ws_path(id)).await?;
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
    let all_flowing = async {
        for _ in 0..readers.len() {
            got_rx.recv().await;
        }
    };
    let flowing = tokio::time::timeout(Duration::from_secs(20), all_flowing)
        .await
        .is_ok();
    let mut peak = 0;
    for _ in 0..30 {
        peak = peak.max(ctx.berth.rss()?);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for r in &readers {
        r.abort();
    }
    for id in &ids {
        let _ = ctx
            .daemon
            .json("DELETE", &format!("/containers/{id}?force=1"), None)
            .await;
    }
    if !flowing {
        bail!("not all 100 streams delivered a line within 20 s");
    }
    let row = Row::new(
        "memory: RSS with 100 concurrent log streams (peak over 3 s)",
        report::mb(peak),
        "—",
    )
    .target("≤ 60 MB", peak <= 60_000_000);
    report::announce(&row);
    Ok(row)
}
