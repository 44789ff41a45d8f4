//! Containers: list, inspect and lifecycle.

use std::collections::BTreeMap;

use bollard::query_parameters::{
    InspectContainerOptions, KillContainerOptions, ListContainersOptions, RemoveContainerOptions,
    RestartContainerOptions, StartContainerOptions, StopContainerOptions, TopOptions,
};
use serde_json::Value;

use super::Endpoint;
use crate::error::{AppError, AppResult};

/// A lifecycle action of `POST /api/containers/{id}/{action}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Start,
    Stop,
    Restart,
    Kill,
    Pause,
    Unpause,
}

impl Action {
    pub fn parse(s: &str) -> AppResult<Action> {
        Ok(match s {
            "start" => Action::Start,
            "stop" => Action::Stop,
            "restart" => Action::Restart,
            "kill" => Action::Kill,
            "pause" => Action::Pause,
            "unpause" => Action::Unpause,
            other => {
                return Err(AppError::NotFound(format!(
                    "unknown container action {other:?}: use start, stop, restart, kill, pause or unpause"
                )))
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Restart => "restart",
            Action::Kill => "kill",
            Action::Pause => "pause",
            Action::Unpause => "unpause",
        }
    }
}

/// A container reference as users give it: a full or short id, or a name.
///
/// bollard puts it into the daemon's URL as it is, so anything that could change the
/// path (`/`, `?`, `..`) is refused here: `../../images/x` must never reach another route.
pub fn check_ref(id: &str) -> AppResult<&str> {
    let id = id.strip_prefix('/').unwrap_or(id);
    let valid = !id.is_empty()
        && id.len() <= 255
        && id.as_bytes()[0].is_ascii_alphanumeric()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid {
        Ok(id)
    } else {
        Err(AppError::bad_request(
            "invalid_container",
            format!("{id:?} is not a container id or name"),
        ))
    }
}

/// `docker ps [-a]`: one daemon call, no sizes, no per-row inspect.
pub async fn list(ep: &Endpoint, all: bool) -> AppResult<Vec<wire::ContainerSummary>> {
    let opts = ListContainersOptions {
        all,
        size: false,
        ..Default::default()
    };
    let rows = ep
        .call(|d| async move { d.list_containers(Some(opts)).await })
        .await?;
    Ok(rows.into_iter().map(summary).collect())
}

fn summary(c: bollard::models::ContainerSummary) -> wire::ContainerSummary {
    let ports = c
        .ports
        .unwrap_or_default()
        .into_iter()
        .map(|p| wire::PortMapping {
            host_ip: p.ip,
            host_port: p.public_port,
            container_port: p.private_port,
            protocol: p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into()),
        })
        .collect();
    // The list response carries each network's endpoint; a stable order (by network
    // name) keeps the column from shuffling between refreshes.
    let mut networks: Vec<_> = c
        .network_settings
        .and_then(|n| n.networks)
        .unwrap_or_default()
        .into_iter()
        .collect();
    networks.sort_by(|a, b| a.0.cmp(&b.0));
    let ips = networks
        .into_iter()
        .flat_map(|(_, ep)| [ep.ip_address, ep.global_ipv6_address])
        .flatten()
        .filter(|ip| !ip.is_empty())
        .collect();
    wire::ContainerSummary {
        id: c.id.unwrap_or_default(),
        names: c
            .names
            .unwrap_or_default()
            .into_iter()
            .map(|n| n.trim_start_matches('/').to_owned())
            .collect(),
        image: c.image.unwrap_or_default(),
        state: c.state.map(|s| s.to_string()).unwrap_or_default(),
        status: c.status.unwrap_or_default(),
        created: c.created.unwrap_or_default(),
        ports,
        labels: c
            .labels
            .unwrap_or_default()
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        ips,
    }
}

/// `docker inspect`, as the daemon's JSON.
pub async fn inspect(ep: &Endpoint, id: &str) -> AppResult<Value> {
    let id = check_ref(id)?.to_owned();
    let info = ep
        .call(|d| async move {
            d.inspect_container(&id, None::<InspectContainerOptions>)
                .await
        })
        .await?;
    serde_json::to_value(info).map_err(|e| AppError::Internal(e.into()))
}

/// Run a lifecycle action. Starting a running container (or stopping a stopped one) is
/// not an error: the daemon answers 304 and the state is what was asked for.
pub async fn act(ep: &Endpoint, id: &str, action: Action, timeout: Option<i32>) -> AppResult<()> {
    let id = check_ref(id)?.to_owned();
    ep.call(|d| async move {
        match action {
            Action::Start => d.start_container(&id, None::<StartContainerOptions>).await,
            Action::Stop => {
                d.stop_container(
                    &id,
                    Some(StopContainerOptions {
                        t: timeout,
                        signal: None,
                    }),
                )
                .await
            }
            Action::Restart => {
                d.restart_container(
                    &id,
                    Some(RestartContainerOptions {
                        t: timeout,
                        signal: None,
                    }),
                )
                .await
            }
            Action::Kill => {
                d.kill_container(
                    &id,
                    Some(KillContainerOptions {
                        signal: "SIGKILL".into(),
                    }),
                )
                .await
            }
            Action::Pause => d.pause_container(&id).await,
            Action::Unpause => d.unpause_container(&id).await,
        }
    })
    .await
}

/// `docker top` (`ps_args` as `docker top ID -o ...` would pass them, default `-ef`).
pub async fn top(ep: &Endpoint, id: &str, ps_args: Option<String>) -> AppResult<wire::TopResult> {
    let id = check_ref(id)?.to_owned();
    let ps_args = ps_args.filter(|a| !a.trim().is_empty());
    if ps_args
        .as_deref()
        .is_some_and(|a| a.chars().any(char::is_control))
    {
        return Err(AppError::bad_request(
            "invalid_ps_args",
            "ps_args: control characters are not ps options",
        ));
    }
    let given = ps_args.is_some();
    let res = ep
        .call(|d| async move {
            d.top_processes(&id, ps_args.map(|ps_args| TopOptions { ps_args }))
                .await
        })
        .await
        // The daemon runs `ps` with the options as given and answers 500 when ps refuses
        // them or prints no PID column: the options were wrong, not the daemon.
        .map_err(|e| match e {
            AppError::Docker(message) if given => AppError::bad_request(
                "invalid_ps_args",
                format!("ps_args: ps refused these options: {message}"),
            ),
            other => other,
        })?;
    Ok(wire::TopResult {
        titles: res.titles.unwrap_or_default(),
        processes: res.processes.unwrap_or_default(),
    })
}

/// `docker rm [-f] [-v]`.
pub async fn remove(ep: &Endpoint, id: &str, force: bool, volumes: bool) -> AppResult<()> {
    let id = check_ref(id)?.to_owned();
    ep.call(|d| async move {
        d.remove_container(
            &id,
            Some(RemoveContainerOptions {
                force,
                v: volumes,
                link: false,
            }),
        )
        .await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_that_could_leave_the_path_are_refused() {
        for bad in ["", "../images", "a/b", "a?x=1", ".hidden", "a b", "a%2f"] {
            assert!(check_ref(bad).is_err(), "{bad:?} should be refused");
        }
        for good in ["web", "web_1", "my-app.v2", "0123abcd", "/web"] {
            assert!(check_ref(good).is_ok(), "{good:?} should pass");
        }
    }
}
