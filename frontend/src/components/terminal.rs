//! A real terminal in the page: xterm.js (from npm at build time, served as
//! `/vendor/xterm.js`, loaded on first use) on `GET /api/containers/{id}/exec/ws` or
//! `.../attach/ws`. Bytes go both ways as binary frames; the size follows the element.
//!
//! xterm.js is driven through `js_sys::Reflect` rather than typed bindings: a handful of
//! calls on a script that arrives at run time.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use send_wrapper::SendWrapper;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::api;
use crate::components::socket::{Callbacks, Socket};
use crate::i18n::containers_more::{exit_code, t, tr, Key};
use crate::i18n::use_i18n;

fn get(obj: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    Reflect::get(obj, &JsValue::from_str(name))
}

fn call(obj: &JsValue, name: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(obj, name)?.dyn_into()?;
    let list = Array::new();
    for a in args {
        list.push(a);
    }
    f.apply(obj, &list)
}

async fn load_script(src: &str) -> Result<(), JsValue> {
    let doc = document();
    let script = doc.create_element("script")?;
    script.set_attribute("src", src)?;
    let mut setup = |resolve: Function, reject: Function| {
        let _ = Reflect::set(&script, &"onload".into(), &resolve);
        let _ = Reflect::set(&script, &"onerror".into(), &reject);
    };
    let promise = js_sys::Promise::new(&mut setup);
    doc.body().ok_or("no body")?.append_child(&script)?;
    JsFuture::from(promise).await.map(|_| ())
}

/// Loads xterm.js and its fit addon once per page.
async fn load_xterm() -> Result<(), JsValue> {
    let global = js_sys::global();
    if get(&global, "Terminal")?.is_function() && get(&global, "FitAddon")?.is_object() {
        return Ok(());
    }
    let doc = document();
    let css = doc.create_element("link")?;
    css.set_attribute("rel", "stylesheet")?;
    css.set_attribute("href", "/vendor/xterm.css")?;
    doc.body().ok_or("no body")?.append_child(&css)?;
    load_script("/vendor/xterm.js").await?;
    load_script("/vendor/addon-fit.js").await
}

/// A running terminal: what must be released with it.
struct Live {
    term: JsValue,
    fit: JsValue,
    /// Shared with the keyboard and resize handlers; emptied (closing it) on drop.
    socket: Rc<RefCell<Option<Socket>>>,
    _on_data: Closure<dyn FnMut(String)>,
    _on_resize: Closure<dyn FnMut(JsValue)>,
    on_window: Closure<dyn FnMut()>,
}

impl Live {
    fn fit(&self) {
        let _ = call(&self.fit, "fit", &[]);
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = window()
            .remove_event_listener_with_callback("resize", self.on_window.as_ref().unchecked_ref());
        self.socket.borrow_mut().take();
        let _ = call(&self.term, "dispose", &[]);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Loading,
    Open,
    Ended(String),
    Failed(String),
}

fn start(
    el: web_sys::HtmlDivElement,
    path: String,
    phase: RwSignal<Phase>,
    slot: Rc<RefCell<Option<Live>>>,
) {
    let lang = use_i18n().lang;
    spawn_local(async move {
        if load_xterm().await.is_err() {
            phase.set(Phase::Failed(
                t(lang.get_untracked(), Key::TerminalFailed).into(),
            ));
            return;
        }
        let Ok(live) = open(&el, &path, phase, lang) else {
            phase.set(Phase::Failed(
                t(lang.get_untracked(), Key::TerminalFailed).into(),
            ));
            return;
        };
        *slot.borrow_mut() = Some(live);
    });
}

fn open(
    el: &web_sys::HtmlDivElement,
    path: &str,
    phase: RwSignal<Phase>,
    lang: RwSignal<crate::i18n::Lang>,
) -> Result<Live, JsValue> {
    let global = js_sys::global();
    let opts = Object::new();
    Reflect::set(&opts, &"cursorBlink".into(), &true.into())?;
    Reflect::set(&opts, &"fontSize".into(), &14.into())?;
    Reflect::set(
        &opts,
        &"fontFamily".into(),
        &"ui-monospace, SFMono-Regular, Menlo, Consolas, monospace".into(),
    )?;
    let ctor: Function = get(&global, "Terminal")?.dyn_into()?;
    let term = Reflect::construct(&ctor, &Array::of1(&opts))?;
    let fit_ctor: Function = get(&get(&global, "FitAddon")?, "FitAddon")?.dyn_into()?;
    let fit = Reflect::construct(&fit_ctor, &Array::new())?;
    call(&term, "loadAddon", &[&fit])?;
    call(&term, "open", &[el])?;
    let _ = call(&fit, "fit", &[]);
    let cols = get(&term, "cols")?.as_f64().unwrap_or(80.0) as u16;
    let rows = get(&term, "rows")?.as_f64().unwrap_or(24.0) as u16;

    // The socket, shared by the keyboard and resize handlers.
    let sock: Rc<RefCell<Option<Socket>>> = Rc::new(RefCell::new(None));
    let sep = if path.contains('?') { '&' } else { '?' };
    let url = format!("{path}{sep}cols={cols}&rows={rows}");
    let (t1, t2) = (term.clone(), term.clone());
    let socket = Socket::open(
        &url,
        Callbacks {
            on_open: Box::new(move || phase.set(Phase::Open)),
            on_binary: Box::new(move |bytes| {
                let _ = call(&t1, "write", &[&Uint8Array::from(bytes.as_slice())]);
            }),
            on_text: Box::new(move |text| {
                let msg = match serde_json::from_str::<wire::TermControl>(&text) {
                    Ok(wire::TermControl::Exit { code }) => exit_code(lang.get_untracked(), code),
                    Ok(wire::TermControl::Detached) => {
                        t(lang.get_untracked(), Key::Detached).into()
                    }
                    Ok(wire::TermControl::Error { message }) => message,
                    _ => return,
                };
                let _ = call(&t2, "write", &[&format!("\r\n[{msg}]\r\n").into()]);
                phase.set(Phase::Ended(msg));
            }),
            on_close: Box::new(move |opened| {
                phase.update(|p| {
                    if !matches!(p, Phase::Ended(_)) {
                        *p = if opened {
                            Phase::Ended(String::new())
                        } else {
                            Phase::Failed(t(lang.get_untracked(), Key::NotRunning).into())
                        };
                    }
                });
            }),
        },
    );
    *sock.borrow_mut() = socket;

    let s = sock.clone();
    let on_data = Closure::<dyn FnMut(String)>::new(move |data: String| {
        if let Some(socket) = s.borrow().as_ref() {
            socket.send_bytes(data.as_bytes());
        }
    });
    call(&term, "onData", &[on_data.as_ref()])?;
    let s = sock.clone();
    let on_resize = Closure::<dyn FnMut(JsValue)>::new(move |size: JsValue| {
        let cols = get(&size, "cols")
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(80.0) as u16;
        let rows = get(&size, "rows")
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(24.0) as u16;
        let msg = wire::TermControl::Resize { cols, rows };
        if let (Some(socket), Ok(json)) = (s.borrow().as_ref(), serde_json::to_string(&msg)) {
            socket.send_text(&json);
        }
    });
    call(&term, "onResize", &[on_resize.as_ref()])?;
    let f = fit.clone();
    let on_window = Closure::<dyn FnMut()>::new(move || {
        let _ = call(&f, "fit", &[]);
    });
    window().add_event_listener_with_callback("resize", on_window.as_ref().unchecked_ref())?;
    let _ = call(&term, "focus", &[]);
    Ok(Live {
        term,
        fit,
        socket: sock,
        _on_data: on_data,
        _on_resize: on_resize,
        on_window,
    })
}

/// One terminal on `path` (an exec or attach websocket). Hidden while `active` is false,
/// but kept running.
#[component]
pub fn TermSession(path: String, #[prop(into)] active: Signal<bool>) -> impl IntoView {
    let host = NodeRef::<html::Div>::new();
    let phase = RwSignal::new(Phase::Loading);
    let slot: Rc<RefCell<Option<Live>>> = Rc::new(RefCell::new(None));
    let s = slot.clone();
    host.on_load(move |el| start(el, path, phase, s));
    let s = SendWrapper::new(slot.clone());
    Effect::new(move |_| {
        if active.get() {
            if let Some(live) = s.borrow().as_ref() {
                live.fit();
                let _ = call(&live.term, "focus", &[]);
            }
        }
    });
    let slot = SendWrapper::new(slot);
    on_cleanup(move || {
        slot.borrow_mut().take();
    });
    view! {
        <div class="term-session" class:hidden=move || !active.get()>
            {move || match phase.get() {
                Phase::Loading => Some(view! { <p class="muted">{crate::i18n::tr(crate::i18n::Key::Loading)}</p> }.into_any()),
                Phase::Failed(m) => Some(view! { <p class="form-error" data-testid="term-error">{m}</p> }.into_any()),
                Phase::Ended(m) if !m.is_empty() => Some(view! { <p class="muted" data-testid="term-ended">{m}</p> }.into_any()),
                _ => None,
            }}
            <div class="term" data-testid="terminal" node_ref=host></div>
        </div>
    }
}

/// The terminal tab: several independent `docker exec -it` sessions, with a choice of
/// command and user.
#[component]
pub fn TerminalTab(id: String) -> impl IntoView {
    let cmd = RwSignal::new("sh".to_string());
    let user = RwSignal::new(String::new());
    let sessions = RwSignal::new(Vec::<(u32, String, String)>::new());
    let active = RwSignal::new(0u32);
    let next = StoredValue::new(1u32);
    let base = format!("/api/containers/{}/exec/ws", api::enc(&id));
    let open = move |_| {
        let n = next.get_value();
        next.set_value(n + 1);
        let c = cmd.get_untracked();
        let c = if c.trim().is_empty() {
            "sh".to_string()
        } else {
            c
        };
        let u = user.get_untracked();
        let path = format!("{base}?tty=true&cmd={}&user={}", api::enc(&c), api::enc(&u));
        sessions.update(|s| s.push((n, path, format!("{c} #{n}"))));
        active.set(n);
    };
    view! {
        <div class="terminal-tab" data-testid="terminal-tab">
            <div class="toolbar">
                <label class="field inline">
                    <span>{tr(Key::Command)}</span>
                    <input class="input" data-testid="term-cmd" bind:value=cmd />
                </label>
                <label class="field inline">
                    <span>{tr(Key::User)}</span>
                    <input class="input" data-testid="term-user" placeholder=tr(Key::UserPlaceholder) bind:value=user />
                </label>
                <button type="button" class="btn btn-primary" data-testid="term-open" on:click=open>
                    {tr(Key::OpenSession)}
                </button>
            </div>
            <div class="session-tabs" role="tablist">
                <For each=move || sessions.get() key=|s| s.0 let:s>
                    {
                        let n = s.0;
                        view! {
                            <span class="session-tab" class:active=move || active.get() == n>
                                <button type="button" class="btn btn-sm btn-ghost" data-testid="term-session-tab" on:click=move |_| active.set(n)>
                                    {s.2.clone()}
                                </button>
                                <button
                                    type="button"
                                    class="icon-btn"
                                    data-testid="term-close"
                                    aria-label=tr(Key::CloseSession)
                                    title=tr(Key::CloseSession)
                                    on:click=move |_| sessions.update(|all| all.retain(|x| x.0 != n))
                                >
                                    "×"
                                </button>
                            </span>
                        }
                    }
                </For>
            </div>
            <For each=move || sessions.get() key=|s| s.0 let:s>
                {
                    let n = s.0;
                    view! { <TermSession path=s.1.clone() active=Signal::derive(move || active.get() == n) /> }
                }
            </For>
        </div>
    }
}

/// The attach tab: the main process's terminal; ctrl-p ctrl-q detaches.
#[component]
pub fn AttachTab(id: String) -> impl IntoView {
    let attempt = RwSignal::new(0u32);
    let path = format!("/api/containers/{}/attach/ws", api::enc(&id));
    view! {
        <div class="terminal-tab" data-testid="attach-tab">
            <p class="muted">{tr(Key::AttachHint)}</p>
            <button
                type="button"
                class="btn btn-primary"
                data-testid="attach-open"
                on:click=move |_| attempt.update(|a| *a += 1)
            >
                {tr(Key::AttachButton)}
            </button>
            {move || {
                let n = attempt.get();
                (n > 0).then(|| view! { <TermSession path=path.clone() active=Signal::derive(|| true) /> })
            }}
        </div>
    }
}
