//! Changing a tree: upload, new folder, rename, delete. Every change is made relative to a
//! directory descriptor opened beneath the root, on a single name (`*at` calls with
//! `AT_SYMLINK_NOFOLLOW` / `O_NOFOLLOW`), so no step can be redirected outside by a
//! symlink. A symlink is never written through: uploading onto one is refused.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use axum::extract::Multipart;
use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags};
use rustix::io::Errno;
use tokio::io::AsyncWriteExt;
use wire::FileKind;

use super::blocking;
use super::listing::kind_of;
use super::path::{errno, RelPath, Root};
use crate::error::{AppError, AppResult};

/// What `name` in `dir` is, without following it; `None` if there is nothing.
fn kind_at(dir: &OwnedFd, name: &str) -> Result<Option<FileKind>, Errno> {
    match rustix::fs::statat(dir.as_fd(), name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(kind_of(&st))),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A part's file name as a path below the upload folder: `a.txt`, or `sub/a.txt` when a
/// browser uploads a folder.
fn part_path(dir: &RelPath, filename: &str) -> AppResult<RelPath> {
    if filename.starts_with('/') {
        return Err(AppError::bad_request(
            "invalid_upload",
            format!("file name {filename:?}: absolute paths are not allowed"),
        ));
    }
    let rel = RelPath::parse(filename)?;
    if rel.is_root() {
        return Err(AppError::bad_request(
            "invalid_upload",
            "every uploaded file needs a file name",
        ));
    }
    let mut out = dir.clone();
    for n in rel.names() {
        out = out.join(n)?;
    }
    Ok(out)
}

/// Make the folders of `rel`'s parent that are missing (like `mkdir -p`), each beneath the
/// previous one; an existing symlink on the way is refused by `RESOLVE_BENEATH` when it
/// leads out and followed only while it stays inside.
fn ensure_parent(root: &Root, rel: &RelPath) -> AppResult<OwnedFd> {
    let (parent, _) = rel.split_last().ok_or_else(|| {
        AppError::bad_request("invalid_path", "the root itself cannot be written")
    })?;
    let mut at = RelPath::root();
    for n in parent.names() {
        let next = at.join(n)?;
        let dirfd = root
            .open_at(&at, OFlags::RDONLY | OFlags::DIRECTORY)
            .map_err(|e| errno(e, &at))?;
        match rustix::fs::mkdirat(dirfd.as_fd(), n.as_str(), Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(errno(e, &next)),
        }
        at = next;
    }
    root.open_at(&at, OFlags::RDONLY | OFlags::DIRECTORY)
        .map_err(|e| errno(e, &at))
}

/// Stream every file part of a `multipart/form-data` body into `dir`. Each goes to a
/// hidden temporary name first and is renamed into place when complete, so a broken upload
/// never leaves half a file under the real name.
pub async fn upload(
    root: Arc<Root>,
    dir: RelPath,
    mut form: Multipart,
) -> AppResult<wire::UploadResult> {
    {
        let (root, dir) = (root.clone(), dir.clone());
        blocking(move || {
            root.open_at(&dir, OFlags::RDONLY | OFlags::DIRECTORY)
                .map(drop)
                .map_err(|e| errno(e, &dir))
        })
        .await?;
    }
    let mut result = wire::UploadResult {
        written: Vec::new(),
        bytes: 0,
    };
    while let Some(mut field) = form.next_field().await.map_err(bad_form)? {
        let Some(filename) = field.file_name().map(str::to_owned) else {
            continue;
        };
        let rel = part_path(&dir, &filename)?;
        let (root2, rel2) = (root.clone(), rel.clone());
        let tmp_name = format!(".berth-upload-{:016x}", rand::random::<u64>());
        let tmp2 = tmp_name.clone();
        let (parent, file) = blocking(move || {
            let parent = ensure_parent(&root2, &rel2)?;
            let name = rel2.name().unwrap_or_default();
            match kind_at(&parent, name).map_err(|e| errno(e, &rel2))? {
                None | Some(FileKind::File) => {}
                Some(FileKind::Symlink) => {
                    return Err(AppError::Conflict(format!(
                        "{} is a symlink: berth does not write through links",
                        rel2.display()
                    )))
                }
                Some(_) => {
                    return Err(AppError::Conflict(format!(
                        "{} exists and is not a file",
                        rel2.display()
                    )))
                }
            }
            let fd = rustix::fs::openat(
                parent.as_fd(),
                tmp2.as_str(),
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o644),
            )
            .map_err(|e| errno(e, &rel2))?;
            Ok((parent, std::fs::File::from(fd)))
        })
        .await?;
        let mut file = tokio::fs::File::from_std(file);
        let written: AppResult<u64> = async {
            let mut n = 0u64;
            while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
                file.write_all(&chunk)
                    .await
                    .map_err(|e| io_error(e, &rel))?;
                n += chunk.len() as u64;
            }
            file.flush().await.map_err(|e| io_error(e, &rel))?;
            Ok(n)
        }
        .await;
        drop(file);
        let name = rel.name().unwrap_or_default().to_owned();
        let rel3 = rel.clone();
        let done = blocking(move || {
            if let Err(e) = written {
                let _ = rustix::fs::unlinkat(parent.as_fd(), tmp_name.as_str(), AtFlags::empty());
                return Err(e);
            }
            let n = written?;
            if let Err(e) = rustix::fs::renameat(
                parent.as_fd(),
                tmp_name.as_str(),
                parent.as_fd(),
                name.as_str(),
            ) {
                let _ = rustix::fs::unlinkat(parent.as_fd(), tmp_name.as_str(), AtFlags::empty());
                return Err(errno(e, &rel3));
            }
            Ok(n)
        })
        .await?;
        result.bytes += done;
        result.written.push(rel.display());
    }
    if result.written.is_empty() {
        return Err(AppError::bad_request(
            "invalid_upload",
            "the form carried no file: send multipart/form-data with file parts",
        ));
    }
    Ok(result)
}

fn bad_form(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::TooLarge(e.body_text());
    }
    AppError::bad_request(
        "invalid_upload",
        format!("the upload broke off or is malformed: {}", e.body_text()),
    )
}

fn io_error(e: std::io::Error, rel: &RelPath) -> AppError {
    match e.raw_os_error() {
        Some(code) => errno(Errno::from_raw_os_error(code), rel),
        None => AppError::Internal(anyhow::anyhow!("{}: {e}", rel.display())),
    }
}

/// `mkdir` (one level; the parent must exist).
pub async fn mkdir(root: Arc<Root>, rel: RelPath) -> AppResult<()> {
    blocking(move || {
        let (parent, name) = root.parent_of(&rel)?;
        rustix::fs::mkdirat(parent.as_fd(), name, Mode::from_raw_mode(0o755))
            .map_err(|e| errno(e, &rel))
    })
    .await
}

/// Rename (or move) within the tree; never replaces something that exists.
pub async fn rename(root: Arc<Root>, from: RelPath, to: RelPath) -> AppResult<()> {
    blocking(move || {
        let (a, an) = root.parent_of(&from)?;
        let (b, bn) = root.parent_of(&to)?;
        rustix::fs::renameat_with(a.as_fd(), an, b.as_fd(), bn, RenameFlags::NOREPLACE).map_err(
            |e| match e {
                Errno::NOENT => errno(e, &from),
                Errno::INVAL => AppError::bad_request(
                    "invalid_path",
                    format!("{} cannot be moved into itself", from.display()),
                ),
                other => errno(other, &to),
            },
        )
    })
    .await
}

/// Delete a file, a symlink (the link itself) or a folder with everything in it.
pub async fn delete(root: Arc<Root>, rel: RelPath) -> AppResult<()> {
    blocking(move || {
        let (parent, name) = root.parent_of(&rel)?;
        let name = std::ffi::CString::new(name)
            .map_err(|_| AppError::bad_request("invalid_path", "NUL in a name"))?;
        remove_at(&parent, &name).map_err(|e| errno(e, &rel))
    })
    .await
}

fn remove_at(parent: &OwnedFd, name: &std::ffi::CStr) -> Result<(), Errno> {
    let st = rustix::fs::statat(parent.as_fd(), name, AtFlags::SYMLINK_NOFOLLOW)?;
    if kind_of(&st) != FileKind::Dir {
        return rustix::fs::unlinkat(parent.as_fd(), name, AtFlags::empty());
    }
    let dir = rustix::fs::openat(
        parent.as_fd(),
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut names = Vec::new();
    {
        let mut it = rustix::fs::Dir::read_from(dir.as_fd())?;
        while let Some(ent) = it.read() {
            let ent = ent?;
            let raw = ent.file_name().to_bytes();
            if raw != b"." && raw != b".." {
                names.push(ent.file_name().to_owned());
            }
        }
    }
    for n in names {
        remove_at(&dir, &n)?;
    }
    rustix::fs::unlinkat(parent.as_fd(), name, AtFlags::REMOVEDIR)
}

/// Upload parts spooled to unlinked temporary files, ready to be read from the start.
pub struct Spooled {
    /// (path below the upload folder, file, size)
    pub files: Vec<(RelPath, std::fs::File, u64)>,
}

/// Read every file part of a form into its own temporary file under `dir` (unlinked at
/// once: nothing is left behind whatever happens).
pub async fn spool_parts(mut form: Multipart, dir: &std::path::Path) -> AppResult<Spooled> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("cannot create {}: {e}", dir.display())))?;
    let mut files = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(bad_form)? {
        let Some(filename) = field.file_name().map(str::to_owned) else {
            continue;
        };
        let rel = part_path(&RelPath::root(), &filename)?;
        let path = dir.join(format!("upload-{:016x}", rand::random::<u64>()));
        let internal =
            |e: std::io::Error| AppError::Internal(anyhow::anyhow!("spooling an upload: {e}"));
        let mut file = tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .map_err(internal)?;
        let _ = tokio::fs::remove_file(&path).await;
        let mut n = 0u64;
        while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
            file.write_all(&chunk).await.map_err(internal)?;
            n += chunk.len() as u64;
        }
        file.flush().await.map_err(internal)?;
        tokio::io::AsyncSeekExt::seek(&mut file, std::io::SeekFrom::Start(0))
            .await
            .map_err(internal)?;
        files.push((rel, file.into_std().await, n));
    }
    if files.is_empty() {
        return Err(AppError::bad_request(
            "invalid_upload",
            "the form carried no file: send multipart/form-data with file parts",
        ));
    }
    Ok(Spooled { files })
}
