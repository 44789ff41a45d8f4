//! Swarm services, judged as containers are: a `ServiceSpec` to create, or the new spec of
//! an update, goes through [`Policy::service`] and what comes back is what the daemon gets.
//!
//! Powers (admin only, on the spec as sent): host binds and other non-volume mounts,
//! volumes whose driver or options reach the host, added capabilities, sysctls, relaxed
//! security (seccomp unconfined or custom, AppArmor disabled, SELinux labelling off),
//! credential specs, generic resources (GPUs and other devices), plugin and network
//! attachment tasks, and the host's network. References, resolved on the manager: the
//! image (the image rules of `images.rs`), every network a task joins (turned into its id:
//! the daemon gets the one that was checked), named volumes, secrets and configs (the
//! caller's team's, or shared; another team's answers as a missing one). Labels berth owns
//! are set by berth on the service, on its tasks' containers and on the volumes the nodes
//! make for it.
//!
//! An update is judged as a create of the new spec, for the team the service already
//! belongs to: an operator cannot add powers to a service (nor keep an admin's powers
//! while changing it), and a rollback is judged on the spec it would bring back.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{
    Mount, MountTypeEnum, Secret, Service, ServiceSpec, TaskSpecContainerSpecPrivileges,
    TaskSpecContainerSpecPrivilegesAppArmorModeEnum as AppArmor,
    TaskSpecContainerSpecPrivilegesSeccompModeEnum as Seccomp,
};
use wire::Role;

use super::resolve::Policy;
use super::{own_labels, reserved_label, volume_options_reach_host};
use crate::auth::access::TEAM_LABEL;
use crate::docker::swarm;
use crate::error::{AppError, AppResult};

fn refuse(what: &str) -> AppError {
    AppError::Forbidden(format!("only an admin may create services with {what}"))
}

/// The daemon's words for a service it does not have; another team's gets the same.
pub fn no_such_service(reference: &str) -> AppError {
    AppError::NotFound(format!("service {reference} not found"))
}

/// The daemon's words for a secret it does not have; another team's gets the same.
pub fn no_such_secret(reference: &str) -> AppError {
    AppError::NotFound(format!("secret {reference} not found"))
}

/// The daemon's words for a config it does not have; another team's gets the same.
pub fn no_such_config(reference: &str) -> AppError {
    AppError::NotFound(format!("config {reference} not found"))
}

/// What is decided: the spec to send and the team that owns the service.
pub struct DecidedService {
    pub spec: ServiceSpec,
    pub team: String,
}

fn labels_of(l: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    l.map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Refuse a service spec that needs host-level powers, unless the user is admin. Judges
/// powers only; [`Policy::service`] also resolves what the spec names.
pub fn check_service_powers(user: &crate::auth::CurrentUser, spec: &ServiceSpec) -> AppResult<()> {
    user.require(Role::Operator)?;
    if user.role == Role::Admin {
        return Ok(());
    }
    let Some(task) = spec.task_template.as_ref() else {
        return Ok(());
    };
    if task.plugin_spec.is_some() {
        return Err(refuse("a plugin task (TaskTemplate.PluginSpec)"));
    }
    if task.network_attachment_spec.is_some() {
        return Err(refuse(
            "a network attachment task (TaskTemplate.NetworkAttachmentSpec)",
        ));
    }
    if task
        .runtime
        .as_deref()
        .is_some_and(|r| !r.is_empty() && r != "container")
    {
        return Err(refuse("another runtime (TaskTemplate.Runtime)"));
    }
    let generic = task
        .resources
        .as_ref()
        .and_then(|r| r.reservations.as_ref())
        .and_then(|r| r.generic_resources.as_ref())
        .is_some_and(|g| !g.is_empty());
    if generic {
        return Err(refuse(
            "GPUs or other generic resources (Resources.Reservations.GenericResources)",
        ));
    }
    let Some(c) = task.container_spec.as_ref() else {
        return Ok(());
    };
    if c.capability_add.as_ref().is_some_and(|c| !c.is_empty()) {
        return Err(refuse("added capabilities (cap_add)"));
    }
    if let Some(key) = c.sysctls.as_ref().and_then(|s| s.keys().min()) {
        return Err(refuse(&format!("kernel parameters (sysctls: {key})")));
    }
    if let Some(p) = c.privileges.as_ref() {
        check_privileges(p)?;
    }
    for m in c.mounts.iter().flatten() {
        check_mount(m)?;
    }
    Ok(())
}

/// `privileged: true` in a stack's service: the swarm runs no privileged task (the CLI
/// drops the key with a warning), but asking for it is an admin's call, as for containers;
/// an operator's file is refused rather than quietly deployed with less than it says.
pub fn check_stack_privileged(
    user: &crate::auth::CurrentUser,
    service: &str,
    privileged: bool,
) -> AppResult<()> {
    user.require(Role::Operator)?;
    if privileged && user.role != Role::Admin {
        return Err(refuse(&format!(
            "privileged mode (services.{service}.privileged)"
        )));
    }
    Ok(())
}

fn check_privileges(p: &TaskSpecContainerSpecPrivileges) -> AppResult<()> {
    if p.credential_spec.is_some() {
        return Err(refuse("a credential spec (Privileges.CredentialSpec)"));
    }
    if p.se_linux_context
        .as_ref()
        .is_some_and(|s| s.disable == Some(true) || s.typ.as_deref().is_some_and(|t| !t.is_empty()))
    {
        return Err(refuse(
            "relaxed security options (Privileges.SELinuxContext)",
        ));
    }
    if let Some(mode) = p.seccomp.as_ref().and_then(|s| s.mode) {
        if matches!(mode, Seccomp::UNCONFINED | Seccomp::CUSTOM) {
            return Err(refuse(&format!(
                "relaxed security options (Privileges.Seccomp: {mode})"
            )));
        }
    }
    if p.app_armor.as_ref().and_then(|a| a.mode) == Some(AppArmor::DISABLED) {
        return Err(refuse(
            "relaxed security options (Privileges.AppArmor: disabled)",
        ));
    }
    Ok(())
}

fn check_mount(m: &Mount) -> AppResult<()> {
    match m.typ {
        Some(MountTypeEnum::VOLUME) | Some(MountTypeEnum::TMPFS) | None => {}
        Some(other) => {
            return Err(refuse(&format!(
                "a {other} mount (mounts: {})",
                m.source.as_deref().unwrap_or_default()
            )))
        }
    }
    if let Some(cfg) = m
        .volume_options
        .as_ref()
        .and_then(|v| v.driver_config.as_ref())
    {
        if cfg
            .name
            .as_deref()
            .is_some_and(|n| !n.is_empty() && n != "local")
        {
            return Err(refuse("a volume driver other than local (mounts)"));
        }
        if cfg.options.as_ref().is_some_and(volume_options_reach_host) {
            return Err(refuse("volume driver options that reach the host (mounts)"));
        }
    }
    Ok(())
}

/// Reserved labels out of a map the user sent, the team's in.
fn stamp(labels: &mut HashMap<String, String>, team: &str, shared: bool) {
    labels.retain(|k, _| !reserved_label(k));
    labels.insert(TEAM_LABEL.into(), team.to_owned());
    labels.insert(crate::auth::access::SHARED_LABEL.into(), shared.to_string());
}

impl Policy<'_> {
    /// Decide a service create: the spec to send the daemon and the owning team.
    pub async fn service(
        &self,
        spec: ServiceSpec,
        team: Option<&str>,
    ) -> AppResult<DecidedService> {
        self.user.require(Role::Operator)?;
        let mut spec = spec;
        let labels = own_labels(self.user, spec.labels.take().unwrap_or_default(), team)?;
        let team = labels.get(TEAM_LABEL).cloned().unwrap_or_default();
        let shared = labels
            .get(crate::auth::access::SHARED_LABEL)
            .is_some_and(|s| s == "true");
        spec.labels = Some(labels);
        check_service_powers(self.user, &spec)?;
        let name = spec.name.clone().unwrap_or_default();
        if name.trim().is_empty() {
            return Err(AppError::bad_request(
                "invalid_name",
                "name: a service needs a name",
            ));
        }

        let mut task = spec.task_template.take().unwrap_or_default();
        // Networks: the task's and the deprecated service-level ones, each resolved to the
        // network the daemon will attach (by id).
        for list in [&mut task.networks, &mut spec.networks] {
            for n in list.iter_mut().flatten() {
                let target = n.target.clone().unwrap_or_default();
                let net = self.network(&target).await?;
                n.target = net.id.or(Some(target));
            }
        }
        if let Some(c) = task.container_spec.as_mut() {
            let image = c
                .image
                .clone()
                .filter(|i| !i.trim().is_empty())
                .ok_or_else(|| {
                    AppError::bad_request("invalid_image", "image: an image is required")
                })?;
            let info = self
                .image_use(&image)
                .await
                .map_err(|e| super::images::missing_for_use(&image, e))?;
            // The tasks' containers carry the team too (and nothing an image's `LABEL`
            // says for berth's keys).
            let mut cl = c.labels.take().unwrap_or_default();
            stamp(&mut cl, &team, shared);
            for key in info.labels.keys().filter(|k| reserved_label(k)) {
                cl.entry(key.clone()).or_default();
            }
            c.labels = Some(cl);
            for m in c.mounts.iter_mut().flatten() {
                if m.typ == Some(MountTypeEnum::VOLUME) {
                    if let Some(name) = m.source.as_deref().filter(|s| !s.is_empty()) {
                        // The manager's volume of that name, if it has one, must be the
                        // user's; a node that has none makes it with these labels.
                        self.swarm_volume(name).await?;
                        let opts = m.volume_options.get_or_insert_with(Default::default);
                        let vl = opts.labels.get_or_insert_with(HashMap::new);
                        stamp(vl, &team, false);
                    }
                }
            }
            for s in c.secrets.iter_mut().flatten() {
                let reference = s
                    .secret_id
                    .clone()
                    .filter(|r| !r.is_empty())
                    .or_else(|| s.secret_name.clone())
                    .unwrap_or_default();
                let found = self.secret(&reference).await?;
                s.secret_id = found.id;
                s.secret_name = found.spec.and_then(|sp| sp.name);
            }
            for cf in c.configs.iter_mut().flatten() {
                let reference = cf
                    .config_id
                    .clone()
                    .filter(|r| !r.is_empty())
                    .or_else(|| cf.config_name.clone())
                    .unwrap_or_default();
                let found = self.config(&reference).await?;
                cf.config_id = found.id;
                cf.config_name = found.spec.and_then(|sp| sp.name);
            }
        } else if !self.admin() {
            return Err(AppError::bad_request(
                "invalid_spec",
                "TaskTemplate.ContainerSpec: a service needs a container spec (an image)",
            ));
        }
        spec.task_template = Some(task);
        Ok(DecidedService { spec, team })
    }

    /// Decide an update of `current` to `spec`: judged as a create for the service's team.
    pub async fn service_update(
        &self,
        current: &Service,
        spec: ServiceSpec,
    ) -> AppResult<ServiceSpec> {
        self.user.require(Role::Operator)?;
        let team = current
            .spec
            .as_ref()
            .and_then(|s| s.labels.as_ref())
            .and_then(|l| l.get(TEAM_LABEL))
            .cloned()
            .filter(|t| !t.is_empty());
        // A non-admin's service is always a team's; an admin's update may keep "no team".
        let mut spec = spec;
        if let (Some(team), false) = (&team, self.admin()) {
            let l = spec.labels.get_or_insert_with(HashMap::new);
            l.insert(TEAM_LABEL.into(), team.clone());
        }
        let decided = self.service(spec, team.as_deref()).await?;
        Ok(decided.spec)
    }

    /// Check a rollback: the spec it brings back is judged as an update to it.
    pub async fn service_rollback(&self, current: &Service) -> AppResult<()> {
        self.user.require(Role::Operator)?;
        let id = current.id.clone().unwrap_or_default();
        match swarm::previous_spec(self.ep, &id).await? {
            Some(prev) => self.service_update(current, prev).await.map(|_| ()),
            None => Err(AppError::Conflict(
                "the service has no previous spec to roll back to".into(),
            )),
        }
    }

    /// A service the user may reach with `role`, by id, name or id prefix; another team's
    /// answers as a missing one.
    pub async fn service_ref(&self, reference: &str, role: Role) -> AppResult<Service> {
        self.user.require(role)?;
        let r = reference.to_owned();
        let s = match swarm::call(self.ep, |d| async move {
            d.inspect_service(&r, None::<bollard::query_parameters::InspectServiceOptions>)
                .await
        })
        .await
        {
            Ok(s) => s,
            Err(AppError::NotFound(_)) => return Err(no_such_service(reference)),
            Err(e) => return Err(e),
        };
        let labels = labels_of(s.spec.as_ref().and_then(|s| s.labels.as_ref()));
        if self.admin() || self.user.can_see_map(&labels) {
            Ok(s)
        } else {
            Err(no_such_service(reference))
        }
    }

    /// A secret the user may use (mount or remove), by id or name.
    pub async fn secret(&self, reference: &str) -> AppResult<Secret> {
        if reference.is_empty() {
            return Err(AppError::bad_request(
                "invalid_secret",
                "secrets: each needs a name or id",
            ));
        }
        let r = reference.to_owned();
        let s = match swarm::call(self.ep, |d| async move { d.inspect_secret(&r).await }).await {
            Ok(s) => s,
            Err(AppError::NotFound(_)) => return Err(no_such_secret(reference)),
            Err(e) => return Err(e),
        };
        let labels = labels_of(s.spec.as_ref().and_then(|s| s.labels.as_ref()));
        if self.admin() || self.user.can_see_map(&labels) {
            Ok(s)
        } else {
            Err(no_such_secret(reference))
        }
    }

    /// A config the user may use (mount or remove), by id or name.
    pub async fn config(&self, reference: &str) -> AppResult<bollard::models::Config> {
        if reference.is_empty() {
            return Err(AppError::bad_request(
                "invalid_config",
                "configs: each needs a name or id",
            ));
        }
        let c = match swarm::inspect_config(self.ep, reference).await {
            Ok(c) => c,
            Err(AppError::NotFound(_)) => return Err(no_such_config(reference)),
            Err(e) => return Err(e),
        };
        let labels = labels_of(c.spec.as_ref().and_then(|s| s.labels.as_ref()));
        if self.admin() || self.user.can_see_map(&labels) {
            Ok(c)
        } else {
            Err(no_such_config(reference))
        }
    }

    /// A named volume a service mounts, as the manager knows it: if it has one of that
    /// name, it must be the user's (or shared) and not reach the host.
    async fn swarm_volume(&self, name: &str) -> AppResult<()> {
        crate::docker::volumes::check_name(name)?;
        let n = name.to_owned();
        match self
            .ep
            .call(|d| async move { d.inspect_volume(&n).await })
            .await
        {
            // Judged like a container's volume (another team's answers as missing), but a
            // missing one is not made here: each node makes its own, labelled by the
            // mount's volume options.
            Ok(_) => self.volume(name, "", None, false).await,
            Err(AppError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::CurrentUser;
    use bollard::models::{
        GenericResourcesInner, GenericResourcesInnerDiscreteResourceSpec, MountVolumeOptions,
        MountVolumeOptionsDriverConfig, ResourceObject, TaskSpec, TaskSpecContainerSpec,
        TaskSpecContainerSpecPrivilegesAppArmor, TaskSpecContainerSpecPrivilegesSeccomp,
        TaskSpecPluginSpec, TaskSpecResources,
    };

    fn user(role: Role) -> CurrentUser {
        CurrentUser {
            id: 2,
            username: "op".into(),
            role,
            teams: vec!["web".into()],
            via: crate::auth::Via::Session,
            peer: None,
        }
    }

    fn with(c: TaskSpecContainerSpec) -> ServiceSpec {
        ServiceSpec {
            task_template: Some(TaskSpec {
                container_spec: Some(c),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn operators_get_no_host_powers_in_services() {
        let op = user(Role::Operator);
        let bind = |typ| Mount {
            typ: Some(typ),
            source: Some("/".into()),
            target: Some("/host".into()),
            ..Default::default()
        };
        let mut bad = vec![
            with(TaskSpecContainerSpec {
                mounts: Some(vec![bind(MountTypeEnum::BIND)]),
                ..Default::default()
            }),
            with(TaskSpecContainerSpec {
                mounts: Some(vec![bind(MountTypeEnum::NPIPE)]),
                ..Default::default()
            }),
            with(TaskSpecContainerSpec {
                mounts: Some(vec![Mount {
                    typ: Some(MountTypeEnum::VOLUME),
                    source: Some("v".into()),
                    target: Some("/v".into()),
                    volume_options: Some(MountVolumeOptions {
                        driver_config: Some(MountVolumeOptionsDriverConfig {
                            name: Some("local".into()),
                            options: Some(HashMap::from([("o".into(), "bind".into())])),
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            with(TaskSpecContainerSpec {
                capability_add: Some(vec!["CAP_SYS_ADMIN".into()]),
                ..Default::default()
            }),
            with(TaskSpecContainerSpec {
                sysctls: Some(HashMap::from([("net.ipv4.ip_forward".into(), "1".into())])),
                ..Default::default()
            }),
            with(TaskSpecContainerSpec {
                privileges: Some(TaskSpecContainerSpecPrivileges {
                    seccomp: Some(TaskSpecContainerSpecPrivilegesSeccomp {
                        mode: Some(Seccomp::UNCONFINED),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            with(TaskSpecContainerSpec {
                privileges: Some(TaskSpecContainerSpecPrivileges {
                    app_armor: Some(TaskSpecContainerSpecPrivilegesAppArmor {
                        mode: Some(AppArmor::DISABLED),
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        ];
        bad.push(ServiceSpec {
            task_template: Some(TaskSpec {
                plugin_spec: Some(TaskSpecPluginSpec::default()),
                ..Default::default()
            }),
            ..Default::default()
        });
        bad.push(ServiceSpec {
            task_template: Some(TaskSpec {
                container_spec: Some(TaskSpecContainerSpec::default()),
                resources: Some(TaskSpecResources {
                    reservations: Some(ResourceObject {
                        generic_resources: Some(vec![GenericResourcesInner {
                            discrete_resource_spec: Some(
                                GenericResourcesInnerDiscreteResourceSpec {
                                    kind: Some("gpu".into()),
                                    value: Some(1),
                                },
                            ),
                            ..Default::default()
                        }]),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
        for spec in bad {
            assert!(check_service_powers(&op, &spec).is_err(), "{spec:?}");
            assert!(check_service_powers(&user(Role::Admin), &spec).is_ok());
        }
        let fine = with(TaskSpecContainerSpec {
            mounts: Some(vec![
                Mount {
                    typ: Some(MountTypeEnum::VOLUME),
                    source: Some("data".into()),
                    target: Some("/data".into()),
                    ..Default::default()
                },
                Mount {
                    typ: Some(MountTypeEnum::TMPFS),
                    target: Some("/tmp".into()),
                    ..Default::default()
                },
            ]),
            capability_drop: Some(vec!["ALL".into()]),
            privileges: Some(TaskSpecContainerSpecPrivileges {
                no_new_privileges: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert!(check_service_powers(&op, &fine).is_ok());
        assert!(check_service_powers(&user(Role::Viewer), &fine).is_err());
    }
}
