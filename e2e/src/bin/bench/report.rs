//! Rows, the statistics behind them, and the markdown they end up in.

use std::path::Path;

use anyhow::{Context, Result};

/// One line of the table.
pub struct Row {
    pub bench: String,
    pub berth: String,
    pub reference: String,
    pub ratio: String,
    pub target: String,
    pub verdict: String,
}

impl Row {
    pub fn new(
        bench: impl Into<String>,
        berth: impl Into<String>,
        reference: impl Into<String>,
    ) -> Row {
        Row {
            bench: bench.into(),
            berth: berth.into(),
            reference: reference.into(),
            ratio: "—".into(),
            target: String::new(),
            verdict: String::new(),
        }
    }

    pub fn ratio(mut self, ratio: impl Into<String>) -> Row {
        self.ratio = ratio.into();
        self
    }

    /// The target as written in the issue, and whether this run met it.
    pub fn target(mut self, target: impl Into<String>, met: bool) -> Row {
        self.target = target.into();
        self.verdict = if met { "met" } else { "**missed**" }.into();
        self
    }
}

/// The rows of a bench, or one row saying why it could not run.
pub fn or_failed(bench: &str, res: Result<Vec<Row>>) -> Vec<Row> {
    match res {
        Ok(rows) => rows,
        Err(e) => {
            let why = format!("{e:#}").replace('|', "/").replace('\n', " ");
            eprintln!("bench: {bench}: not run: {why}");
            vec![Row {
                bench: bench.into(),
                berth: "—".into(),
                reference: "—".into(),
                ratio: "—".into(),
                target: String::new(),
                verdict: format!("not run: {why}"),
            }]
        }
    }
}

/// One row, or a row saying why it could not run.
pub fn or_failed_one(bench: &str, res: Result<Row>) -> Row {
    or_failed(bench, res.map(|r| vec![r]))
        .pop()
        .expect("or_failed gives a row")
}

pub fn idle_row(rss: u64) -> Row {
    Row::new("memory: RSS idle", mb(rss), "—").target("≤ 15 MB", rss <= 15_000_000)
}

/// Prints a finished row as it comes, so a long run shows progress.
pub fn announce(row: &Row) {
    eprintln!(
        "bench: {} — berth {} / reference {} / ratio {} / {} {}",
        row.bench, row.berth, row.reference, row.ratio, row.target, row.verdict
    );
}

pub fn median(v: &[f64]) -> f64 {
    percentile(v, 50.0)
}

/// Nearest-rank percentile; NaN when empty.
pub fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

pub fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2} ms")
    } else {
        format!("{v:.1} ms")
    }
}

pub fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

pub fn times(r: f64) -> String {
    format!("{r:.2}×")
}

pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| benchmark | berth | reference (same run) | ratio | target | result |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.bench, r.berth, r.reference, r.ratio, r.target, r.verdict
        ));
    }
    out
}

const BEGIN: &str =
    "<!-- bench:begin (written by `cargo xtask bench`; edit outside these markers) -->";
const END: &str = "<!-- bench:end -->";

/// Replaces the generated part of `path` (between the markers) with this run's table and
/// the machine it ran on; the hand-written notes around it stay.
pub fn write(path: &Path, table: &str) -> Result<()> {
    let generated = format!("{BEGIN}\n{}\n{table}{END}", machine());
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(a), Some(b)) if a < b => format!("{}{generated}{}", &old[..a], &old[b + END.len()..]),
        _ => format!("# Benchmarks\n\n{generated}\n"),
    };
    std::fs::write(path, new).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("bench: wrote {}", path.display());
    Ok(())
}

/// Where and when: date, CPU, cores, memory, kernel, daemon, commit.
fn machine() -> String {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cmd = |c: &str, args: &[&str]| {
        std::process::Command::new(c)
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_kb: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let host = std::env::var("BERTH_TEST_DOCKER_HOST").unwrap_or_default();
    let docker = cmd(
        "docker",
        &[
            "-H",
            &host,
            "version",
            "--format",
            "{{.Server.Version}} (API {{.Server.APIVersion}})",
        ],
    );
    format!(
        "Run {date} on {cpu}, {cores} cores (`nproc`), {mem:.1} GiB memory, Linux {kernel}; \
         Docker {docker}; nginx {nginx}; berth at commit {commit}.\n",
        date = cmd("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        mem = mem_kb as f64 / 1024.0 / 1024.0,
        kernel = read("/proc/sys/kernel/osrelease").trim(),
        nginx = crate::nginx::version(),
        commit = cmd("git", &["rev-parse", "--short", "HEAD"]),
    )
}
