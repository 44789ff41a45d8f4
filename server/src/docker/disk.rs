//! `docker system df` and `docker system prune [-a] [--volumes] [--filter label=..]`, with
//! a preview: the same rules the daemon's prune APIs apply, worked out from the lists, so a
//! user sees what goes before confirming.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};

use bollard::models::SystemDataUsageResponse;

use bollard::query_parameters::{
    ListContainersOptions, ListImagesOptions, ListNetworksOptions, ListVolumesOptions,
    PruneBuildOptions, PruneContainersOptions, PruneImagesOptions, PruneNetworksOptions,
    PruneVolumesOptions,
};

use super::Endpoint;
use crate::error::AppResult;

/// The daemon's `GET /system/df`, one at a time per daemon: engines before 23 refuse a
/// second one while the first runs ("a disk usage operation is already running"), which
/// two people on the System page, or a volume list with sizes beside it, would otherwise
/// turn into an error. Another client's df (the docker CLI) is waited out briefly.
pub async fn system_df(ep: &Endpoint) -> AppResult<SystemDataUsageResponse> {
    static LOCKS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
        LazyLock::new(Default::default);
    let lock = LOCKS
        .lock()
        .map(|mut m| m.entry(ep.host.clone()).or_default().clone())
        .unwrap_or_default();
    let _turn = lock.lock().await;
    let mut tries = 0;
    loop {
        match ep.call(|d| async move { d.df(None).await }).await {
            Err(e)
                if tries < 20
                    && e.to_string()
                        .contains("disk usage operation is already running") =>
            {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            other => return other,
        }
    }
}

/// `docker system df`.
pub async fn df(ep: &Endpoint) -> AppResult<wire::DiskUsage> {
    let df = system_df(ep).await?;
    let mut out = wire::DiskUsage::default();
    for i in df.images.unwrap_or_default() {
        out.images.count += 1;
        out.images.size += i.size;
        if i.containers > 0 {
            out.images.active += 1;
        } else {
            out.images.reclaimable += i.size - i.shared_size.max(0);
        }
    }
    for c in df.containers.unwrap_or_default() {
        let size = c.size_rw.unwrap_or_default();
        out.containers.count += 1;
        out.containers.size += size;
        if c.state.map(|s| s.to_string()) == Some("running".into()) {
            out.containers.active += 1;
        } else {
            out.containers.reclaimable += size;
        }
    }
    for v in df.volumes.unwrap_or_default() {
        let (size, refs) = v
            .usage_data
            .map(|u| (u.size.max(0), u.ref_count))
            .unwrap_or((0, 0));
        out.volumes.count += 1;
        out.volumes.size += size;
        if refs > 0 {
            out.volumes.active += 1;
        } else {
            out.volumes.reclaimable += size;
        }
    }
    for b in df.build_cache.unwrap_or_default() {
        let size = b.size.unwrap_or_default();
        out.build_cache.count += 1;
        out.build_cache.size += size;
        if b.in_use == Some(true) {
            out.build_cache.active += 1;
        } else if b.shared != Some(true) {
            out.build_cache.reclaimable += size;
        }
    }
    Ok(out)
}

fn label_filters(labels: &[String]) -> HashMap<String, Vec<String>> {
    let mut f = HashMap::new();
    if !labels.is_empty() {
        f.insert("label".to_owned(), labels.to_vec());
    }
    f
}

/// What a system prune would remove.
pub async fn preview(ep: &Endpoint, req: &wire::SystemPrune) -> AppResult<wire::SystemPruned> {
    let mut out = wire::SystemPruned {
        dry_run: true,
        ..Default::default()
    };
    let all_opts = ListContainersOptions {
        all: true,
        size: true,
        ..Default::default()
    };
    let containers = ep
        .call(|d| async move { d.list_containers(Some(all_opts)).await })
        .await?;
    let mut f = label_filters(&req.labels);
    f.insert(
        "status".into(),
        vec!["created".into(), "exited".into(), "dead".into()],
    );
    let doomed_opts = ListContainersOptions {
        all: true,
        filters: Some(f),
        ..Default::default()
    };
    let doomed: HashSet<String> = ep
        .call(|d| async move { d.list_containers(Some(doomed_opts)).await })
        .await?
        .into_iter()
        .filter_map(|c| c.id)
        .collect();
    // What the containers that stay still use.
    let mut used_images = HashSet::new();
    let mut used_networks = HashSet::new();
    let mut used_volumes = HashSet::new();
    for c in &containers {
        let id = c.id.clone().unwrap_or_default();
        if doomed.contains(&id) {
            let name = c
                .names
                .as_ref()
                .and_then(|n| n.first())
                .map(|n| n.trim_start_matches('/').to_owned())
                .unwrap_or_default();
            out.containers
                .push(format!("{name} ({})", &id[..id.len().min(12)]));
            out.space_reclaimed += c.size_rw.unwrap_or_default();
            continue;
        }
        if let Some(i) = &c.image_id {
            used_images.insert(i.clone());
        }
        for (_, n) in c
            .network_settings
            .as_ref()
            .and_then(|n| n.networks.as_ref())
            .into_iter()
            .flatten()
        {
            if let Some(id) = &n.network_id {
                used_networks.insert(id.clone());
            }
        }
        for m in c.mounts.iter().flatten() {
            if let Some(n) = &m.name {
                used_volumes.insert(n.clone());
            }
        }
    }

    let nf = label_filters(&req.labels);
    let nets = ep
        .call(|d| async move {
            d.list_networks(Some(ListNetworksOptions { filters: Some(nf) }))
                .await
        })
        .await?;
    for n in nets {
        let name = n.name.unwrap_or_default();
        let builtin = ["bridge", "host", "none"].contains(&name.as_str());
        if !builtin && !used_networks.contains(&n.id.unwrap_or_default()) {
            out.networks.push(name);
        }
    }

    if req.volumes {
        let vf = label_filters(&req.labels);
        let vols = ep
            .call(|d| async move {
                d.list_volumes(Some(ListVolumesOptions { filters: Some(vf) }))
                    .await
            })
            .await?;
        for v in vols.volumes.unwrap_or_default() {
            if !used_volumes.contains(&v.name) {
                out.volumes.push(v.name);
            }
        }
    }

    let mut imf = label_filters(&req.labels);
    if !req.all {
        imf.insert("dangling".into(), vec!["true".into()]);
    }
    let images = ep
        .call(|d| async move {
            d.list_images(Some(ListImagesOptions {
                all: false,
                filters: Some(imf),
                ..Default::default()
            }))
            .await
        })
        .await?;
    for i in images {
        if used_images.contains(&i.id) {
            continue;
        }
        let name = i
            .repo_tags
            .first()
            .filter(|t| *t != "<none>:<none>")
            .cloned()
            .unwrap_or_else(|| i.id.clone());
        out.images.push(name);
        out.space_reclaimed += i.size;
    }

    if req.labels.is_empty() {
        let df = system_df(ep).await?;
        for b in df.build_cache.unwrap_or_default() {
            if b.in_use != Some(true) && (req.all || b.shared != Some(true)) {
                out.build_cache += 1;
                out.space_reclaimed += b.size.unwrap_or_default();
            }
        }
    }
    Ok(out)
}

/// Prune: containers, networks, volumes (if asked), images, build cache (unless filtered
/// by label: build cache has no labels), in the docker CLI's order.
pub async fn prune(ep: &Endpoint, req: &wire::SystemPrune) -> AppResult<wire::SystemPruned> {
    let mut out = wire::SystemPruned::default();
    let f = label_filters(&req.labels);

    let cf = f.clone();
    let c = ep
        .call(|d| async move {
            d.prune_containers(Some(PruneContainersOptions { filters: Some(cf) }))
                .await
        })
        .await?;
    out.containers = c.containers_deleted.unwrap_or_default();
    out.space_reclaimed += c.space_reclaimed.unwrap_or_default();

    let nf = f.clone();
    let n = ep
        .call(|d| async move {
            d.prune_networks(Some(PruneNetworksOptions { filters: Some(nf) }))
                .await
        })
        .await?;
    out.networks = n.networks_deleted.unwrap_or_default();

    if req.volumes {
        let vf = f.clone();
        let v = ep
            .call(|d| async move {
                d.prune_volumes(Some(PruneVolumesOptions { filters: Some(vf) }))
                    .await
            })
            .await?;
        out.volumes = v.volumes_deleted.unwrap_or_default();
        out.space_reclaimed += v.space_reclaimed.unwrap_or_default();
    }

    let mut imf = f.clone();
    imf.insert(
        "dangling".into(),
        vec![if req.all { "false" } else { "true" }.into()],
    );
    let i = ep
        .call(|d| async move {
            d.prune_images(Some(PruneImagesOptions { filters: Some(imf) }))
                .await
        })
        .await?;
    for item in i.images_deleted.unwrap_or_default() {
        if let Some(t) = item.untagged.or(item.deleted) {
            out.images.push(t);
        }
    }
    out.space_reclaimed += i.space_reclaimed.unwrap_or_default();

    if req.labels.is_empty() {
        let all = req.all;
        let b = ep
            .call(|d| async move {
                d.prune_build(Some(PruneBuildOptions {
                    all: Some(all),
                    ..Default::default()
                }))
                .await
            })
            .await?;
        out.build_cache = b.caches_deleted.map(|c| c.len() as i64).unwrap_or_default();
        out.space_reclaimed += b.space_reclaimed.unwrap_or_default();
    }
    Ok(out)
}
