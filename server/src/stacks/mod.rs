//! Compose stacks without the compose binary: files in the data dir (`files`), a compose
//! file read into berth's model of a project (`parse`, `model`), the build context sent to
//! the daemon (`context`). Everything that talks to the daemon is in `docker::stacks`.
//!
//! A stack is a Compose project: its containers, networks and volumes carry the labels
//! Compose itself sets (`labels`), so `docker-compose ps` sees berth's stacks and berth sees
//! (and can stop, restart and follow) projects the compose CLI started.

pub mod context;
#[cfg(test)]
mod corpus;
pub mod envfile;
pub mod files;
pub mod git;
pub mod gitpoll;
pub mod gitsync;
pub mod interpolate;
pub mod keys;
pub mod labels;
pub mod locate;
pub mod merge;
pub mod model;
pub mod ops;
pub mod parse;
pub mod swarm;

use crate::error::{AppError, AppResult};

/// A stack name is a Compose project name: it names a folder in the data dir, a label value
/// and the prefix of container, network and volume names, so only `[a-z0-9][a-z0-9_-]*`
/// (what Compose itself keeps of a name) is accepted. `../x`, `a/b`, `.hidden` never reach
/// the file system.
pub fn check_name(name: &str) -> AppResult<&str> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.as_bytes()[0].is_ascii_lowercase() | name.as_bytes()[0].is_ascii_digit()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(name)
    } else {
        Err(AppError::bad_request(
            "invalid_stack_name",
            format!(
                "stack name {name:?} is not allowed: use 1 to 63 lowercase letters, digits, '-' \
                 or '_', starting with a letter or digit"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_leave_the_folder_are_refused() {
        for bad in [
            "", "../x", "..", ".", "a/b", "A", ".env", "-x", "a b", "x\0", "a\\b", "ä",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        for good in ["web", "my-app", "app_2", "0day"] {
            assert!(check_name(good).is_ok(), "{good:?}");
        }
    }
}
