//! A folder as a streamed tar archive.
//!
//! The walk runs on a blocking thread: every folder is opened beneath its parent's
//! descriptor with `RESOLVE_NO_SYMLINKS` (a symlink is stored as a symlink, never
//! followed), every file read from its own descriptor. The `tar` crate writes into a
//! [`ChannelWriter`] whose bounded channel is the response body: memory stays at a few
//! chunks whatever the folder's size, and a client that goes away stops the walk.

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};

use axum::body::Body;
use bytes::Bytes;
use rustix::fs::{openat2, AtFlags, Dir, FileType, Mode, OFlags, ResolveFlags};
use tokio::sync::mpsc;

use super::listing::kind_of;
use super::path::{errno, RelPath, Root};
use crate::error::AppResult;

const CHUNK: usize = 64 * 1024;

/// A `Write` that hands full chunks to an async receiver, blocking while it is full.
pub struct ChannelWriter {
    tx: mpsc::Sender<std::io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    pub fn new(tx: mpsc::Sender<std::io::Result<Bytes>>) -> Self {
        ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }

    /// Report a failure to the reader (the body ends with an error, the client sees a
    /// truncated transfer rather than a complete-looking archive).
    pub fn fail(&self, e: std::io::Error) {
        let _ = self.tx.blocking_send(Err(e));
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = CHUNK - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// A body fed by a blocking producer writing into a [`ChannelWriter`].
pub fn blocking_body<F>(produce: F) -> Body
where
    F: FnOnce(&mut ChannelWriter) -> std::io::Result<()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let mut w = ChannelWriter::new(tx);
        let res = produce(&mut w).and_then(|()| w.flush());
        if let Err(e) = res {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                tracing::warn!("archive stream stopped: {e}");
                w.fail(e);
            }
        }
    });
    Body::from_stream(tokio_stream_from(rx))
}

fn tokio_stream_from(
    mut rx: mpsc::Receiver<std::io::Result<Bytes>>,
) -> impl futures::Stream<Item = std::io::Result<Bytes>> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Check the folder exists (so a bad path is a 404, not a broken download), then stream it.
pub fn tar_folder(root: std::sync::Arc<Root>, rel: RelPath) -> AppResult<Body> {
    let top = root
        .open_at(&rel, OFlags::RDONLY | OFlags::DIRECTORY)
        .map_err(|e| errno(e, &rel))?;
    let prefix = rel.name().unwrap_or("root").to_owned();
    Ok(blocking_body(move |w| {
        let mut b = tar::Builder::new(w);
        b.mode(tar::HeaderMode::Complete);
        b.follow_symlinks(false);
        let st = rustix::fs::fstat(&top)?;
        dir_header(&mut b, &prefix, &st)?;
        walk(&mut b, top, &prefix)?;
        b.finish()?;
        Ok(())
    }))
}

fn dir_header<W: Write>(
    b: &mut tar::Builder<W>,
    path: &str,
    st: &rustix::fs::Stat,
) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(st.st_mode & 0o7777);
    h.set_mtime(st.st_mtime.max(0) as u64);
    h.set_size(0);
    b.append_data(&mut h, format!("{path}/"), std::io::empty())
}

fn walk<W: Write>(b: &mut tar::Builder<W>, dirfd: OwnedFd, prefix: &str) -> std::io::Result<()> {
    let mut dir = Dir::read_from(dirfd.as_fd())?;
    // Names first, so the directory stream is not held open across the recursion.
    let mut names = Vec::new();
    while let Some(ent) = dir.read() {
        let ent = ent?;
        let raw = ent.file_name().to_bytes();
        if raw != b"." && raw != b".." {
            names.push(ent.file_name().to_owned());
        }
    }
    drop(dir);
    names.sort();
    for cname in names {
        let name = String::from_utf8_lossy(cname.to_bytes()).into_owned();
        let path = format!("{prefix}/{name}");
        let Ok(st) = rustix::fs::statat(dirfd.as_fd(), &cname, AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        match FileType::from_raw_mode(st.st_mode) {
            FileType::Directory => {
                let sub = openat2(
                    dirfd.as_fd(),
                    &cname,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                    ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS,
                );
                let Ok(sub) = sub else { continue };
                dir_header(b, &path, &st)?;
                walk(b, sub, &path)?;
            }
            FileType::RegularFile => {
                let fd = openat2(
                    dirfd.as_fd(),
                    &cname,
                    OFlags::RDONLY
                        | OFlags::NOFOLLOW
                        | OFlags::NONBLOCK
                        | OFlags::CLOEXEC
                        | OFlags::NOCTTY,
                    Mode::empty(),
                    ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS,
                );
                let Ok(fd) = fd else { continue };
                // What was opened is what gets described: stat the descriptor, not the name.
                let st = rustix::fs::fstat(&fd)?;
                if kind_of(&st) != wire::FileKind::File {
                    continue;
                }
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(st.st_mode & 0o7777);
                h.set_mtime(st.st_mtime.max(0) as u64);
                let size = st.st_size.max(0) as u64;
                h.set_size(size);
                let file = std::fs::File::from(fd);
                // A file that shrank while being read would corrupt the archive: read at most
                // `size` bytes and pad with zeros if it came up short.
                let reader =
                    std::io::Read::chain(std::io::Read::take(file, size), std::io::repeat(0));
                b.append_data(&mut h, &path, std::io::Read::take(reader, size))?;
            }
            FileType::Symlink => {
                let Ok(target) = rustix::fs::readlinkat(dirfd.as_fd(), &cname, Vec::new()) else {
                    continue;
                };
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_mtime(st.st_mtime.max(0) as u64);
                h.set_size(0);
                let target = String::from_utf8_lossy(target.as_bytes()).into_owned();
                b.append_link(&mut h, &path, target)?;
            }
            // Devices, sockets and FIFOs are not archived.
            _ => {}
        }
    }
    Ok(())
}
