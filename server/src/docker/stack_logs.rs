//! `docker-compose logs -f`: every container of a project followed at once, each line tagged
//! with its service. Containers that start later (a recreate, a `docker-compose up`
//! elsewhere) are picked up from the daemon's events. Lines flow through one bounded
//! channel: a slow reader slows the daemon streams down, it never grows memory.

use std::sync::Arc;

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptions;
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::stacks::{self as dstacks, label};
use super::Endpoint;
use crate::auth::CurrentUser;
use crate::stacks::labels;

pub struct LogRequest {
    pub project: String,
    pub tail: String,
    pub timestamps: bool,
}

/// Follow the project's logs into `tx` until the receiver is dropped.
pub async fn follow(
    ep: Arc<Endpoint>,
    user: CurrentUser,
    req: LogRequest,
    tx: mpsc::Sender<wire::StackLogLine>,
) {
    // Subscribe first: a container starting between the list and the subscription is seen.
    let mut events = ep.subscribe_events();
    let mut pumps = JoinSet::new();
    match dstacks::containers(&ep, Some(&req.project)).await {
        Ok(cs) => {
            for c in cs {
                let seen = c
                    .labels
                    .as_ref()
                    .map(|l| user.can_see(|k| l.get(k).map(String::as_str)))
                    .unwrap_or(false);
                if !seen {
                    continue;
                }
                let id = c.id.clone().unwrap_or_default();
                pumps.spawn(pump(
                    ep.clone(),
                    id,
                    dstacks::name_of(&c),
                    label(&c, labels::SERVICE).unwrap_or_default().to_owned(),
                    req.tail.clone(),
                    0,
                    req.timestamps,
                    tx.clone(),
                ));
            }
        }
        Err(e) => {
            let _ = tx
                .send(notice(
                    "",
                    format!("cannot list the stack's containers: {e}"),
                ))
                .await;
        }
    }

    loop {
        tokio::select! {
            _ = tx.closed() => break,
            frame = events.recv() => {
                let frame = match frame {
                    Ok(f) => f,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => break,
                };
                let Some(ev) = &frame.event else { continue };
                if ev.kind != "container" || ev.action != "start" {
                    continue;
                }
                if ev.attributes.get(labels::PROJECT) != Some(&req.project) || !user.can_see_map(&ev.attributes) {
                    continue;
                }
                // A (re)start: a restart ended the container's old log stream, so it is
                // followed again from the moment it started.
                let service = ev.attributes.get(labels::SERVICE).cloned().unwrap_or_default();
                let name = ev.attributes.get("name").cloned().unwrap_or_default();
                let _ = tx.send(notice(&service, format!("{name} started"))).await;
                pumps.spawn(pump(
                    ep.clone(),
                    ev.id.clone(),
                    name,
                    service,
                    "0".into(),
                    ev.time,
                    req.timestamps,
                    tx.clone(),
                ));
            }
            Some(_) = pumps.join_next(), if !pumps.is_empty() => {}
        }
    }
    pumps.abort_all();
}

fn notice(service: &str, line: String) -> wire::StackLogLine {
    wire::StackLogLine {
        service: service.to_owned(),
        container: String::new(),
        stream: "berth".into(),
        line,
        ts: None,
    }
}

#[allow(clippy::too_many_arguments)]
async fn pump(
    ep: Arc<Endpoint>,
    id: String,
    name: String,
    service: String,
    tail: String,
    since: i64,
    timestamps: bool,
    tx: mpsc::Sender<wire::StackLogLine>,
) {
    let client = match ep.client().await {
        Ok(c) => c,
        Err(_) => return,
    };
    let opts = LogsOptions {
        follow: true,
        stdout: true,
        stderr: true,
        since: since as i32,
        until: 0,
        timestamps,
        tail,
    };
    let mut stream = client.logs(&id, Some(opts));
    while let Some(item) = stream.next().await {
        let (stream_name, bytes) = match item {
            Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => {
                ("stdout", message)
            }
            Ok(LogOutput::StdErr { message }) => ("stderr", message),
            Ok(LogOutput::StdIn { .. }) => continue,
            Err(_) => break,
        };
        let text = String::from_utf8_lossy(&bytes);
        for raw in text.split_terminator('\n') {
            let raw = raw.trim_end_matches('\r');
            let (ts, line) = match (timestamps, raw.split_once(' ')) {
                (true, Some((ts, rest))) => (Some(ts.to_owned()), rest.to_owned()),
                _ => (None, raw.to_owned()),
            };
            let line = wire::StackLogLine {
                service: service.clone(),
                container: name.clone(),
                stream: stream_name.into(),
                line,
                ts,
            };
            if tx.send(line).await.is_err() {
                return;
            }
        }
    }
}
