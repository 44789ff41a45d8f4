//! A swarm stack on a manager, as `docker stack deploy`, `stack services`, `stack ps` and
//! `stack rm` handle it. The file is converted by `stacks::swarm::plan`; this module
//! deploys that plan in two steps:
//!
//! 1. [`prepare`] decides everything before anything is made: the daemon is a manager,
//!    every service spec passes the one service policy (with the references the stack
//!    will make itself left out, since they do not exist yet), external networks, secrets
//!    and configs are the caller's, objects of the stack's names that exist already were
//!    made for this stack by its team, and the secret and config files can be read. An
//!    operator's privileged service, host bind or another team's secret is refused here,
//!    with nothing created.
//! 2. [`apply`] creates the missing overlay networks, secrets and configs (labelled with
//!    the namespace and the team), then creates each service or updates it — through the
//!    policy again, now with every reference resolved — only when [`diff::changed`] says
//!    the spec differs, keeping the version index the daemon gave.
//!
//! Every object carries `com.docker.stack.namespace`; [`remove`] finds them by it.

mod deploy;
mod remove;

pub use deploy::{apply, prepare, Deployed, Prepared};
pub use remove::remove;

use std::collections::{BTreeMap, HashMap};

use bollard::models::Service;
use bollard::query_parameters::{ListServicesOptions, ListTasksOptions};

use super::{swarm, Endpoint};
use crate::error::{AppError, AppResult};
use crate::stacks::swarm::NAMESPACE_LABEL;

pub(crate) fn ns_filter(stack: Option<&str>) -> HashMap<String, Vec<String>> {
    let f = match stack {
        Some(s) => format!("{NAMESPACE_LABEL}={s}"),
        None => NAMESPACE_LABEL.to_owned(),
    };
    HashMap::from([("label".to_owned(), vec![f])])
}

/// The services of one stack (or of every stack), with their task counts.
pub async fn services(ep: &Endpoint, stack: Option<&str>) -> AppResult<Vec<Service>> {
    let filters = ns_filter(stack);
    let mut all = swarm::call(ep, |d| async move {
        d.list_services(Some(ListServicesOptions {
            filters: Some(filters),
            status: Some(true),
        }))
        .await
    })
    .await?;
    all.sort_by_key(name_of);
    Ok(all)
}

/// [`services`], or none on a daemon that is not a swarm manager (a compose-only host).
pub async fn services_if_manager(ep: &Endpoint, stack: Option<&str>) -> AppResult<Vec<Service>> {
    match services(ep, stack).await {
        Err(AppError::Coded { code, .. }) if code == swarm::NOT_A_MANAGER => Ok(vec![]),
        other => other,
    }
}

pub fn name_of(s: &Service) -> String {
    s.spec
        .as_ref()
        .and_then(|s| s.name.clone())
        .unwrap_or_default()
}

pub fn labels_of(s: &Service) -> BTreeMap<String, String> {
    s.spec
        .as_ref()
        .and_then(|s| s.labels.as_ref())
        .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

pub fn namespace_of(s: &Service) -> Option<String> {
    labels_of(s).get(NAMESPACE_LABEL).cloned()
}

/// A row of `docker stack services`.
pub fn row(stack: &str, s: &Service) -> wire::SwarmStackService {
    let name = name_of(s);
    let spec = s.spec.clone().unwrap_or_default();
    let mode = spec.mode.unwrap_or_default();
    let status = s.service_status.clone().unwrap_or_default();
    wire::SwarmStackService {
        service: name
            .strip_prefix(&format!("{stack}_"))
            .unwrap_or(&name)
            .to_owned(),
        name: name.clone(),
        id: s.id.clone().unwrap_or_default(),
        image: spec
            .task_template
            .and_then(|t| t.container_spec)
            .and_then(|c| c.image)
            .map(|i| i.split('@').next().unwrap_or_default().to_owned())
            .unwrap_or_default(),
        mode: if mode.global.is_some() {
            "global"
        } else {
            "replicated"
        }
        .into(),
        running: status.running_tasks.unwrap_or(0),
        desired: status.desired_tasks.unwrap_or(0),
        version: s.version.as_ref().and_then(|v| v.index).unwrap_or(0),
    }
}

/// `running` (every task wanted runs), `partial`, `stopped` (none runs) or `down` (no
/// services).
pub fn status_of(rows: &[wire::SwarmStackService]) -> String {
    let running: u64 = rows.iter().map(|r| r.running).sum();
    let desired: u64 = rows.iter().map(|r| r.desired).sum();
    match (rows.len(), running, desired) {
        (0, _, _) => "down",
        (_, 0, _) => "stopped",
        (_, r, d) if r >= d => "running",
        _ => "partial",
    }
    .into()
}

/// `docker stack ps`: the tasks of the stack's services (one call for all of them).
pub async fn tasks(ep: &Endpoint, svcs: &[Service]) -> AppResult<Vec<wire::TaskSummary>> {
    if svcs.is_empty() {
        return Ok(vec![]);
    }
    let names: HashMap<String, String> = svcs
        .iter()
        .map(|s| (s.id.clone().unwrap_or_default(), name_of(s)))
        .collect();
    let filters: HashMap<String, Vec<String>> =
        HashMap::from([("service".to_owned(), names.keys().cloned().collect())]);
    let (all, nodes) = tokio::try_join!(
        swarm::call(ep, |d| async move {
            d.list_tasks(Some(ListTasksOptions {
                filters: Some(filters),
            }))
            .await
        }),
        swarm::call(ep, |d| async move {
            d.list_nodes(None::<bollard::query_parameters::ListNodesOptions>)
                .await
        }),
    )?;
    let hostnames: HashMap<String, String> = nodes
        .into_iter()
        .filter_map(|n| Some((n.id?, n.description?.hostname?)))
        .collect();
    let mut rows: Vec<wire::TaskSummary> = all
        .into_iter()
        .map(|t| {
            let name = t
                .service_id
                .as_ref()
                .and_then(|id| names.get(id))
                .cloned()
                .unwrap_or_default();
            task_row(t, &name, &hostnames)
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.service, a.slot, &a.node, &b.updated).cmp(&(&b.service, b.slot, &b.node, &a.updated))
    });
    Ok(rows)
}

/// One task as `docker service ps` shows it.
pub fn task_row(
    t: bollard::models::Task,
    service: &str,
    hostnames: &HashMap<String, String>,
) -> wire::TaskSummary {
    let status = t.status.unwrap_or_default();
    let node = t.node_id.as_ref().and_then(|n| hostnames.get(n)).cloned();
    let task_name = match (t.slot, &node) {
        (Some(slot), _) if slot > 0 => format!("{service}.{slot}"),
        (_, Some(node)) => format!("{service}.{node}"),
        _ => service.to_owned(),
    };
    wire::TaskSummary {
        id: t.id.unwrap_or_default(),
        name: task_name,
        slot: t.slot,
        node_id: t.node_id,
        node,
        image: t
            .spec
            .and_then(|s| s.container_spec)
            .and_then(|c| c.image)
            .map(|i| i.split('@').next().unwrap_or_default().to_owned())
            .unwrap_or_default(),
        state: status.state.map(|s| s.to_string()).unwrap_or_default(),
        desired_state: t.desired_state.map(|s| s.to_string()).unwrap_or_default(),
        message: status.message,
        error: status.err,
        container_id: status.container_status.and_then(|c| c.container_id),
        created: t.created_at,
        updated: t.updated_at,
        service: Some(service.to_owned()),
    }
}
