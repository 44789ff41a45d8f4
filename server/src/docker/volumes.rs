//! Volumes: list (with the containers that mount each, and sizes when asked), create,
//! inspect, remove, prune.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{MountPointTypeEnum, VolumeCreateOptions};
use bollard::query_parameters::{
    ListContainersOptions, ListVolumesOptions, PruneVolumesOptions, RemoveVolumeOptions,
};
use serde_json::Value;

use super::Endpoint;
use crate::error::{AppError, AppResult};

/// A volume name as users give it: nothing that could change the daemon's URL path.
pub fn check_name(name: &str) -> AppResult<&str> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(name)
    } else {
        Err(AppError::bad_request(
            "invalid_volume_name",
            format!("{name:?} is not a volume name: use letters, digits, '_', '.' or '-'"),
        ))
    }
}

/// Every volume. `size`: ask the daemon to measure them (`docker system df -v`), slower.
pub async fn list(ep: &Endpoint, size: bool) -> AppResult<Vec<wire::VolumeSummary>> {
    let (vols, containers) = tokio::try_join!(
        ep.call(|d| async move { d.list_volumes(None::<ListVolumesOptions>).await }),
        ep.call(|d| async move {
            d.list_containers(Some(ListContainersOptions {
                all: true,
                ..Default::default()
            }))
            .await
        }),
    )?;
    // Volume name → names of the containers mounting it.
    let mut users: HashMap<String, Vec<String>> = HashMap::new();
    for c in &containers {
        let cname = c
            .names
            .as_ref()
            .and_then(|n| n.first())
            .map(|n| n.trim_start_matches('/').to_owned())
            .unwrap_or_default();
        for m in c.mounts.iter().flatten() {
            if m.typ == Some(MountPointTypeEnum::VOLUME) {
                if let Some(name) = &m.name {
                    users.entry(name.clone()).or_default().push(cname.clone());
                }
            }
        }
    }
    let sizes: HashMap<String, i64> = if size {
        let df = super::disk::system_df(ep).await?;
        df.volumes
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| {
                let s = v.usage_data.as_ref().map(|u| u.size).filter(|s| *s >= 0)?;
                Some((v.name, s))
            })
            .collect()
    } else {
        HashMap::new()
    };
    let mut out: Vec<wire::VolumeSummary> = vols
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| {
            let mut containers = users.remove(&v.name).unwrap_or_default();
            containers.sort();
            wire::VolumeSummary {
                size: sizes.get(&v.name).copied(),
                created_at: v.created_at.map(|t| t.to_string()),
                labels: v.labels.into_iter().collect::<BTreeMap<_, _>>(),
                options: v.options.into_iter().collect::<BTreeMap<_, _>>(),
                name: v.name,
                driver: v.driver,
                mountpoint: v.mountpoint,
                containers,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

pub async fn inspect_raw(ep: &Endpoint, name: &str) -> AppResult<bollard::models::Volume> {
    let name = check_name(name)?.to_owned();
    ep.call(|d| async move { d.inspect_volume(&name).await })
        .await
}

pub async fn inspect(ep: &Endpoint, name: &str) -> AppResult<Value> {
    let v = inspect_raw(ep, name).await?;
    serde_json::to_value(v).map_err(|e| AppError::Internal(e.into()))
}

/// `docker volume create`. `labels` already carry the team.
pub async fn create(
    ep: &Endpoint,
    req: &wire::CreateVolume,
    labels: HashMap<String, String>,
) -> AppResult<String> {
    check_name(&req.name)?;
    let body = VolumeCreateOptions {
        name: Some(req.name.clone()),
        driver: Some(req.driver.clone().unwrap_or_else(|| "local".into())),
        driver_opts: Some(req.options.clone().into_iter().collect()),
        labels: Some(labels),
        ..Default::default()
    };
    let v = ep
        .call(|d| async move { d.create_volume(body).await })
        .await?;
    Ok(v.name)
}

pub async fn remove(ep: &Endpoint, name: &str, force: bool) -> AppResult<()> {
    let name = check_name(name)?.to_owned();
    ep.call(|d| async move {
        d.remove_volume(&name, Some(RemoveVolumeOptions { force }))
            .await
    })
    .await
}

/// `docker volume prune [--filter label=..]`.
pub async fn prune(ep: &Endpoint, labels: &[String]) -> AppResult<wire::Pruned> {
    let filters =
        (!labels.is_empty()).then(|| HashMap::from([("label".to_owned(), labels.to_vec())]));
    let res = ep
        .call(|d| async move { d.prune_volumes(Some(PruneVolumesOptions { filters })).await })
        .await?;
    Ok(wire::Pruned {
        deleted: res.volumes_deleted.unwrap_or_default(),
        space_reclaimed: res.space_reclaimed.unwrap_or_default(),
    })
}
