//! `GET /files/{share}/...`: shares as nginx's `autoindex on` would serve them, behind
//! berth's login. Folders are askama-rendered pages (or nginx-style JSON with
//! `?format=json`, or a tar with `?format=tar`); files are served with ranges and
//! validators by `files::serve`.

use std::sync::Arc;

use askama::Template;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use futures::StreamExt;
use serde::Deserialize;
use wire::FileKind;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, QueryArgs};
use crate::files::listing::Entry;
use crate::files::local::{self, Opened};
use crate::files::path::{RelPath, Root};
use crate::files::serve;
use crate::files::shares::{self, Share};
use crate::state::AppState;

mod page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/files", get(|| async { Redirect::permanent("/files/") }))
        .route("/files/", get(index))
        .route("/files/{*rest}", get(serve_path))
}

#[derive(Debug, Default, Deserialize)]
pub struct Args {
    /// `html` (default), `json` (as nginx's `autoindex_format json`) or `tar` (a folder).
    format: Option<String>,
    /// `name` (default), `size` or `mtime`.
    sort: Option<String>,
    /// `asc` (default) or `desc`.
    order: Option<String>,
    /// `1`: send a file as an attachment.
    download: Option<String>,
}

/// Without a session: people are sent to log in and come back; programs get a 401.
fn anonymous(uri: &Uri, headers: &HeaderMap, json: bool) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if json || !wants_html {
        return AppError::Unauthorized("log in first".into()).into_response();
    }
    let here = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/files/");
    let next = percent_encoding::utf8_percent_encode(here, percent_encoding::NON_ALPHANUMERIC);
    Redirect::to(&format!("/login?next={next}")).into_response()
}

/// `/files/`: the shares this user may see.
async fn index(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    uri: Uri,
    headers: HeaderMap,
    QueryArgs(args): QueryArgs<Args>,
) -> Response {
    let json = args.format.as_deref() == Some("json");
    let Some(user) = user else {
        return anonymous(&uri, &headers, json);
    };
    let list = match shares::all(&state).await {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let entries: Vec<Entry> = list
        .iter()
        .filter(|s| s.visible_to(&user))
        .map(|s| Entry {
            name: s.name.clone(),
            kind: FileKind::Dir,
            target: None,
            target_size: 0,
            link_target: None,
            size: 0,
            mode: 0o755,
            mtime: 0,
        })
        .collect();
    if json {
        return axum::Json(page::nginx_json(&entries)).into_response();
    }
    page::render(page::Listing {
        lang: page::Lang::from_headers(&headers),
        share: None,
        rel: RelPath::root(),
        entries,
        sort: args.sort,
        order: args.order,
        writable: false,
    })
}

async fn serve_path(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
    QueryArgs(args): QueryArgs<Args>,
) -> Response {
    let json = args.format.as_deref() == Some("json");
    let Some(user) = user else {
        return anonymous(&uri, &headers, json);
    };
    match serve_inner(&state, &user, &method, &uri, &headers, raw_query, args).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn serve_inner(
    state: &AppState,
    user: &CurrentUser,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    raw_query: Option<String>,
    args: Args,
) -> AppResult<Response> {
    // The raw (still percent-encoded) path: segments are decoded one by one by RelPath.
    let rest = uri.path().strip_prefix("/files/").unwrap_or_default();
    let query = raw_query.map(|q| format!("?{q}")).unwrap_or_default();
    let Some((share_name, rest)) = rest.split_once('/') else {
        // `/files/NAME`: the share's root is a folder.
        return Ok(moved(&format!("{}/{query}", uri.path())));
    };
    let share = shares::find(state, user, share_name).await?;
    let (rel, trailing) = RelPath::from_url(rest)?;
    let root = Arc::new(share.open()?);
    let head = method == Method::HEAD;
    match local::open(root.clone(), rel.clone()).await? {
        Opened::Dir if !trailing => Ok(moved(&format!("{}/{query}", uri.path()))),
        Opened::Dir => listing(root, &share, user, rel, headers, args, head).await,
        Opened::File(..) if trailing => Err(AppError::NotFound(format!(
            "{} is a file, not a folder",
            rel.display()
        ))),
        Opened::File(file, meta) => {
            let name = rel.name().unwrap_or("file").to_owned();
            let download = args.download.as_deref().is_some_and(|d| d != "0");
            Ok(serve::file_response(headers, head, file, meta, &name, download).await)
        }
    }
}

fn moved(location: &str) -> Response {
    let mut r = StatusCode::MOVED_PERMANENTLY.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

async fn listing(
    root: Arc<Root>,
    share: &Share,
    user: &CurrentUser,
    rel: RelPath,
    headers: &HeaderMap,
    args: Args,
    head: bool,
) -> AppResult<Response> {
    match args.format.as_deref() {
        Some("tar") => return local::folder_archive(root, rel, head).await,
        Some("json") => {
            let entries = local::list(root, rel).await?;
            return Ok(axum::Json(page::nginx_json(&entries)).into_response());
        }
        None | Some("html") => {}
        Some(other) => {
            return Err(AppError::bad_request(
                "invalid_format",
                format!("format {other:?}: use html, json or tar"),
            ))
        }
    }
    let entries = local::list(root, rel.clone()).await?;
    let mut resp = page::render(page::Listing {
        lang: page::Lang::from_headers(headers),
        share: Some(share.name.clone()),
        rel,
        entries,
        sort: args.sort,
        order: args.order,
        writable: share.check_write(user).is_ok(),
    });
    if head {
        *resp.body_mut() = Body::empty();
    }
    Ok(resp)
}

/// Render rows lazily, a batch at a time, so a folder of 100k entries starts arriving at
/// once and is never one big string in memory.
pub fn chunked<I>(head: String, rows: I, foot: String) -> Body
where
    I: Iterator<Item = String> + Send + 'static,
{
    let stream = futures::stream::once(async move { head })
        .chain(futures::stream::iter(rows))
        .chain(futures::stream::once(async move { foot }))
        .map(|s| Ok::<_, std::convert::Infallible>(bytes::Bytes::from(s)));
    Body::from_stream(stream)
}

/// `Template::render` for our templates; a failure is a bug, reported as such.
pub fn render_tpl<T: Template>(t: &T) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!("autoindex template: {e}");
        String::new()
    })
}
