//! A volume's files, reached one of two ways with the same results:
//!
//! - directly, when berth can open the volume's mount point (the daemon is on this machine
//!   and berth may read `/var/lib/docker/volumes`): the same code as shares, beneath the
//!   mount point;
//! - through the daemon otherwise (berth in a container, a remote daemon): a helper
//!   container and the archive API ([`crate::docker::volume_files::Helper`]).
//!
//! Through the daemon, a path is walked one folder at a time: each step is asked for alone
//! and must be a real folder (not a symlink) before the next is asked for, so the daemon's
//! own symlink resolution never gets to follow a link out of the volume; the last step is
//! never followed by the archive API (a symlink comes back as a symlink).

use std::io::Read;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Multipart;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio_util::io::{StreamReader, SyncIoBridge};
use wire::{FileEntry, FileKind};

use super::archive::blocking_body;
use super::path::{RelPath, Root};
use super::{blocking, local, serve};
use crate::config::VolumeAccess;
use crate::docker::volume_files::{Helper, VolumeInfo};
use crate::docker::Endpoint;
use crate::error::{AppError, AppResult};

/// How this request reaches the volume.
pub enum Tree {
    Direct(Arc<Root>),
    Daemon(Helper),
}

impl Tree {
    pub fn mode(&self) -> &'static str {
        match self {
            Tree::Direct(_) => "direct",
            Tree::Daemon(_) => "daemon",
        }
    }
}

/// Whether the daemon runs on this machine (so its mount points are ours to open).
fn daemon_is_local(host: &str) -> bool {
    host.starts_with("unix://") || host.starts_with('/')
}

/// Choose and prepare the way in, per `--volume-access`.
pub async fn open(
    ep: Arc<Endpoint>,
    vol: &VolumeInfo,
    access: VolumeAccess,
    writable: bool,
    helper_image: Option<&str>,
) -> AppResult<Tree> {
    let direct = || -> AppResult<Root> {
        if vol.mountpoint.is_empty() {
            return Err(AppError::Conflict(format!(
                "volume {} has no mount point berth can read",
                vol.name
            )));
        }
        Root::open(std::path::Path::new(&vol.mountpoint)).map_err(|e| {
            AppError::Conflict(format!(
                "berth cannot read the mount point of volume {} ({}: {e}); use --volume-access daemon",
                vol.name, vol.mountpoint
            ))
        })
    };
    match access {
        VolumeAccess::Direct => Ok(Tree::Direct(Arc::new(direct()?))),
        VolumeAccess::Auto if daemon_is_local(&ep.host) => match direct() {
            Ok(root) => Ok(Tree::Direct(Arc::new(root))),
            Err(_) => Ok(Tree::Daemon(
                Helper::create(ep, &vol.name, writable, helper_image).await?,
            )),
        },
        VolumeAccess::Auto | VolumeAccess::Daemon => Ok(Tree::Daemon(
            Helper::create(ep, &vol.name, writable, helper_image).await?,
        )),
    }
}

/// One tar entry's header, as a listing entry.
fn entry_of(h: &tar::Header, name: String, link: Option<String>) -> FileEntry {
    let kind = match h.entry_type() {
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::Link => {
            FileKind::File
        }
        tar::EntryType::Directory => FileKind::Dir,
        tar::EntryType::Symlink => FileKind::Symlink,
        _ => FileKind::Other,
    };
    FileEntry {
        name,
        kind,
        size: if kind == FileKind::File {
            h.size().unwrap_or(0)
        } else {
            0
        },
        mode: h.mode().unwrap_or(0) & 0o7777,
        mtime: h.mtime().unwrap_or(0) as i64,
        link_target: if kind == FileKind::Symlink {
            link
        } else {
            None
        },
    }
}

fn reader<S>(s: S) -> SyncIoBridge<StreamReader<S, Bytes>>
where
    S: Stream<Item = std::io::Result<Bytes>> + Unpin,
{
    SyncIoBridge::new(StreamReader::new(s))
}

/// `rel` as an absolute path in the helper.
fn abs(helper: &Helper, rel: &RelPath) -> String {
    if rel.is_root() {
        helper.base.clone()
    } else {
        format!("{}/{}", helper.base, rel.as_os())
    }
}

/// The first entry of the archive of `path`: what `path` itself is. Only its header is
/// read; the rest of the stream is dropped, which ends the daemon's work on it.
async fn stat(helper: &Helper, rel: &RelPath) -> AppResult<FileEntry> {
    let path = abs(helper, rel);
    let stream = helper.get_archive(&path).await.map_err(|e| match e {
        AppError::NotFound(_) => AppError::NotFound(format!("{} does not exist", rel.display())),
        other => other,
    })?;
    let stream = Box::pin(stream);
    blocking(move || {
        let mut ar = tar::Archive::new(reader(stream));
        let mut entries = ar.entries().map_err(tar_err)?;
        let first = entries
            .next()
            .ok_or_else(|| AppError::Docker("the daemon sent an empty archive".into()))?
            .map_err(tar_err)?;
        let link = first
            .link_name()
            .ok()
            .flatten()
            .map(|l| l.display().to_string());
        Ok(entry_of(first.header(), String::new(), link))
    })
    .await
}

fn tar_err(e: std::io::Error) -> AppError {
    AppError::Docker(format!("reading the daemon's archive: {e}"))
}

/// Walk `rel` one step at a time: every folder on the way must be a real folder.
/// Returns what the last step is.
async fn walk(helper: &Helper, rel: &RelPath) -> AppResult<FileEntry> {
    let mut at = RelPath::root();
    let mut last = stat(helper, &at).await?;
    for n in rel.names() {
        if last.kind != FileKind::Dir {
            return Err(refuse_link(&at, &last));
        }
        at = at.join(n)?;
        last = stat(helper, &at).await?;
    }
    Ok(last)
}

fn refuse_link(at: &RelPath, e: &FileEntry) -> AppError {
    if e.kind == FileKind::Symlink {
        AppError::Forbidden(format!(
            "{} is a symlink: through the daemon, berth does not follow links",
            at.display()
        ))
    } else {
        AppError::NotFound(format!("{} is not a folder", at.display()))
    }
}

/// The entries of a folder, folders first then by name.
pub async fn list(tree: &Tree, rel: RelPath) -> AppResult<Vec<FileEntry>> {
    let helper = match tree {
        Tree::Direct(root) => return local::list_wire(root.clone(), rel).await,
        Tree::Daemon(h) => h,
    };
    let me = walk(helper, &rel).await?;
    if me.kind != FileKind::Dir {
        return Err(refuse_link(&rel, &me));
    }
    let path = abs(helper, &rel);
    // The archive of the folder holds its whole subtree: only the headers one level down
    // are kept, the rest is read past.
    let stream = Box::pin(helper.get_archive(&path).await?);
    let mut out = blocking(move || {
        let mut ar = tar::Archive::new(reader(stream));
        let mut out = Vec::new();
        for e in ar.entries().map_err(tar_err)? {
            let e = e.map_err(tar_err)?;
            let p = e.path().map_err(tar_err)?.into_owned();
            let parts: Vec<_> = p.components().collect();
            if parts.len() != 2 {
                continue;
            }
            let name = parts[1].as_os_str().to_string_lossy().into_owned();
            let link = e
                .link_name()
                .ok()
                .flatten()
                .map(|l| l.display().to_string());
            out.push(entry_of(e.header(), name, link));
        }
        Ok(out)
    })
    .await?;
    local::sort_wire(&mut out);
    Ok(out)
}

/// A file (attachment) or a folder (tar). The helper lives until the body is sent.
pub async fn download(
    tree: Tree,
    rel: RelPath,
    req: &HeaderMap,
    head: bool,
) -> AppResult<Response> {
    let helper = match tree {
        Tree::Direct(root) => return local::download(root, rel, req, head).await,
        Tree::Daemon(h) => h,
    };
    let me = walk(&helper, &rel).await?;
    let path = abs(&helper, &rel);
    let name = rel.name().map(str::to_owned).unwrap_or_else(|| {
        helper
            .base
            .rsplit('/')
            .next()
            .unwrap_or("volume")
            .to_owned()
    });
    let mut resp = match me.kind {
        FileKind::Dir => {
            let body = if head {
                Body::empty()
            } else {
                let stream = helper.get_archive(&path).await?;
                Body::from_stream(keep_alive(stream, helper))
            };
            let mut r = body.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-tar"),
            );
            r.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                serve::attachment(&format!("{name}.tar")),
            );
            r
        }
        FileKind::File => {
            let body = if head {
                Body::empty()
            } else {
                let stream = Box::pin(keep_alive(helper.get_archive(&path).await?, helper));
                // The file's bytes are the first entry's data: unpacked on the fly.
                blocking_body(move |w| {
                    let mut ar = tar::Archive::new(reader(stream));
                    let mut entries = ar.entries()?;
                    let mut first = entries
                        .next()
                        .ok_or_else(|| std::io::Error::other("empty archive"))??;
                    std::io::copy(&mut first, w)?;
                    Ok(())
                })
            };
            let mut r = body.into_response();
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&me.size.to_string()) {
                h.insert(header::CONTENT_LENGTH, v);
            }
            if let Ok(v) = HeaderValue::from_str(&serve::content_type(&name)) {
                h.insert(header::CONTENT_TYPE, v);
            }
            h.insert(header::CONTENT_DISPOSITION, serve::attachment(&name));
            r
        }
        _ => return Err(refuse_link(&rel, &me)),
    };
    serve::harden(resp.headers_mut());
    Ok(resp)
}

/// A stream that keeps the helper container until it ends or is dropped.
fn keep_alive(
    s: impl Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    helper: Helper,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    s.chain(
        futures::stream::once(async move { drop(helper) })
            .filter_map(|()| async { None::<std::io::Result<Bytes>> }),
    )
}

/// A single-entry tar holding a folder, for `mkdir`.
fn dir_tar(name: &str) -> AppResult<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(0o755);
    h.set_size(0);
    h.set_mtime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    );
    b.append_data(&mut h, format!("{name}/"), std::io::empty())
        .and_then(|()| b.into_inner())
        .map_err(|e| AppError::Internal(e.into()))
}

/// `mkdir`: the parent must be a real folder, the name free.
pub async fn mkdir(tree: Tree, rel: RelPath) -> AppResult<()> {
    let helper = match tree {
        Tree::Direct(root) => return super::write::mkdir(root, rel).await,
        Tree::Daemon(h) => h,
    };
    let (parent, name) = rel
        .split_last()
        .ok_or_else(|| AppError::bad_request("invalid_path", "the root folder exists already"))?;
    let p = walk(&helper, &parent).await?;
    if p.kind != FileKind::Dir {
        return Err(refuse_link(&parent, &p));
    }
    match stat(&helper, &rel).await {
        Ok(_) => {
            return Err(AppError::Conflict(format!(
                "{} already exists",
                rel.display()
            )))
        }
        Err(AppError::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    let tar = dir_tar(name)?;
    let dir = abs(&helper, &parent);
    helper
        .put_archive(
            &dir,
            futures::stream::once(async move { Ok(Bytes::from(tar)) }),
        )
        .await
}

/// Delete: only directly. The archive API can add files but has no way to remove one.
pub async fn delete(tree: Tree, rel: RelPath) -> AppResult<()> {
    match tree {
        Tree::Direct(root) => super::write::delete(root, rel).await,
        Tree::Daemon(_) => Err(AppError::Conflict(
            "deleting needs direct access to the volume's mount point (the daemon's archive API cannot delete): run berth where it can read it, or with --volume-access direct".into(),
        )),
    }
}

/// Upload `multipart/form-data` file parts into `dir`. Through the daemon each part is
/// spooled to a temporary file first (a tar header needs the size before the bytes), then
/// all go in one archive.
pub async fn upload(
    tree: Tree,
    dir: RelPath,
    form: Multipart,
    spool: std::path::PathBuf,
) -> AppResult<wire::UploadResult> {
    let helper = match tree {
        Tree::Direct(root) => return super::write::upload(root, dir, form).await,
        Tree::Daemon(h) => h,
    };
    let d = walk(&helper, &dir).await?;
    if d.kind != FileKind::Dir {
        return Err(refuse_link(&dir, &d));
    }
    let parts = super::write::spool_parts(form, &spool).await?;
    // Every target: a new name or an existing regular file; never a link or a folder, and
    // every folder on the way a real one.
    for (rel, _, _) in &parts.files {
        let full = join(&dir, rel)?;
        let mut at = dir.clone();
        for n in rel.names() {
            at = at.join(n)?;
            match stat(&helper, &at).await {
                Ok(e) if at == full && e.kind == FileKind::File => {}
                Ok(e) if at != full && e.kind == FileKind::Dir => continue,
                Ok(e) => {
                    return Err(match e.kind {
                        FileKind::Symlink => AppError::Conflict(format!(
                            "{} is a symlink: berth does not write through links",
                            at.display()
                        )),
                        _ => {
                            AppError::Conflict(format!("{} exists and is in the way", at.display()))
                        }
                    })
                }
                Err(AppError::NotFound(_)) => break,
                Err(e) => return Err(e),
            }
        }
    }
    let files: Vec<(String, std::fs::File, u64)> = parts
        .files
        .iter()
        .map(|(rel, file, size)| Ok((rel.as_os(), file.try_clone()?, *size)))
        .collect::<std::io::Result<_>>()
        .map_err(|e| AppError::Internal(e.into()))?;
    let body = tar_stream(files);
    let target = abs(&helper, &dir);
    helper.put_archive(&target, body).await?;
    Ok(wire::UploadResult {
        written: parts
            .files
            .iter()
            .map(|(rel, _, _)| join(&dir, rel).map(|p| p.display()))
            .collect::<AppResult<_>>()?,
        bytes: parts.files.iter().map(|(_, _, n)| n).sum(),
    })
}

fn join(dir: &RelPath, rel: &RelPath) -> AppResult<RelPath> {
    let mut out = dir.clone();
    for n in rel.names() {
        out = out.join(n)?;
    }
    Ok(out)
}

/// The spooled files as one tar, written on a blocking thread into a bounded channel.
fn tar_stream(
    files: Vec<(String, std::fs::File, u64)>,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let mut w = super::archive::ChannelWriter::new(tx);
        let res = (|| {
            let mut b = tar::Builder::new(&mut w);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            for (path, file, size) in files {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(size);
                h.set_mtime(now);
                b.append_data(&mut h, path, file.take(size))?;
            }
            b.finish()
        })();
        let res = res.and_then(|()| std::io::Write::flush(&mut w));
        if let Err(e) = res {
            w.fail(e);
        }
    });
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
