//! Shares: host folders published as an autoindex, from `--share` flags (fixed for the
//! life of the process) and from the API (in SQLite).

use std::path::PathBuf;

use wire::Role;

use super::path::Root;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub name: String,
    pub path: PathBuf,
    pub writable: bool,
    /// Empty: everyone logged in.
    pub teams: Vec<String>,
    pub from_flag: bool,
}

/// A share name is one URL segment that needs no encoding.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "share name {name:?} must be 1-64 letters, digits, `.`, `_` or `-`, starting with a letter or digit"
        ))
    }
}

/// Check a share's folder: absolute, an existing directory. Returns it canonical, so what
/// is stored and shown is the real folder (a later symlink swap of the admin's path does
/// not move the share).
pub fn check_path(path: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(path);
    if !p.is_absolute() {
        return Err(format!("share path {path:?} must be absolute"));
    }
    let real = std::fs::canonicalize(&p).map_err(|e| format!("share path {path:?}: {e}"))?;
    if !real.is_dir() {
        return Err(format!("share path {path:?} is not a folder"));
    }
    Ok(real)
}

/// `NAME=PATH`, `NAME=PATH:rw` or `NAME=PATH:ro`.
pub fn parse_flag(flag: &str) -> Result<Share, String> {
    let (name, rest) = flag
        .split_once('=')
        .ok_or_else(|| format!("--share {flag:?}: expected NAME=PATH or NAME=PATH:rw"))?;
    let name = name.trim();
    check_name(name).map_err(|e| format!("--share {flag:?}: {e}"))?;
    let (path, writable) = if let Some(p) = rest.strip_suffix(":rw") {
        (p, true)
    } else if let Some(p) = rest.strip_suffix(":ro") {
        (p, false)
    } else {
        (rest, false)
    };
    let path = check_path(path).map_err(|e| format!("--share {flag:?}: {e}"))?;
    Ok(Share {
        name: name.to_owned(),
        path,
        writable,
        teams: Vec::new(),
        from_flag: true,
    })
}

/// Every `--share` flag, checked; the first bad one (or a repeated name) stops the start.
pub fn from_flags(flags: &[String]) -> anyhow::Result<Vec<Share>> {
    let mut out: Vec<Share> = Vec::new();
    for f in flags.iter().filter(|f| !f.trim().is_empty()) {
        let share = parse_flag(f.trim()).map_err(|e| anyhow::anyhow!(e))?;
        if out.iter().any(|s| s.name == share.name) {
            anyhow::bail!("--share {f:?}: the name {:?} is used twice", share.name);
        }
        out.push(share);
    }
    Ok(out)
}

impl Share {
    pub fn visible_to(&self, user: &CurrentUser) -> bool {
        user.role == Role::Admin
            || self.teams.is_empty()
            || self.teams.iter().any(|t| user.teams.contains(t))
    }

    /// Whether this user may change files in it: a writable share, and not a viewer.
    pub fn check_write(&self, user: &CurrentUser) -> AppResult<()> {
        if !self.writable {
            return Err(AppError::Forbidden(format!(
                "share {:?} is read-only",
                self.name
            )));
        }
        user.require(Role::Operator)
    }

    pub fn open(&self) -> AppResult<Root> {
        Root::open(&self.path).map_err(|e| {
            AppError::Internal(anyhow::anyhow!(
                "share {:?}: cannot open {}: {e}",
                self.name,
                self.path.display()
            ))
        })
    }

    /// As the API shows it; the host path only to admins.
    pub fn wire(&self, user: &CurrentUser) -> wire::Share {
        wire::Share {
            name: self.name.clone(),
            path: if user.role == Role::Admin {
                self.path.display().to_string()
            } else {
                String::new()
            },
            writable: self.writable,
            teams: self.teams.clone(),
            source: if self.from_flag { "flag" } else { "api" }.into(),
        }
    }
}

fn from_row(r: store::shares::Row) -> Share {
    let teams = r.team_list();
    Share {
        name: r.name,
        path: PathBuf::from(r.path),
        writable: r.writable,
        teams,
        from_flag: false,
    }
}

/// Every share, flags first.
pub async fn all(state: &AppState) -> AppResult<Vec<Share>> {
    let mut out = state.shares.clone();
    for r in store::shares::all(&state.db).await? {
        if !out.iter().any(|s| s.name == r.name) {
            out.push(from_row(r));
        }
    }
    Ok(out)
}

/// The share this user asked for; 404 when there is none or it is not theirs to see (a
/// share of another team does not reveal that it exists).
pub async fn find(state: &AppState, user: &CurrentUser, name: &str) -> AppResult<Share> {
    let share = match state.shares.iter().find(|s| s.name == name) {
        Some(s) => Some(s.clone()),
        None if check_name(name).is_ok() => {
            store::shares::get(&state.db, name).await?.map(from_row)
        }
        None => None,
    };
    share
        .filter(|s| s.visible_to(user))
        .ok_or_else(|| AppError::NotFound(format!("no share named {name:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let dir = std::env::temp_dir();
        let d = dir.display();
        let s = parse_flag(&format!("pub={d}:rw")).unwrap();
        assert!(s.writable);
        assert_eq!(s.name, "pub");
        assert!(!parse_flag(&format!("pub={d}")).unwrap().writable);
        for bad in [
            "nopath".to_string(),
            format!("../x={d}"),
            format!("a/b={d}"),
            "rel=relative/path".into(),
            "gone=/does/not/exist/at/all".into(),
            format!("={d}"),
        ] {
            assert!(parse_flag(&bad).is_err(), "{bad:?}");
        }
        assert!(from_flags(&[format!("a={d}"), format!("a={d}")]).is_err());
    }
}
