//! Image update detection: the digest a container runs (its image's `RepoDigests` for the
//! repository it names) against the digest the registry has now for its tag (a manifest
//! HEAD, see `registry::v2::Client::manifest_digest`), with the stored credentials of the
//! image's registry when berth has some. Registry answers are cached for a few minutes, so
//! a list page does not hammer registries; `?refresh=true` asks again.
//!
//! Not checked, and said so: a container that runs a pinned digest (`image@sha256:…`), an
//! image built or loaded here (no `RepoDigests`: no registry knows it), and containers
//! with the label `berth-update=false`. Unlike Watchtower and Dozzle, a registry that
//! refuses or cannot be reached is an `error` row naming why, not a silent skip.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bollard::query_parameters::InspectContainerOptions;
use futures::StreamExt;

use crate::auth::CurrentUser;
use crate::docker::reference::{registry_of, same_registry, Reference, DOCKER_HUB};
use crate::docker::{containers, Endpoint};
use crate::error::AppResult;
use crate::registry;
use crate::stacks::labels;
use crate::state::AppState;

/// The label a container opts out with (`berth-update=false`). Not a `berth.*` label:
/// those are berth's to set, and opting out is the user's choice. Watchtower's own opt-out
/// label is honoured too, so containers already marked for it are left alone here as well.
pub const OPT_OUT_LABEL: &str = "berth-update";
const WATCHTOWER_LABEL: &str = "com.centurylinklabs.watchtower.enable";

/// How long a registry's answer is believed.
const TTL: Duration = Duration::from_secs(300);

/// A registry's answer for a tag: its digest, none (no such tag), or why it failed.
type Answer = Result<Option<String>, String>;

/// Registry digests by `name:tag`, with when they were asked (monotonic, and unix seconds).
#[derive(Default)]
pub struct Cache(Mutex<HashMap<String, (Instant, i64, Answer)>>);

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// `docker.io/library/busybox` and `busybox` are one repository.
fn canonical(name: &str) -> String {
    let n = name.strip_prefix("docker.io/").unwrap_or(name);
    let n = n.strip_prefix("index.docker.io/").unwrap_or(n);
    n.strip_prefix("library/").unwrap_or(n).to_owned()
}

/// The repository path in the registry's API (`library/busybox` on Docker Hub).
fn api_path(name: &str, host: &str) -> String {
    let path = name
        .strip_prefix(&format!("{host}/"))
        .unwrap_or(name)
        .to_owned();
    let path = path.strip_prefix("docker.io/").unwrap_or(&path).to_owned();
    if host == DOCKER_HUB && !path.contains('/') {
        format!("library/{path}")
    } else {
        path
    }
}

/// The registry's digest for `name:tag`, cached.
async fn registry_digest(state: &AppState, name: &str, tag: &str, refresh: bool) -> (i64, Answer) {
    let key = format!("{name}:{tag}");
    if !refresh {
        if let Some((at, when, hit)) = state
            .updates
            .0
            .lock()
            .ok()
            .and_then(|c| c.get(&key).cloned())
        {
            if at.elapsed() < TTL {
                return (when, hit);
            }
        }
    }
    let host = registry_of(name);
    let answer = async {
        let client = match registry::matching(state, &host)
            .await
            .map_err(|e| e.to_string())?
        {
            Some(row) => {
                let password = registry::password(state, &row).map_err(|e| e.to_string())?;
                registry::v2::Client::new(&row.url, &row.host, row.username.clone(), password)
            }
            None => registry::v2::Client::new(&host, &host, None, None),
        };
        client
            .manifest_digest(&api_path(name, &host), tag)
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    let when = now_s();
    if let Ok(mut c) = state.updates.0.lock() {
        c.insert(key, (Instant::now(), when, answer.clone()));
    }
    (when, answer)
}

/// Every container the user may see (all of them for the scheduled check, `None`), with
/// whether its tag has moved on in the registry.
pub async fn check(
    state: &AppState,
    user: Option<&CurrentUser>,
    ep: &Endpoint,
    refresh: bool,
) -> AppResult<Vec<wire::UpdateInfo>> {
    let mut rows = containers::list(ep, true).await?;
    rows.retain(|c| user.is_none_or(|u| u.can_see_map(&c.labels)));
    // Several at once: a registry that does not answer holds up its own rows (up to the
    // client's timeouts), not the whole list.
    let rows = futures::stream::iter(rows)
        .map(|c| row_of(state, ep, c, refresh))
        .buffered(8)
        .collect::<Vec<_>>()
        .await;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if let Some(r) = r? {
            out.push(r);
        }
    }
    Ok(out)
}

/// One container's row; `None` if it went away meanwhile.
async fn row_of(
    state: &AppState,
    ep: &Endpoint,
    c: wire::ContainerSummary,
    refresh: bool,
) -> AppResult<Option<wire::UpdateInfo>> {
    let id = c.id.clone();
    let info = match ep
        .call(|d| async move {
            d.inspect_container(&id, None::<InspectContainerOptions>)
                .await
        })
        .await
    {
        Ok(i) => i,
        Err(crate::error::AppError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let image = info
        .config
        .as_ref()
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    let mut row = wire::UpdateInfo {
        container: c.id.clone(),
        name: c.names.first().cloned().unwrap_or_default(),
        image: image.clone(),
        running_digest: None,
        registry_digest: None,
        update_available: false,
        status: String::new(),
        error: None,
        stack: c.labels.get(labels::PROJECT).cloned(),
        checked_at: None,
    };
    row.status = classify(state, ep, &c.labels, &info, &image, refresh, &mut row).await;
    row.update_available = row.status == "available";
    Ok(Some(row))
}

async fn classify(
    state: &AppState,
    ep: &Endpoint,
    container_labels: &std::collections::BTreeMap<String, String>,
    info: &bollard::models::ContainerInspectResponse,
    image: &str,
    refresh: bool,
    row: &mut wire::UpdateInfo,
) -> String {
    let off = |k: &str| container_labels.get(k).map(String::as_str) == Some("false");
    if off(OPT_OUT_LABEL) || off(WATCHTOWER_LABEL) {
        return "opted_out".into();
    }
    let Ok(reference) = Reference::parse("image", image) else {
        // An image id: the container was made from content, not from a tag.
        return "pinned".into();
    };
    if reference.digest.is_some() {
        row.running_digest = reference.digest.clone();
        return "pinned".into();
    }
    let image_id = info.image.clone().unwrap_or_default();
    let repo_digests = ep
        .call(|d| async move { d.inspect_image(&image_id).await })
        .await
        .ok()
        .and_then(|i| i.repo_digests)
        .unwrap_or_default();
    let want = canonical(&reference.name);
    let running = repo_digests.iter().find_map(|rd| {
        let (name, digest) = rd.split_once('@')?;
        let same_host = same_registry(&registry_of(name), &registry_of(&reference.name));
        (same_host && canonical(name) == want).then(|| digest.to_owned())
    });
    let Some(running) = running else {
        return "local".into();
    };
    row.running_digest = Some(running.clone());
    let tag = reference.tag.as_deref().unwrap_or("latest");
    let (when, answer) = registry_digest(state, &reference.name, tag, refresh).await;
    row.checked_at = Some(when);
    match answer {
        Ok(Some(d)) => {
            let status = if d == running { "current" } else { "available" };
            row.registry_digest = Some(d);
            status.into()
        }
        Ok(None) => "missing".into(),
        Err(e) => {
            row.error = Some(e);
            "error".into()
        }
    }
}

/// The scheduled check (`--update-check-minutes`): every period, ask the registries about
/// every container of the local daemon, so lists show fresh answers. The first check is one
/// period after start, not at start: a restart does not ask every registry at once.
pub fn schedule(state: AppState) {
    let minutes = state.config.update_check_minutes;
    if minutes == 0 {
        return;
    }
    let period = Duration::from_secs(minutes * 60);
    tokio::spawn(async move {
        let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let ep = state.daemons.local();
            match check(&state, None, &ep, true).await {
                Ok(rows) => {
                    let available = rows.iter().filter(|r| r.update_available).count();
                    let failed = rows.iter().filter(|r| r.status == "error").count();
                    tracing::info!(
                        "update check: {available} of {} containers have an update, {failed} could not be checked",
                        rows.len()
                    );
                }
                Err(e) => tracing::warn!("update check: {e}"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_as_registries_name_them() {
        assert_eq!(canonical("docker.io/library/busybox"), "busybox");
        assert_eq!(api_path("busybox", DOCKER_HUB), "library/busybox");
        assert_eq!(api_path("127.0.0.1:5000/a/b", "127.0.0.1:5000"), "a/b");
    }
}
