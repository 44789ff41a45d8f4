//! A container's automated redeploy: its image (or the same repository with another tag)
//! pulled with the stored credentials of its registry, then the health-gated recreate of
//! `docker::recreate`, rolled back on failure.

use std::time::Duration;

use wire::Role;

use crate::auth::access;
use crate::auth::policy::resolve::Policy;
use crate::docker::recreate::{self, Plan as Recreate};
use crate::docker::reference::Reference;
use crate::docker::stack_up::Progress;
use crate::error::{AppError, AppResult};
use crate::registry;
use crate::stacks::labels;
use crate::state::AppState;

/// What a call asks of a container.
#[derive(Debug, Clone)]
pub struct Plan {
    pub tag: Option<String>,
    pub pull: bool,
    pub window: Duration,
}

/// The name a container webhook keeps (so it survives a recreate), after checking the
/// user may redeploy it: a container of a Compose project is deployed through its stack.
pub async fn target_name(policy: Policy<'_>, reference: &str) -> AppResult<String> {
    let info = access::container_info(policy.user, policy.ep, reference, Role::Operator).await?;
    if let Some(project) = info
        .config
        .as_ref()
        .and_then(|c| c.labels.as_ref())
        .and_then(|l| l.get(labels::PROJECT))
    {
        return Err(AppError::Conflict(format!(
            "this container belongs to the stack {project}: make a stack webhook, so the stack engine deploys it"
        )));
    }
    Ok(info
        .name
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_owned())
}

/// Redeploy container `name` as `policy.user`.
pub async fn redeploy(
    state: &AppState,
    policy: Policy<'_>,
    name: &str,
    plan: Plan,
    progress: &Progress,
) -> AppResult<()> {
    target_name(policy, name).await?;
    let info = access::container_info(policy.user, policy.ep, name, Role::Operator).await?;
    let current = info
        .config
        .as_ref()
        .and_then(|c| c.image.clone())
        .ok_or_else(|| AppError::Docker(format!("{name} has no image")))?;
    let image = recreate::retag(&current, plan.tag.as_deref())?;
    let host = Reference::parse("image", &image)?.registry_host();
    let credentials = match registry::matching(state, &host).await? {
        Some(row) => registry::docker_credentials(state, &row)?,
        None => None,
    };
    recreate::redeploy(
        policy,
        name,
        Recreate {
            image,
            pull: plan.pull,
            credentials,
            window: plan.window,
        },
        progress,
    )
    .await
}
