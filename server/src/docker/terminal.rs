//! `docker exec -it` and `docker attach`: a hijacked daemon connection whose bytes go both
//! ways, plus resizes.
//!
//! Closing the daemon connection of an exec does not end its process (the daemon keeps a
//! tty's process alive with nobody on the other end), so every exec berth starts carries a
//! random `BERTH_EXEC_ID` in its environment, and when the browser goes away while it still
//! runs, a second exec finds every process with that marker (children inherit it) through
//! `/proc/*/environ` and sends it SIGHUP, then SIGKILL.

use std::pin::Pin;
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use bollard::query_parameters::{
    AttachContainerOptions, InspectContainerOptions, ResizeContainerTTYOptions, ResizeExecOptions,
};
use futures::Stream;
use tokio::io::AsyncWrite;

use super::Endpoint;
use crate::error::{AppError, AppResult};

/// The detach sequence, as the docker CLI's default.
pub const DETACH_KEYS: &str = "ctrl-p,ctrl-q";

pub type Output = Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;
pub type Input = Pin<Box<dyn AsyncWrite + Send>>;

/// What the terminal is connected to.
#[derive(Debug, Clone)]
pub enum Target {
    Exec { exec_id: String, marker: String },
    Attach { container_id: String },
}

pub struct Session {
    pub target: Target,
    pub output: Output,
    pub input: Input,
}

/// What to run in an exec.
#[derive(Debug, Clone)]
pub struct ExecRequest {
    pub cmd: Vec<String>,
    pub user: Option<String>,
    pub tty: bool,
    pub workdir: Option<String>,
}

fn marker() -> String {
    use rand::Rng;
    let bytes: [u8; 12] = rand::thread_rng().gen();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Start an exec in a running container and connect to it.
pub async fn exec(ep: &Endpoint, container_id: &str, req: ExecRequest) -> AppResult<Session> {
    if req.cmd.is_empty() {
        return Err(AppError::bad_request(
            "invalid_cmd",
            "cmd: a command is needed",
        ));
    }
    let marker = marker();
    let config = ExecConfig {
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(req.tty),
        env: Some(vec![format!("BERTH_EXEC_ID={marker}")]),
        cmd: Some(req.cmd),
        user: req.user.filter(|u| !u.is_empty()),
        working_dir: req.workdir.filter(|w| !w.is_empty()),
        ..Default::default()
    };
    let id = container_id.to_string();
    let created = ep
        .call(|d| async move { d.create_exec(&id, config).await })
        .await
        .map_err(|e| match e {
            AppError::Conflict(m) => AppError::Conflict(format!("cannot exec: {m}")),
            other => other,
        })?;
    let exec_id = created.id;
    let start_id = exec_id.clone();
    let tty = req.tty;
    let started = ep
        .call(|d| async move {
            d.start_exec(
                &start_id,
                Some(StartExecOptions {
                    detach: false,
                    tty,
                    output_capacity: None,
                }),
            )
            .await
        })
        .await?;
    match started {
        StartExecResults::Attached { output, input } => Ok(Session {
            target: Target::Exec { exec_id, marker },
            output,
            input,
        }),
        StartExecResults::Detached => Err(AppError::Docker(
            "the daemon started the exec detached".into(),
        )),
    }
}

/// Attach to a container's main process.
pub async fn attach(ep: &Endpoint, container_id: &str) -> AppResult<Session> {
    let id = container_id.to_string();
    let res = ep
        .call(|d| async move {
            d.attach_container(
                &id,
                Some(AttachContainerOptions {
                    detach_keys: Some(DETACH_KEYS.into()),
                    logs: false,
                    stream: true,
                    stdin: true,
                    stdout: true,
                    stderr: true,
                }),
            )
            .await
        })
        .await?;
    Ok(Session {
        target: Target::Attach {
            container_id: container_id.to_string(),
        },
        output: res.output,
        input: res.input,
    })
}

/// Resize the terminal (ignored by the daemon for a process without a tty).
pub async fn resize(ep: &Endpoint, target: &Target, cols: u16, rows: u16) -> AppResult<()> {
    let (w, h) = (i32::from(cols.max(1)), i32::from(rows.max(1)));
    match target.clone() {
        Target::Exec { exec_id, .. } => {
            ep.call(|d| async move { d.resize_exec(&exec_id, ResizeExecOptions { h, w }).await })
                .await
        }
        Target::Attach { container_id } => {
            ep.call(|d| async move {
                d.resize_container_tty(&container_id, ResizeContainerTTYOptions { h, w })
                    .await
            })
            .await
        }
    }
}

/// Why the output ended: the process's exit, or (attach) a detach.
pub async fn outcome(ep: &Endpoint, target: &Target) -> wire::TermControl {
    match target.clone() {
        Target::Exec { exec_id, .. } => {
            // The exit code is set a moment after the stream closes.
            for _ in 0..20 {
                let id = exec_id.clone();
                match ep.call(|d| async move { d.inspect_exec(&id).await }).await {
                    Ok(info) if info.running != Some(true) => {
                        return wire::TermControl::Exit {
                            code: info.exit_code,
                        }
                    }
                    Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                    Err(_) => break,
                }
            }
            wire::TermControl::Exit { code: None }
        }
        Target::Attach { container_id } => {
            let info = ep
                .call(|d| async move {
                    d.inspect_container(&container_id, None::<InspectContainerOptions>)
                        .await
                })
                .await;
            match info.ok().and_then(|i| i.state) {
                Some(s) if s.running == Some(true) => wire::TermControl::Detached,
                Some(s) => wire::TermControl::Exit { code: s.exit_code },
                None => wire::TermControl::Exit { code: None },
            }
        }
    }
}

async fn still_running(ep: &Endpoint, id: String) -> AppResult<(bool, Option<String>)> {
    ep.call(|d| async move { d.inspect_exec(&id).await })
        .await
        .map(|i| (i.running == Some(true), i.container_id))
}

/// After the browser left: make sure an exec's processes are gone.
pub async fn end(ep: &Endpoint, target: &Target) {
    let Target::Exec { exec_id, marker } = target else {
        // Attach: leaving is a detach; the container keeps running.
        return;
    };
    // The closed connection already gave the process EOF on stdin; a shell without a tty
    // ends by itself.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let Ok((true, Some(container_id))) = still_running(ep, exec_id.clone()).await else {
        return;
    };
    let script = format!(
        "k() {{ for p in /proc/[0-9]*; do if tr '\\0' '\\n' < \"$p/environ\" 2>/dev/null | grep -qxF \"BERTH_EXEC_ID={marker}\"; then kill -$1 \"${{p#/proc/}}\" 2>/dev/null; fi; done; }}; k HUP; sleep 1; k KILL"
    );
    let config = ExecConfig {
        cmd: Some(vec!["sh".into(), "-c".into(), script]),
        user: Some("0".into()),
        ..Default::default()
    };
    let cid = container_id.clone();
    let killer = ep
        .call(|d| async move { d.create_exec(&cid, config).await })
        .await;
    let Ok(killer) = killer else {
        tracing::warn!(exec = %exec_id, "cannot end an abandoned exec (no sh in the container?)");
        return;
    };
    let kid = killer.id.clone();
    let _ = ep
        .call(|d| async move {
            d.start_exec(
                &kid,
                Some(StartExecOptions {
                    detach: true,
                    tty: false,
                    output_capacity: None,
                }),
            )
            .await
        })
        .await;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if !matches!(still_running(ep, exec_id.clone()).await, Ok((true, _))) {
            return;
        }
    }
    tracing::warn!(exec = %exec_id, "an abandoned exec is still running");
}
