//! Long operations (pull, push, build, load): a `fetch` whose answer is read as it arrives,
//! one JSON line at a time (`application/x-ndjson`, see `wire::ProgressLine`).
//!
//! Lines are handed over in batches, at most every ~250 ms, so a pull that reports a
//! hundred times a second re-renders its progress bars a few times a second.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::{set_timeout, window};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, Request, RequestCredentials, RequestInit, Response};
use wire::ProgressLine;

use crate::api::ApiError;

const BATCH: Duration = Duration::from_millis(250);

/// What a long operation sends.
pub enum Payload {
    Json(String),
    Form(web_sys::FormData),
    /// A file straight from the user's disk: the browser streams it, it is never read here.
    Blob(web_sys::Blob),
}

fn network(cause: JsValue) -> ApiError {
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

/// POST `payload` to `url` and feed the answer's lines to `on_lines` as they come.
///
/// An error answer before the stream starts (bad reference, refused credentials...) is an
/// `Err`; a failure later arrives as a line whose `error` is set, like any other line.
pub fn post_lines(
    url: &str,
    payload: Payload,
    on_lines: impl Fn(Vec<ProgressLine>) + 'static,
) -> Pin<Box<dyn Future<Output = Result<(), ApiError>>>> {
    lines(url.to_owned(), payload, Rc::new(on_lines))
}

/// [`post_lines`] without its generics, boxed: one copy in the wasm for every caller.
fn lines(
    url: String,
    payload: Payload,
    on_lines: Rc<dyn Fn(Vec<ProgressLine>)>,
) -> Pin<Box<dyn Future<Output = Result<(), ApiError>>>> {
    Box::pin(async move {
        let url = url.as_str();
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_credentials(RequestCredentials::SameOrigin);
        let content_type = match &payload {
            Payload::Json(text) => {
                init.set_body(&JsValue::from_str(text));
                Some("application/json")
            }
            // The browser sets the multipart boundary itself.
            Payload::Form(form) => {
                init.set_body(form);
                None
            }
            Payload::Blob(blob) => {
                init.set_body(blob);
                Some("application/x-tar")
            }
        };
        let request = Request::new_with_str_and_init(url, &init).map_err(network)?;
        if let Some(ct) = content_type {
            let _ = request.headers().set("Content-Type", ct);
        }
        let _ = request.headers().set("Accept", "application/x-ndjson");
        crate::api::set_env_header(&request.headers());
        let response: Response = JsFuture::from(window().fetch_with_request(&request))
            .await
            .map_err(network)?
            .unchecked_into();
        let status = response.status();
        if !response.ok() {
            let text = match response.text() {
                Ok(p) => JsFuture::from(p)
                    .await
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default(),
                Err(_) => String::new(),
            };
            if status == 401 {
                let _ = window().location().set_href("/login");
            }
            return Err(match serde_json::from_str::<wire::ErrorBody>(&text) {
                Ok(body) => ApiError {
                    status,
                    code: body.error.code,
                    message: body.error.message,
                },
                Err(_) => ApiError {
                    status,
                    code: format!("http_{status}"),
                    message: format!("{status} {}", response.status_text()),
                },
            });
        }
        let Some(body) = response.body() else {
            return Ok(());
        };
        let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();

        let pending: Rc<RefCell<Vec<ProgressLine>>> = Rc::default();
        let scheduled = Rc::new(Cell::new(false));
        let flush = {
            let pending = pending.clone();
            let on_lines = on_lines.clone();
            move || {
                let lines = std::mem::take(&mut *pending.borrow_mut());
                if !lines.is_empty() {
                    on_lines(lines);
                }
            }
        };
        let mut carry: Vec<u8> = Vec::new();
        loop {
            let chunk = JsFuture::from(reader.read()).await.map_err(network)?;
            let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(true);
            if done {
                break;
            }
            if let Ok(value) = js_sys::Reflect::get(&chunk, &JsValue::from_str("value")) {
                carry.extend(js_sys::Uint8Array::new(&value).to_vec());
            }
            // Whole lines only: a line may straddle two chunks.
            while let Some(end) = carry.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = carry.drain(..=end).collect();
                if let Ok(parsed) = serde_json::from_slice::<ProgressLine>(&line) {
                    pending.borrow_mut().push(parsed);
                }
            }
            if !pending.borrow().is_empty() && !scheduled.replace(true) {
                let flush = flush.clone();
                let scheduled = scheduled.clone();
                set_timeout(
                    move || {
                        scheduled.set(false);
                        flush();
                    },
                    BATCH,
                );
            }
        }
        if let Ok(last) = serde_json::from_slice::<ProgressLine>(&carry) {
            pending.borrow_mut().push(last);
        }
        flush();
        Ok(())
    })
}

/// Per-layer progress of a pull or push, folded from its lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layer {
    pub id: String,
    pub status: String,
    pub current: i64,
    pub total: i64,
}

impl Layer {
    /// 0–100, or None when the daemon gave no byte counts for this step.
    pub fn percent(&self) -> Option<f64> {
        (self.total > 0).then(|| (self.current as f64 * 100.0 / self.total as f64).min(100.0))
    }
}

/// Fold a line into the layers: a line with an id updates that layer (in first-seen order).
pub fn apply(layers: &mut Vec<Layer>, line: &ProgressLine) {
    let Some(id) = line.id.as_deref() else {
        return;
    };
    let status = line.status.clone().unwrap_or_default();
    let (current, total) = line
        .progress_detail
        .as_ref()
        .map(|d| (d.current.unwrap_or(0), d.total.unwrap_or(0)))
        .unwrap_or((0, 0));
    let layer = match layers.iter_mut().find(|l| l.id == id) {
        Some(l) => l,
        None => {
            layers.push(Layer {
                id: id.to_owned(),
                ..Default::default()
            });
            let last = layers.len() - 1;
            &mut layers[last]
        }
    };
    layer.status = status.clone();
    if total > 0 {
        layer.current = current;
        layer.total = total;
    } else if status.contains("complete") || status == "Already exists" {
        // Done: a full bar.
        layer.current = layer.total.max(1);
        layer.total = layer.total.max(1);
    }
}
