//! Paths inside a tree (a share, a volume) and opening them without ever leaving it.
//!
//! A [`RelPath`] is a list of plain names: no `.`/`..`, no `/`, `\` or NUL inside a name,
//! whatever encoding the request used. A [`Root`] holds the tree's directory open and
//! resolves a `RelPath` beneath it with `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`:
//! the kernel refuses, atomically with the open, any `..` or symlink that would climb out,
//! so a symlink swapped in between a check and the open cannot escape either. There is no
//! check-then-open window in this module.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use rustix::fs::{openat2, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use crate::error::{AppError, AppResult};

/// A validated path relative to a tree's root; empty is the root itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelPath(Vec<String>);

/// Check one name: what a directory entry may be called and still be a single step down.
fn check_name(name: &str) -> AppResult<()> {
    let bad = |why: &str| {
        Err(AppError::bad_request(
            "invalid_path",
            format!("{name:?} is not a usable name in a path: {why}"),
        ))
    };
    if name.is_empty() {
        return bad("empty (two slashes in a row?)");
    }
    if name == "." || name == ".." {
        return bad("`.` and `..` are not allowed");
    }
    if name.contains('/') || name.contains('\\') {
        return bad("slashes and backslashes cannot be part of a name");
    }
    if name.contains('\0') {
        return bad("NUL bytes are not allowed");
    }
    if name.len() > 255 {
        return bad("longer than 255 bytes");
    }
    Ok(())
}

impl RelPath {
    pub fn root() -> RelPath {
        RelPath(Vec::new())
    }

    /// A path from a URL, still percent-encoded (`a/b%20c/`): split on `/` first, then each
    /// segment decoded once, so `%2f` can never become a separator and `%252e` stays the
    /// literal name `%2e`. Returns the path and whether the URL ended with `/`.
    pub fn from_url(raw: &str) -> AppResult<(RelPath, bool)> {
        let trailing = raw.is_empty() || raw.ends_with('/');
        let body = raw.strip_suffix('/').unwrap_or(raw);
        let mut parts = Vec::new();
        if !body.is_empty() {
            for seg in body.split('/') {
                let decoded = percent_encoding::percent_decode_str(seg)
                    .decode_utf8()
                    .map_err(|_| {
                        AppError::bad_request(
                            "invalid_path",
                            format!("{seg:?} does not decode to UTF-8"),
                        )
                    })?
                    .into_owned();
                check_name(&decoded)?;
                parts.push(decoded);
            }
        }
        Ok((RelPath(parts), trailing))
    }

    /// A path from a query parameter or JSON (already decoded): `/a/b`, `a/b` and `a/b/` all
    /// name the same thing; `""` and `/` are the root.
    pub fn parse(raw: &str) -> AppResult<RelPath> {
        let body = raw.strip_prefix('/').unwrap_or(raw);
        let body = body.strip_suffix('/').unwrap_or(body);
        if body.is_empty() {
            return Ok(RelPath::root());
        }
        let mut parts = Vec::new();
        for seg in body.split('/') {
            check_name(seg)?;
            parts.push(seg.to_owned());
        }
        Ok(RelPath(parts))
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// The last name, `None` for the root.
    pub fn name(&self) -> Option<&str> {
        self.0.last().map(String::as_str)
    }

    /// The parent and the last name; `None` for the root, which has neither.
    pub fn split_last(&self) -> Option<(RelPath, &str)> {
        let (last, rest) = self.0.split_last()?;
        Some((RelPath(rest.to_vec()), last.as_str()))
    }

    pub fn join(&self, name: &str) -> AppResult<RelPath> {
        check_name(name)?;
        let mut v = self.0.clone();
        v.push(name.to_owned());
        Ok(RelPath(v))
    }

    /// What the kernel is given: `a/b`, or `.` for the root.
    pub fn as_os(&self) -> String {
        if self.0.is_empty() {
            ".".into()
        } else {
            self.0.join("/")
        }
    }

    /// For people and JSON: `/a/b`, `/` for the root.
    pub fn display(&self) -> String {
        format!("/{}", self.0.join("/"))
    }
}

/// A tree's root directory, held open.
pub struct Root {
    fd: OwnedFd,
}

/// How paths are resolved beneath a root: never above it, never through /proc magic links.
const BENEATH: ResolveFlags = ResolveFlags::BENEATH.union(ResolveFlags::NO_MAGICLINKS);

impl Root {
    /// Open the root itself (an admin-given absolute path; a symlink there is followed once).
    pub fn open(path: &Path) -> std::io::Result<Root> {
        let fd = rustix::fs::open(
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Root { fd })
    }

    /// Open `rel` beneath the root. Symlinks inside are followed only while they stay inside.
    pub fn open_at(&self, rel: &RelPath, flags: OFlags) -> Result<OwnedFd, Errno> {
        // openat2 is strict: with O_PATH only O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC may go along.
        let extra = if flags.contains(OFlags::PATH) {
            OFlags::CLOEXEC
        } else {
            OFlags::CLOEXEC | OFlags::NOCTTY
        };
        openat2(
            self.fd.as_fd(),
            rel.as_os(),
            flags | extra,
            Mode::empty(),
            BENEATH,
        )
    }

    /// The parent directory of `rel` (opened for `*at` calls) and its last name.
    pub fn parent_of<'a>(&self, rel: &'a RelPath) -> AppResult<(OwnedFd, &'a str)> {
        let Some((parent, name)) = rel.split_last() else {
            return Err(AppError::bad_request(
                "invalid_path",
                "this needs a path below the root, not the root itself",
            ));
        };
        let fd = self
            .open_at(&parent, OFlags::RDONLY | OFlags::DIRECTORY)
            .map_err(|e| errno(e, &parent))?;
        Ok((fd, name))
    }
}

/// Map a failed path operation to the contract's errors.
pub fn errno(e: Errno, rel: &RelPath) -> AppError {
    let shown = rel.display();
    match e {
        Errno::NOENT | Errno::NOTDIR => AppError::NotFound(format!("{shown} does not exist")),
        // openat2 says EXDEV when resolution would leave the root, ELOOP for a symlink
        // where none is allowed.
        Errno::XDEV | Errno::LOOP => AppError::Forbidden(format!(
            "{shown} leads outside of this tree (through `..` or a symlink): refused"
        )),
        Errno::ACCESS | Errno::PERM => {
            AppError::Forbidden(format!("the server may not access {shown}"))
        }
        Errno::EXIST => AppError::Conflict(format!("{shown} already exists")),
        Errno::NOTEMPTY => AppError::Conflict(format!("{shown} is not empty")),
        Errno::ISDIR => AppError::Conflict(format!("{shown} is a folder")),
        Errno::ROFS => AppError::Forbidden(format!("{shown} is on a read-only file system")),
        Errno::NOSPC | Errno::DQUOT => AppError::Conflict("no space left on the device".into()),
        Errno::NAMETOOLONG => AppError::bad_request("invalid_path", format!("{shown} is too long")),
        other => AppError::Internal(anyhow::anyhow!("{shown}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths_decode_once_per_segment() {
        let (p, slash) = RelPath::from_url("a/b%20c/").unwrap();
        assert_eq!(p.names(), ["a", "b c"]);
        assert!(slash);
        let (p, _) = RelPath::from_url("%252e%252e").unwrap();
        assert_eq!(p.names(), ["%2e%2e"], "double encoding stays literal");
        for bad in [
            "..",
            "a/../b",
            "%2e%2e",
            "%2E%2E/x",
            "..%2fetc",
            "a%2fb",
            "a%5cb",
            "a\\b",
            "a%00b",
            "/etc/passwd",
            "a//b",
            ".",
            "%ff",
        ] {
            assert!(RelPath::from_url(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn query_paths() {
        assert!(RelPath::parse("/").unwrap().is_root());
        assert!(RelPath::parse("").unwrap().is_root());
        assert_eq!(RelPath::parse("/a/b/").unwrap().as_os(), "a/b");
        for bad in ["/../x", "a/./b", "a\\b", "a\0b", "//x"] {
            assert!(RelPath::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
