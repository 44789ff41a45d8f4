//! A tree on this machine (a share, or a volume read through its mount point): what the
//! routes call, each step beneath the tree's open root.

use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use rustix::fs::OFlags;
use wire::{FileEntry, FileKind};

use super::listing::{self, kind_of};
use super::path::{errno, RelPath, Root};
use super::serve::{self, Meta};
use super::{archive, blocking};
use crate::error::{AppError, AppResult};

/// What a path turned out to be, opened.
pub enum Opened {
    Dir,
    File(std::fs::File, Meta),
}

/// Open `rel` for reading: a folder is only reported (listing or archiving opens it
/// again), a regular file is opened and described from its descriptor.
pub async fn open(root: Arc<Root>, rel: RelPath) -> AppResult<Opened> {
    blocking(move || {
        // O_NONBLOCK: opening a FIFO someone left in the tree must not hang a thread; it
        // changes nothing for regular files.
        let fd = root
            .open_at(&rel, OFlags::RDONLY | OFlags::NONBLOCK)
            .map_err(|e| errno(e, &rel))?;
        let st = rustix::fs::fstat(&fd).map_err(|e| errno(e, &rel))?;
        match kind_of(&st) {
            FileKind::Dir => Ok(Opened::Dir),
            FileKind::File => {
                // Reads block as usual from here on.
                let _ = rustix::fs::fcntl_setfl(&fd, OFlags::empty());
                Ok(Opened::File(std::fs::File::from(fd), Meta::from_stat(&st)))
            }
            _ => Err(AppError::Forbidden(format!(
                "{} is not a regular file or folder",
                rel.display()
            ))),
        }
    })
    .await
}

/// The folder's entries, folders first then by name.
pub async fn list(root: Arc<Root>, rel: RelPath) -> AppResult<Vec<listing::Entry>> {
    blocking(move || {
        let mut v = listing::list(&root, &rel)?;
        listing::sort_default(&mut v);
        Ok(v)
    })
    .await
}

/// The API's listing: folders (real ones, not links to them) first, then by name — the
/// order the daemon-side listing of volumes can give too.
pub async fn list_wire(root: Arc<Root>, rel: RelPath) -> AppResult<Vec<FileEntry>> {
    let mut v: Vec<FileEntry> = list(root, rel)
        .await?
        .iter()
        .map(listing::Entry::wire)
        .collect();
    sort_wire(&mut v);
    Ok(v)
}

pub fn sort_wire(v: &mut [FileEntry]) {
    v.sort_by(|a, b| {
        (b.kind == FileKind::Dir)
            .cmp(&(a.kind == FileKind::Dir))
            .then_with(|| a.name.cmp(&b.name))
    });
}

/// A download: a file as an attachment (ranges and validators work as for `/files`), a
/// folder as a streamed tar.
pub async fn download(
    root: Arc<Root>,
    rel: RelPath,
    req: &HeaderMap,
    head: bool,
) -> AppResult<Response> {
    match open(root.clone(), rel.clone()).await? {
        Opened::File(file, meta) => {
            let name = rel.name().unwrap_or("file").to_owned();
            Ok(serve::file_response(req, head, file, meta, &name, true).await)
        }
        Opened::Dir => folder_archive(root, rel, head).await,
    }
}

/// A folder as `NAME.tar`, streamed.
pub async fn folder_archive(root: Arc<Root>, rel: RelPath, head: bool) -> AppResult<Response> {
    let name = format!("{}.tar", rel.name().unwrap_or("root"));
    let body = if head {
        axum::body::Body::empty()
    } else {
        blocking(move || archive::tar_folder(root, rel)).await?
    };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-tar"),
    );
    h.insert(header::CONTENT_DISPOSITION, serve::attachment(&name));
    serve::harden(h);
    Ok(resp)
}
