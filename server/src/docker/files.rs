//! `docker cp`: list a folder, download a tar of a path, upload a tar into a folder — for
//! running and stopped containers alike (the daemon's archive API reads the container's
//! filesystem, not its processes). Everything streams: bytes pass through, never collected.

use std::io::Read;

use bollard::query_parameters::{DownloadFromContainerOptions, UploadToContainerOptions};
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use tokio_util::io::{ReaderStream, StreamReader, SyncIoBridge};
use wire::FileKind;

use super::Endpoint;
use crate::error::{AppError, AppResult};

/// How many entries a listing reads before it gives up (a tar of `/` of a big image).
const MAX_SCANNED: usize = 500_000;
/// How many children a listing returns at most.
const MAX_LISTED: usize = 10_000;

/// A container path from the query: absolute, no NUL.
pub fn check_path(path: &str) -> AppResult<String> {
    if !path.starts_with('/') || path.contains('\0') {
        return Err(AppError::bad_request(
            "invalid_path",
            format!("path: {path:?} must be an absolute path in the container"),
        ));
    }
    Ok(path.to_string())
}

fn map_archive_error(path: &str, e: AppError) -> AppError {
    match e {
        AppError::NotFound(_) => AppError::Missing {
            code: "path_not_found",
            message: format!("{path} does not exist in the container"),
        },
        other => other,
    }
}

/// The tar of `path`, as the daemon streams it.
pub async fn download(
    ep: &Endpoint,
    id: &str,
    path: &str,
) -> AppResult<impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static> {
    let client = ep.client().await?;
    let mut stream = client
        .download_from_container(
            id,
            Some(DownloadFromContainerOptions {
                path: path.to_string(),
            }),
        )
        .boxed();
    // The first chunk tells whether the path exists: an error then is an HTTP error, not a
    // broken download.
    let first = match stream.next().await {
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => return Err(map_archive_error(path, e.into())),
        None => None,
    };
    let rest = stream.map_err(|e| std::io::Error::other(e.to_string()));
    Ok(futures::stream::iter(first.map(Ok)).chain(rest))
}

/// One file of the container, its own bytes (not a tar).
pub struct FileBody {
    /// The file's name, as the tar names it.
    pub name: String,
    pub size: u64,
    pub body: futures::stream::BoxStream<'static, Result<Bytes, std::io::Error>>,
}

/// The file at `path` itself: its entry is cut out of the daemon's tar while it streams
/// (headers read, then exactly `size` bytes passed through; never buffered whole).
/// A folder or a link is refused, naming what to do instead.
pub async fn download_file(ep: &Endpoint, id: &str, path: &str) -> AppResult<FileBody> {
    use tokio::io::AsyncReadExt;
    let tar = download(ep, id, path).await?;
    let mut reader = StreamReader::new(Box::pin(tar));
    let broken =
        |e: std::io::Error| AppError::Internal(anyhow::anyhow!("reading the archive: {e}"));
    let mut pax_size: Option<u64> = None;
    let mut long_name: Option<String> = None;
    loop {
        let mut block = [0u8; 512];
        reader.read_exact(&mut block).await.map_err(broken)?;
        if block.iter().all(|b| *b == 0) {
            return Err(AppError::Missing {
                code: "path_not_found",
                message: format!("{path} does not exist in the container"),
            });
        }
        let header = tar::Header::from_byte_slice(&block);
        let size = header.entry_size().map_err(broken)?;
        let padded = size.div_ceil(512) * 512;
        let kind = header.entry_type();
        if kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
            || kind.is_pax_global_extensions()
        {
            if padded > 1 << 20 {
                return Err(broken(std::io::Error::other(
                    "an oversized extension header",
                )));
            }
            let mut data = vec![0u8; padded as usize];
            reader.read_exact(&mut data).await.map_err(broken)?;
            data.truncate(size as usize);
            if kind.is_gnu_longname() {
                long_name = Some(
                    String::from_utf8_lossy(&data)
                        .trim_end_matches('\0')
                        .to_string(),
                );
            } else if kind.is_pax_local_extensions() {
                for ext in tar::PaxExtensions::new(&data).flatten() {
                    match (ext.key(), ext.value()) {
                        (Ok("size"), Ok(v)) => pax_size = v.parse().ok(),
                        (Ok("path"), Ok(v)) => long_name = Some(v.to_string()),
                        _ => {}
                    }
                }
            }
            continue;
        }
        let name = long_name
            .take()
            .unwrap_or_else(|| String::from_utf8_lossy(&header.path_bytes()).into_owned());
        let name = name
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        if kind.is_dir() {
            return Err(AppError::bad_request(
                "is_a_directory",
                format!("{path} is a folder: download it as a tar (GET .../archive?path=)"),
            ));
        }
        if !(kind.is_file() || kind.is_contiguous()) {
            return Err(AppError::bad_request(
                "not_a_file",
                format!(
                    "{path} is not a regular file (a link or a device): download what it points to"
                ),
            ));
        }
        let size = pax_size.unwrap_or(size);
        // The response carries Content-Length: a tar cut short fails the download.
        let body = ReaderStream::new(reader.take(size)).boxed();
        return Ok(FileBody { name, size, body });
    }
}

/// The children of folder `path`, read from the headers of its tar (file data is skipped).
pub async fn list(ep: &Endpoint, id: &str, path: &str) -> AppResult<Vec<wire::FileEntry>> {
    let tar = download(ep, id, path).await?;
    let reader = SyncIoBridge::new(StreamReader::new(Box::pin(tar)));
    let path = path.to_string();
    tokio::task::spawn_blocking(move || read_listing(reader, &path))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
}

fn read_listing(reader: impl Read, path: &str) -> AppResult<Vec<wire::FileEntry>> {
    let broken = |e: std::io::Error| AppError::Docker(format!("cannot read the archive: {e}"));
    let mut archive = tar::Archive::new(reader);
    let mut root: Option<String> = None;
    let mut out = Vec::new();
    for (n, entry) in archive.entries().map_err(broken)?.enumerate() {
        if n >= MAX_SCANNED || out.len() >= MAX_LISTED {
            break;
        }
        let entry = entry.map_err(broken)?;
        let header = entry.header();
        let name = entry.path().map_err(broken)?.to_string_lossy().into_owned();
        let name = name.trim_end_matches('/').to_string();
        let kind = match header.entry_type() {
            tar::EntryType::Directory => FileKind::Dir,
            tar::EntryType::Symlink => FileKind::Symlink,
            t if t.is_file() || t.is_hard_link() => FileKind::File,
            _ => FileKind::Other,
        };
        if root.is_none() {
            // The first entry is the path itself, named by its last component.
            if kind != FileKind::Dir {
                return Err(AppError::bad_request(
                    "not_a_directory",
                    format!("path: {path} is not a folder"),
                ));
            }
            root = Some(format!("{name}/"));
            continue;
        }
        let Some(rel) = root.as_deref().and_then(|r| name.strip_prefix(r)) else {
            continue;
        };
        if rel.is_empty() || rel.contains('/') {
            continue;
        }
        out.push(wire::FileEntry {
            name: rel.to_string(),
            kind,
            size: if kind == FileKind::File {
                entry.size()
            } else {
                0
            },
            mode: header.mode().unwrap_or(0) & 0o7777,
            mtime: header.mtime().unwrap_or(0) as i64,
            link_target: entry
                .link_name()
                .ok()
                .flatten()
                .map(|l| l.to_string_lossy().into_owned()),
        });
    }
    out.sort_by(|a, b| (a.kind != FileKind::Dir, &a.name).cmp(&(b.kind != FileKind::Dir, &b.name)));
    Ok(out)
}

/// Extract a tar stream into folder `path` of the container.
pub async fn upload(
    ep: &Endpoint,
    id: &str,
    path: &str,
    tar: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
) -> AppResult<()> {
    let id = id.to_string();
    let opts = UploadToContainerOptions {
        path: path.to_string(),
        no_overwrite_dir_non_dir: None,
        copy_uidgid: None,
    };
    let body = bollard::body_try_stream(tar);
    ep.call(|d| async move { d.upload_to_container(&id, Some(opts), body).await })
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => AppError::Missing {
                code: "path_not_found",
                message: format!("{path} does not exist in the container"),
            },
            AppError::BadRequest { message, .. } => {
                AppError::bad_request("invalid_archive", format!("{path}: {message}"))
            }
            other => other,
        })
}

/// A tar header for one uploaded file.
pub fn file_header(name: &str, size: u64, mtime: u64) -> AppResult<[u8; 512]> {
    let clean = name.rsplit(['/', '\\']).next().unwrap_or(name);
    if clean.is_empty() || clean == "." || clean == ".." {
        return Err(AppError::bad_request(
            "invalid_file_name",
            format!("file name {name:?} is not a file name"),
        ));
    }
    let mut h = tar::Header::new_gnu();
    h.set_path(clean).map_err(|e| {
        AppError::bad_request("invalid_file_name", format!("file name {name:?}: {e}"))
    })?;
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(mtime);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut out = [0u8; 512];
    out.copy_from_slice(h.as_bytes());
    Ok(out)
}

/// Zero bytes that pad a file's data to the tar block size.
pub fn padding(size: u64) -> Bytes {
    let rem = (size % 512) as usize;
    if rem == 0 {
        Bytes::new()
    } else {
        Bytes::from(vec![0u8; 512 - rem])
    }
}
