//! Issue 14: a host that is down or blackholed never slows a request to another.
//!
//! Two hosts from `cargo xtask hosts` (network namespaces, mutual TLS), added to berth as
//! `bench-a` and `bench-b`. Each round lists the containers of `bench-a` with `bench-b`
//! healthy, then right after `bench-b`'s dockerd is stopped with SIGSTOP (it still accepts
//! TCP connections and never answers: a blackhole), then once its health loop has marked it
//! down; then `bench-b` is resumed and must come back by itself. The dockerd is always
//! resumed, also when a step fails.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::report::{ms, percentile, Row};
use crate::{rounds, Ctx};

const A: &str = "bench-a";
const B: &str = "bench-b";
/// Requests per phase and round (after a few to warm up).
const PER_PHASE: usize = 100;

/// Resumes the stopped dockerd however the round ends.
struct Resume(i32);

impl Drop for Resume {
    fn drop(&mut self) {
        let _ = signal(self.0, libc::SIGCONT);
    }
}

/// kill(2) to one process: the dockerd the harness started for the second host (its pid
/// from the hosts file, checked > 1 before use), never a group.
fn signal(pid: i32, sig: i32) -> std::io::Result<()> {
    #[allow(unsafe_code)]
    // SAFETY: kill(2) has no memory effects; the pid is a single process (> 1).
    let rc = unsafe { libc::kill(pid, sig) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let file = std::env::var("BERTH_TEST_HOSTS")
        .context("BERTH_TEST_HOSTS is not set: `cargo xtask bench` starts the test hosts")?;
    let hosts: Value = serde_json::from_str(
        &std::fs::read_to_string(&file).with_context(|| format!("reading {file}"))?,
    )?;
    let pem = |what: &str| -> Result<String> {
        let path = hosts["pki"][what]
            .as_str()
            .with_context(|| format!("hosts file has no pki.{what}"))?;
        std::fs::read_to_string(path).with_context(|| format!("reading {path}"))
    };
    let tls = json!({"ca": pem("ca")?, "cert": pem("cert")?, "key": pem("key")?});
    let b_pid = hosts["hosts"][1]["dockerd_pid"]
        .as_i64()
        .filter(|p| *p > 1)
        .context("hosts file has no second host's dockerd pid")? as i32;
    for (name, i) in [(A, 0), (B, 1)] {
        let url = hosts["hosts"][i]["tcp"]
            .as_str()
            .context("a host's tcp url")?;
        let r = ctx
            .berth
            .http
            .post(ctx.berth.url("/api/environments"))
            .json(&json!({"name": name, "url": url, "tls": tls}))
            .send()
            .await?;
        if r.status() != 201 {
            bail!("adding {name}: {} {}", r.status(), r.text().await?);
        }
    }
    let res = measure(ctx, b_pid).await;
    for name in [A, B] {
        let _ = ctx
            .berth
            .http
            .delete(ctx.berth.url(&format!("/api/environments/{name}")))
            .send()
            .await;
    }
    res
}

async fn measure(ctx: &Ctx, b_pid: i32) -> Result<Vec<Row>> {
    wait_status(ctx, A, "up", Duration::from_secs(20)).await?;
    wait_status(ctx, B, "up", Duration::from_secs(20)).await?;
    let (mut healthy, mut blackholed, mut down) = (Vec::new(), Vec::new(), Vec::new());
    let (mut marked, mut back) = (Vec::new(), Vec::new());
    for _ in 0..rounds(5) {
        healthy.extend(sample(ctx).await?);
        signal(b_pid, libc::SIGSTOP).with_context(|| format!("could not stop dockerd {b_pid}"))?;
        let resume = Resume(b_pid);
        let stopped = Instant::now();
        blackholed.extend(sample(ctx).await?);
        wait_status(ctx, B, "down", Duration::from_secs(30)).await?;
        marked.push(stopped.elapsed().as_secs_f64());
        down.extend(sample(ctx).await?);
        drop(resume);
        let resumed = Instant::now();
        wait_status(ctx, B, "up", Duration::from_secs(30)).await?;
        back.push(resumed.elapsed().as_secs_f64());
    }
    let figures = |v: &[f64]| {
        format!(
            "p50 {} / p95 {}",
            ms(percentile(v, 50.0)),
            ms(percentile(v, 95.0))
        )
    };
    let (h50, h95) = (percentile(&healthy, 50.0), percentile(&healthy, 95.0));
    let row = |bench: &str, v: &[f64]| {
        let (p50, p95) = (percentile(v, 50.0), percentile(v, 95.0));
        // Noise on this machine: a p50 within 20 % (or 1 ms) and a p95 within 5 ms.
        let met = (p50 <= h50 * 1.2 || p50 <= h50 + 1.0) && p95 <= h95 + 5.0;
        Row::new(
            bench,
            figures(v),
            format!("{} with {B} healthy", figures(&healthy)),
        )
        .ratio(format!("{:.2}", p50 / h50))
        .target("no difference beyond noise", met)
    };
    let worst = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    Ok(vec![
        row(
            &format!("container list on host {A} (TLS) while {B} is blackholed (just stopped)"),
            &blackholed,
        ),
        row(
            &format!("container list on host {A} (TLS) while {B} is marked down"),
            &down,
        ),
        Row::new(
            format!("{B} marked down after SIGSTOP; back after SIGCONT (worst of the rounds)"),
            format!("{:.1} s; {:.1} s", worst(&marked), worst(&back)),
            "—",
        )
        .target(
            "within a few seconds (≤ 10 s)",
            worst(&marked) <= 10.0 && worst(&back) <= 10.0,
        ),
    ])
}

/// One phase: a few requests to warm up, then [`PER_PHASE`] timed ones, in milliseconds.
async fn sample(ctx: &Ctx) -> Result<Vec<f64>> {
    let url = ctx
        .berth
        .url(&format!("/api/containers?all=true&endpoint={A}"));
    let mut out = Vec::with_capacity(PER_PHASE);
    for i in 0..PER_PHASE + 5 {
        let t = Instant::now();
        let r = ctx.berth.http.get(&url).send().await?;
        let status = r.status();
        r.bytes().await?;
        if status != 200 {
            bail!("listing {A} answered {status}");
        }
        if i >= 5 {
            out.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    Ok(out)
}

async fn wait_status(ctx: &Ctx, name: &str, want: &str, within: Duration) -> Result<()> {
    let deadline = Instant::now() + within;
    loop {
        let list: Value = ctx
            .berth
            .http
            .get(ctx.berth.url("/api/environments"))
            .send()
            .await?
            .json()
            .await?;
        let status = list
            .as_array()
            .and_then(|l| l.iter().find(|e| e["name"] == name))
            .map(|e| e["status"].as_str().unwrap_or_default().to_owned());
        if status.as_deref() == Some(want) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{name} is not {want} after {within:?} (it is {status:?})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
