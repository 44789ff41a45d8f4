//! The health gate of an automated deploy: a container is good when its healthcheck
//! passes, or — without one — when it has been running for a while without restarting.
//! Whatever else happens (it exits, it restarts, it turns unhealthy, it never settles) is
//! a failure that says why, with the last lines the container printed.

use std::time::Duration;

use bollard::query_parameters::{InspectContainerOptions, LogsOptions};
use futures::StreamExt;

use super::Endpoint;
use crate::error::{AppError, AppResult};

/// How long a container with a healthcheck may take to become healthy.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(180);

/// Wait until `id` is healthy, or (without a healthcheck) running for `window` without a
/// restart. The error is a 409 `deploy_unhealthy` naming what went wrong.
pub async fn settle(ep: &Endpoint, id: &str, label: &str, window: Duration) -> AppResult<()> {
    let started = tokio::time::Instant::now();
    let mut restarts: Option<i64> = None;
    let mut running_since: Option<tokio::time::Instant> = None;
    loop {
        let cid = id.to_owned();
        let info = ep
            .call(|d| async move {
                d.inspect_container(&cid, None::<InspectContainerOptions>)
                    .await
            })
            .await?;
        let state = info.state.clone().unwrap_or_default();
        let count = info.restart_count.unwrap_or(0);
        let first = *restarts.get_or_insert(count);
        let health = state
            .health
            .as_ref()
            .and_then(|h| h.status)
            .map(|s| s.to_string())
            .filter(|s| !s.is_empty() && s != "none");
        if count > first || state.restarting == Some(true) {
            return Err(unhealthy(ep, id, format!("{label} restarted")).await);
        }
        if state.running != Some(true) {
            let code = state.exit_code.unwrap_or_default();
            let why = match state.error.as_deref().filter(|e| !e.is_empty()) {
                Some(e) => format!("{label} stopped: {e}"),
                None => format!("{label} exited with code {code}"),
            };
            return Err(unhealthy(ep, id, why).await);
        }
        match health.as_deref() {
            Some("healthy") => return Ok(()),
            Some("unhealthy") => {
                return Err(unhealthy(ep, id, format!("{label} is unhealthy")).await);
            }
            Some(_) => {
                if started.elapsed() > HEALTH_TIMEOUT {
                    return Err(unhealthy(
                        ep,
                        id,
                        format!(
                            "{label} did not become healthy within {} s",
                            HEALTH_TIMEOUT.as_secs()
                        ),
                    )
                    .await);
                }
            }
            None => {
                let since = *running_since.get_or_insert_with(tokio::time::Instant::now);
                if since.elapsed() >= window {
                    return Ok(());
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The failure, with the container's last lines of output (what a person needs first).
async fn unhealthy(ep: &Endpoint, id: &str, why: String) -> AppError {
    let tail = last_lines(ep, id, 5).await;
    let message = if tail.is_empty() {
        why
    } else {
        format!("{why}; its last output: {}", tail.join(" | "))
    };
    AppError::coded(http::StatusCode::CONFLICT, "deploy_unhealthy", message)
}

async fn last_lines(ep: &Endpoint, id: &str, n: usize) -> Vec<String> {
    let Ok(client) = ep.client().await else {
        return vec![];
    };
    let mut stream = client.logs(
        id,
        Some(LogsOptions {
            stdout: true,
            stderr: true,
            tail: n.to_string(),
            ..Default::default()
        }),
    );
    let mut out = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        for line in String::from_utf8_lossy(&chunk.into_bytes()).lines() {
            let line = line.trim();
            if !line.is_empty() {
                out.push(line.chars().take(300).collect());
            }
        }
    }
    let skip = out.len().saturating_sub(n);
    out.split_off(skip)
}
