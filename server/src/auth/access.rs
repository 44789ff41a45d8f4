//! Who may touch which daemon resource. Decided here, once, on what the daemon will
//! actually receive: a container reference is resolved to its full id and its team label
//! checked before any action, for every route that reaches that container.

use std::collections::BTreeMap;

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

/// Resolve a container reference (full id, short id or name) and check the user may reach
/// it with `role`. Returns the full id: that, not the user's string, goes to the daemon.
pub async fn container(
    user: &CurrentUser,
    ep: &Endpoint,
    reference: &str,
    role: Role,
) -> AppResult<Allowed> {
    user.require(role)?;
    let reference = check_ref(reference)?.to_owned();
    let info = ep
        .call(|d| async move {
            d.inspect_container(&reference, None::<InspectContainerOptions>)
                .await
        })
        .await?;
    let labels = info.config.as_ref().and_then(|c| c.labels.as_ref());
    let visible = user.can_see(|k| labels.and_then(|l| l.get(k)).map(String::as_str));
    if !visible {
        return Err(AppError::Forbidden(format!(
            "this container belongs to another team than {}'s",
            user.username
        )));
    }
    let id = info
        .id
        .ok_or_else(|| AppError::Docker("the daemon gave no container id".into()))?;
    Ok(Allowed { id })
}
