//! The resolver: every reference a workload names — networks (and `container:` modes),
//! named volumes (and their drivers and options), `volumes_from`, links, the image, and the
//! networks a container joins after it is made — is turned into the resource the daemon will
//! use and decided on: does it exist, may this user use it, does it reach the host.
//!
//! A path that makes a container builds its body, then hands it to [`Policy::container`]
//! and sends the daemon exactly what comes back. Rules:
//! - a non-admin uses only their teams' and shared resources; another team's answers as a
//!   missing one (the daemon's own words), so existence does not leak;
//! - the daemon's own networks (`bridge`, `none`) are everyone's; `host` is a host power;
//! - a volume whose driver or options reach the host is a host power, to mount as to make;
//! - labels berth owns are set by berth from who creates the container, over whatever the
//!   body, the compose file or the image's `LABEL`s say.

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, MountTypeEnum, MountVolumeOptionsDriverConfig};
use sqlx::SqlitePool;
use wire::Role;

use super::images::ImageInfo;
use super::{check_container_create, own_labels, reserved_label, volume_options_reach_host};
use crate::auth::access::{self, TEAM_LABEL};
use crate::auth::CurrentUser;
use crate::docker::{networks, volumes, Endpoint};
use crate::error::{AppError, AppResult};

/// Who asks, on which daemon: the one place decisions are made.
#[derive(Clone, Copy)]
pub struct Policy<'a> {
    pub user: &'a CurrentUser,
    pub ep: &'a Endpoint,
    pub db: &'a SqlitePool,
}

/// A container a path wants to make.
pub struct Create {
    /// The body as the path built it; its labels are the requester's (reserved ones are
    /// replaced).
    pub body: ContainerCreateBody,
    /// The team asked for (a non-admin's default: their first).
    pub team: Option<String>,
    /// Labels berth itself sets (the stack engine's Compose labels).
    pub berth_labels: HashMap<String, String>,
    /// Networks the container joins right after it is made (API 1.41 takes one at create).
    pub connects: Vec<String>,
}

/// What is decided: the body to send, and the team that owns the container.
pub struct Decided {
    pub body: ContainerCreateBody,
    pub team: String,
    pub image: ImageInfo,
}

/// The daemon's networks everyone may join; `host` is a host power (judged with the
/// network mode).
const OPEN_NETWORKS: &[&str] = &["bridge", "default", "none"];

/// The daemon's words for a network it does not have; another team's gets the same.
pub fn no_such_network(name: &str) -> AppError {
    AppError::NotFound(format!("network {name} not found"))
}

/// The daemon's words for a volume it does not have; another team's gets the same.
pub fn no_such_volume(name: &str) -> AppError {
    AppError::NotFound(format!("get {name}: no such volume"))
}

/// A `Binds` entry's source when it is a named volume (not a host path).
fn named_volume(bind: &str) -> Option<&str> {
    let source = bind.split(':').next()?;
    let path = source.starts_with('/') || source.starts_with('.') || source.contains('/');
    (!source.is_empty() && !path).then_some(source)
}

impl<'a> Policy<'a> {
    pub fn new(user: &'a CurrentUser, ep: &'a Endpoint, db: &'a SqlitePool) -> Self {
        Policy { user, ep, db }
    }

    pub fn admin(&self) -> bool {
        self.user.role == Role::Admin
    }

    /// Decide a container create; the body to send the daemon.
    pub async fn container(&self, c: Create) -> AppResult<Decided> {
        let user = self.user;
        user.require(Role::Operator)?;
        let Create {
            mut body,
            team,
            berth_labels,
            connects,
        } = c;

        // Labels: the team (checked), sharing (admins only), berth's own, then the image's
        // reserved labels blanked so a `LABEL berth.team=…` in a Dockerfile decides nothing.
        let mut labels = own_labels(
            user,
            body.labels.take().unwrap_or_default(),
            team.as_deref(),
        )?;
        let team = labels.get(TEAM_LABEL).cloned().unwrap_or_default();
        labels.extend(berth_labels);
        let image_ref = body
            .image
            .clone()
            .filter(|i| !i.trim().is_empty())
            .ok_or_else(|| AppError::bad_request("invalid_image", "image: an image is required"))?;
        let image = self
            .image_use(&image_ref)
            .await
            .map_err(|e| super::images::missing_for_use(&image_ref, e))?;
        for key in image.labels.keys().filter(|k| reserved_label(k)) {
            labels.entry(key.clone()).or_default();
        }
        body.labels = Some(labels);

        // Powers, on the body as it stands.
        check_container_create(user, &body)?;

        // References.
        let mut hc = body.host_config.take().unwrap_or_default();
        if let Some(mode) = hc.network_mode.clone() {
            hc.network_mode = Some(self.network_mode(&mode).await?);
        }
        for mode in [&mut hc.pid_mode, &mut hc.ipc_mode] {
            if let Some(m) = mode.as_deref() {
                if let Some(other) = m.strip_prefix("container:") {
                    let id = self.container_ref(other).await?;
                    *mode = Some(format!("container:{id}"));
                }
            }
        }
        if let Some(from) = hc.volumes_from.take() {
            let mut resolved = Vec::with_capacity(from.len());
            for entry in from {
                resolved.push(self.volumes_from(&entry).await?);
            }
            hc.volumes_from = Some(resolved);
        }
        if let Some(links) = hc.links.take() {
            let mut resolved = Vec::with_capacity(links.len());
            for l in links {
                let (target, alias) = l.split_once(':').unwrap_or((&l, &l));
                let info = access::container_info(user, self.ep, target, Role::Operator).await?;
                let name = info.name.unwrap_or_default();
                resolved.push(format!("{}:{alias}", name.trim_start_matches('/')));
            }
            hc.links = Some(resolved);
        }
        for bind in hc.binds.iter().flatten() {
            if let Some(name) = named_volume(bind) {
                self.volume(name, &team, None, true).await?;
            }
        }
        for m in hc.mounts.iter().flatten() {
            if m.typ == Some(MountTypeEnum::VOLUME) {
                if let Some(name) = m.source.as_deref().filter(|s| !s.is_empty()) {
                    let driver = m
                        .volume_options
                        .as_ref()
                        .and_then(|o| o.driver_config.as_ref());
                    self.volume(name, &team, driver, true).await?;
                }
            }
        }
        body.host_config = Some(hc);
        let endpoints: Vec<String> = body
            .networking_config
            .as_ref()
            .and_then(|n| n.endpoints_config.as_ref())
            .map(|e| e.keys().cloned().collect())
            .unwrap_or_default();
        for n in endpoints.iter().chain(&connects) {
            self.network(n).await?;
        }
        Ok(Decided { body, team, image })
    }

    /// A network the user may attach a container to (or connect one to).
    pub async fn network(&self, name: &str) -> AppResult<bollard::models::Network> {
        if name == "host" && !self.admin() {
            return Err(AppError::Forbidden(
                "only an admin may create containers with the host's network (network host)".into(),
            ));
        }
        let n = match networks::inspect_raw(self.ep, name).await {
            Ok(n) => n,
            Err(AppError::NotFound(_)) => return Err(no_such_network(name)),
            Err(e) => return Err(e),
        };
        let open = n
            .name
            .as_deref()
            .is_some_and(|n| OPEN_NETWORKS.contains(&n) || n == "host");
        let labels = n.labels.clone().unwrap_or_default().into_iter().collect();
        if self.admin() || open || self.user.can_see_map(&labels) {
            Ok(n)
        } else {
            Err(no_such_network(name))
        }
    }

    /// `network_mode`: a network, `container:X` (X must be the user's), or a built-in mode.
    async fn network_mode(&self, mode: &str) -> AppResult<String> {
        if let Some(other) = mode.strip_prefix("container:") {
            let id = self.container_ref(other).await?;
            return Ok(format!("container:{id}"));
        }
        if matches!(mode, "" | "default" | "bridge" | "none" | "host") {
            return Ok(mode.to_owned());
        }
        self.network(mode).await?;
        Ok(mode.to_owned())
    }

    /// A container another one joins (namespaces) or reads from: the user's, by full id.
    async fn container_ref(&self, reference: &str) -> AppResult<String> {
        Ok(
            access::container(self.user, self.ep, reference, Role::Operator)
                .await?
                .id,
        )
    }

    /// `volumes_from: X[:ro|:rw]`: X must be the user's, and what X mounts must be
    /// something the user could mount themselves (no host folder through the back door).
    async fn volumes_from(&self, entry: &str) -> AppResult<String> {
        let (reference, mode) = match entry.rsplit_once(':') {
            Some((r, m)) if m == "ro" || m == "rw" => (r, Some(m)),
            _ => (entry, None),
        };
        let info = access::container_info(self.user, self.ep, reference, Role::Operator).await?;
        if !self.admin() {
            for m in info.mounts.iter().flatten() {
                match m.typ {
                    Some(bollard::models::MountPointTypeEnum::VOLUME) => {
                        if let Some(name) = m.name.as_deref() {
                            self.volume(name, "", None, false).await?;
                        }
                    }
                    Some(bollard::models::MountPointTypeEnum::TMPFS) | None => {}
                    Some(other) => {
                        return Err(AppError::Forbidden(format!(
                            "only an admin may create containers with another container's {other} mounts (volumes_from: {reference} mounts {})",
                            m.source.as_deref().unwrap_or_default()
                        )))
                    }
                }
            }
        }
        let id = info.id.unwrap_or_default();
        Ok(match mode {
            Some(m) => format!("{id}:{m}"),
            None => id,
        })
    }

    /// A named volume a container mounts: the user's or shared, and not one that reaches
    /// the host unless the user is admin. A missing one is made for `team` when `create`
    /// (as the daemon would make it, but labelled, so the team sees it).
    pub async fn volume(
        &self,
        name: &str,
        team: &str,
        driver: Option<&MountVolumeOptionsDriverConfig>,
        create: bool,
    ) -> AppResult<()> {
        volumes::check_name(name)?;
        let n = name.to_owned();
        let found = match self
            .ep
            .call(|d| async move { d.inspect_volume(&n).await })
            .await
        {
            Ok(v) => Some(v),
            Err(AppError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        match found {
            Some(v) => {
                if self.admin() {
                    return Ok(());
                }
                let labels = v.labels.clone().into_iter().collect();
                if !self.user.can_see_map(&labels) {
                    return Err(if create {
                        AppError::Conflict(format!(
                            "the volume name {name} is taken by a volume you may not use: choose another name"
                        ))
                    } else {
                        no_such_volume(name)
                    });
                }
                let options = v.options.clone();
                if v.driver != "local" || volume_options_reach_host(&options) {
                    return Err(AppError::Forbidden(format!(
                        "only an admin may mount volume {name}: its driver or options ({}) reach the host",
                        describe_options(&v.driver, &options)
                    )));
                }
                Ok(())
            }
            None if create => {
                let mut labels = HashMap::new();
                labels.insert(TEAM_LABEL.to_owned(), team.to_owned());
                let config = bollard::models::VolumeCreateOptions {
                    name: Some(name.to_owned()),
                    driver: driver.and_then(|d| d.name.clone()),
                    driver_opts: driver.and_then(|d| d.options.clone()),
                    labels: Some(labels),
                    ..Default::default()
                };
                self.ep
                    .call(|d| async move { d.create_volume(config).await })
                    .await
                    .map(|_| ())
            }
            None => Err(no_such_volume(name)),
        }
    }
}

impl Policy<'_> {
    /// Check a Compose project name may carry `team`'s containers, networks and volumes:
    /// nothing of that project on this daemon belongs to another team (or to no team: an
    /// admin's or the compose CLI's). A project is one team's, so nobody joins another's.
    pub async fn claim_project(&self, project: &str, team: &str) -> AppResult<()> {
        if self.admin() {
            return Ok(());
        }
        let filter = || {
            HashMap::from([(
                "label".to_owned(),
                vec![format!("{}={project}", crate::stacks::labels::PROJECT)],
            )])
        };
        let (cs, ns, vs) = tokio::try_join!(
            self.ep.call(|d| async move {
                d.list_containers(Some(bollard::query_parameters::ListContainersOptions {
                    all: true,
                    filters: Some(filter()),
                    ..Default::default()
                }))
                .await
            }),
            self.ep.call(|d| async move {
                d.list_networks(Some(bollard::query_parameters::ListNetworksOptions {
                    filters: Some(filter()),
                }))
                .await
            }),
            self.ep.call(|d| async move {
                d.list_volumes(Some(bollard::query_parameters::ListVolumesOptions {
                    filters: Some(filter()),
                }))
                .await
            }),
        )?;
        let teams = cs
            .iter()
            .map(|c| c.labels.as_ref().and_then(|l| l.get(TEAM_LABEL)).cloned())
            .chain(
                ns.iter()
                    .map(|n| n.labels.as_ref().and_then(|l| l.get(TEAM_LABEL)).cloned()),
            )
            .chain(
                vs.volumes
                    .iter()
                    .flatten()
                    .map(|v| v.labels.get(TEAM_LABEL).cloned()),
            );
        for t in teams {
            if t.as_deref() != Some(team) {
                return Err(AppError::Conflict(format!(
                    "the Compose project {project} belongs to another team: choose another project name (docker-compose -p NAME)"
                )));
            }
        }
        Ok(())
    }
}

fn describe_options(driver: &str, options: &HashMap<String, String>) -> String {
    let mut parts = vec![format!("driver={driver}")];
    let mut keys: Vec<_> = options.iter().collect();
    keys.sort();
    parts.extend(keys.into_iter().map(|(k, v)| format!("{k}={v}")));
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::named_volume;

    #[test]
    fn named_volumes_in_binds() {
        assert_eq!(named_volume("data:/data"), Some("data"));
        assert_eq!(named_volume("data:/data:ro"), Some("data"));
        assert_eq!(named_volume("/etc:/x"), None);
        assert_eq!(named_volume("./x:/x"), None);
        assert_eq!(named_volume("a/b:/x"), None);
    }
}
