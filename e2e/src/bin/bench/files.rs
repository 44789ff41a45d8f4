//! Shares against nginx: a 1 GiB download (and berth's memory meanwhile), and the
//! autoindex of a 10,000-entry folder as HTML and as JSON.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures::StreamExt;

use crate::nginx::Nginx;
use crate::report::{self, Row};
use crate::Ctx;

const BIG: u64 = 1 << 30;
const ENTRIES: usize = 10_000;
pub const DL_SHARE: &str = "bench-dl";
pub const INDEX_SHARE: &str = "bench-index";

/// The folders both servers publish: `dl/big.bin` (1 GiB, sparse) and `index/` (10,000 files).
pub struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    pub fn make() -> Result<Fixture> {
        let dir = tempfile::tempdir()?;
        // nginx's worker runs as nobody: everything must be world-readable.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
        let f = Fixture { dir };
        std::fs::create_dir(f.dl())?;
        std::fs::File::create(f.dl().join("big.bin"))?.set_len(BIG)?;
        std::fs::create_dir(f.index())?;
        for i in 0..ENTRIES {
            std::fs::write(
                f.index().join(format!("entry-{i:05}.txt")),
                format!("{i}\n"),
            )?;
        }
        Ok(f)
    }

    fn dl(&self) -> PathBuf {
        self.dir.path().join("dl")
    }

    fn index(&self) -> PathBuf {
        self.dir.path().join("index")
    }

    pub fn shares(&self) -> Vec<(String, PathBuf)> {
        vec![
            (DL_SHARE.into(), self.dl()),
            (INDEX_SHARE.into(), self.index()),
        ]
    }
}

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    if !ctx.shares {
        bail!("this berth has no --share flag (shares are issue 7)");
    }
    let nginx = Nginx::start(&ctx.files.dl(), &ctx.files.index()).await?;
    let mut rows = report::or_failed("file download", download(ctx, &nginx).await);
    rows.extend(report::or_failed("autoindex", autoindex(ctx, &nginx).await));
    Ok(rows)
}

/// Downloads `url` whole; MB/s. While `rss` is given, samples berth's RSS into it.
async fn fetch(http: &reqwest::Client, url: &str) -> Result<f64> {
    let start = Instant::now();
    let resp = http.get(url).send().await?;
    if !resp.status().is_success() {
        bail!("GET {url}: {}", resp.status());
    }
    let mut body = resp.bytes_stream();
    let mut n = 0u64;
    while let Some(chunk) = body.next().await {
        n += chunk?.len() as u64;
    }
    if n != BIG {
        bail!("GET {url}: got {n} bytes, expected {BIG}");
    }
    Ok(n as f64 / start.elapsed().as_secs_f64() / 1e6)
}

async fn download(ctx: &Ctx, nginx: &Nginx) -> Result<Vec<Row>> {
    let berth_url = ctx.berth.url(&format!("/files/{DL_SHARE}/big.bin"));
    let nginx_url = format!("{}/dl/big.bin", nginx.base);
    let plain = reqwest::Client::builder().tcp_nodelay(true).build()?;
    // Warm the page cache and both servers.
    fetch(&plain, &nginx_url).await?;
    let before = ctx.berth.rss()?;
    let peak = Arc::new(AtomicU64::new(before));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling, pid) = (peak.clone(), sampling.clone(), ctx.berth.pid);
        tokio::spawn(async move {
            // Bounded: at most 10 minutes of samples.
            for _ in 0..12_000 {
                if !sampling.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(rss) = crate::berth::rss_of(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let res = async {
        let (mut b, mut r) = (Vec::new(), Vec::new());
        for round in 0..crate::rounds(3) {
            for berth in [round % 2 == 0, round % 2 != 0] {
                if berth {
                    b.push(fetch(&ctx.berth.http, &berth_url).await?);
                } else {
                    r.push(fetch(&plain, &nginx_url).await?);
                }
            }
        }
        Ok::<_, anyhow::Error>((b, r))
    }
    .await;
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let (b, r) = res?;
    let after = ctx.berth.rss()?;
    let peak = peak.load(Ordering::Relaxed);
    let (bm, rm) = (report::median(&b), report::median(&r));
    let ratio = bm / rm;
    let dl = Row::new(
        "file download, 1 GiB from a share, MB/s, median",
        format!("{bm:.0} MB/s"),
        format!("{rm:.0} MB/s nginx sendfile"),
    )
    .ratio(format!("{ratio:.2}"))
    .target("≥ 0.9", ratio >= 0.9);
    report::announce(&dl);
    // "Flat": the download costs berth no more than a few buffers.
    let grew = peak.saturating_sub(before);
    let mem = Row::new(
        "memory: RSS during the 1 GiB downloads (before → peak → after)",
        format!(
            "{} → {} → {}",
            report::mb(before),
            report::mb(peak),
            report::mb(after)
        ),
        "—",
    )
    .ratio(format!("+{}", report::mb(grew)))
    .target("flat (peak ≤ before + 10 MB)", grew <= 10_000_000);
    report::announce(&mem);
    Ok(vec![dl, mem])
}

async fn autoindex(ctx: &Ctx, nginx: &Nginx) -> Result<Vec<Row>> {
    let plain = reqwest::Client::builder().tcp_nodelay(true).build()?;
    let mut rows = Vec::new();
    for (format, berth_path, nginx_path) in [
        ("HTML", format!("/files/{INDEX_SHARE}/"), "/html/"),
        (
            "JSON",
            format!("/files/{INDEX_SHARE}/?format=json"),
            "/json/",
        ),
    ] {
        let berth_url = ctx.berth.url(&berth_path);
        let nginx_url = format!("{}{nginx_path}", nginx.base);
        // Both must list every entry, or the comparison means nothing.
        for (who, client, url) in [
            ("berth", &ctx.berth.http, &berth_url),
            ("nginx", &plain, &nginx_url),
        ] {
            let body = client
                .get(url)
                .send()
                .await?
                .error_for_status()?
                .text()
                .await?;
            let listed = body.matches("entry-").count();
            if listed < ENTRIES {
                bail!("{who}'s {format} autoindex lists {listed} of {ENTRIES} entries");
            }
        }
        let (mut b, mut r) = (Vec::new(), Vec::new());
        let per_round = 10;
        let deadline = Instant::now() + Duration::from_secs(120);
        for round in 0..crate::rounds(6) {
            for berth in [round % 2 == 0, round % 2 != 0] {
                let (client, url) = if berth {
                    (&ctx.berth.http, &berth_url)
                } else {
                    (&plain, &nginx_url)
                };
                let start = Instant::now();
                for _ in 0..per_round {
                    let resp = client.get(url).send().await?;
                    if !resp.status().is_success() {
                        bail!("GET {url}: {}", resp.status());
                    }
                    resp.bytes().await.context("body")?;
                }
                let rps = per_round as f64 / start.elapsed().as_secs_f64();
                if berth {
                    b.push(rps)
                } else {
                    r.push(rps)
                }
            }
            if Instant::now() > deadline {
                break;
            }
        }
        let (bm, rm) = (report::median(&b), report::median(&r));
        let ratio = bm / rm;
        let row = Row::new(
            format!("autoindex, {ENTRIES} entries, {format}, requests/s, median"),
            format!("{bm:.1} req/s"),
            format!("{rm:.1} req/s nginx"),
        )
        .ratio(format!("{ratio:.2}"))
        .target("≥ 0.67", ratio >= 0.67);
        report::announce(&row);
        rows.push(row);
    }
    Ok(rows)
}
