//! `/api/templates`: the app-template catalogue (built-ins and added sources), its sources
//! (added and removed by admins, read by everyone logged in), and deploying a template.
//!
//! A deploy goes through the direct paths themselves: a container template becomes a
//! `POST /api/containers` body, a compose template a `POST /api/stacks` request, so the one
//! policy decides on exactly what a hand-written request would make; a template can give
//! nobody a host power (a bind of a host folder, privileged) they would not have without it.

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};
use wire::Role;

use crate::auth::CurrentUser;
use crate::docker::Daemon;
use crate::error::{parse_object, AppError, AppResult, JsonBody, PathArgs};
use crate::routes::{container_create, stacks};
use crate::state::AppState;
use crate::store::{audit, template_sources};
use crate::templates::{catalog, deploy as tdeploy, fetch, parse, Body};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(sources, add_source))
        .routes(routes!(remove_source))
        .routes(routes!(get_one))
        .routes(routes!(deploy))
}

fn no_such(id: &str) -> AppError {
    AppError::NotFound(format!("no template {id}: GET /api/templates lists them"))
}

/// Every template: berth's own, then each source's.
#[utoipa::path(get, path = "/api/templates", tag = "templates",
    responses((status = 200, description = "the catalogue", body = Vec<wire::TemplateInfo>)))]
pub async fn list(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> AppResult<Json<Vec<wire::TemplateInfo>>> {
    let all = catalog::all(&state.db).await?;
    Ok(Json(all.iter().map(catalog::Entry::info).collect()))
}

/// One template, with its variables and its compose file or image.
#[utoipa::path(get, path = "/api/templates/{id}", tag = "templates",
    params(("id" = String, Path, description = "template id")),
    responses((status = 200, description = "the template", body = wire::TemplateInfo),
              (status = 404, description = "no such template")))]
pub async fn get_one(
    State(state): State<AppState>,
    _user: CurrentUser,
    PathArgs(id): PathArgs<String>,
) -> AppResult<Json<wire::TemplateInfo>> {
    let e = catalog::find(&state.db, &id)
        .await?
        .ok_or_else(|| no_such(&id))?;
    Ok(Json(e.info()))
}

/// The added sources.
#[utoipa::path(get, path = "/api/templates/sources", tag = "templates",
    responses((status = 200, description = "the sources", body = Vec<wire::TemplateSource>)))]
pub async fn sources(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> AppResult<Json<Vec<wire::TemplateSource>>> {
    let rows = template_sources::list(&state.db).await?;
    Ok(Json(rows.iter().map(catalog::source_info).collect()))
}

/// What an add request carries: a URL to fetch, or the list itself.
struct Incoming {
    name: Option<String>,
    url: Option<String>,
    content: Option<Vec<u8>>,
}

async fn incoming(req: Request) -> AppResult<Incoming> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ct.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(req, &())
            .await
            .map_err(|e| AppError::bad_request("invalid_upload", e.body_text()))?;
        let bad = |e: axum::extract::multipart::MultipartError| {
            AppError::bad_request("invalid_upload", format!("the upload is malformed: {e}"))
        };
        let mut out = Incoming {
            name: None,
            url: None,
            content: None,
        };
        while let Some(field) = form.next_field().await.map_err(bad)? {
            match field.name().unwrap_or("") {
                "file" => {
                    if out.name.is_none() {
                        out.name = field.file_name().map(str::to_owned);
                    }
                    out.content = Some(field.bytes().await.map_err(bad)?.to_vec());
                }
                "name" => out.name = Some(field.text().await.map_err(bad)?),
                "url" => out.url = Some(field.text().await.map_err(bad)?),
                other => {
                    return Err(AppError::bad_request(
                        "invalid_upload",
                        format!("unknown form field {other:?}: send `file` (and `name`)"),
                    ))
                }
            }
        }
        return Ok(out);
    }
    let body = axum::body::to_bytes(req.into_body(), fetch::MAX_LIST)
        .await
        .map_err(|_| {
            AppError::TooLarge(format!(
                "a template list may be at most {} MiB",
                fetch::MAX_LIST >> 20
            ))
        })?;
    let req: wire::AddTemplateSource = parse_object(&body)?;
    Ok(Incoming {
        name: req.name,
        url: req.url,
        content: req.content.map(String::into_bytes),
    })
}

/// Add a source: `{"url"}` (berth fetches it now and keeps what it read), `{"content",
/// "name"?}`, or a multipart form with `file`. Admins only.
#[utoipa::path(post, path = "/api/templates/sources", tag = "templates",
    request_body = wire::AddTemplateSource,
    responses((status = 201, description = "the source and what of it was read", body = wire::TemplateSource),
              (status = 400, description = "the URL cannot be fetched or the list read; the message says which"),
              (status = 403, description = "not an admin")))]
pub async fn add_source(
    State(state): State<AppState>,
    user: CurrentUser,
    req: Request,
) -> AppResult<(StatusCode, Json<wire::TemplateSource>)> {
    user.require(Role::Admin)?;
    let inc = incoming(req).await?;
    let target = inc
        .url
        .clone()
        .or_else(|| inc.name.clone())
        .unwrap_or_else(|| "uploaded list".into());
    audit::audited(&state.db, &user, "template_source_add", &target, async {
        let url = inc.url.as_deref().map(str::trim).filter(|u| !u.is_empty());
        let (content, origin) = match (url, inc.content) {
            (Some(_), Some(_)) => {
                return Err(AppError::bad_request(
                    "invalid_source",
                    "give either url or the list's content (a file), not both",
                ))
            }
            (Some(u), None) => (fetch::fetch(u).await?, u.to_owned()),
            (None, Some(c)) => (c, "the uploaded file".to_owned()),
            (None, None) => {
                return Err(AppError::bad_request(
                    "invalid_source",
                    "give url (a template list berth fetches) or a file",
                ))
            }
        };
        let parsed = parse::parse_list(&content)
            .map_err(|e| AppError::bad_request("source_unreadable", format!("{origin}: {e}")))?;
        if parsed.templates.is_empty() {
            let first = parsed
                .errors
                .first()
                .map(|e| format!(": template {} {}", e.index + 1, e.message))
                .unwrap_or_default();
            return Err(AppError::bad_request(
                "source_unreadable",
                format!("{origin}: no template in the list could be read{first}"),
            ));
        }
        let name = inc
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| origin.clone());
        let id = template_sources::insert(&state.db, &name, url, &content, user.id).await?;
        let row = template_sources::get(&state.db, id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("source {id} vanished")))?;
        Ok((StatusCode::CREATED, Json(catalog::source_info(&row))))
    })
    .await
}

/// Remove a source and its templates. Admins only.
#[utoipa::path(delete, path = "/api/templates/sources/{id}", tag = "templates",
    params(("id" = String, Path, description = "source id")),
    responses((status = 204, description = "removed"), (status = 403, description = "not an admin"),
              (status = 404, description = "no such source")))]
pub async fn remove_source(
    State(state): State<AppState>,
    user: CurrentUser,
    PathArgs(id): PathArgs<String>,
) -> AppResult<StatusCode> {
    user.require(Role::Admin)?;
    audit::audited(&state.db, &user, "template_source_delete", &id, async {
        let missing = || AppError::NotFound(format!("no template source {id}"));
        let n: i64 = id.parse().map_err(|_| missing())?;
        if template_sources::delete(&state.db, n).await? {
            Ok(StatusCode::NO_CONTENT)
        } else {
            Err(missing())
        }
    })
    .await
}

/// Deploy a template: a container template answers 201 `{"kind":"container","id","name"}`,
/// a compose template the stack's ndjson progress (as `POST /api/stacks`).
#[utoipa::path(post, path = "/api/templates/{id}/deploy", tag = "templates",
    params(("id" = String, Path, description = "template id")),
    request_body = wire::DeployTemplate,
    responses((status = 201, description = "a container (JSON) or a stack's ndjson progress", body = wire::DeployedContainer),
              (status = 400, description = "a variable is wrong; the message names it"),
              (status = 403, description = "a viewer, or a host power the caller lacks"),
              (status = 404, description = "no such template"), (status = 409, description = "the name is taken")))]
pub async fn deploy(
    State(state): State<AppState>,
    user: CurrentUser,
    Daemon(ep): Daemon,
    PathArgs(id): PathArgs<String>,
    JsonBody(req): JsonBody<wire::DeployTemplate>,
) -> AppResult<Response> {
    user.require(Role::Operator)?;
    let entry = catalog::find(&state.db, &id)
        .await?
        .ok_or_else(|| no_such(&id))?;
    let ep = match req.endpoint.as_deref() {
        Some(name) if name != ep.name => {
            let missing = || AppError::NotFound(format!("no daemon endpoint named {name:?}"));
            let other = state.daemons.get(name).ok_or_else(missing)?;
            if !other.open_to(&user) {
                return Err(missing());
            }
            other
        }
        _ => ep,
    };
    let name = req.name.trim();
    if name.is_empty() {
        return Err(AppError::bad_request(
            "missing_name",
            "give the name of the container or stack to make",
        ));
    }
    let values = tdeploy::values(&entry.template, &req.variables)?;
    match &entry.template.body {
        Body::Container(spec) => {
            let body = tdeploy::container(spec, name, &values, req.team.clone())?;
            let made = container_create::create_audited(&state, &user, &ep, &body).await?;
            let out = wire::DeployedContainer {
                kind: "container".into(),
                id: made.id,
                name: name.to_owned(),
                warnings: made.warnings,
            };
            Ok((StatusCode::CREATED, Json(out)).into_response())
        }
        Body::Compose { content } => {
            let create = wire::CreateStack {
                name: name.to_owned(),
                compose: Some(content.clone()),
                env: Some(tdeploy::env_text(&values)),
                team: req.team.clone(),
                ..Default::default()
            };
            stacks::create(State(state), user, Daemon(ep), JsonBody(create)).await
        }
    }
}
