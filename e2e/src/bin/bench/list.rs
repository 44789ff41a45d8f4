//! Container list at 100 and 1,000 containers: `GET /api/containers?all=true` through berth
//! against `GET /containers/json?all=1` on the daemon's socket, both over a kept-alive
//! connection, reading the whole body. The first-load row runs at 100 containers.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::report::{self, Row};
use crate::{frontend, Ctx};

/// Creates containers (created, not started: the list shows them all the same) until this
/// run has `want`, four at a time.
async fn grow(ctx: &Ctx, have: &mut usize, want: usize) -> Result<()> {
    let started = Instant::now();
    while *have < want {
        let batch: Vec<usize> = (*have..want.min(*have + 4)).collect();
        let jobs = batch.iter().map(|i| {
            let name = format!("berth-bench-{}-{i}", ctx.daemon.run);
            async move {
                ctx.daemon
                    .create(&name, &["true"], serde_json::json!({}), false)
                    .await
            }
        });
        for r in futures::future::join_all(jobs).await {
            r?;
        }
        *have += batch.len();
        if started.elapsed() > Duration::from_secs(600) {
            bail!("creating {want} containers took over 10 minutes");
        }
    }
    Ok(())
}

pub async fn run(ctx: &mut Ctx, list: bool, load: bool) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let mut have = 0;
    eprintln!("bench: creating 100 containers");
    grow(ctx, &mut have, 100).await?;
    if list {
        rows.push(compare(ctx, 100, crate::rounds(10), 10).await?);
        rows.push(report::or_failed_one(
            "docker ps through berth",
            crate::cli::ps(ctx, 100, crate::rounds(10)).await,
        ));
    }
    if load {
        rows.push(report::or_failed_one(
            "first load",
            frontend::first_load(&ctx.berth, crate::rounds(5), total(ctx).await?).await,
        ));
    }
    if list {
        eprintln!("bench: creating 900 more containers");
        grow(ctx, &mut have, 1000).await?;
        rows.push(compare(ctx, 1000, crate::rounds(8), 5).await?);
        rows.push(report::or_failed_one(
            "docker ps through berth",
            crate::cli::ps(ctx, 1000, crate::rounds(6)).await,
        ));
        rows.push(report::or_failed_one(
            "docker logs through berth",
            crate::cli::logs(ctx, crate::rounds(3)).await,
        ));
    }
    Ok(rows)
}

/// How many containers the daemon lists (ours and whatever else is on it).
async fn total(ctx: &Ctx) -> Result<usize> {
    let v = ctx
        .daemon
        .json("GET", "/containers/json?all=1", None)
        .await?;
    Ok(v.as_array().map_or(0, Vec::len))
}

async fn compare(ctx: &Ctx, ours: usize, rounds: usize, per_round: usize) -> Result<Row> {
    let url = ctx.berth.url("/api/containers?all=true");
    let mut raw = ctx.daemon.conn().await?;
    let (mut b, mut r) = (Vec::new(), Vec::new());
    // Warm both paths (connections, berth's negotiated client) before the clock starts.
    ctx.berth.http.get(&url).send().await?.bytes().await?;
    raw.request("GET", "/containers/json?all=1", None).await?;
    let (mut berth_n, mut raw_n) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(180);
    for _ in 0..rounds {
        for _ in 0..per_round {
            let t = Instant::now();
            let resp = ctx.berth.http.get(&url).send().await?;
            if !resp.status().is_success() {
                bail!("berth answered {}", resp.status());
            }
            let body = resp.bytes().await?;
            b.push(t.elapsed().as_secs_f64() * 1000.0);
            berth_n = body.len();
        }
        for _ in 0..per_round {
            let t = Instant::now();
            let (status, body) = raw.request("GET", "/containers/json?all=1", None).await?;
            if status != 200 {
                bail!("the daemon answered {status}");
            }
            r.push(t.elapsed().as_secs_f64() * 1000.0);
            raw_n = body.len();
        }
        if Instant::now() > deadline {
            break;
        }
    }
    let n = total(ctx).await?;
    let (bm, rm) = (report::median(&b), report::median(&r));
    let ratio = bm / rm;
    let row = Row::new(
        format!("container list, {ours} containers (daemon lists {n}), p50"),
        format!("{} ({} KB JSON)", report::ms(bm), berth_n / 1000),
        format!(
            "{} ({} KB JSON) daemon socket",
            report::ms(rm),
            raw_n / 1000
        ),
    )
    .ratio(report::times(ratio))
    .target("≤ 1.2×", ratio <= 1.2);
    report::announce(&row);
    Ok(row)
}
