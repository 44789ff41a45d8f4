//! `application/x-ndjson` answers read as they arrive (run once, pulls): each line is
//! handed to a callback the moment it is complete.

use std::future::Future;
use std::pin::Pin;

use js_sys::{Reflect, Uint8Array};
use leptos::prelude::window;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, Request, RequestCredentials, RequestInit, Response};

use crate::api::ApiError;

fn network(e: JsValue) -> ApiError {
    ApiError {
        status: 0,
        code: "network".into(),
        message: e.as_string().unwrap_or_else(|| "network error".into()),
    }
}

/// POST `body` as JSON to `url`; each line of a 2xx answer goes to `on_line`. A non-2xx
/// answer is the usual error envelope.
pub async fn post_lines<B: Serialize>(
    url: &str,
    body: &B,
    mut on_line: impl FnMut(&str),
) -> Result<(), ApiError> {
    let json = serde_json::to_string(body).map_err(|e| ApiError {
        status: 0,
        code: "bad_request".into(),
        message: e.to_string(),
    })?;
    post_json_lines(url, json, &mut on_line).await
}

/// [`post_lines`] without its generics, boxed: one copy in the wasm for every caller.
fn post_json_lines<'a>(
    url: &'a str,
    json: String,
    on_line: &'a mut dyn FnMut(&str),
) -> Pin<Box<dyn Future<Output = Result<(), ApiError>> + 'a>> {
    Box::pin(async move {
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_credentials(RequestCredentials::SameOrigin);
        init.set_body(&JsValue::from_str(&json));
        let request = Request::new_with_str_and_init(url, &init).map_err(network)?;
        let _ = request.headers().set("Content-Type", "application/json");
        crate::api::set_env_header(&request.headers());
        let resp: Response = JsFuture::from(window().fetch_with_request(&request))
            .await
            .map_err(network)?
            .unchecked_into();
        if !resp.ok() {
            let status = resp.status();
            let text = match resp.text() {
                Ok(p) => JsFuture::from(p)
                    .await
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default(),
                Err(_) => String::new(),
            };
            return Err(match serde_json::from_str::<wire::ErrorBody>(&text) {
                Ok(b) => ApiError {
                    status,
                    code: b.error.code,
                    message: b.error.message,
                },
                Err(_) => ApiError {
                    status,
                    code: format!("http_{status}"),
                    message: format!("{status} {}", resp.status_text()),
                },
            });
        }
        let Some(body) = resp.body() else {
            return Ok(());
        };
        let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
        let mut buf: Vec<u8> = Vec::new();
        loop {
            let chunk = JsFuture::from(reader.read()).await.map_err(network)?;
            if Reflect::get(&chunk, &"done".into())
                .ok()
                .and_then(|d| d.as_bool())
                .unwrap_or(true)
            {
                break;
            }
            if let Ok(value) = Reflect::get(&chunk, &"value".into()) {
                buf.extend(value.unchecked_into::<Uint8Array>().to_vec());
            }
            while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=pos).collect();
                let line = String::from_utf8_lossy(&line);
                let line = line.trim();
                if !line.is_empty() {
                    on_line(line);
                }
            }
        }
        let rest = String::from_utf8_lossy(&buf);
        if !rest.trim().is_empty() {
            on_line(rest.trim());
        }
        Ok(())
    })
}
