//! `docker stack rm`.

use std::time::{Duration, Instant};

use bollard::models::Service;
use bollard::query_parameters::{ListNetworksOptions, ListSecretsOptions, ListTasksOptions};

use super::{name_of, ns_filter};
use crate::docker::{swarm, Endpoint};
use crate::error::{AppError, AppResult};
use crate::stacks::swarm::NAMESPACE_LABEL;

/// How long removal waits for tasks to let go of networks, secrets and configs.
const REMOVE_WAIT: Duration = Duration::from_secs(90);
/// Retry `f` while the daemon says the object is still in use by tasks going away.
async fn until_free<F, Fut>(what: &str, deadline: Instant, mut f: F) -> AppResult<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = AppResult<()>>,
{
    loop {
        match f().await {
            Ok(()) | Err(AppError::NotFound(_)) => return Ok(()),
            Err(e) if Instant::now() < deadline => {
                tracing::debug!("{what} not removed yet: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => {
                return Err(AppError::Conflict(format!(
                    "{what} is still in use after its services were removed: {e}"
                )))
            }
        }
    }
}

/// `docker stack rm`: the stack's services, then its networks, secrets and configs (once
/// the tasks have let go of them).
pub async fn remove(ep: &Endpoint, stack: &str, svcs: &[Service]) -> AppResult<wire::StackDown> {
    let mut out = wire::StackDown::default();
    for s in svcs {
        let id = s.id.clone().unwrap_or_default();
        match swarm::call(ep, |d| async move { d.delete_service(&id).await }).await {
            Ok(()) | Err(AppError::NotFound(_)) => out.services.push(name_of(s)),
            Err(e) => return Err(e),
        }
    }
    let deadline = Instant::now() + REMOVE_WAIT;
    // The tasks go away on their own nodes; until they have, their networks and files are
    // still in use there (a network removed early lingers on the nodes' lists).
    // (By label: a filter naming a removed service is a 404.)
    while !svcs.is_empty() && Instant::now() < deadline {
        let filters = ns_filter(Some(stack));
        let left = swarm::call(ep, |d| async move {
            d.list_tasks(Some(ListTasksOptions {
                filters: Some(filters),
            }))
            .await
        })
        .await?;
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let filters = ns_filter(Some(stack));
    let f = filters.clone();
    let nets = swarm::call(ep, |d| async move {
        d.list_networks(Some(ListNetworksOptions { filters: Some(f) }))
            .await
    })
    .await?;
    for n in nets {
        let name = n.name.clone().unwrap_or_default();
        let id = n.id.clone().unwrap_or_default();
        until_free(&format!("network {name}"), deadline, || {
            let id = id.clone();
            async move {
                ep.call(|d| async move { d.remove_network(&id).await })
                    .await
            }
        })
        .await?;
        out.networks.push(name);
    }
    let f = filters.clone();
    let secrets = swarm::call(ep, |d| async move {
        d.list_secrets(Some(ListSecretsOptions { filters: Some(f) }))
            .await
    })
    .await?;
    for s in secrets {
        let name = s.spec.and_then(|s| s.name).unwrap_or_default();
        let id = s.id.unwrap_or_default();
        until_free(&format!("secret {name}"), deadline, || {
            let id = id.clone();
            async move { swarm::call(ep, |d| async move { d.delete_secret(&id).await }).await }
        })
        .await?;
        out.secrets.push(name);
    }
    for c in swarm::list_configs(ep).await? {
        let spec = c.spec.unwrap_or_default();
        if spec
            .labels
            .as_ref()
            .and_then(|l| l.get(NAMESPACE_LABEL))
            .map(String::as_str)
            != Some(stack)
        {
            continue;
        }
        let name = spec.name.unwrap_or_default();
        let id = c.id.unwrap_or_default();
        until_free(&format!("config {name}"), deadline, || {
            let id = id.clone();
            async move { swarm::delete_config(ep, &id).await }
        })
        .await?;
        out.configs.push(name);
    }
    Ok(out)
}
