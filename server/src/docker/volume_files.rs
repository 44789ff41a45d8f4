//! Reaching a volume's files through the daemon: a helper container that mounts the
//! volume, created from an image already present and never started, read and written with
//! the archive API (`GET`/`PUT /containers/{id}/archive`), removed afterwards.

use std::collections::HashMap;
use std::sync::Arc;

use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountTypeEnum};
use bollard::query_parameters::{
    CreateContainerOptions, DownloadFromContainerOptions, ListImagesOptions,
    RemoveContainerOptions, UploadToContainerOptions,
};
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};

use super::Endpoint;
use crate::error::{AppError, AppResult};

/// What `docker volume inspect` says that the browser needs.
pub struct VolumeInfo {
    pub name: String,
    pub mountpoint: String,
    pub labels: HashMap<String, String>,
}

/// A volume name as the daemon accepts them; anything else never reaches a URL.
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
            "invalid_volume",
            format!("{name:?} is not a volume name"),
        ))
    }
}

pub async fn inspect(ep: &Endpoint, name: &str) -> AppResult<VolumeInfo> {
    let name = check_name(name)?.to_owned();
    let v = ep
        .call(|d| async move { d.inspect_volume(&name).await })
        .await?;
    Ok(VolumeInfo {
        name: v.name,
        mountpoint: v.mountpoint,
        labels: v.labels,
    })
}

/// Where the helper mounts the volume. Its own folder, so the archive of the volume's root
/// is named after the volume.
pub fn mount_dir(volume: &str) -> String {
    format!("/berth-volume/{volume}")
}

/// A created (never started) container with the volume mounted. Removed when dropped.
pub struct Helper {
    ep: Arc<Endpoint>,
    pub id: String,
    pub base: String,
}

impl Helper {
    /// Create the helper from `image`, or from any image the daemon already has.
    pub async fn create(
        ep: Arc<Endpoint>,
        volume: &str,
        writable: bool,
        image: Option<&str>,
    ) -> AppResult<Helper> {
        let image = match image {
            Some(i) => i.to_owned(),
            None => any_image(&ep).await?,
        };
        let base = mount_dir(volume);
        let body = ContainerCreateBody {
            image: Some(image),
            // Never run: a command is only needed because images without one cannot be
            // created from.
            cmd: Some(vec!["/berth-helper-is-never-started".into()]),
            network_disabled: Some(true),
            labels: Some(HashMap::from([
                ("berth.helper".to_string(), "volume-files".to_string()),
                ("berth.volume".to_string(), volume.to_string()),
            ])),
            host_config: Some(HostConfig {
                mounts: Some(vec![Mount {
                    typ: Some(MountTypeEnum::VOLUME),
                    source: Some(volume.to_owned()),
                    target: Some(base.clone()),
                    read_only: Some(!writable),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let name = format!("berth-files-{:012x}", rand::random::<u64>() >> 16);
        let created = ep
            .call(|d| async move {
                d.create_container(
                    Some(CreateContainerOptions {
                        name: Some(name),
                        platform: String::new(),
                    }),
                    body,
                )
                .await
            })
            .await?;
        Ok(Helper {
            ep,
            id: created.id,
            base,
        })
    }

    /// The archive of `path` (absolute in the helper), as the daemon streams it.
    pub async fn get_archive(
        &self,
        path: &str,
    ) -> AppResult<impl Stream<Item = std::io::Result<Bytes>> + Send + 'static> {
        let client = self.ep.client().await?;
        let mut stream = client
            .download_from_container(
                &self.id,
                Some(DownloadFromContainerOptions {
                    path: path.to_owned(),
                }),
            )
            .boxed();
        // The first item carries the daemon's verdict (404 for a missing path): surface it
        // as an error now rather than as a broken body later.
        let first = match stream.next().await {
            Some(Ok(b)) => Some(b),
            Some(Err(e)) => return Err(AppError::from(e)),
            None => None,
        };
        Ok(futures::stream::iter(first.map(Ok)).chain(stream.map_err(std::io::Error::other)))
    }

    /// Extract a tar stream into `dir` (absolute in the helper).
    pub async fn put_archive(
        &self,
        dir: &str,
        tar: impl Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    ) -> AppResult<()> {
        let id = self.id.clone();
        let opts = UploadToContainerOptions {
            path: dir.to_owned(),
            no_overwrite_dir_non_dir: Some("true".into()),
            copy_uidgid: None,
        };
        self.ep
            .call(|d| async move {
                d.upload_to_container(&id, Some(opts), bollard::body_try_stream(tar))
                    .await
            })
            .await
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let ep = self.ep.clone();
        let id = std::mem::take(&mut self.id);
        // `v`: anonymous volumes the image declares go too; the browsed (named) volume stays.
        let remove = async move {
            let target = id.clone();
            let res = ep
                .call(|d| async move {
                    d.remove_container(
                        &target,
                        Some(RemoveContainerOptions {
                            force: true,
                            v: true,
                            link: false,
                        }),
                    )
                    .await
                })
                .await;
            if let Err(e) = res {
                tracing::warn!("cannot remove the volume helper container {id}: {e}");
            }
        };
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(remove);
        }
    }
}

/// Any image the daemon has: the helper never runs, so which one does not matter.
async fn any_image(ep: &Endpoint) -> AppResult<String> {
    let images = ep
        .call(|d| async move { d.list_images(Some(ListImagesOptions::default())).await })
        .await?;
    images
        .into_iter()
        .min_by_key(|i| i.size)
        .map(|i| i.id)
        .ok_or_else(|| {
            AppError::Conflict(
                "the daemon has no image to make a helper container from: pull any image, or set --helper-image".into(),
            )
        })
}
