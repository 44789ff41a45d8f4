//! A Git stack's sync: fetch its ref, and when the commit changed (or a redeploy is forced)
//! check the commit out, compile its compose file and bring it up through the stack engine
//! (and so through the one policy). A commit whose file does not compile, or whose deploy
//! fails, leaves the running deployment as it was; every outcome is recorded on the stack,
//! with the commit it was about.
//!
//! On disk, under `<data>/git/<name>/`: `repo.git` (a bare clone, fetched with gix) and
//! `tree` (the checked-out commit the stack deploys from). A new commit is checked out into
//! `tree.new` and swapped in, so the folder a stack's relative paths resolve in keeps its
//! name from commit to commit (a bind of `./conf` is the same bind, not a change).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wire::Role;

use super::files::{self, StackFiles};
use super::git::{self, Fetched};
use super::model::Project;
use super::ops;
use crate::auth::policy::resolve::Policy;
use crate::auth::CurrentUser;
use crate::docker::stack_up::{self, Progress, UpOptions};
use crate::error::{AppError, AppResult};
use crate::registry::secret;
use crate::state::AppState;
use crate::store::git_stacks::{self, Outcome, Row};

/// A fetch that takes longer than this is stopped (and recorded as failed).
const FETCH_TIMEOUT: Duration = Duration::from_secs(120);
/// The shortest poll interval.
pub const MIN_POLL: u64 = 5;

pub const SUPPORTED: &str = "https://host/path, ssh://[user@]host[:port]/path (or user@host:path), \
     git://host[:port]/path, http:// to this machine (loopback), and, for admins, file:///path on the server";

/// The scheme of a Git URL; scp-like `user@host:path` is ssh.
pub fn scheme(url: &str) -> &str {
    match url.trim().split_once("://") {
        Some((s, _)) => s,
        None => "ssh",
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub fn root(data_dir: &Path, name: &str) -> AppResult<PathBuf> {
    Ok(data_dir.join("git").join(super::check_name(name)?))
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

/// `git.url`: a scheme berth fetches over, no credentials inside it.
pub fn check_url(user: &CurrentUser, url: &str) -> AppResult<()> {
    let url = url.trim();
    if url.chars().any(|c| c.is_control() || c == ' ') {
        return Err(bad(
            "invalid_git_url",
            "git.url must not hold spaces or control characters",
        ));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        // scp-like ssh: `git@host:path`.
        return match gix::url::parse(gix::bstr::BStr::new(url)) {
            Ok(u) if u.scheme == gix::url::Scheme::Ssh && u.host().is_some() => Ok(()),
            _ => Err(bad(
                "invalid_git_url",
                format!("git.url {url:?} is not a URL: use {SUPPORTED}"),
            )),
        };
    };
    match scheme {
        "https" | "http" => {
            let host = rest.split('/').next().unwrap_or_default();
            if host.contains('@') {
                return Err(bad(
                    "invalid_git_url",
                    "git.url: put no user or token in the URL; give them in git.credentials (sealed at rest)",
                ));
            }
            if host.is_empty() || rest.len() <= host.len() + 1 {
                return Err(bad(
                    "invalid_git_url",
                    format!("git.url {url:?}: write {scheme}://host[:port]/path/to/repo"),
                ));
            }
            let name = match host.rsplit_once(':') {
                Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
                _ => host,
            };
            if scheme == "http" && !is_loopback(name) {
                return Err(bad(
                    "insecure_git_url",
                    format!("git.url: plain http:// is only allowed to this machine (127.0.0.1, localhost); use https://{rest}"),
                ));
            }
        }
        "ssh" => match gix::url::parse(gix::bstr::BStr::new(url)) {
            Ok(u)
                if u.host()
                    .is_some_and(|h| !h.is_empty() && !h.starts_with('-'))
                    && u.path.len() > 1 => {}
            _ => {
                return Err(bad(
                    "invalid_git_url",
                    format!("git.url {url:?}: write ssh://[user@]host[:port]/path/to/repo"),
                ))
            }
        },
        "git" => {
            let host = rest.split('/').next().unwrap_or_default();
            if host.is_empty() || host.contains('@') || rest.len() <= host.len() + 1 {
                return Err(bad(
                    "invalid_git_url",
                    format!("git.url {url:?}: write git://host[:port]/path/to/repo"),
                ));
            }
        }
        // A folder on the server: as `from_dir`, only an admin may name one.
        "file" => {
            user.require(Role::Admin).map_err(|_| {
                AppError::Forbidden(
                    "git.url: only an admin may use a file:// repository on the server".into(),
                )
            })?;
            if !rest.starts_with('/') {
                return Err(bad(
                    "invalid_git_url",
                    format!("git.url {url:?}: write file:///absolute/path"),
                ));
            }
        }
        other => {
            return Err(bad(
                "unsupported_git_url",
                format!(
                    "git.url: the scheme {other}:// is not supported; berth fetches {SUPPORTED}"
                ),
            ))
        }
    }
    Ok(())
}

/// `git.ref`: a branch or tag name as git allows them (roughly: no `..`, no spaces, no
/// leading `-`).
pub fn check_ref(r: &str) -> AppResult<()> {
    let ok = !r.is_empty()
        && r.len() <= 200
        && !r.starts_with(['-', '/', '.'])
        && !r.ends_with(['/', '.'])
        && !r.contains("..")
        && !r.contains("@{")
        && r.chars()
            .all(|c| c.is_ascii_graphic() && !"~^:?*[\\".contains(c));
    if ok {
        Ok(())
    } else {
        Err(bad(
            "invalid_git_ref",
            format!("git.ref {r:?} is not a branch or tag name"),
        ))
    }
}

/// `git.path`: a relative path inside the repository, no `..`.
pub fn check_path(p: &str) -> AppResult<()> {
    let ok = !p.is_empty()
        && !p.starts_with('/')
        && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
        && !p.chars().any(|c| c.is_control() || c == '\\');
    if ok {
        Ok(())
    } else {
        Err(bad(
            "invalid_git_path",
            format!("git.path {p:?} must be a relative path inside the repository, like deploy/compose.yml"),
        ))
    }
}

pub fn check_poll(s: u64) -> AppResult<i64> {
    if s == 0 || (MIN_POLL..=7 * 86400).contains(&s) {
        Ok(s as i64)
    } else {
        Err(bad(
            "invalid_poll_seconds",
            format!("git.poll_seconds: 0 (no polling) or {MIN_POLL} to 604800 seconds"),
        ))
    }
}

/// `git.credentials`: one kind, and one the URL's scheme can use (https/http: a token or
/// a user and password; ssh: a key and known hosts; git:// and file://: none).
pub fn check_credentials(url: &str, c: &wire::GitCredentials) -> AppResult<()> {
    let cred = |m: String| bad("invalid_git_credentials", format!("git.credentials: {m}"));
    let scheme = scheme(url);
    let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    let any = [
        &c.username,
        &c.token,
        &c.password,
        &c.ssh_key,
        &c.known_hosts,
    ]
    .into_iter()
    .any(given);
    if !any {
        return Ok(());
    }
    match scheme {
        "https" | "http" => {
            if given(&c.ssh_key) || given(&c.known_hosts) {
                return Err(cred(format!(
                    "ssh_key and known_hosts are for ssh:// URLs; {scheme}:// takes a token, or a username and password"
                )));
            }
            if given(&c.token) && given(&c.password) {
                return Err(cred("give a token or a password, not both".into()));
            }
            if given(&c.password) && !given(&c.username) {
                return Err(cred("a password needs its username".into()));
            }
            if !given(&c.token) && !given(&c.password) {
                return Err(cred("a username needs a token or a password".into()));
            }
        }
        "ssh" => {
            if given(&c.token) || given(&c.password) || given(&c.username) {
                return Err(cred(
                    "ssh:// takes an ssh_key (and known_hosts); put the user in the URL (ssh://git@host/path)".into(),
                ));
            }
            if let Some(k) = c.ssh_key.as_deref().filter(|k| !k.is_empty()) {
                if !k.contains("PRIVATE KEY-----") {
                    return Err(cred(
                        "ssh_key is not a private key (paste the whole file, from -----BEGIN to END ... PRIVATE KEY-----)".into(),
                    ));
                }
                if k.contains("Proc-Type: 4,ENCRYPTED") {
                    return Err(cred("ssh_key has a passphrase; give a key without one (a deploy key)".into()));
                }
            }
            if let Some(k) = c.known_hosts.as_deref().filter(|k| !k.is_empty()) {
                let bad_line = k.lines().map(str::trim).find(|l| {
                    !l.is_empty()
                        && !l.starts_with('#')
                        && (l.split_whitespace().count() < 3 || l.chars().any(|c| c.is_control()))
                });
                if let Some(l) = bad_line {
                    return Err(cred(format!(
                        "known_hosts: {l:?} is not a known_hosts line (host key-type key, as ssh-keyscan prints)"
                    )));
                }
            }
        }
        other => {
            return Err(bad(
                "unsupported_git_credentials",
                format!("git.credentials: {other}:// takes no credentials (they are for https:// and ssh:// URLs)"),
            ))
        }
    }
    Ok(())
}

/// Credentials the stack keeps, unsealed.
pub fn open(state: &AppState, sealed: &str) -> AppResult<wire::GitCredentials> {
    let json = secret::open(&state.config.data_dir, sealed).map_err(AppError::Internal)?;
    serde_json::from_str(&json).map_err(|e| AppError::Internal(e.into()))
}

/// The stack's own known-hosts file (learnt on first use) and the one the user gave.
fn known_hosts_files(data_dir: &Path, name: &str) -> AppResult<(PathBuf, PathBuf)> {
    let root = root(data_dir, name)?;
    Ok((root.join("known_hosts"), root.join("known_hosts.given")))
}

/// Forget the host key learnt on first use.
pub async fn reset_host_key(data_dir: &Path, name: &str) -> AppResult<()> {
    let (learnt, _) = known_hosts_files(data_dir, name)?;
    match tokio::fs::remove_file(&learnt).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(e, &learnt)),
        _ => Ok(()),
    }
}

/// How a fetch of `url` authenticates with `creds`.
async fn access(
    data_dir: &Path,
    name: &str,
    url: &str,
    creds: Option<&wire::GitCredentials>,
) -> AppResult<git::Access> {
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let mut a = git::Access::default();
    match scheme(url) {
        "https" | "http" => {
            if let Some(c) = creds {
                if let Some(secret) = nonempty(&c.token).or_else(|| nonempty(&c.password)) {
                    let user = nonempty(&c.username).unwrap_or_else(|| "x-access-token".to_owned());
                    a.basic = Some((user, secret));
                }
            }
        }
        "ssh" => {
            let (learnt, given) = known_hosts_files(data_dir, name)?;
            let root = root(data_dir, name)?;
            tokio::fs::create_dir_all(&root)
                .await
                .map_err(|e| io(e, &root))?;
            a.ssh_key = creds.and_then(|c| nonempty(&c.ssh_key));
            a.known_hosts = Some(match creds.and_then(|c| nonempty(&c.known_hosts)) {
                Some(lines) => {
                    tokio::fs::write(&given, format!("{}\n", lines.trim()))
                        .await
                        .map_err(|e| io(e, &given))?;
                    git::KnownHosts {
                        file: given,
                        strict: true,
                    }
                }
                None => {
                    let _ = tokio::fs::remove_file(&given).await;
                    git::KnownHosts {
                        file: learnt,
                        strict: false,
                    }
                }
            });
        }
        _ => {}
    }
    Ok(a)
}

/// What a failed fetch says, with the field to fix: the credentials or the host key when
/// the server refused them (a 400: the input is wrong), the URL otherwise (a 502).
fn fetch_error(url: &str, m: String, creds: bool) -> AppError {
    let lower = m.to_lowercase();
    if m.contains("no branch or tag") {
        return bad("unknown_git_ref", format!("git.ref: {m}"));
    }
    let coded = |code, m: String| AppError::coded(http::StatusCode::BAD_GATEWAY, code, m);
    if lower.contains("host identification has changed")
        || lower.contains("host key verification failed")
        || lower.contains("host key for") && lower.contains("has changed")
    {
        return bad(
            "git_host_key_mismatch",
            format!(
                "git.url: the SSH host key of {url} is not the one berth trusts (it changed since the first fetch, or is not in known_hosts); \
                 if the server's key changed on purpose, PATCH /api/stacks/NAME/git with {{\"reset_host_key\":true}} or give git.credentials.known_hosts ({m})"
            ),
        );
    }
    let ssh = scheme(url) == "ssh";
    // gix does not pass ssh's own reason up when ssh ends before the handshake: a refused
    // host key and a refused login look the same (an early end of the stream).
    if ssh && lower.contains("handshake failed") {
        return bad(
            "git_ssh_refused",
            format!(
                "git.url: ssh to {url} ended before Git could talk: the SSH host key is not the one berth trusts \
                 (it changed since the first fetch, or is not in known_hosts), or git.credentials.ssh_key was refused; \
                 if the server's key changed on purpose, PATCH /api/stacks/NAME/git with {{\"reset_host_key\":true}} ({m})"
            ),
        );
    }
    if ssh
        && (lower.contains("permission denied")
            || lower.contains("publickey")
            || lower.contains("unauthenticated"))
    {
        return bad(
            "git_auth_failed",
            format!("git.credentials: the SSH server refused the key for {url} ({m})"),
        );
    }
    if lower.contains("401")
        || lower.contains("unauthenticated")
        || lower.contains("403")
        || lower.contains("authentication")
        || lower.contains("unauthorized")
    {
        let what = if creds {
            "the server refused the credentials (a wrong or expired token or password?)"
        } else {
            "the server asks for credentials; give a token or a username and password"
        };
        return bad(
            "git_auth_failed",
            format!("git.credentials: {what} for {url} ({m})"),
        );
    }
    coded("git_fetch_failed", format!("git.url: {m}"))
}

/// Seal credentials for the database.
pub fn seal(state: &AppState, c: &wire::GitCredentials) -> AppResult<String> {
    let json = serde_json::to_string(c).map_err(|e| AppError::Internal(e.into()))?;
    secret::seal(&state.config.data_dir, &json).map_err(AppError::Internal)
}

/// Fetch the ref on a blocking thread with `creds`, stopped after [`FETCH_TIMEOUT`].
pub async fn fetch(
    data_dir: &Path,
    name: &str,
    url: &str,
    git_ref: &str,
    creds: Option<&wire::GitCredentials>,
) -> AppResult<Fetched> {
    let repo = root(data_dir, name)?.join("repo.git");
    let access = access(data_dir, name, url, creds).await?;
    let has_creds = access.basic.is_some() || access.ssh_key.is_some();
    let stop = Arc::new(AtomicBool::new(false));
    let (url2, ref2, stop2) = (url.to_owned(), git_ref.to_owned(), stop.clone());
    let task =
        tokio::task::spawn_blocking(move || git::fetch(&repo, &url2, &ref2, &access, &stop2));
    let res = tokio::time::timeout(FETCH_TIMEOUT, task).await;
    let res = match res {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Err(AppError::Internal(anyhow::anyhow!("fetch: {e}"))),
        Err(_) => {
            stop.store(true, Ordering::Relaxed);
            return Err(AppError::coded(
                http::StatusCode::GATEWAY_TIMEOUT,
                "git_timeout",
                format!(
                    "fetching {url} took longer than {} s",
                    FETCH_TIMEOUT.as_secs()
                ),
            ));
        }
    };
    res.map_err(|e| fetch_error(url, e.to_string(), has_creds))
}

/// Fetch with the credentials the stack keeps.
pub async fn fetch_row(state: &AppState, row: &Row, git_ref: &str) -> AppResult<Fetched> {
    let creds = row
        .credentials
        .as_deref()
        .map(|s| open(state, s))
        .transpose()?;
    fetch(
        &state.config.data_dir,
        &row.name,
        &row.url,
        git_ref,
        creds.as_ref(),
    )
    .await
}

/// A commit checked out into `tree.new` and compiled: what would be deployed.
pub struct Prepared {
    pub fetched: Fetched,
    pub project: Project,
    pub files: StackFiles,
}

fn short(commit: &str) -> &str {
    commit.get(..10).unwrap_or(commit)
}

fn io(e: std::io::Error, p: &Path) -> AppError {
    AppError::Internal(anyhow::anyhow!("{}: {e}", p.display()))
}

/// Check `fetched` out, swap it in as `tree` and compile its compose file there. Nothing
/// that runs is touched; a failure leaves the previous tree in place.
pub async fn prepare(
    data_dir: &Path,
    name: &str,
    path: &str,
    fetched: Fetched,
    mut meta: files::Meta,
) -> AppResult<Prepared> {
    let root = root(data_dir, name)?;
    let next = root.join("tree.new");
    let _ = tokio::fs::remove_dir_all(&next).await;
    let (repo, commit, dest) = (root.join("repo.git"), fetched.commit.clone(), next.clone());
    tokio::task::spawn_blocking(move || git::checkout(&repo, &commit, &dest))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("checkout: {e}")))?
        .map_err(|e| {
            bad(
                "git_checkout_failed",
                format!("commit {}: {e}", short(&fetched.commit)),
            )
        })?;
    let in_commit = |m: String| format!("commit {}: {m}", short(&fetched.commit));
    let file = next.join(path);
    let meta_len = tokio::fs::symlink_metadata(&file).await.map_err(|_| {
        bad(
            "missing_compose",
            in_commit(format!("git.path {path} is not a file in the repository")),
        )
    })?;
    if !meta_len.is_file() {
        return Err(bad(
            "missing_compose",
            in_commit(format!("git.path {path} is not a file")),
        ));
    }
    if meta_len.len() as usize > files::MAX_FILE {
        return Err(AppError::TooLarge(in_commit(format!(
            "{path} is larger than {} bytes",
            files::MAX_FILE
        ))));
    }
    let compose = tokio::fs::read_to_string(&file)
        .await
        .map_err(|e| bad("invalid_compose", in_commit(format!("{path}: {e}"))))?;
    let sub = Path::new(path).parent().unwrap_or(Path::new(""));
    let env = tokio::fs::read_to_string(next.join(sub).join(files::ENV_FILE))
        .await
        .ok();
    // Compiled where it will be deployed from (`env_file`s are read, relative paths
    // resolved there); a commit that does not compile puts the previous tree back.
    swap_in(data_dir, name).await?;
    let wd = root.join("tree").join(sub);
    let project = match ops::compile_or_400(name, &compose, env.as_deref(), &wd) {
        Ok(p) => p,
        Err(e) => {
            swap_back(data_dir, name).await?;
            return Err(bad(e.code(), in_commit(e.to_string())));
        }
    };
    meta.working_dir = Some(wd);
    let files = StackFiles {
        dir: files::dir(data_dir, name)?,
        compose,
        env,
        meta,
    };
    Ok(Prepared {
        fetched,
        project,
        files,
    })
}

/// Swap `tree.new` in as `tree` (the previous one kept as `tree.old` until `settle`).
pub async fn swap_in(data_dir: &Path, name: &str) -> AppResult<()> {
    let root = root(data_dir, name)?;
    let (tree, old, next) = (
        root.join("tree"),
        root.join("tree.old"),
        root.join("tree.new"),
    );
    let _ = tokio::fs::remove_dir_all(&old).await;
    if tokio::fs::try_exists(&tree).await.unwrap_or(false) {
        tokio::fs::rename(&tree, &old)
            .await
            .map_err(|e| io(e, &tree))?;
    }
    tokio::fs::rename(&next, &tree)
        .await
        .map_err(|e| io(e, &next))
}

/// After a failed deploy: the previous tree back in place.
pub async fn swap_back(data_dir: &Path, name: &str) -> AppResult<()> {
    let root = root(data_dir, name)?;
    let (tree, old) = (root.join("tree"), root.join("tree.old"));
    if tokio::fs::try_exists(&old).await.unwrap_or(false) {
        let _ = tokio::fs::remove_dir_all(&tree).await;
        tokio::fs::rename(&old, &tree)
            .await
            .map_err(|e| io(e, &old))?;
    }
    Ok(())
}

pub fn up_options(f: &StackFiles, pull: bool) -> UpOptions {
    UpOptions {
        pull,
        build: false,
        no_start: false,
        team: f.meta.team.clone(),
        labels: ops::project_labels(f),
    }
}

/// What a sync did.
#[derive(Debug)]
pub enum Synced {
    Unchanged(Fetched),
    Deployed(Fetched),
}

/// Fetch, and deploy the ref's commit if it changed (or `force`), as `policy.user`; the
/// outcome is recorded on the stack (with `job`, the job this runs in).
pub async fn sync(
    state: &AppState,
    policy: Policy<'_>,
    name: &str,
    force: bool,
    pull_images: bool,
    job: Option<&str>,
    progress: &Progress,
) -> AppResult<Synced> {
    let row = git_stacks::get(&state.db, name)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("{name} is not a Git stack")))?;
    let mut error_commit = None;
    let res = attempt(
        state,
        policy,
        &row,
        force,
        pull_images,
        progress,
        &mut error_commit,
    )
    .await;
    let message = res.as_ref().err().map(|e| e.to_string());
    let outcome = match &res {
        Ok(Synced::Unchanged(_)) => Outcome {
            result: "unchanged",
            deployed: None,
            error: None,
            error_commit: None,
            job,
        },
        Ok(Synced::Deployed(f)) => Outcome {
            result: "deployed",
            deployed: Some((&f.commit, &f.summary)),
            error: None,
            error_commit: None,
            job,
        },
        Err(_) => Outcome {
            result: "failed",
            deployed: None,
            error: message.as_deref(),
            error_commit: error_commit.as_deref(),
            job,
        },
    };
    if let Err(e) = git_stacks::record(&state.db, name, &outcome).await {
        tracing::error!("cannot record the poll of {name}: {e}");
    }
    res
}

async fn attempt(
    state: &AppState,
    policy: Policy<'_>,
    row: &Row,
    force: bool,
    pull_images: bool,
    progress: &Progress,
    error_commit: &mut Option<String>,
) -> AppResult<Synced> {
    let data_dir = state.config.data_dir.as_path();
    let name = row.name.as_str();
    let old = files::read(data_dir, name)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no stack named {name}")))?;
    ops::access(policy.user, policy.ep, name, Some(&old), Role::Operator).await?;
    progress
        .say(
            None,
            "fetch",
            format!("fetching {} of {}", row.git_ref, row.url),
        )
        .await;
    let fetched = fetch_row(state, row, &row.git_ref).await?;
    progress
        .say(
            None,
            "fetch",
            format!(
                "{} is at {} ({})",
                row.git_ref,
                short(&fetched.commit),
                fetched.summary
            ),
        )
        .await;
    let same = row.commit_id.as_deref() == Some(fetched.commit.as_str());
    if same && !force {
        progress
            .say(None, "fetch", "nothing new: the deployed commit is current")
            .await;
        return Ok(Synced::Unchanged(fetched));
    }
    *error_commit = Some(fetched.commit.clone());
    let p = prepare(data_dir, name, &row.path, fetched, old.meta.clone()).await?;
    let opts = up_options(&p.files, pull_images);
    if let Err(e) = stack_up::authorize(policy.user, &p.project, &opts) {
        swap_back(data_dir, name).await?;
        return Err(e);
    }
    progress
        .say(
            None,
            "deploy",
            format!("deploying commit {}", short(&p.fetched.commit)),
        )
        .await;
    if let Err(e) = stack_up::up(policy, &p.project, opts, progress).await {
        progress
            .say(
                None,
                "rollback",
                format!("{e}: bringing the previous commit back"),
            )
            .await;
        swap_back(data_dir, name).await?;
        if let Ok(prev) = ops::project_of(name, &old) {
            if let Err(again) = stack_up::up(policy, &prev, up_options(&old, false), progress).await
            {
                return Err(AppError::coded(
                    http::StatusCode::CONFLICT,
                    "rollback_failed",
                    format!(
                        "commit {}: {e}; and bringing the previous commit back failed too: {again}",
                        short(&p.fetched.commit)
                    ),
                ));
            }
        }
        return Err(AppError::coded(
            http::StatusCode::CONFLICT,
            "deploy_failed",
            format!(
                "commit {}: {e} (the previous deployment runs)",
                short(&p.fetched.commit)
            ),
        ));
    }
    files::write(
        data_dir,
        name,
        &p.files.compose,
        p.files.env.as_deref(),
        &p.files.meta,
    )
    .await?;
    let _ = tokio::fs::remove_dir_all(root(data_dir, name)?.join("tree.old")).await;
    progress
        .say(
            None,
            "deploy",
            format!("commit {} deployed", short(&p.fetched.commit)),
        )
        .await;
    Ok(Synced::Deployed(p.fetched))
}

/// The stack's Git state for `GET /api/stacks/{name}`: the credentials' kind and user,
/// never their secret.
pub fn state_of(state: &AppState, row: &Row) -> wire::GitState {
    let poll = row.poll_seconds.max(0) as u64;
    let creds = row.credentials.as_deref().and_then(|s| open(state, s).ok());
    let host_keys = (scheme(&row.url) == "ssh")
        .then(|| known_hosts_files(&state.config.data_dir, &row.name).ok())
        .flatten()
        .and_then(|(learnt, given)| {
            std::fs::read_to_string(given)
                .or_else(|_| std::fs::read_to_string(learnt))
                .ok()
        })
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    wire::GitState {
        url: row.url.clone(),
        git_ref: row.git_ref.clone(),
        path: row.path.clone(),
        poll_seconds: poll,
        has_credentials: row.credentials.is_some(),
        credentials_kind: creds.as_ref().and_then(|c| c.kind()).map(str::to_owned),
        credentials_user: creds.and_then(|c| c.username).filter(|u| !u.is_empty()),
        host_keys,
        commit: row.commit_id.clone(),
        summary: row.commit_summary.clone(),
        last_poll: row.last_poll,
        last_result: row.last_result.clone(),
        error: row.last_error.clone(),
        error_commit: row.error_commit.clone(),
        next_poll: (poll > 0).then(|| next_due(row)),
        last_job: row.last_job.clone(),
    }
}

/// When the next poll is due: an interval after the last one ended (or the stack was made).
pub fn next_due(row: &Row) -> i64 {
    row.last_poll.unwrap_or(row.created_at) + row.poll_seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_and_paths_that_could_mislead_git_or_leave_the_checkout_are_refused() {
        for good in ["main", "v1.2.3", "release/2024", "feature-x_y"] {
            assert!(check_ref(good).is_ok(), "{good}");
        }
        for bad in [
            "", "-x", "a..b", "a b", "a~1", "x^", "a:b", "/main", "main/", "x@{1}", ".hidden",
        ] {
            assert!(check_ref(bad).is_err(), "{bad:?}");
        }
        for good in ["docker-compose.yml", "deploy/compose.yml"] {
            assert!(check_path(good).is_ok(), "{good}");
        }
        for bad in ["", "/etc/passwd", "../x", "a/../b", "a//b", "./x", "a\\b"] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
        assert!(check_poll(0).is_ok() && check_poll(5).is_ok() && check_poll(3600).is_ok());
        assert!(check_poll(1).is_err() && check_poll(8 * 86400).is_err());
    }

    #[test]
    fn credentials_must_fit_the_url_and_are_never_echoed() {
        let token = wire::GitCredentials {
            token: Some("SECRET".into()),
            ..Default::default()
        };
        let e = check_credentials("git://h/r", &token).unwrap_err();
        assert!(e.to_string().contains("git.credentials"), "{e}");
        assert!(!e.to_string().contains("SECRET"));
        assert!(!format!("{token:?}").contains("SECRET"));
        assert!(check_credentials("git://h/r", &Default::default()).is_ok());
        assert!(check_credentials("https://h/r.git", &token).is_ok());
        assert!(check_credentials("ssh://git@h/r.git", &token).is_err());
        let pw = wire::GitCredentials {
            password: Some("pw".into()),
            ..Default::default()
        };
        assert!(
            check_credentials("https://h/r.git", &pw).is_err(),
            "no user"
        );
        let key = wire::GitCredentials {
            ssh_key: Some(
                "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----".into(),
            ),
            known_hosts: Some("[127.0.0.1]:2222 ssh-ed25519 AAAA".into()),
            ..Default::default()
        };
        assert!(check_credentials("ssh://git@h/r.git", &key).is_ok());
        assert!(check_credentials("git@h:r.git", &key).is_ok());
        assert!(check_credentials("https://h/r.git", &key).is_err());
        let not_key = wire::GitCredentials {
            ssh_key: Some("hello".into()),
            ..Default::default()
        };
        assert!(check_credentials("ssh://h/r", &not_key).is_err());
    }

    #[test]
    fn urls_https_ssh_and_loopback_http() {
        let u = |url: &str| check_url_scheme_only(url);
        assert!(u("https://git.example.com/a/b.git"));
        assert!(u("ssh://git@git.example.com:2222/a/b.git"));
        assert!(u("git@git.example.com:a/b.git"));
        assert!(u("http://127.0.0.1:8080/r.git"));
        assert!(u("http://localhost/r.git"));
        assert!(
            !u("http://git.example.com/r.git"),
            "clear text off the machine"
        );
        assert!(
            !u("https://user:tok@git.example.com/r.git"),
            "credentials in the URL"
        );
        assert!(!u("ftp://h/r"));
        assert!(!u("ssh://-oProxyCommand=x/r"));
    }

    /// `check_url` for the schemes a non-admin may use.
    fn check_url_scheme_only(url: &str) -> bool {
        let user = CurrentUser {
            id: 1,
            username: "op".into(),
            role: Role::Operator,
            teams: vec![],
            via: crate::auth::Via::Session,
            peer: None,
        };
        check_url(&user, url).is_ok()
    }
}
