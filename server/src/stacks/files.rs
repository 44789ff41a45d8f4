//! A stack's files in the data dir: `<data>/stacks/<name>/docker-compose.yml`, its `.env`,
//! and `.berth.json` (owning team; the folder relative paths resolve in, for a stack made
//! from a folder on the server). Names are checked before any path is made from them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::check_name;
use crate::error::{AppError, AppResult};

pub const COMPOSE_FILE: &str = "docker-compose.yml";
pub const ENV_FILE: &str = ".env";
const META_FILE: &str = ".berth.json";
/// Compose files are text someone typed: a megabyte is plenty.
pub const MAX_FILE: usize = 1024 * 1024;

/// What berth remembers about a stack besides its compose file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Meta {
    pub team: Option<String>,
    /// For a stack made from a folder on the server: that folder.
    pub working_dir: Option<PathBuf>,
    /// The environment the stack belongs to (issue 14); none: `local`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Deployed to the environment's swarm (`docker stack deploy`), not as containers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub swarm: bool,
}

impl Meta {
    /// Whether the stack lives on `endpoint`.
    pub fn on(&self, endpoint: &str) -> bool {
        self.endpoint.as_deref().unwrap_or(crate::docker::LOCAL) == endpoint
    }
}

/// A managed stack as stored.
#[derive(Debug, Clone)]
pub struct StackFiles {
    pub dir: PathBuf,
    pub compose: String,
    pub env: Option<String>,
    pub meta: Meta,
}

impl StackFiles {
    pub fn compose_path(&self) -> PathBuf {
        self.dir.join(COMPOSE_FILE)
    }

    /// Where relative paths in the file resolve.
    pub fn working_dir(&self) -> PathBuf {
        self.meta
            .working_dir
            .clone()
            .unwrap_or_else(|| self.dir.clone())
    }
}

pub fn root(data_dir: &Path) -> PathBuf {
    data_dir.join("stacks")
}

pub fn dir(data_dir: &Path, name: &str) -> AppResult<PathBuf> {
    Ok(root(data_dir).join(check_name(name)?))
}

fn io(e: std::io::Error, what: &Path) -> AppError {
    AppError::Internal(anyhow::anyhow!("{}: {e}", what.display()))
}

/// The names of the stacks berth keeps files for.
pub async fn list(data_dir: &Path) -> AppResult<Vec<String>> {
    let root = root(data_dir);
    let mut names = Vec::new();
    let mut rd = match tokio::fs::read_dir(&root).await {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(names),
        Err(e) => return Err(io(e, &root)),
    };
    while let Some(entry) = rd.next_entry().await.map_err(|e| io(e, &root))? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if check_name(&name).is_ok()
            && tokio::fs::try_exists(entry.path().join(COMPOSE_FILE))
                .await
                .unwrap_or(false)
        {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// A stack's files, or None if berth keeps none for this name.
pub async fn read(data_dir: &Path, name: &str) -> AppResult<Option<StackFiles>> {
    let dir = dir(data_dir, name)?;
    let compose = match tokio::fs::read_to_string(dir.join(COMPOSE_FILE)).await {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e, &dir)),
    };
    let env = tokio::fs::read_to_string(dir.join(ENV_FILE)).await.ok();
    let meta = match tokio::fs::read(dir.join(META_FILE)).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(_) => Meta::default(),
    };
    Ok(Some(StackFiles {
        dir,
        compose,
        env,
        meta,
    }))
}

/// A stack's files if it belongs to `endpoint`: a stack belongs to one host, and on the
/// others it is missing.
pub async fn read_on(data_dir: &Path, name: &str, endpoint: &str) -> AppResult<Option<StackFiles>> {
    Ok(read(data_dir, name).await?.filter(|f| f.meta.on(endpoint)))
}

/// Write a stack's files (each through a temporary file and a rename, so a reader never
/// sees half a file).
pub async fn write(
    data_dir: &Path,
    name: &str,
    compose: &str,
    env: Option<&str>,
    meta: &Meta,
) -> AppResult<StackFiles> {
    let dir = dir(data_dir, name)?;
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| io(e, &dir))?;
    let meta_json = serde_json::to_vec_pretty(meta).map_err(|e| AppError::Internal(e.into()))?;
    put(&dir, COMPOSE_FILE, compose.as_bytes()).await?;
    match env {
        Some(env) => put(&dir, ENV_FILE, env.as_bytes()).await?,
        None => {
            let _ = tokio::fs::remove_file(dir.join(ENV_FILE)).await;
        }
    }
    put(&dir, META_FILE, &meta_json).await?;
    Ok(StackFiles {
        dir,
        compose: compose.to_owned(),
        env: env.map(str::to_owned),
        meta: meta.clone(),
    })
}

async fn put(dir: &Path, file: &str, bytes: &[u8]) -> AppResult<()> {
    let tmp = dir.join(format!(".{file}.tmp"));
    tokio::fs::write(&tmp, bytes)
        .await
        .map_err(|e| io(e, &tmp))?;
    tokio::fs::rename(&tmp, dir.join(file))
        .await
        .map_err(|e| io(e, dir))
}

/// A renamed environment takes its stacks along: every stack that lived on `old` lives on
/// `new` (its metadata rewritten through a rename, like [`write`]). Returns how many moved.
pub async fn move_endpoint(data_dir: &Path, old: &str, new: &str) -> AppResult<usize> {
    let mut moved = 0;
    for name in list(data_dir).await? {
        let Some(mut files) = read(data_dir, &name).await? else {
            continue;
        };
        if !files.meta.on(old) {
            continue;
        }
        files.meta.endpoint = Some(new.to_owned());
        let json =
            serde_json::to_vec_pretty(&files.meta).map_err(|e| AppError::Internal(e.into()))?;
        put(&files.dir, META_FILE, &json).await?;
        moved += 1;
    }
    Ok(moved)
}

/// Forget a stack's files.
pub async fn remove(data_dir: &Path, name: &str) -> AppResult<()> {
    let dir = dir(data_dir, name)?;
    match tokio::fs::remove_dir_all(&dir).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(e, &dir)),
    }
}

/// The compose file and `.env` of a folder on the server (an admin's `from_dir`).
pub async fn from_folder(folder: &str) -> AppResult<(PathBuf, String, Option<String>)> {
    let bad = |m: String| AppError::bad_request("invalid_from_dir", m);
    let path = Path::new(folder);
    if !path.is_absolute() {
        return Err(bad(format!("from_dir {folder:?} must be an absolute path")));
    }
    let path = tokio::fs::canonicalize(path)
        .await
        .map_err(|e| bad(format!("from_dir {folder:?}: {e}")))?;
    for candidate in [
        "docker-compose.yml",
        "docker-compose.yaml",
        "compose.yml",
        "compose.yaml",
    ] {
        let file = path.join(candidate);
        if let Ok(meta) = tokio::fs::metadata(&file).await {
            if meta.len() as usize > MAX_FILE {
                return Err(AppError::TooLarge(format!(
                    "{} is larger than {MAX_FILE} bytes",
                    file.display()
                )));
            }
            let compose = tokio::fs::read_to_string(&file)
                .await
                .map_err(|e| bad(format!("{}: {e}", file.display())))?;
            let env = tokio::fs::read_to_string(path.join(ENV_FILE)).await.ok();
            return Ok((path, compose, env));
        }
    }
    Err(bad(format!(
        "from_dir {folder:?} has no docker-compose.yml, docker-compose.yaml, compose.yml or compose.yaml"
    )))
}
