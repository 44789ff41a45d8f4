//! Listing a directory beneath a root: one `getdents64` stream plus one `fstatat` per entry
//! (relative to the open directory, never by full path, never `canonicalize`); symlinks
//! cost one more open beneath the root to learn what they point at, if it is inside.

use std::os::fd::AsFd;

use rustix::fs::{AtFlags, Dir, FileType, OFlags, Stat};
use wire::{FileEntry, FileKind};

use super::path::{errno, RelPath, Root};
use crate::error::AppResult;

/// One directory entry, with what a listing shows.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub kind: FileKind,
    /// For a symlink: what it resolves to beneath the root (`None`: dangling or outside).
    pub target: Option<FileKind>,
    /// For a symlink to a file inside the root: that file's size.
    pub target_size: u64,
    pub link_target: Option<String>,
    pub size: u64,
    pub mode: u32,
    pub mtime: i64,
}

impl Entry {
    /// Whether following it leads to a folder (a folder, or a symlink to one inside the root).
    pub fn is_dir_like(&self) -> bool {
        self.kind == FileKind::Dir || self.target == Some(FileKind::Dir)
    }

    pub fn wire(&self) -> FileEntry {
        FileEntry {
            name: self.name.clone(),
            kind: self.kind,
            size: self.size,
            mode: self.mode,
            mtime: self.mtime,
            link_target: self.link_target.clone(),
        }
    }
}

pub fn kind_of(st: &Stat) -> FileKind {
    match FileType::from_raw_mode(st.st_mode) {
        FileType::RegularFile => FileKind::File,
        FileType::Directory => FileKind::Dir,
        FileType::Symlink => FileKind::Symlink,
        _ => FileKind::Other,
    }
}

/// List the folder `rel` beneath `root`: blocking, call from `spawn_blocking`.
pub fn list(root: &Root, rel: &RelPath) -> AppResult<Vec<Entry>> {
    let dirfd = root
        .open_at(rel, OFlags::RDONLY | OFlags::DIRECTORY)
        .map_err(|e| errno(e, rel))?;
    let mut dir = Dir::read_from(dirfd.as_fd()).map_err(|e| errno(e, rel))?;
    let mut out = Vec::new();
    while let Some(ent) = dir.read() {
        let ent = ent.map_err(|e| errno(e, rel))?;
        let raw = ent.file_name().to_bytes();
        if raw == b"." || raw == b".." {
            continue;
        }
        // Names that are not UTF-8 are shown with replacement characters (and cannot be
        // opened through a URL); a listing never fails because of one.
        let name = String::from_utf8_lossy(raw).into_owned();
        let st = match rustix::fs::statat(dirfd.as_fd(), ent.file_name(), AtFlags::SYMLINK_NOFOLLOW)
        {
            Ok(st) => st,
            // Removed between getdents and stat: not there any more.
            Err(_) => continue,
        };
        let kind = kind_of(&st);
        let mut target_size = 0;
        let (target, link_target) = if kind == FileKind::Symlink {
            let link = rustix::fs::readlinkat(dirfd.as_fd(), ent.file_name(), Vec::new())
                .ok()
                .map(|c| String::from_utf8_lossy(c.as_bytes()).into_owned());
            let target = rel.join(&name).ok().and_then(|p| {
                root.open_at(&p, OFlags::PATH)
                    .ok()
                    .and_then(|fd| rustix::fs::fstat(fd).ok())
                    .map(|s| {
                        target_size = s.st_size.max(0) as u64;
                        kind_of(&s)
                    })
            });
            (target, link)
        } else {
            (None, None)
        };
        out.push(Entry {
            name,
            kind,
            target,
            target_size,
            link_target,
            size: if kind == FileKind::File {
                st.st_size.max(0) as u64
            } else {
                0
            },
            mode: st.st_mode & 0o7777,
            mtime: st.st_mtime,
        });
    }
    Ok(out)
}

/// Folders first, then by name (byte order, as `ls` in the C locale).
pub fn sort_default(entries: &mut [Entry]) {
    entries.sort_by(|a, b| {
        b.is_dir_like()
            .cmp(&a.is_dir_like())
            .then_with(|| a.name.cmp(&b.name))
    });
}
