//! Live container stats, fanned out: one daemon `stats` stream per container however many
//! viewers watch it (like [`super::events`]). The pump runs while anyone listens; a stopped
//! container's stream is reopened when it starts again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use bollard::models::ContainerStatsResponse;
use bollard::query_parameters::StatsOptions;
use futures::StreamExt;
use tokio::sync::broadcast;

use super::Endpoint;

/// Frames a slow viewer may fall behind before it skips (it then gets the newest).
const BACKLOG: usize = 16;

#[derive(Default)]
pub struct StatsHub {
    /// Container id → the channel its pump feeds. An entry exists exactly while a pump runs.
    pumps: Mutex<HashMap<String, broadcast::Sender<Utf8Bytes>>>,
}

impl StatsHub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<Utf8Bytes>>> {
        self.pumps.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many daemon stats streams are open (for tests and metrics).
    pub fn pumps(&self) -> usize {
        self.lock().len()
    }
}

impl Endpoint {
    /// Listen to a container's stats (JSON `wire::StatsFrame` text frames). `id` must be
    /// the full id, so every viewer of one container shares one pump.
    pub fn subscribe_stats(self: &Arc<Self>, id: &str) -> broadcast::Receiver<Utf8Bytes> {
        let mut pumps = self.stats.lock();
        if let Some(tx) = pumps.get(id) {
            return tx.subscribe();
        }
        let (tx, rx) = broadcast::channel(BACKLOG);
        pumps.insert(id.to_string(), tx.clone());
        tokio::spawn(pump(self.clone(), id.to_string(), tx));
        rx
    }

    /// Whether the viewers of `id` are all gone; if so the pump's entry is removed, under
    /// the same lock a subscriber takes, so nobody joins a pump that is stopping.
    fn stats_idle(&self, id: &str, tx: &broadcast::Sender<Utf8Bytes>) -> bool {
        let mut pumps = self.stats.lock();
        if tx.receiver_count() == 0 {
            pumps.remove(id);
            true
        } else {
            false
        }
    }
}

async fn pump(ep: Arc<Endpoint>, id: String, tx: broadcast::Sender<Utf8Bytes>) {
    loop {
        if ep.stats_idle(&id, &tx) {
            return;
        }
        let client = match ep.client().await {
            Ok(c) => c,
            Err(_) => {
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        let mut stream = client.stats(
            &id,
            Some(StatsOptions {
                stream: true,
                one_shot: false,
            }),
        );
        let mut prev: Option<ContainerStatsResponse> = None;
        loop {
            tokio::select! {
                item = stream.next() => match item {
                    Some(Ok(s)) => {
                        let frame = frame(&s, prev.as_ref());
                        prev = Some(s);
                        if let Ok(json) = serde_json::to_string(&frame) {
                            let _ = tx.send(json.into());
                        }
                        if tx.receiver_count() == 0 && ep.stats_idle(&id, &tx) {
                            return;
                        }
                    }
                    Some(Err(_)) | None => break,
                },
                // Nobody left, and nothing arrives (a stopped container sends nothing).
                _ = tokio::time::sleep(Duration::from_secs(3)) => {
                    if ep.stats_idle(&id, &tx) {
                        return;
                    }
                }
            }
        }
        // Stopped or the daemon went away: try again shortly, while anyone watches.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// `docker stats`' numbers from one daemon reading (and the one before, for the CPU share).
pub fn frame(
    s: &ContainerStatsResponse,
    prev: Option<&ContainerStatsResponse>,
) -> wire::StatsFrame {
    let cpu = s.cpu_stats.as_ref();
    // The daemon fills precpu_stats from its previous reading; the first has none, so we
    // fall back on the reading before, which we keep.
    let pre = s
        .precpu_stats
        .as_ref()
        .filter(|p| p.system_cpu_usage.unwrap_or(0) > 0)
        .or_else(|| prev.and_then(|p| p.cpu_stats.as_ref()));
    let total = |c: Option<&bollard::models::ContainerCpuStats>| {
        c.and_then(|c| c.cpu_usage.as_ref())
            .and_then(|u| u.total_usage)
            .unwrap_or(0)
    };
    let system = |c: Option<&bollard::models::ContainerCpuStats>| {
        c.and_then(|c| c.system_cpu_usage).unwrap_or(0)
    };
    let cpu_delta = total(cpu).saturating_sub(total(pre)) as f64;
    let system_delta = system(cpu).saturating_sub(system(pre)) as f64;
    let online = cpu
        .and_then(|c| c.online_cpus)
        .map(f64::from)
        .or_else(|| {
            cpu.and_then(|c| c.cpu_usage.as_ref())
                .and_then(|u| u.percpu_usage.as_ref())
                .map(|p| p.len() as f64)
        })
        .unwrap_or(1.0);
    let cpu_percent = if system_delta > 0.0 {
        cpu_delta / system_delta * online * 100.0
    } else {
        0.0
    };
    let mem = s.memory_stats.as_ref();
    let usage = mem.and_then(|m| m.usage).unwrap_or(0);
    // As the docker CLI: page cache is not the container's own memory
    // (cgroup v1 `total_inactive_file`, v2 `inactive_file`).
    let cache = mem
        .and_then(|m| m.stats.as_ref())
        .and_then(|st| {
            st.get("total_inactive_file")
                .or_else(|| st.get("inactive_file"))
                .copied()
        })
        .unwrap_or(0);
    let (mut net_rx, mut net_tx) = (0, 0);
    for n in s.networks.iter().flat_map(|m| m.values()) {
        net_rx += n.rx_bytes.unwrap_or(0);
        net_tx += n.tx_bytes.unwrap_or(0);
    }
    let (mut blk_read, mut blk_write) = (0, 0);
    for e in s
        .blkio_stats
        .as_ref()
        .and_then(|b| b.io_service_bytes_recursive.as_ref())
        .into_iter()
        .flatten()
    {
        match e.op.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("read") => blk_read += e.value.unwrap_or(0),
            Some("write") => blk_write += e.value.unwrap_or(0),
            _ => {}
        }
    }
    let ts = s
        .read
        .as_ref()
        .and_then(|r| serde_json::to_value(r).ok())
        .and_then(|v| v.as_str().map(str::to_string))
        .and_then(|r| {
            time::OffsetDateTime::parse(&r, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or_else(|| {
            (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
        });
    wire::StatsFrame {
        cpu_percent: (cpu_percent * 100.0).round() / 100.0,
        mem_usage: usage.saturating_sub(cache),
        mem_limit: mem.and_then(|m| m.limit).unwrap_or(0),
        net_rx,
        net_tx,
        blk_read,
        blk_write,
        pids: s.pids_stats.as_ref().and_then(|p| p.current).unwrap_or(0),
        ts,
    }
}
