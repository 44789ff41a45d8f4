//! A Swarm service's automated redeploy: the same image again (or the same repository with
//! another tag) as a rolling update with `force`, so each task restarts on what the tag
//! names now; followed until the swarm says it completed. An update the swarm pauses
//! (a task failed under it) is rolled back here, and the job fails saying why.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{Service, ServiceUpdateStatusStateEnum as UpdateState};
use bollard::query_parameters::ListTasksOptions;
use wire::Role;

use crate::auth::policy::resolve::Policy;
use crate::docker::recreate;
use crate::docker::reference::Reference;
use crate::docker::stack_up::Progress;
use crate::docker::swarm;
use crate::error::{AppError, AppResult};
use crate::registry;
use crate::state::AppState;

use super::container::Plan;

/// How long a rolling update (or its rollback) may take before the job gives up waiting.
const PATIENCE: Duration = Duration::from_secs(600);

/// The name a service webhook keeps, after checking the user may update the service.
pub async fn target_name(policy: Policy<'_>, reference: &str) -> AppResult<String> {
    let s = policy.service_ref(reference, Role::Operator).await?;
    Ok(s.spec
        .and_then(|s| s.name)
        .unwrap_or_else(|| reference.to_owned()))
}

/// Redeploy service `name` as `policy.user`.
pub async fn redeploy(
    state: &AppState,
    policy: Policy<'_>,
    name: &str,
    plan: Plan,
    progress: &Progress,
) -> AppResult<()> {
    let current = policy.service_ref(name, Role::Operator).await?;
    let mut spec = current.spec.clone().unwrap_or_default();
    let task = spec.task_template.get_or_insert_with(Default::default);
    task.force_update = Some(task.force_update.unwrap_or(0) + 1);
    let c = task.container_spec.get_or_insert_with(Default::default);
    let running = c
        .image
        .clone()
        .ok_or_else(|| AppError::Docker(format!("the service {name} has no image")))?;
    // The digest the swarm pinned is the old one: the tag is what a CI has pushed anew.
    let unpinned = running.split('@').next().unwrap_or_default().to_owned();
    let image = recreate::retag(&unpinned, plan.tag.as_deref())?;
    c.image = Some(image.clone());
    let credentials = if plan.pull {
        let host = Reference::parse("image", &image)?.registry_host();
        match registry::matching(state, &host).await? {
            Some(row) => registry::docker_credentials(state, &row)?,
            None => None,
        }
    } else {
        None
    };
    progress
        .say(
            Some(name),
            "update",
            format!("rolling update of {name} to {image}"),
        )
        .await;
    let before = version(&current);
    crate::routes::services::send_update(&policy, policy.ep, &current, spec, false, credentials)
        .await?;
    match follow(policy, name, before, false, progress).await? {
        None => {
            progress
                .say(Some(name), "done", format!("{name} runs {image}"))
                .await;
            Ok(())
        }
        Some(why) => {
            progress
                .say(
                    Some(name),
                    "rollback",
                    format!("the update failed ({why}); rolling back"),
                )
                .await;
            let now = policy.service_ref(name, Role::Operator).await?;
            let spec = now.spec.clone().unwrap_or_default();
            let before = version(&now);
            // A swarm that already rolled back by its own update config needs no second one.
            let rolled = matches!(update_state(&now), Some(UpdateState::ROLLBACK_COMPLETED));
            if !rolled {
                crate::routes::services::send_update(&policy, policy.ep, &now, spec, true, None)
                    .await?;
                if let Some(again) = follow(policy, name, before, true, progress).await? {
                    return Err(AppError::Docker(format!(
                        "updating {name} to {image} failed ({why}), and so did the rollback ({again})"
                    )));
                }
            }
            Err(AppError::Docker(format!(
                "updating {name} to {image} failed ({why}); rolled back to {unpinned}"
            )))
        }
    }
}

fn version(s: &Service) -> u64 {
    s.version.as_ref().and_then(|v| v.index).unwrap_or_default()
}

fn update_state(s: &Service) -> Option<UpdateState> {
    s.update_status.as_ref().and_then(|u| u.state)
}

/// Waits for the update (or the rollback) sent after version `before` to end, reporting
/// each task's state as it changes. `None` when it completed, else what went wrong.
async fn follow(
    policy: Policy<'_>,
    name: &str,
    before: u64,
    rollback: bool,
    progress: &Progress,
) -> AppResult<Option<String>> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut seen: HashMap<String, String> = HashMap::new();
    loop {
        let s = policy.service_ref(name, Role::Operator).await?;
        report_tasks(policy, &s, &mut seen, progress).await;
        if version(&s) > before {
            let message = s
                .update_status
                .as_ref()
                .and_then(|u| u.message.clone())
                .unwrap_or_default();
            match (update_state(&s), rollback) {
                (Some(UpdateState::COMPLETED), false)
                | (Some(UpdateState::ROLLBACK_COMPLETED), true) => return Ok(None),
                (Some(UpdateState::PAUSED), false) | (Some(UpdateState::ROLLBACK_PAUSED), _) => {
                    return Ok(Some(failed_task(policy, &s).await.unwrap_or(message)))
                }
                (Some(UpdateState::ROLLBACK_STARTED | UpdateState::ROLLBACK_COMPLETED), false) => {
                    return Ok(Some(failed_task(policy, &s).await.unwrap_or(message)))
                }
                _ => {}
            }
        }
        if tokio::time::Instant::now() > deadline {
            return Ok(Some(format!(
                "the swarm did not finish in {} s",
                PATIENCE.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
}

/// One line per task whose state changed since the last look.
async fn report_tasks(
    policy: Policy<'_>,
    s: &Service,
    seen: &mut HashMap<String, String>,
    progress: &Progress,
) {
    let Some(id) = s.id.clone() else { return };
    let name = s
        .spec
        .as_ref()
        .and_then(|s| s.name.clone())
        .unwrap_or_default();
    let filters = HashMap::from([("service".to_owned(), vec![id])]);
    let Ok(tasks) = swarm::call(policy.ep, |d| async move {
        d.list_tasks(Some(ListTasksOptions {
            filters: Some(filters),
        }))
        .await
    })
    .await
    else {
        return;
    };
    for t in tasks {
        let (Some(tid), Some(status)) = (t.id, t.status) else {
            continue;
        };
        let state = status.state.map(|s| s.to_string()).unwrap_or_default();
        if seen.get(&tid) == Some(&state) {
            continue;
        }
        seen.insert(tid.clone(), state.clone());
        let image = t
            .spec
            .and_then(|s| s.container_spec)
            .and_then(|c| c.image)
            .map(|i| i.split('@').next().unwrap_or_default().to_owned())
            .unwrap_or_default();
        let slot = t.slot.map(|n| format!(".{n}")).unwrap_or_default();
        let err = status.err.map(|e| format!(": {e}")).unwrap_or_default();
        progress
            .say(
                Some(&name),
                "task",
                format!("{name}{slot} ({image}): {state}{err}"),
            )
            .await;
    }
}

/// The error of the newest failed or rejected task, the reason a swarm paused.
async fn failed_task(policy: Policy<'_>, s: &Service) -> Option<String> {
    let id = s.id.clone()?;
    let filters = HashMap::from([("service".to_owned(), vec![id])]);
    let tasks = swarm::call(policy.ep, |d| async move {
        d.list_tasks(Some(ListTasksOptions {
            filters: Some(filters),
        }))
        .await
    })
    .await
    .ok()?;
    tasks
        .into_iter()
        .filter_map(|t| {
            let status = t.status?;
            Some((t.updated_at.unwrap_or_default(), status.err?))
        })
        .max()
        .map(|(_, err)| err)
}
