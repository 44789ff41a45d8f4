//! What `up` waits for between containers (dependencies healthy or completed), and the
//! files it writes into a container before it starts (secrets and configs without a file).

use std::time::Duration;

use bollard::query_parameters::InspectContainerOptions;

use super::stack_spec;
use super::stack_up::Progress;
use super::Endpoint;
use crate::error::{AppError, AppResult};
use crate::stacks::model::{Project, ServiceSpec};

/// Wait for what a service depends on: healthy, or exited 0, as its conditions say.
pub async fn wait_for_dependencies(
    ep: &Endpoint,
    project: &Project,
    svc: &ServiceSpec,
    progress: &Progress,
) -> AppResult<()> {
    for dep in svc.depends_on.iter().filter(|d| d.healthy || d.completed) {
        let Some(dep_svc) = project.services.iter().find(|s| s.name == dep.service) else {
            continue;
        };
        let name = stack_spec::container_name(&project.name, dep_svc, 1);
        let what = if dep.completed {
            "to complete"
        } else {
            "to be healthy"
        };
        progress
            .say(
                Some(&svc.name),
                "wait",
                format!("waiting for {} {what}", dep.service),
            )
            .await;
        if dep.completed {
            wait_completed(ep, &name).await?;
        } else {
            wait_healthy(ep, &name).await?;
        }
    }
    Ok(())
}

/// Secrets and configs without a file: written into the container (as Compose does),
/// before it starts.
pub async fn copy_files(ep: &Endpoint, id: &str, svc: &ServiceSpec) -> AppResult<()> {
    if svc.files.is_empty() {
        return Ok(());
    }
    let mut tar = tar::Builder::new(Vec::new());
    for f in &svc.files {
        let mut header = tar::Header::new_gnu();
        header.set_size(f.content.len() as u64);
        header.set_mode(f.mode);
        header.set_uid(f.uid);
        header.set_gid(f.gid);
        header.set_mtime(0);
        header.set_cksum();
        let path = f.target.trim_start_matches('/');
        tar.append_data(&mut header, path, f.content.as_bytes())
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    let bytes = tar.into_inner().map_err(|e| AppError::Internal(e.into()))?;
    let id = id.to_owned();
    ep.call(|d| async move {
        d.upload_to_container(
            &id,
            Some(bollard::query_parameters::UploadToContainerOptions {
                path: "/".into(),
                ..Default::default()
            }),
            bollard::body_full(bytes.into()),
        )
        .await
    })
    .await
}

/// Wait until a container has exited 0 (`service_completed_successfully`).
async fn wait_completed(ep: &Endpoint, name: &str) -> AppResult<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    loop {
        let n = name.to_owned();
        let info = ep
            .call(|d| async move {
                d.inspect_container(&n, None::<InspectContainerOptions>)
                    .await
            })
            .await?;
        let state = info.state.unwrap_or_default();
        if state.running != Some(true)
            && state.status.map(|s| s.to_string()).as_deref() == Some("exited")
        {
            return match state.exit_code {
                Some(0) => Ok(()),
                code => Err(AppError::Conflict(format!(
                    "{name} exited with {}, not 0",
                    code.unwrap_or(-1)
                ))),
            };
        }
        if tokio::time::Instant::now() > deadline {
            return Err(AppError::Conflict(format!(
                "{name} did not complete within 300 s"
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Wait until a container's healthcheck passes (or, without one, until it runs).
async fn wait_healthy(ep: &Endpoint, name: &str) -> AppResult<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let n = name.to_owned();
        let info = ep
            .call(|d| async move {
                d.inspect_container(&n, None::<InspectContainerOptions>)
                    .await
            })
            .await?;
        let state = info.state.unwrap_or_default();
        let health = state.health.and_then(|h| h.status).map(|s| s.to_string());
        match health.as_deref() {
            Some("healthy") => return Ok(()),
            None | Some("none") | Some("") if state.running == Some(true) => return Ok(()),
            Some("unhealthy") => return Err(AppError::Conflict(format!("{name} is unhealthy"))),
            _ => {}
        }
        if tokio::time::Instant::now() > deadline {
            return Err(AppError::Conflict(format!(
                "{name} did not become healthy within 120 s"
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
