//! Terminal echo: one byte typed into `sh` with a tty → the echo back, through berth's
//! `/api/containers/{id}/exec/ws?cmd=sh&tty=true` against the daemon's own exec start
//! hijack on its socket (a tty: raw bytes both ways, no multiplexing).

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio_tungstenite::tungstenite::Message;

use crate::berth::Ws;
use crate::report::{self, Row};
use crate::Ctx;

enum Term {
    Berth(Box<Ws>),
    Raw(UnixStream),
}

impl Term {
    async fn open(ctx: &Ctx, id: &str, berth: bool) -> Result<Term> {
        if berth {
            let ws = ctx
                .berth
                .ws(&format!("/api/containers/{id}/exec/ws?cmd=sh&tty=true"))
                .await?;
            return Ok(Term::Berth(Box::new(ws)));
        }
        let exec = ctx
            .daemon
            .json(
                "POST",
                &format!("/containers/{id}/exec"),
                Some(
                    &json!({ "AttachStdin": true, "AttachStdout": true, "AttachStderr": true,
                               "Tty": true, "Cmd": ["sh"] }),
                ),
            )
            .await?;
        let Some(exec_id) = exec["Id"].as_str() else {
            bail!("exec create gave no Id");
        };
        let s = ctx
            .daemon
            .hijack(
                &format!("/exec/{exec_id}/start"),
                Some(&json!({ "Detach": false, "Tty": true })),
            )
            .await?;
        Ok(Term::Raw(s))
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<()> {
        match self {
            Term::Berth(ws) => ws.send(Message::Binary(bytes.to_vec().into())).await?,
            Term::Raw(s) => s.write_all(bytes).await?,
        }
        Ok(())
    }

    /// The next bytes from the terminal; None when it ended.
    async fn recv(&mut self, buf: &mut Vec<u8>) -> Result<bool> {
        buf.clear();
        match self {
            Term::Berth(ws) => loop {
                match ws.next().await {
                    Some(Ok(Message::Binary(b))) => {
                        buf.extend_from_slice(&b);
                        return Ok(true);
                    }
                    Some(Ok(Message::Text(t))) => {
                        buf.extend_from_slice(t.as_bytes());
                        return Ok(true);
                    }
                    Some(Ok(Message::Ping(p))) => ws.send(Message::Pong(p)).await?,
                    Some(Ok(Message::Close(_))) | None => return Ok(false),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e.into()),
                }
            },
            Term::Raw(s) => {
                buf.resize(4096, 0);
                let n = s.read(buf).await?;
                buf.truncate(n);
                Ok(n > 0)
            }
        }
    }

    /// Reads until nothing came for `quiet` (bounded by 5 s).
    async fn drain(&mut self, quiet: Duration) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut buf = Vec::new();
        while Instant::now() < deadline {
            match tokio::time::timeout(quiet, self.recv(&mut buf)).await {
                Ok(Ok(true)) => {}
                Ok(Ok(false)) => bail!("the terminal closed"),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(()),
            }
        }
        Ok(())
    }
}

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let name = format!("berth-bench-{}-term", ctx.daemon.run);
    let idle = "trap 'exit 0' TERM; while true; do sleep 1; done";
    let id = ctx
        .daemon
        .create(&name, &["sh", "-c", idle], json!({}), true)
        .await?;
    let res = measure(ctx, &id).await;
    let _ = ctx
        .daemon
        .json("DELETE", &format!("/containers/{id}?force=1"), None)
        .await;
    let (b, r) = res?;
    let (b99, r99) = (report::percentile(&b, 99.0), report::percentile(&r, 99.0));
    let row = Row::new(
        format!("terminal echo, byte typed → echoed, {} bytes each", b.len()),
        format!(
            "p50 {} / p99 {}",
            report::ms(report::median(&b)),
            report::ms(b99)
        ),
        format!(
            "p50 {} / p99 {} daemon exec hijack",
            report::ms(report::median(&r)),
            report::ms(r99)
        ),
    )
    .ratio(format!("p99 +{}", report::ms(b99 - r99)))
    .target("p99 ≤ raw + 2 ms", b99 <= r99 + 2.0);
    report::announce(&row);
    Ok(vec![row])
}

async fn measure(ctx: &Ctx, id: &str) -> Result<(Vec<f64>, Vec<f64>)> {
    let (mut b, mut r) = (Vec::new(), Vec::new());
    let per_round = 50;
    let mut buf = Vec::new();
    for round in 0..crate::rounds(6) {
        for berth in [round % 2 == 0, round % 2 != 0] {
            let mut term = Term::open(ctx, id, berth).await?;
            // The prompt, then quiet.
            term.drain(Duration::from_millis(300)).await?;
            for i in 0..per_round {
                let byte = b'a' + (i % 26) as u8;
                let sent = Instant::now();
                term.send(&[byte]).await?;
                let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
                loop {
                    match tokio::time::timeout_at(deadline, term.recv(&mut buf)).await {
                        Ok(Ok(true)) if buf.contains(&byte) => break,
                        Ok(Ok(true)) => {}
                        Ok(Ok(false)) => bail!("the terminal closed"),
                        Ok(Err(e)) => return Err(e),
                        Err(_) => bail!("no echo of {:?} within 5 s", byte as char),
                    }
                }
                let ms = sent.elapsed().as_secs_f64() * 1000.0;
                if berth {
                    b.push(ms)
                } else {
                    r.push(ms)
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            // Clear the typed line and leave.
            term.send(b"\x15exit\r").await?;
            let _ = term.drain(Duration::from_millis(100)).await;
        }
    }
    Ok((b, r))
}
