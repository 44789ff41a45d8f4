//! Who may touch which daemon resource. Decided here, once, on what the daemon will
//! actually receive: a container reference is resolved to its full id and its team label
//! checked before any action, for every route that reaches that container.

use std::collections::BTreeMap;

use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::InspectContainerOptions;
use wire::Role;

use super::CurrentUser;
use crate::docker::containers::check_ref;
use crate::docker::Endpoint;
use crate::error::{AppError, AppResult};

/// The label naming the team that owns a container, stack, network or volume.
pub const TEAM_LABEL: &str = "berth.team";
/// The label an admin sets to share a resource with every team.
pub const SHARED_LABEL: &str = "berth.shared";

impl CurrentUser {
    /// Whether this user may see a resource with these labels: admins see everything,
    /// others their teams' resources and shared ones.
    pub fn can_see<'a>(&self, label: impl Fn(&str) -> Option<&'a str>) -> bool {
        if self.role == Role::Admin {
            return true;
        }
        if label(SHARED_LABEL) == Some("true") {
            return true;
        }
        label(TEAM_LABEL).is_some_and(|team| self.teams.iter().any(|t| t == team))
    }

    pub fn can_see_map(&self, labels: &BTreeMap<String, String>) -> bool {
        self.can_see(|k| labels.get(k).map(String::as_str))
    }
}

/// A container the user may act on, named by its full id.
pub struct Allowed {
    pub id: String,
}

/// The daemon's answer for a container it does not have. Another team's container gets
/// exactly this answer: existence does not leak.
pub fn no_such_container(reference: &str) -> AppError {
    AppError::NotFound(format!("No such container: {reference}"))
}

/// Resolve a container reference (full id, short id or name) and check the user may reach
/// it with `role`; the daemon's inspect of it. Its id, not the user's string, is what goes
/// to the daemon afterwards.
pub async fn container_info(
    user: &CurrentUser,
    ep: &Endpoint,
    reference: &str,
    role: Role,
) -> AppResult<ContainerInspectResponse> {
    user.require(role)?;
    let reference = check_ref(reference)?.to_owned();
    let asked = reference.clone();
    let info = ep
        .call(|d| async move {
            d.inspect_container(&reference, None::<InspectContainerOptions>)
                .await
        })
        .await?;
    let labels = info.config.as_ref().and_then(|c| c.labels.as_ref());
    let visible = user.can_see(|k| labels.and_then(|l| l.get(k)).map(String::as_str));
    if !visible {
        return Err(no_such_container(&asked));
    }
    if info.id.is_none() {
        return Err(AppError::Docker("the daemon gave no container id".into()));
    }
    Ok(info)
}

/// [`container_info`], for routes that need only the full id.
pub async fn container(
    user: &CurrentUser,
    ep: &Endpoint,
    reference: &str,
    role: Role,
) -> AppResult<Allowed> {
    let info = container_info(user, ep, reference, role).await?;
    Ok(Allowed {
        id: info.id.unwrap_or_default(),
    })
}
