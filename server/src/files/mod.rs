//! Files: host shares served as an autoindex, and the file browsers of volumes.
//!
//! Every path a request names is a [`path::RelPath`] (plain names only) resolved beneath an
//! open [`path::Root`] by the kernel (`openat2` with `RESOLVE_BENEATH`): nothing outside a
//! tree's root is read, listed or written, however the path was spelled or whatever
//! symlinks lie on the way.

pub mod archive;
pub mod listing;
pub mod local;
pub mod path;
pub mod serve;
pub mod shares;
pub mod volume;
pub mod write;

use crate::error::{AppError, AppResult};

/// Run blocking file-system work off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("file task failed: {e}")))?
}

/// `1.5 KiB`, `12 MiB`: sizes for people (exact bytes are shown beside them).
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if v < 10.0 {
        format!("{v:.1} {}", UNITS[i])
    } else {
        format!("{v:.0} {}", UNITS[i])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn human() {
        assert_eq!(super::human_size(0), "0 B");
        assert_eq!(super::human_size(1536), "1.5 KiB");
        assert_eq!(super::human_size(1 << 30), "1.0 GiB");
        assert_eq!(super::human_size(300 << 20), "300 MiB");
    }
}
