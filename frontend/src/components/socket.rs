//! A websocket with Rust callbacks, closed (without calling back) when dropped. Used by the
//! container tabs (logs, terminals, stats); `live.rs` keeps its own for the events feed.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, MessageEvent, WebSocket};

use crate::api;

type Handler = Closure<dyn FnMut(web_sys::Event)>;

/// What happens on the socket. `on_close(opened)` says whether it ever opened (a refused
/// upgrade never does).
pub struct Callbacks {
    pub on_open: Box<dyn FnMut()>,
    pub on_text: Box<dyn FnMut(String)>,
    pub on_binary: Box<dyn FnMut(Vec<u8>)>,
    pub on_close: Box<dyn FnMut(bool)>,
}

impl Default for Callbacks {
    fn default() -> Self {
        Callbacks {
            on_open: Box::new(|| {}),
            on_text: Box::new(|_| {}),
            on_binary: Box::new(|_| {}),
            on_close: Box::new(|_| {}),
        }
    }
}

pub struct Socket {
    ws: WebSocket,
    _handlers: Vec<Handler>,
}

impl Socket {
    /// Opens a same-origin websocket at `path`.
    pub fn open(path: &str, callbacks: Callbacks) -> Option<Socket> {
        let ws = api::open_ws(path).ok()?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let cb = Rc::new(RefCell::new(callbacks));
        let opened = Rc::new(std::cell::Cell::new(false));
        let (c, o) = (cb.clone(), opened.clone());
        let on_open = Handler::new(move |_| {
            o.set(true);
            (c.borrow_mut().on_open)();
        });
        let c = cb.clone();
        let on_message = Handler::new(move |ev: web_sys::Event| {
            let Some(msg) = ev.dyn_ref::<MessageEvent>() else {
                return;
            };
            let data = msg.data();
            if let Some(text) = data.as_string() {
                (c.borrow_mut().on_text)(text);
            } else if let Some(buf) = data.dyn_ref::<js_sys::ArrayBuffer>() {
                (c.borrow_mut().on_binary)(js_sys::Uint8Array::new(buf).to_vec());
            }
        });
        let c = cb;
        let on_close = Handler::new(move |_| (c.borrow_mut().on_close)(opened.get()));
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Some(Socket {
            ws,
            _handlers: vec![on_open, on_message, on_close],
        })
    }

    pub fn send_text(&self, text: &str) {
        let _ = self.ws.send_with_str(text);
    }

    pub fn send_bytes(&self, bytes: &[u8]) {
        let _ = self.ws.send_with_u8_array(bytes);
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}
