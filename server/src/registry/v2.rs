//! The registry HTTP API v2, as far as browsing needs it: `/v2/_catalog`,
//! `/v2/<name>/tags/list` and deleting a manifest, with HTTP basic auth or the bearer-token
//! flow (`WWW-Authenticate: Bearer realm=...,service=...,scope=...`).

use std::time::Duration;

use futures::StreamExt;
use http::StatusCode;
use reqwest::{header, Method, Response};
use serde::Deserialize;

use crate::error::{AppError, AppResult};

/// Manifest kinds asked for when resolving a tag to the digest the registry deletes by.
const MANIFEST_TYPES: &str = "application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

/// At most this many repositories are listed, with their tags.
const MAX_REPOSITORIES: usize = 2000;

pub struct Client {
    http: reqwest::Client,
    /// `https://host` and/or `http://host`, tried in order until one answers.
    bases: Vec<String>,
    host: String,
    username: Option<String>,
    password: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// `Bearer realm="https://auth/token",service="registry",scope="repository:a:pull"`.
fn parse_challenge(value: &str) -> Option<Challenge> {
    let (scheme, params) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut realm = None;
    let mut service = None;
    let mut scope = None;
    // Values are quoted and may hold commas (scopes do): split on `",` boundaries.
    let mut rest = params.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let after = after.trim_start();
        let (val, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (&q[..end], q.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "realm" => realm = Some(val.to_owned()),
            "service" => service = Some(val.to_owned()),
            "scope" => scope = Some(val.to_owned()),
            _ => {}
        }
        rest = next.trim_start_matches([',', ' ']);
    }
    Some(Challenge::Bearer {
        realm: realm?,
        service,
        scope,
    })
}

#[derive(Deserialize)]
struct TokenAnswer {
    token: Option<String>,
    access_token: Option<String>,
}

#[derive(Deserialize)]
struct CatalogAnswer {
    #[serde(default)]
    repositories: Vec<String>,
}

#[derive(Deserialize)]
struct TagsAnswer {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl Client {
    /// A client for a registry stored as `url` (with or without a scheme).
    pub fn new(url: &str, host: &str, username: Option<String>, password: Option<String>) -> Self {
        let url = url.trim_end_matches('/');
        let bases = if url.starts_with("http://") || url.starts_with("https://") {
            // Docker Hub's index URL names the v1 API; its v2 API lives elsewhere.
            if host == crate::docker::reference::DOCKER_HUB {
                vec!["https://registry-1.docker.io".to_owned()]
            } else {
                let (scheme, _) = url.split_once("://").unwrap_or(("https", ""));
                vec![format!("{scheme}://{host}")]
            }
        } else if host == crate::docker::reference::DOCKER_HUB {
            vec!["https://registry-1.docker.io".to_owned()]
        } else {
            // As the daemon does for a bare host: HTTPS first, then plain HTTP.
            vec![format!("https://{host}"), format!("http://{host}")]
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Client {
            http,
            bases,
            host: host.to_owned(),
            username,
            password,
        }
    }

    fn unreachable(&self, e: reqwest::Error) -> AppError {
        AppError::coded(
            StatusCode::BAD_GATEWAY,
            "registry_unreachable",
            format!("{} does not answer: {e}", self.host),
        )
    }

    fn denied(&self) -> AppError {
        let who = match &self.username {
            Some(u) => format!("the stored credentials (user {u})"),
            None => "access without credentials".to_owned(),
        };
        AppError::coded(
            StatusCode::FORBIDDEN,
            "registry_denied",
            format!(
                "{} refused {who}: check the user and password stored for it under Registries",
                self.host
            ),
        )
    }

    /// One request, answering the registry's auth challenge if it makes one.
    async fn send(&self, method: Method, path: &str, accept: Option<&str>) -> AppResult<Response> {
        let mut last_err = None;
        for base in &self.bases {
            let url = format!("{base}{path}");
            let build = |auth: Option<Auth<'_>>| {
                let mut req = self.http.request(method.clone(), &url);
                if let Some(a) = accept {
                    req = req.header(header::ACCEPT, a);
                }
                match auth {
                    Some(Auth::Basic(u, p)) => req.basic_auth(u, Some(p)),
                    Some(Auth::Bearer(t)) => req.bearer_auth(t),
                    None => req,
                }
            };
            let resp = match build(None).send().await {
                Ok(r) => r,
                Err(e) => {
                    last_err = Some(e);
                    continue;
                }
            };
            if resp.status() != StatusCode::UNAUTHORIZED {
                return Ok(resp);
            }
            let challenge = resp
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_challenge);
            let creds = self.username.as_deref().zip(self.password.as_deref());
            let retry = match challenge {
                Some(Challenge::Basic) => {
                    let (u, p) = creds.ok_or_else(|| self.denied())?;
                    build(Some(Auth::Basic(u, p))).send().await
                }
                Some(Challenge::Bearer {
                    realm,
                    service,
                    scope,
                }) => {
                    let token = self.token(&realm, service, scope).await?;
                    build(Some(Auth::Bearer(&token))).send().await
                }
                None => return Err(self.denied()),
            };
            let retry = retry.map_err(|e| self.unreachable(e))?;
            if retry.status() == StatusCode::UNAUTHORIZED || retry.status() == StatusCode::FORBIDDEN
            {
                return Err(self.denied());
            }
            return Ok(retry);
        }
        match last_err {
            Some(e) => Err(self.unreachable(e)),
            None => Err(AppError::bad_request(
                "invalid_url",
                "the registry has no URL",
            )),
        }
    }

    /// The bearer-token flow: ask the realm for a token for this scope, with the stored
    /// credentials when there are some (anonymous tokens otherwise).
    async fn token(
        &self,
        realm: &str,
        service: Option<String>,
        scope: Option<String>,
    ) -> AppResult<String> {
        let mut query = Vec::new();
        if let Some(s) = service {
            query.push(("service", s));
        }
        if let Some(s) = scope {
            query.push(("scope", s));
        }
        let mut req = self.http.get(realm).query(&query);
        if let (Some(u), Some(p)) = (&self.username, &self.password) {
            req = req.basic_auth(u, Some(p));
        }
        let resp = req.send().await.map_err(|e| self.unreachable(e))?;
        if resp.status() == StatusCode::UNAUTHORIZED || resp.status() == StatusCode::FORBIDDEN {
            return Err(self.denied());
        }
        if !resp.status().is_success() {
            return Err(AppError::coded(
                StatusCode::BAD_GATEWAY,
                "registry_error",
                format!(
                    "the token service of {} answered {}",
                    self.host,
                    resp.status()
                ),
            ));
        }
        let answer: TokenAnswer = resp.json().await.map_err(|e| self.unreachable(e))?;
        answer.token.or(answer.access_token).ok_or_else(|| {
            AppError::coded(
                StatusCode::BAD_GATEWAY,
                "registry_error",
                format!("the token service of {} gave no token", self.host),
            )
        })
    }

    fn unexpected(&self, what: &str, status: StatusCode) -> AppError {
        AppError::coded(
            StatusCode::BAD_GATEWAY,
            "registry_error",
            format!("{} answered {status} to {what}", self.host),
        )
    }

    /// Repositories with their tags.
    pub async fn catalog(&self) -> AppResult<Vec<wire::CatalogEntry>> {
        let mut repos: Vec<String> = Vec::new();
        let mut path = "/v2/_catalog?n=1000".to_owned();
        loop {
            let resp = self.send(Method::GET, &path, None).await?;
            if !resp.status().is_success() {
                return Err(self.unexpected("the catalog request", resp.status()));
            }
            // `Link: </v2/_catalog?last=x&n=1000>; rel="next"` when there is more.
            let next = resp
                .headers()
                .get(header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| l.split_once('<'))
                .and_then(|(_, rest)| rest.split_once('>'))
                .map(|(p, _)| p.to_owned());
            let page: CatalogAnswer = resp.json().await.map_err(|e| self.unreachable(e))?;
            repos.extend(page.repositories);
            match next {
                Some(p) if repos.len() < MAX_REPOSITORIES => path = p,
                _ => break,
            }
        }
        repos.truncate(MAX_REPOSITORIES);
        let entries = futures::stream::iter(repos)
            .map(|repo| async move {
                let tags = self.tags(&repo).await?;
                Ok::<_, AppError>(wire::CatalogEntry {
                    repository: repo,
                    tags,
                })
            })
            .buffered(6)
            .collect::<Vec<_>>()
            .await;
        entries.into_iter().collect()
    }

    pub async fn tags(&self, repo: &str) -> AppResult<Vec<String>> {
        let resp = self
            .send(Method::GET, &format!("/v2/{repo}/tags/list"), None)
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        if !resp.status().is_success() {
            return Err(self.unexpected("a tags request", resp.status()));
        }
        let answer: TagsAnswer = resp.json().await.map_err(|e| self.unreachable(e))?;
        let mut tags = answer.tags.unwrap_or_default();
        tags.sort();
        Ok(tags)
    }

    /// Delete the manifest a tag points to (registries delete by digest: every tag on the
    /// same manifest goes with it).
    pub async fn delete_tag(&self, repo: &str, tag: &str) -> AppResult<String> {
        let resp = self
            .send(
                Method::HEAD,
                &format!("/v2/{repo}/manifests/{tag}"),
                Some(MANIFEST_TYPES),
            )
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(AppError::NotFound(format!(
                "{} has no tag {repo}:{tag}",
                self.host
            )));
        }
        if !resp.status().is_success() {
            return Err(self.unexpected("the manifest request", resp.status()));
        }
        let digest = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| {
                AppError::coded(
                    StatusCode::BAD_GATEWAY,
                    "registry_error",
                    format!("{} did not give the manifest's digest", self.host),
                )
            })?;
        let resp = self
            .send(
                Method::DELETE,
                &format!("/v2/{repo}/manifests/{digest}"),
                None,
            )
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(digest),
            StatusCode::METHOD_NOT_ALLOWED => Err(AppError::coded(
                StatusCode::CONFLICT,
                "registry_delete_disabled",
                format!(
                    "{} does not allow deleting images (its storage.delete.enabled is off)",
                    self.host
                ),
            )),
            StatusCode::NOT_FOUND => Err(AppError::NotFound(format!(
                "{} has no manifest {digest}",
                self.host
            ))),
            s => Err(self.unexpected("the delete request", s)),
        }
    }
}

impl Client {
    /// The digest `repo:tag` names in the registry now: a manifest `HEAD` with the
    /// manifest kinds the daemon pulls (its `Docker-Content-Digest`), falling back to a
    /// `GET` whose body is hashed when a registry answers HEAD badly or without the header.
    /// `None` when the registry has no such tag.
    pub async fn manifest_digest(&self, repo: &str, tag: &str) -> AppResult<Option<String>> {
        let path = format!("/v2/{repo}/manifests/{tag}");
        let head = self.send(Method::HEAD, &path, Some(MANIFEST_TYPES)).await?;
        if head.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let header_digest = |r: &Response| {
            r.headers()
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
                .filter(|d| d.starts_with("sha256:"))
                .map(str::to_owned)
        };
        if head.status().is_success() {
            if let Some(d) = header_digest(&head) {
                return Ok(Some(d));
            }
        }
        let get = self.send(Method::GET, &path, Some(MANIFEST_TYPES)).await?;
        if get.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !get.status().is_success() {
            return Err(self.unexpected("the manifest request", get.status()));
        }
        if let Some(d) = header_digest(&get) {
            return Ok(Some(d));
        }
        use sha2::Digest;
        let body = get.bytes().await.map_err(|e| self.unreachable(e))?;
        let hex: String = sha2::Sha256::digest(&body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Some(format!("sha256:{hex}")))
    }
}

enum Auth<'a> {
    Basic(&'a str, &'a str),
    Bearer(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.example.com/token".into(),
                service: Some("registry.example.com".into()),
                scope: Some("repository:a/b:pull,push".into()),
            })
        );
        assert_eq!(parse_challenge("Negotiate"), None);
    }
}
