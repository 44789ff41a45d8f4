//! The images of a stack's services: found on the daemon, built from the stack's folder, or
//! pulled, each decided by the one policy as the tag it writes (`docker-compose up`'s
//! image step).

use bollard::query_parameters::{BuildImageOptions, CreateImageOptions};
use futures::StreamExt;

use super::stack_up::{in_service, Progress, UpOptions};
use super::Endpoint;
use crate::auth::policy::resolve::Policy;
use crate::error::{AppError, AppResult};
use crate::stacks::model::ServiceSpec;

/// The image a service runs, built or pulled as needed; its id. A build or a pull writes a
/// tag, so it is decided like one; what the container then runs is decided with it.
pub async fn image(
    policy: Policy<'_>,
    svc: &ServiceSpec,
    opts: &UpOptions,
    progress: &Progress,
) -> AppResult<String> {
    let ep = policy.ep;
    let present = inspect_image(ep, &svc.image).await?;
    let tags = [svc.image.clone()];
    let policy_says = svc.pull_policy.as_deref();
    let force_build = opts.build || policy_says == Some("build");
    let force_pull = opts.pull || policy_says == Some("always");
    match (&svc.build, present.clone()) {
        (Some(_), Some(id)) if !force_build => Ok(id),
        (Some(b), _) => {
            policy
                .image_write(&tags, false)
                .await
                .map_err(|e| in_service(&svc.name, e))?;
            let dockerfile = crate::stacks::context::read_dockerfile(&b.context, &b.dockerfile)
                .map_err(|e| {
                    AppError::bad_request(
                        "invalid_build_context",
                        format!("service {}: the Dockerfile cannot be read: {e}", svc.name),
                    )
                })?;
            let args = b.args.clone().into_iter().collect();
            policy
                .build_from(&dockerfile, &args)
                .await
                .map_err(|e| in_service(&svc.name, e))?;
            build(ep, svc, b, progress).await?;
            let id = inspect_image(ep, &svc.image).await?.ok_or_else(|| {
                AppError::Docker(format!(
                    "the build of {} made no image {}",
                    svc.name, svc.image
                ))
            })?;
            policy.image_written(&tags, Some(&id)).await?;
            Ok(id)
        }
        (None, Some(id)) if !force_pull || policy_says == Some("never") => Ok(id),
        (None, None) if policy_says == Some("never") => Err(AppError::bad_request(
            "missing_image",
            format!(
                "service {}: image {} is not on the daemon and pull_policy is never",
                svc.name, svc.image
            ),
        )),
        (None, _) => {
            let fresh = policy
                .image_write(&tags, true)
                .await
                .map_err(|e| in_service(&svc.name, e))?;
            match pull(ep, &svc.name, &svc.image, progress).await {
                Ok(()) => {}
                // `pull_policy: always` with the image at hand: a registry out of reach
                // is said, and the local image used (an explicit pull still fails).
                Err(e) if !opts.pull && present.is_some() => {
                    progress
                        .say(
                            Some(&svc.name),
                            "pull",
                            format!("the pull failed ({e}); using the local {}", svc.image),
                        )
                        .await;
                }
                Err(e) => return Err(e),
            }
            let id = inspect_image(ep, &svc.image).await?.ok_or_else(|| {
                AppError::Docker(format!("the pull of {} made no image", svc.image))
            })?;
            policy.image_written(&fresh, None).await?;
            Ok(id)
        }
    }
}

async fn inspect_image(ep: &Endpoint, image: &str) -> AppResult<Option<String>> {
    let image = image.to_owned();
    match ep
        .call(|d| async move { d.inspect_image(&image).await })
        .await
    {
        Ok(i) => Ok(i.id),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `repo[:tag]` or `repo@digest` → (from_image, tag) for the daemon's create-image API.
fn split_ref(image: &str) -> (String, Option<String>) {
    if image.contains('@') {
        return (image.to_owned(), None);
    }
    let slash = image.rfind('/').map(|i| i + 1).unwrap_or(0);
    match image[slash..].rfind(':') {
        Some(i) => (
            image[..slash + i].to_owned(),
            Some(image[slash + i + 1..].to_owned()),
        ),
        None => (image.to_owned(), Some("latest".into())),
    }
}

/// Pull an image, reporting the daemon's progress.
pub async fn pull(ep: &Endpoint, service: &str, image: &str, progress: &Progress) -> AppResult<()> {
    let (from_image, tag) = split_ref(image);
    progress
        .progress(service, "pull", format!("pulling {image}"), None)
        .await;
    let client = ep.client().await?;
    let mut stream = client.create_image(
        Some(CreateImageOptions {
            from_image: Some(from_image),
            tag,
            ..Default::default()
        }),
        None,
        None,
    );
    while let Some(item) = stream.next().await {
        let info = item.map_err(AppError::from)?;
        if let Some(err) = info.error_detail.and_then(|e| e.message).or(info.error) {
            return Err(AppError::Docker(format!("pull of {image} failed: {err}")));
        }
        let status = [info.id, info.status]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(": ");
        progress
            .progress(service, "pull", status, info.progress)
            .await;
    }
    Ok(())
}

/// Build a service's image from its context in the stack's folder.
async fn build(
    ep: &Endpoint,
    svc: &ServiceSpec,
    spec: &crate::stacks::model::BuildSpec,
    progress: &Progress,
) -> AppResult<()> {
    progress
        .progress(
            &svc.name,
            "build",
            format!("building {} from {}", svc.image, spec.context.display()),
            None,
        )
        .await;
    let context = spec.context.clone();
    let dockerfile = spec.dockerfile.clone();
    let tar = tokio::task::spawn_blocking(move || {
        crate::stacks::context::tar_context(&context, &dockerfile)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(|e| {
        AppError::bad_request(
            "invalid_build_context",
            format!(
                "service {}: the build context cannot be read: {e}",
                svc.name
            ),
        )
    })?;
    let options = BuildImageOptions {
        dockerfile: spec.dockerfile.clone(),
        t: Some(svc.image.clone()),
        rm: true,
        forcerm: true,
        nocache: spec.no_cache,
        pull: spec.pull.then(|| "1".to_owned()),
        buildargs: Some(spec.args.clone().into_iter().collect()),
        target: spec.target.clone().unwrap_or_default(),
        labels: (!spec.labels.is_empty()).then(|| spec.labels.clone().into_iter().collect()),
        cachefrom: (!spec.cache_from.is_empty()).then(|| spec.cache_from.clone()),
        networkmode: spec.network.clone(),
        extrahosts: (!spec.extra_hosts.is_empty()).then(|| spec.extra_hosts.join(",")),
        shmsize: spec.shm_size.map(|s| s.min(i64::from(i32::MAX)) as i32),
        ..Default::default()
    };
    let client = ep.client().await?;
    let mut stream = client.build_image(options, None, Some(bollard::body_full(tar.into())));
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| match AppError::from(e) {
            AppError::BadRequest { message, .. } => AppError::bad_request("build_failed", message),
            other => other,
        })?;
        if let Some(err) = info.error_detail.and_then(|e| e.message).or(info.error) {
            return Err(AppError::bad_request(
                "build_failed",
                format!("the build of service {} failed: {err}", svc.name),
            ));
        }
        if let Some(line) = info.stream.or(info.status) {
            let line = line.trim_end();
            if !line.is_empty() {
                progress
                    .progress(&svc.name, "build", line.to_owned(), info.progress)
                    .await;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split_ref;

    #[test]
    fn image_refs() {
        assert_eq!(
            split_ref("busybox"),
            ("busybox".into(), Some("latest".into()))
        );
        assert_eq!(split_ref("a/b:1.2"), ("a/b".into(), Some("1.2".into())));
        assert_eq!(
            split_ref("localhost:5000/x"),
            ("localhost:5000/x".into(), Some("latest".into()))
        );
        assert_eq!(split_ref("x@sha256:ab"), ("x@sha256:ab".into(), None));
    }
}
