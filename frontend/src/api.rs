//! The one way the app talks to the server: typed JSON over same-origin `fetch`, and
//! websockets at same-origin paths.
//!
//! Written on `web-sys` directly rather than an HTTP crate: it is a few dozen lines and keeps
//! the wasm small.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use leptos::prelude::window;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestCredentials, RequestInit, Response, WebSocket};

/// A failed request: the HTTP status (0 when the server was never reached) and the
/// server's error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    fn network(cause: JsValue) -> Self {
        ApiError {
            status: 0,
            code: "network".into(),
            message: cause
                .as_string()
                .or_else(|| {
                    cause
                        .dyn_ref::<js_sys::Error>()
                        .map(|e| String::from(e.message()))
                })
                .unwrap_or_else(|| "network error".into()),
        }
    }

    /// A 2xx answer whose body was not what we expected.
    fn decode(status: u16, err: serde_json::Error) -> Self {
        ApiError {
            status,
            code: "bad_response".into(),
            message: format!("unexpected answer from the server: {err}"),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

// `ErrorBoundary` renders any `Result<_, E: Error>`; the fallback downcasts back to `ApiError`.
impl std::error::Error for ApiError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

thread_local! {
    static ON_UNAUTHORIZED: RefCell<Option<Rc<dyn Fn()>>> = const { RefCell::new(None) };
}

/// What to do when the server answers 401 (session gone): set once by the app shell, which
/// knows the router. Without it, the page is reloaded at `/login`.
pub fn set_unauthorized_handler(handler: impl Fn() + 'static) {
    ON_UNAUTHORIZED.with(|h| *h.borrow_mut() = Some(Rc::new(handler)));
}

fn unauthorized() {
    let handler = ON_UNAUTHORIZED.with(|h| h.borrow().clone());
    match handler {
        Some(handler) => handler(),
        None => {
            let _ = window().location().set_href("/login");
        }
    }
}

/// Sends `body` (if any) as JSON to `url` and decodes the JSON answer as `Resp`.
///
/// An empty body (204) decodes as JSON `null`, so `Resp = ()` fits every "no content"
/// route. A non-2xx answer becomes an `ApiError` from the `{"error":{"code","message"}}`
/// envelope; a 401 from anything but the login route also sends the user to `/login`.
///
/// Only the encoding and the decoding are generic: the request itself is one shared,
/// boxed future ([`call_text`]), so the wasm holds one copy of it rather than one per
/// answer type (and per resource or action that awaits it).
pub async fn call<Req: Serialize, Resp: DeserializeOwned>(
    method: Method,
    url: &str,
    body: Option<&Req>,
) -> Result<Resp, ApiError> {
    let body = match body {
        Some(body) => Some(to_json(body)?),
        None => None,
    };
    let (status, text) = call_text(method, url, body).await?;
    decode(status, &text)
}

/// `body` as JSON text.
#[inline(never)]
fn to_json<Req: Serialize>(body: &Req) -> Result<String, ApiError> {
    serde_json::to_string(body).map_err(|e| ApiError {
        status: 0,
        code: "bad_request".into(),
        message: e.to_string(),
    })
}

/// A 2xx answer's text as `Resp`; an empty body reads as `null`.
#[inline(never)]
fn decode<Resp: DeserializeOwned>(status: u16, text: &str) -> Result<Resp, ApiError> {
    let text = if text.trim().is_empty() { "null" } else { text };
    serde_json::from_str(text).map_err(|e| ApiError::decode(status, e))
}

/// An answer of newline-delimited JSON (the progress of long operations): `on_item` gets
/// each line as it arrives, decoded as an `Item` (lines that are not one are skipped).
pub async fn stream_ndjson<Req: Serialize, Item: DeserializeOwned>(
    method: Method,
    url: &str,
    body: Option<&Req>,
    mut on_item: impl FnMut(Item),
) -> Result<(), ApiError> {
    let body = match body {
        Some(body) => Some(to_json(body)?),
        None => None,
    };
    let response = send(method, url, body).await?;
    if !response.ok() {
        let text = read_text(&response).await?;
        return Err(error_of(url, &response, &text));
    }
    let Some(stream) = response.body() else {
        return Ok(());
    };
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(ApiError::network)?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        if let Ok(value) = js_sys::Reflect::get(&chunk, &JsValue::from_str("value")) {
            if let Some(bytes) = value.dyn_ref::<js_sys::Uint8Array>() {
                pending.extend(bytes.to_vec());
            }
        }
        // '\n' never occurs inside a UTF-8 sequence: splitting bytes there is safe.
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            if let Ok(item) = serde_json::from_slice(&line) {
                on_item(item);
            }
        }
        if done {
            return Ok(());
        }
    }
}

/// The future of a request: a 2xx answer's status and body text, or the error envelope.
type Pending<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// Sends the request (`body` already JSON); a 2xx answer's status and body text, or the
/// error envelope. Not generic, and boxed: see [`call`].
fn call_text(method: Method, url: &str, body: Option<String>) -> Pending<(u16, String)> {
    let url = url.to_owned();
    Box::pin(async move {
        let response = send(method, &url, body).await?;
        let text = read_text(&response).await?;
        if response.ok() {
            return Ok((response.status(), text));
        }
        Err(error_of(&url, &response, &text))
    })
}

/// The request as JSON, same-origin, answered by `fetch`.
async fn send(method: Method, url: &str, body: Option<String>) -> Result<Response, ApiError> {
    let init = RequestInit::new();
    init.set_method(method.as_str());
    // Same origin only: the session cookie goes along, and never to anyone else.
    init.set_credentials(RequestCredentials::SameOrigin);
    let has_body = body.is_some();
    if let Some(json) = body {
        init.set_body(&JsValue::from_str(&json));
    }
    let request = Request::new_with_str_and_init(url, &init).map_err(ApiError::network)?;
    let headers = request.headers();
    let _ = headers.set("Accept", "application/json");
    set_env_header(&headers);
    if has_body {
        let _ = headers.set("Content-Type", "application/json");
    }
    Ok(JsFuture::from(window().fetch_with_request(&request))
        .await
        .map_err(ApiError::network)?
        .unchecked_into())
}

async fn read_text(response: &Response) -> Result<String, ApiError> {
    match response.text() {
        Ok(promise) => Ok(JsFuture::from(promise)
            .await
            .map_err(ApiError::network)?
            .as_string()
            .unwrap_or_default()),
        Err(e) => Err(ApiError::network(e)),
    }
}

/// A non-2xx answer as an `ApiError`; a 401 (but from login) sends the user to `/login`.
fn error_of(url: &str, response: &Response, text: &str) -> ApiError {
    let status = response.status();
    if status == 401 && !url.starts_with("/api/auth/login") {
        unauthorized();
    }
    match serde_json::from_str::<wire::ErrorBody>(text) {
        Ok(body) => ApiError {
            status,
            code: body.error.code,
            message: body.error.message,
        },
        // Not our envelope (a proxy in between, say): keep what there is.
        Err(_) => ApiError {
            status,
            code: format!("http_{status}"),
            message: if text.trim().is_empty() {
                format!("{status} {}", response.status_text())
            } else {
                text.chars().take(300).collect()
            },
        },
    }
}

/// `GET url` as `Resp`.
pub async fn get<Resp: DeserializeOwned>(url: &str) -> Result<Resp, ApiError> {
    call::<(), Resp>(Method::Get, url, None).await
}

/// A request without a body whose answer is "no content" (204).
pub async fn call_unit(method: Method, url: &str) -> Result<(), ApiError> {
    call::<(), ()>(method, url, None).await
}

/// `encodeURIComponent`, for ids and names put into a path or query.
pub fn enc(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

/// Opens a websocket at a same-origin `path` (`/api/...`), `wss:` when the page is `https:`.
pub fn open_ws(path: &str) -> Result<WebSocket, JsValue> {
    let with_env;
    let path = match current_env() {
        Some(env) if !path.contains("endpoint=") => {
            let sep = if path.contains('?') { '&' } else { '?' };
            with_env = format!("{path}{sep}endpoint={}", enc(&env));
            with_env.as_str()
        }
        _ => path,
    };
    let location = window().location();
    let scheme = if location.protocol()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    WebSocket::new(&format!("{scheme}://{}{path}", location.host()?))
}

/// Where the chosen environment is remembered between visits.
pub const ENV_KEY: &str = "berth.env";

/// The environment daemon requests go to: the page URL's `?env=` (so a link opens the same
/// host), else the one this browser chose last, else none (the server's `local`).
pub fn current_env() -> Option<String> {
    env_in_url().or_else(|| crate::prefs::get(ENV_KEY).filter(|e| !e.is_empty()))
}

/// `?env=` of the page's URL.
pub fn env_in_url() -> Option<String> {
    let search = window().location().search().ok()?;
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix("env="))
        .map(|v| {
            js_sys::decode_uri_component(v)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_else(|| v.to_owned())
        })
        .filter(|e| !e.is_empty())
}

/// Remembers `env` as this browser's choice (empty: back to `local`).
pub fn choose_env(env: &str) {
    crate::prefs::set(ENV_KEY, env);
}

/// Every daemon route reads `X-Berth-Endpoint`; the others ignore it.
pub fn set_env_header(headers: &web_sys::Headers) {
    if let Some(env) = current_env() {
        let _ = headers.set("X-Berth-Endpoint", &env);
    }
}
