//! Run once, like `docker run --rm -v dir:/src -w /src gcc make`: start a created
//! container, stream its output as it comes, report its exit code, remove it.
//!
//! Output goes daemon → bounded channel → response body with backpressure: the container's
//! output waits in the daemon's log file, not in berth's memory. A client that leaves
//! before the end kills the container (as Ctrl-C does to `docker run`).

use std::sync::Arc;

use bollard::query_parameters::{
    KillContainerOptions, LogsOptions, StartContainerOptions, WaitContainerOptions,
};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::{create, Endpoint};
use crate::error::AppError;

fn error_line(e: &AppError) -> wire::RunLine {
    wire::RunLine {
        error: Some(e.body().error),
        ..Default::default()
    }
}

/// Drive the run; every line goes to `tx`. `remove`: remove the container at the end.
pub async fn drive(ep: Arc<Endpoint>, id: String, remove: bool, tx: mpsc::Sender<wire::RunLine>) {
    let finished = stream_run(&ep, &id, &tx).await;
    if !finished {
        // The client left: stop what it started.
        let kid = id.clone();
        let _ = ep
            .call(|d| async move {
                d.kill_container(
                    &kid,
                    Some(KillContainerOptions {
                        signal: "SIGKILL".into(),
                    }),
                )
                .await
            })
            .await;
    }
    if remove {
        create::discard(&ep, &id).await;
    }
}

/// False when the client went away before the end.
async fn stream_run(ep: &Endpoint, id: &str, tx: &mpsc::Sender<wire::RunLine>) -> bool {
    let first = wire::RunLine {
        id: Some(id.to_string()),
        ..Default::default()
    };
    if tx.send(first).await.is_err() {
        return false;
    }
    let sid = id.to_string();
    if let Err(e) = ep
        .call(|d| async move { d.start_container(&sid, None::<StartContainerOptions>).await })
        .await
    {
        return tx.send(error_line(&e)).await.is_ok();
    }
    let client = match ep.client().await {
        Ok(c) => c,
        Err(e) => return tx.send(error_line(&e)).await.is_ok(),
    };
    let mut logs = client.logs(
        id,
        Some(LogsOptions {
            follow: true,
            stdout: true,
            stderr: true,
            since: 0,
            until: 0,
            timestamps: false,
            tail: "all".into(),
        }),
    );
    // Partial lines (a prompt without a newline) are sent as they come.
    while let Some(item) = logs.next().await {
        match item {
            Ok(out) => {
                let stream = match out {
                    bollard::container::LogOutput::StdErr { .. } => "stderr",
                    _ => "stdout",
                };
                let bytes = out.into_bytes();
                let text = String::from_utf8_lossy(&bytes);
                let text = text.strip_suffix('\n').unwrap_or(&text);
                let line = wire::RunLine {
                    stream: Some(stream.into()),
                    line: Some(text.strip_suffix('\r').unwrap_or(text).to_string()),
                    ..Default::default()
                };
                if tx.send(line).await.is_err() {
                    return false;
                }
            }
            Err(e) => {
                return tx.send(error_line(&AppError::from(e))).await.is_ok();
            }
        }
    }
    let waited = client
        .wait_container(
            id,
            Some(WaitContainerOptions {
                condition: "not-running".into(),
            }),
        )
        .next()
        .await;
    let code = match waited {
        Some(Ok(r)) => Some(r.status_code),
        // bollard turns a non-zero exit into an error carrying the code.
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Some(code),
        _ => None,
    };
    let code = match code {
        Some(c) => Some(c),
        None => exit_code(ep, id).await,
    };
    tx.send(wire::RunLine {
        exit_code: Some(code.unwrap_or(-1)),
        ..Default::default()
    })
    .await
    .is_ok()
}

async fn exit_code(ep: &Endpoint, id: &str) -> Option<i64> {
    let id = id.to_string();
    ep.call(|d| async move {
        d.inspect_container(
            &id,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
    })
    .await
    .ok()
    .and_then(|i| i.state)
    .and_then(|s| s.exit_code)
}
