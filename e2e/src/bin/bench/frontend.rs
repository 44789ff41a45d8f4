//! What the browser pays: the app's weight (gzip of the wasm, JS and CSS in the built UI,
//! xterm.js counted apart), and the first load in headless Chromium until the containers
//! page shows its rows, with a cold cache each round.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use crate::berth::Berth;
use crate::report::{self, Row};

fn ui_dir() -> PathBuf {
    std::env::var_os("BERTH_UI_DIR")
        .map(Into::into)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/ui"))
}

fn gzip(bytes: &[u8]) -> Result<u64> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes)?;
    Ok(enc.finish()?.len() as u64)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let p = e?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// `.wasm` + `.js` + `.css` of the built UI, gzip'd (best), third-party `vendor/` apart.
///
/// The wasm is split (xtask/src/frontend.rs): `berth_bg.wasm` is the main module, and every
/// other `.wasm` (`split_<page>_*.wasm`, and `chunk_*.wasm` that pages share) is fetched only
/// when a page that needs it is first shown. The containers page is in the main module, so a
/// first load of it fetches the JS, the CSS and the main module only: that is the row the
/// target is judged on. A second row gives the total of every file, chunks included.
pub fn weight() -> Result<Vec<Row>> {
    let dir = ui_dir();
    let mut files = Vec::new();
    walk(&dir, &mut files)?;
    // [wasm, js, css] of the first load; every lazily loaded module; xterm.js apart.
    let (mut first, mut lazy, mut lazy_files, mut xterm) = ([0u64; 3], 0u64, 0usize, 0u64);
    for f in files {
        let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
        let slot = match ext {
            "wasm" => 0,
            "js" => 1,
            "css" => 2,
            _ => continue,
        };
        let size = gzip(&std::fs::read(&f)?)?;
        let rel = f
            .strip_prefix(&dir)
            .unwrap_or(&f)
            .to_string_lossy()
            .to_lowercase();
        // Third-party files (xterm.js and its addon, under vendor/) are counted apart.
        if rel.starts_with("vendor/") || rel.contains("xterm") {
            xterm += size;
        } else if slot == 0 && rel != "berth_bg.wasm" {
            lazy += size;
            lazy_files += 1;
        } else {
            first[slot] += size;
        }
    }
    let total: u64 = first.iter().sum();
    if total == 0 {
        bail!(
            "no wasm, js or css in {}: build the UI first",
            dir.display()
        );
    }
    let kb = |b: u64| format!("{:.1} KB", b as f64 / 1000.0);
    let app_row = Row::new(
        "frontend weight: first load of /containers, app .wasm + .js + .css, gzip",
        format!(
            "{} (wasm {}, js {}, css {})",
            kb(total),
            kb(first[0]),
            kb(first[1]),
            kb(first[2])
        ),
        "—",
    )
    .target("≤ 300 KB", total <= 300_000);
    let mut all_row = Row::new(
        "frontend weight: every file, the pages' lazily loaded wasm included, gzip",
        format!(
            "{} (first load {} + {lazy_files} lazy modules {})",
            kb(total + lazy),
            kb(total),
            kb(lazy)
        ),
        "—",
    );
    all_row.target = "—".into();
    let mut xterm_row = Row::new(
        "frontend weight: xterm.js + addon + css (vendor/), gzip, apart",
        kb(xterm),
        "—",
    );
    xterm_row.target = "counted apart".into();
    xterm_row.verdict = if xterm == 0 {
        "not in this build".into()
    } else {
        "—".into()
    };
    Ok(vec![app_row, all_row, xterm_row])
}

/// chromedriver in its own process group, ended with it.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Result<Driver> {
        let bin =
            std::env::var("BERTH_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = std::os::unix::process::CommandExt::process_group(
            Command::new(&bin)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            0,
        )
        .spawn()
        .with_context(|| format!("cannot start {bin}"))?;
        Ok(Driver { child, port })
    }

    /// A new browser with an empty profile; `goto` returns at once (pageLoadStrategy none),
    /// so the clock measures the page, not WebDriver's idea of "loaded".
    async fn browser(&self, profile: &Path) -> Result<Client> {
        let chromium =
            std::env::var("BERTH_CHROMIUM").unwrap_or_else(|_| "/usr/lib/chromium/chromium".into());
        let caps = serde_json::json!({
            "pageLoadStrategy": "none",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let caps = caps.as_object().cloned().unwrap_or_default();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{}", self.port))
                .await
            {
                Ok(c) => return Ok(c),
                Err(e) if Instant::now() > deadline => bail!("chromium did not start: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        if pgid > 1 {
            #[allow(unsafe_code)]
            // SAFETY: killpg only signals the group this process created for chromedriver.
            unsafe {
                libc::killpg(pgid, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}

/// Cold first load of `/containers` until `expect` rows show, `rounds` times, each in a
/// fresh browser profile; logged in beforehand from `/api/health` (which loads none of
/// the app), so the clock covers HTML, JS, wasm, the API call and rendering.
pub async fn first_load(berth: &Berth, rounds: usize, containers: usize) -> Result<Row> {
    let driver = Driver::start()?;
    let mut times = Vec::new();
    for round in 0..rounds {
        let profile = tempfile::tempdir()?;
        let c = driver.browser(profile.path()).await?;
        let res = load_once(&c, berth).await;
        let _ = c.close().await;
        let t = res.with_context(|| format!("round {}", round + 1))?;
        times.push(t);
    }
    let p50 = report::median(&times);
    let row = Row::new(
        format!("first load: containers page shows its rows ({containers} containers), cold cache"),
        format!(
            "p50 {} (max {})",
            report::ms(p50),
            report::ms(report::percentile(&times, 100.0))
        ),
        "—",
    )
    .target("≤ 1 s on loopback", p50 <= 1000.0);
    report::announce(&row);
    Ok(row)
}

async fn load_once(c: &Client, berth: &Berth) -> Result<f64> {
    c.goto(&berth.url("/api/health")).await?;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ready = c
            .execute("return document.readyState", vec![])
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned));
        if ready.as_deref() == Some("complete") && c.current_url().await?.path() == "/api/health" {
            break;
        }
        if Instant::now() > deadline {
            bail!("/api/health did not load");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Log in from this page with fetch: the browser keeps the HttpOnly session cookie,
    // and nothing of the app is loaded or cached yet.
    let script = r#"
        const done = arguments[arguments.length - 1];
        fetch('/api/auth/login', { method: 'POST', credentials: 'same-origin',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username: 'admin', password: arguments[0] }) })
          .then(r => done(r.status), e => done(String(e)));
    "#;
    let status = c
        .execute_async(script, vec![serde_json::json!(crate::berth::PASSWORD)])
        .await?;
    if status != serde_json::json!(200) {
        bail!("login from the browser answered {status}");
    }
    let start = Instant::now();
    c.goto(&berth.url("/containers")).await?;
    let deadline = start + Duration::from_secs(20);
    loop {
        if c.find(Locator::Css("[data-testid=\"container-row\"]"))
            .await
            .is_ok()
        {
            let elapsed = start.elapsed().as_secs_f64() * 1000.0;
            // The weight row counts berth_bg.wasm alone for this page: hold it to that.
            let wasm = c
                .execute(
                    "return performance.getEntriesByType('resource').map(e => e.name)\
                     .filter(n => n.endsWith('.wasm') && !n.endsWith('/berth_bg.wasm'))",
                    vec![],
                )
                .await?;
            if wasm.as_array().is_some_and(|a| !a.is_empty()) {
                bail!("the containers page loaded more wasm than the main module: {wasm}");
            }
            return Ok(elapsed);
        }
        if Instant::now() > deadline {
            bail!("no container row within 20 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
