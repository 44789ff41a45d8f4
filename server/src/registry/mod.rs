//! Private registries: stored credentials (sealed at rest), matching them to image
//! references, and browsing a registry through its HTTP API.

pub mod secret;
pub mod v2;

use bollard::auth::DockerCredentials;
use http::StatusCode;

use crate::docker::reference::{same_registry, DOCKER_HUB};
use crate::docker::Endpoint;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::registries::{self, Row};

/// A registry URL as users type it (`https://r.example.com`, `http://127.0.0.1:5000/`,
/// `r.example.com:5000`, `docker.io`) → the URL kept and the `host[:port]` images name.
pub fn normalize(url: &str) -> AppResult<(String, String)> {
    let bad = |why: &str| {
        AppError::bad_request(
            "invalid_url",
            format!("url: {url:?} is not a registry address ({why}); use e.g. https://registry.example.com or 127.0.0.1:5000"),
        )
    };
    let trimmed = url.trim();
    if trimmed.is_empty() {
        return Err(bad("it is empty"));
    }
    let (scheme, rest) = match trimmed.split_once("://") {
        Some((s, r)) if s == "http" || s == "https" => (Some(s), r),
        Some(_) => return Err(bad("only http:// and https:// are possible")),
        None => (None, trimmed),
    };
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() {
        return Err(bad("no host"));
    }
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let parsed =
        reqwest::Url::parse(&format!("http://{authority}")).map_err(|_| bad("bad host"))?;
    if parsed.username() != "" || parsed.password().is_some() || authority.contains('@') {
        return Err(bad("put the user and password in their own fields"));
    }
    let host_part = parsed.host_str().ok_or_else(|| bad("no host"))?;
    let host = match parsed.port() {
        Some(p) => format!("{host_part}:{p}"),
        None => host_part.to_owned(),
    };
    // Docker Hub's index URL (`https://index.docker.io/v1/`) is the name the CLI keeps
    // credentials under; everything else must be a bare host.
    let hub = same_registry(&host, DOCKER_HUB);
    let hub_index = hub && path.trim_matches('/') == "v1";
    if !path.is_empty() && !hub_index {
        return Err(bad("a registry address has no path"));
    }
    let host = if hub { DOCKER_HUB.to_owned() } else { host };
    let url = match scheme {
        Some(s) if !hub => format!("{s}://{host}"),
        _ if hub => "https://index.docker.io/v1/".to_owned(),
        _ => host.clone(),
    };
    Ok((url, host))
}

/// The stored registry's password, opened.
pub fn password(state: &AppState, row: &Row) -> AppResult<Option<String>> {
    row.password
        .as_deref()
        .map(|sealed| secret::open(&state.config.data_dir, sealed))
        .transpose()
        .map_err(AppError::Internal)
}

/// What the daemon sends to the registry in `X-Registry-Auth`.
pub fn docker_credentials(state: &AppState, row: &Row) -> AppResult<Option<DockerCredentials>> {
    let Some(username) = row.username.clone() else {
        return Ok(None);
    };
    Ok(Some(DockerCredentials {
        username: Some(username),
        password: password(state, row)?,
        serveraddress: Some(if row.host == DOCKER_HUB {
            "https://index.docker.io/v1/".to_owned()
        } else {
            row.host.clone()
        }),
        ..Default::default()
    }))
}

pub async fn get(state: &AppState, id: i64) -> AppResult<Row> {
    registries::get(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no registry with id {id}")))
}

/// The stored registry for an image's host, if any.
pub async fn matching(state: &AppState, host: &str) -> AppResult<Option<Row>> {
    Ok(registries::list(&state.db)
        .await?
        .into_iter()
        .find(|r| same_registry(&r.host, host)))
}

pub async fn client(state: &AppState, id: i64) -> AppResult<v2::Client> {
    let row = get(state, id).await?;
    let password = password(state, &row)?;
    Ok(v2::Client::new(&row.url, &row.host, row.username, password))
}

/// The daemon's view of registries, from `docker info`.
pub async fn daemon_view(ep: &Endpoint) -> AppResult<wire::DaemonRegistries> {
    let info = ep.call(|d| async move { d.info().await }).await?;
    let mut out = wire::DaemonRegistries::default();
    if let Some(cfg) = info.registry_config {
        out.insecure_registries
            .extend(cfg.insecure_registry_cidrs.unwrap_or_default());
        let mut names: Vec<String> = cfg
            .index_configs
            .unwrap_or_default()
            .into_values()
            .filter(|i| i.secure == Some(false))
            .filter_map(|i| i.name)
            .collect();
        names.sort();
        out.insecure_registries.extend(names);
        out.mirrors = cfg.mirrors.unwrap_or_default();
    }
    Ok(out)
}

/// Whether the daemon talks plain HTTP to `host` (`name[:port]`): it is listed by name, or
/// its address is in one of the insecure CIDRs (loopback always is).
pub fn daemon_trusts_http(view: &wire::DaemonRegistries, host: &str) -> bool {
    if view.insecure_registries.iter().any(|r| r == host) {
        return true;
    }
    let bare = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let bare = bare.trim_start_matches('[').trim_end_matches(']');
    let ip = match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip,
        Err(_) if bare == "localhost" => return true,
        Err(_) => return false,
    };
    ip.is_loopback()
        || view
            .insecure_registries
            .iter()
            .filter_map(|c| c.split_once('/'))
            .any(|(net, bits)| in_cidr(ip, net, bits))
}

fn in_cidr(ip: std::net::IpAddr, net: &str, bits: &str) -> bool {
    use std::net::IpAddr;
    let Ok(bits) = bits.parse::<u32>() else {
        return false;
    };
    match (ip, net.parse::<IpAddr>()) {
        (IpAddr::V4(a), Ok(IpAddr::V4(n))) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), Ok(IpAddr::V6(n))) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// What to tell a person about a plain-HTTP registry the daemon will refuse.
pub fn insecure_hint(host: &str) -> String {
    format!(
        "the daemon refuses plain HTTP to {host}: add \"{host}\" to \"insecure-registries\" in \
         its daemon.json (usually /etc/docker/daemon.json) and restart the daemon"
    )
}

/// Refuse a name that is taken, with a 409 that says so.
pub fn name_taken(name: &str) -> AppError {
    AppError::coded(
        StatusCode::CONFLICT,
        "registry_exists",
        format!("a registry named {name:?} exists already"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_http_registries_the_daemon_trusts() {
        let view = wire::DaemonRegistries {
            insecure_registries: vec!["10.0.0.0/8".into(), "reg.lan:5000".into()],
            mirrors: vec![],
        };
        for ok in [
            "127.0.0.1:5000",
            "localhost:5000",
            "10.1.2.3:5000",
            "reg.lan:5000",
            "[::1]:5000",
        ] {
            assert!(daemon_trusts_http(&view, ok), "{ok}");
        }
        for no in ["192.168.1.2:5000", "reg.lan", "other.example.com"] {
            assert!(!daemon_trusts_http(&view, no), "{no}");
        }
        assert!(insecure_hint("192.168.1.2:5000").contains("\"192.168.1.2:5000\""));
    }

    #[test]
    fn urls_become_url_and_host() {
        let n = normalize;
        assert_eq!(
            n("http://127.0.0.1:5000/").unwrap(),
            ("http://127.0.0.1:5000".into(), "127.0.0.1:5000".into())
        );
        assert_eq!(
            n("registry.example.com").unwrap(),
            ("registry.example.com".into(), "registry.example.com".into())
        );
        assert_eq!(
            n("https://index.docker.io/v1/").unwrap(),
            ("https://index.docker.io/v1/".into(), "docker.io".into())
        );
        assert_eq!(n("docker.io").unwrap().1, "docker.io");
        for bad in ["", "ftp://x", "https://u:p@host", "host/path", "http://"] {
            assert_eq!(n(bad).unwrap_err().code(), "invalid_url", "{bad}");
        }
    }
}
