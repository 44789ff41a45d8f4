//! Images: list, inspect, history, tag, remove, prune, save, commit. Long operations
//! (pull, push, build, load) are in `docker/progress.rs`.

use std::collections::{BTreeMap, HashMap};

use bollard::query_parameters::{
    CommitContainerOptions, ListContainersOptions, ListImagesOptions, PruneImagesOptions,
    RemoveImageOptions, TagImageOptions,
};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde_json::Value;

use super::reference::{check_image, check_reference, check_tag};
use super::Endpoint;
use crate::error::{AppError, AppResult};

/// `docker images --no-trunc`, with how many containers use each image.
///
/// Two daemon calls made together: `GET /images/json` fills `Containers` only inside
/// `/system/df`, which also measures every volume and container layer (slow on a busy
/// host), so the count comes from one `GET /containers/json?all=1` instead.
pub async fn list(ep: &Endpoint) -> AppResult<Vec<wire::ImageSummary>> {
    let (images, containers) = tokio::try_join!(
        ep.call(|d| async move {
            d.list_images(Some(ListImagesOptions {
                all: false,
                digests: true,
                ..Default::default()
            }))
            .await
        }),
        ep.call(|d| async move {
            d.list_containers(Some(ListContainersOptions {
                all: true,
                ..Default::default()
            }))
            .await
        }),
    )?;
    let mut used: HashMap<String, i64> = HashMap::new();
    for c in containers {
        if let Some(id) = c.image_id {
            *used.entry(id).or_default() += 1;
        }
    }
    let mut rows: Vec<wire::ImageSummary> = images
        .into_iter()
        .map(|i| {
            let repo_tags: Vec<String> = i
                .repo_tags
                .into_iter()
                .filter(|t| t != "<none>:<none>")
                .collect();
            let repo_digests: Vec<String> = i
                .repo_digests
                .into_iter()
                .filter(|d| d != "<none>@<none>")
                .collect();
            wire::ImageSummary {
                containers: used.get(&i.id).copied().unwrap_or(0),
                dangling: repo_tags.is_empty(),
                id: i.id,
                repo_tags,
                repo_digests,
                size: i.size,
                created: i.created,
                labels: i.labels.into_iter().collect::<BTreeMap<_, _>>(),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
    Ok(rows)
}

/// `docker image inspect`.
pub async fn inspect(ep: &Endpoint, image: &str) -> AppResult<Value> {
    let image = check_image("image", image)?.to_owned();
    let info = ep
        .call(|d| async move { d.inspect_image(&image).await })
        .await?;
    serde_json::to_value(info).map_err(|e| AppError::Internal(e.into()))
}

/// `docker history --no-trunc`.
pub async fn history(ep: &Endpoint, image: &str) -> AppResult<Value> {
    let image = check_image("image", image)?.to_owned();
    let rows = ep
        .call(|d| async move { d.image_history(&image).await })
        .await?;
    serde_json::to_value(rows).map_err(|e| AppError::Internal(e.into()))
}

/// `docker tag IMAGE REPO[:TAG]`.
pub async fn tag(ep: &Endpoint, image: &str, repo: &str, tag: Option<&str>) -> AppResult<()> {
    let image = check_image("image", image)?.to_owned();
    let repo = check_reference("repo", repo)?;
    if repo.contains('@')
        || (tag.is_some() && repo.rsplit('/').next().is_some_and(|l| l.contains(':')))
    {
        return Err(AppError::bad_request(
            "invalid_reference",
            format!("repo: {repo:?} must be a repository name; give the tag in \"tag\""),
        ));
    }
    let tag = tag.map(check_tag).transpose()?.map(str::to_owned);
    let repo = repo.to_owned();
    ep.call(|d| async move {
        d.tag_image(
            &image,
            Some(TagImageOptions {
                repo: Some(repo),
                tag,
            }),
        )
        .await
    })
    .await
}

/// `docker rmi [-f]`: what was untagged and deleted.
pub async fn remove(ep: &Endpoint, image: &str, force: bool) -> AppResult<wire::RemovedImage> {
    let image = check_image("image", image)?.to_owned();
    let items = ep
        .call(|d| async move {
            d.remove_image(
                &image,
                Some(RemoveImageOptions {
                    force,
                    noprune: false,
                }),
                None,
            )
            .await
        })
        .await?;
    let mut out = wire::RemovedImage::default();
    for item in items {
        out.untagged.extend(item.untagged);
        out.deleted.extend(item.deleted);
    }
    Ok(out)
}

/// The prune filters berth passes on: labels and age. Anything else is a 400.
fn prune_filters(f: &BTreeMap<String, Vec<String>>) -> AppResult<HashMap<String, Vec<String>>> {
    let mut out = HashMap::new();
    for (k, v) in f {
        if !matches!(k.as_str(), "label" | "label!" | "until") {
            return Err(AppError::bad_request(
                "invalid_filter",
                format!("filters: {k:?} is not a prune filter; use label, label! or until"),
            ));
        }
        out.insert(k.clone(), v.clone());
    }
    Ok(out)
}

/// `docker image prune [-a] [--filter ...]`, or with `dry_run` what it would remove.
pub async fn prune(ep: &Endpoint, req: &wire::PruneImages) -> AppResult<wire::PruneResult> {
    let mut filters = prune_filters(&req.filters)?;
    if req.dry_run {
        return preview(ep, req.all, filters).await;
    }
    filters.insert("dangling".into(), vec![(!req.all).to_string()]);
    let res = ep
        .call(|d| async move {
            d.prune_images(Some(PruneImagesOptions {
                filters: Some(filters),
            }))
            .await
        })
        .await?;
    let mut out = wire::PruneResult {
        dry_run: false,
        space_reclaimed: res.space_reclaimed.unwrap_or_default(),
        ..Default::default()
    };
    for item in res.images_deleted.unwrap_or_default() {
        out.untagged.extend(item.untagged);
        out.deleted.extend(item.deleted);
    }
    Ok(out)
}

/// What a prune would take: top-level images (dangling ones unless `all`) that match the
/// filters and that no container uses. The size is an upper bound: layers shared with
/// images that stay are not freed.
async fn preview(
    ep: &Endpoint,
    all: bool,
    mut filters: HashMap<String, Vec<String>>,
) -> AppResult<wire::PruneResult> {
    // `until` is a prune filter only; the list has no such filter, so it is judged here.
    let until = filters.remove("until");
    let cutoff = match until.as_ref().and_then(|u| u.first()) {
        Some(u) => Some(parse_until(u)?),
        None => None,
    };
    if !all {
        filters.insert("dangling".into(), vec!["true".into()]);
    }
    let images = list_filtered(ep, filters).await?;
    let used: std::collections::HashSet<String> = list(ep)
        .await?
        .into_iter()
        .filter(|i| i.containers > 0)
        .map(|i| i.id)
        .collect();
    let mut out = wire::PruneResult {
        dry_run: true,
        ..Default::default()
    };
    for i in images {
        if used.contains(&i.id) || cutoff.is_some_and(|c| i.created >= c) {
            continue;
        }
        out.space_reclaimed += i.size;
        out.images.push(wire::PrunedImage {
            id: i.id,
            repo_tags: i
                .repo_tags
                .into_iter()
                .filter(|t| t != "<none>:<none>")
                .collect(),
            size: i.size,
        });
    }
    Ok(out)
}

async fn list_filtered(
    ep: &Endpoint,
    filters: HashMap<String, Vec<String>>,
) -> AppResult<Vec<bollard::models::ImageSummary>> {
    ep.call(|d| async move {
        d.list_images(Some(ListImagesOptions {
            all: false,
            filters: Some(filters),
            ..Default::default()
        }))
        .await
    })
    .await
}

/// `until=` as the daemon takes it: unix seconds, or a Go duration in h/m/s before now.
fn parse_until(u: &str) -> AppResult<i64> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    if let Ok(ts) = u.parse::<i64>() {
        return Ok(ts);
    }
    let (num, unit) = u.split_at(u.len().saturating_sub(1));
    let secs = match (num.parse::<i64>(), unit) {
        (Ok(n), "h") => n * 3600,
        (Ok(n), "m") => n * 60,
        (Ok(n), "s") => n,
        _ => {
            return Err(AppError::bad_request(
                "invalid_filter",
                format!("until: {u:?} is not a time; use unix seconds or 24h, 30m, 10s"),
            ))
        }
    };
    Ok(now - secs)
}

/// `docker save NAME...` as a tar stream, straight from the daemon. The first chunk is
/// awaited here, so an unknown image is a 404 rather than a broken download.
pub async fn save(
    ep: &Endpoint,
    names: &[String],
) -> AppResult<impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static> {
    if names.is_empty() {
        return Err(AppError::bad_request(
            "invalid_names",
            "names: give at least one image (names=a,b)",
        ));
    }
    for n in names {
        check_image("names", n)?;
    }
    let client = ep.client().await?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut stream = client.export_images(&refs).boxed();
    let first = match stream.next().await {
        Some(Ok(bytes)) => bytes,
        Some(Err(e)) => return Err(AppError::from(e)),
        None => Bytes::new(),
    };
    let rest = stream.map(|r| r.map_err(std::io::Error::other));
    Ok(futures::stream::once(async move { Ok(first) }).chain(rest))
}

/// `docker commit`: a new image from a container (already resolved to its full id).
pub async fn commit(
    ep: &Endpoint,
    container_id: &str,
    req: &wire::CommitRequest,
) -> AppResult<wire::CommitResult> {
    let repo = match req.repo.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => Some(check_reference("repo", r)?.to_owned()),
        None => None,
    };
    let tag = match req.tag.as_deref().filter(|t| !t.is_empty()) {
        Some(t) if repo.is_some() => Some(check_tag(t)?.to_owned()),
        Some(_) => {
            return Err(AppError::bad_request(
                "invalid_tag",
                "tag: give a repo to tag the new image with",
            ))
        }
        None => None,
    };
    for change in &req.changes {
        if change.contains('\n') || change.trim().is_empty() {
            return Err(AppError::bad_request(
                "invalid_change",
                format!("changes: {change:?} must be one Dockerfile instruction per entry"),
            ));
        }
    }
    let opts = CommitContainerOptions {
        container: Some(container_id.to_owned()),
        repo,
        tag,
        comment: req.message.clone(),
        author: req.author.clone(),
        pause: req.pause.unwrap_or(true),
        // The daemon joins its `changes` values with newlines and parses them as a Dockerfile.
        changes: (!req.changes.is_empty()).then(|| req.changes.join("\n")),
    };
    let res = ep
        .call(|d| async move {
            d.commit_container(opts, bollard::models::ContainerConfig::default())
                .await
        })
        .await?;
    Ok(wire::CommitResult { id: res.id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_label_and_until_filters() {
        let mut f = BTreeMap::new();
        f.insert("label".to_string(), vec!["a=b".to_string()]);
        assert!(prune_filters(&f).is_ok());
        f.insert("dangling".to_string(), vec!["false".to_string()]);
        assert_eq!(prune_filters(&f).unwrap_err().code(), "invalid_filter");
        assert!(parse_until("24h").is_ok());
        assert!(parse_until("yesterday").is_err());
    }
}
