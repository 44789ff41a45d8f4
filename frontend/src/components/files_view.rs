//! The files tab (`docker cp`): browse a folder of the container, download a file or
//! folder (as a tar), upload files into the folder shown.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{FormData, HtmlInputElement, RequestCredentials, RequestInit, Response};
use wire::FileEntry;

use crate::api::{self, ApiError};
use crate::components::status::{boundary_fallback, Loading};
use crate::format;
use crate::i18n::containers_more::{tr, Key};
use crate::i18n::{error_text, use_i18n};

fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn parent(dir: &str) -> String {
    let trimmed = dir.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((p, _)) => p.into(),
    }
}

/// `rwxr-xr-x` for permission bits.
fn mode_text(kind: wire::FileKind, mode: u32) -> String {
    let first = match kind {
        wire::FileKind::Dir => 'd',
        wire::FileKind::Symlink => 'l',
        _ => '-',
    };
    let mut s = String::from(first);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

/// PUT the chosen files as multipart to `url`.
async fn upload(url: &str, input: &HtmlInputElement) -> Result<(), ApiError> {
    let failed = |m: String| ApiError {
        status: 0,
        code: "upload".into(),
        message: m,
    };
    let files = input.files().ok_or_else(|| failed("no files".into()))?;
    let form = FormData::new().map_err(|_| failed("no form".into()))?;
    for i in 0..files.length() {
        if let Some(f) = files.get(i) {
            let _ = form.append_with_blob_and_filename("file", &f, &f.name());
        }
    }
    let init = RequestInit::new();
    init.set_method("PUT");
    init.set_credentials(RequestCredentials::SameOrigin);
    init.set_body(&form);
    let resp: Response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| failed("network".into()))?
        .unchecked_into();
    if resp.ok() {
        return Ok(());
    }
    let text = match resp.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    Err(match serde_json::from_str::<wire::ErrorBody>(&text) {
        Ok(body) => ApiError {
            status: resp.status(),
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => failed(format!("{} {}", resp.status(), resp.status_text())),
    })
}

#[component]
pub fn FilesView(id: String) -> impl IntoView {
    let i18n = use_i18n();
    let enc_id = api::enc(&id);
    let path = RwSignal::new("/".to_string());
    let typed = RwSignal::new("/".to_string());
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let list = {
        let enc_id = enc_id.clone();
        LocalResource::new(move || {
            let url = format!(
                "/api/containers/{enc_id}/files?path={}",
                api::enc(&path.get())
            );
            async move { api::get::<Vec<FileEntry>>(&url).await }
        })
    };
    let go = move |p: String| {
        typed.set(p.clone());
        path.set(p);
        message.set(None);
    };
    let picker = NodeRef::<leptos::html::Input>::new();
    let on_upload = {
        let enc_id = enc_id.clone();
        move |_| {
            let Some(input) = picker.get_untracked() else {
                return;
            };
            let url = format!(
                "/api/containers/{enc_id}/archive?path={}",
                api::enc(&path.get_untracked())
            );
            busy.set(true);
            spawn_local(async move {
                let res = upload(&url, &input).await;
                busy.set(false);
                match res {
                    Ok(()) => {
                        input.set_value("");
                        message.set(Some((
                            true,
                            crate::i18n::containers_more::t(
                                i18n.lang.get_untracked(),
                                Key::Uploaded,
                            )
                            .into(),
                        )));
                        list.refetch();
                    }
                    Err(e) => message.set(Some((false, error_text(i18n.lang.get_untracked(), &e)))),
                }
            });
        }
    };
    let retry = Callback::new(move |_| list.refetch());
    view! {
        <div class="files" data-testid="files-view">
            <form class="toolbar" on:submit=move |ev| {
                ev.prevent_default();
                go(typed.get_untracked());
            }>
                <button type="button" class="btn btn-sm" data-testid="files-up" on:click=move |_| go(parent(&path.get_untracked()))>
                    "↑ "{tr(Key::Up)}
                </button>
                <input class="input filter mono" data-testid="files-path" aria-label=tr(Key::Path) bind:value=typed />
                <button type="submit" class="btn btn-sm">{tr(Key::Go)}</button>
            </form>
            <div class="toolbar">
                <input type="file" multiple data-testid="files-picker" node_ref=picker />
                <button type="button" class="btn btn-sm btn-primary" data-testid="files-upload" disabled=move || busy.get() on:click=on_upload>
                    {tr(Key::Upload)}
                </button>
                {move || message.get().map(|(ok, m)| view! {
                    <span class=if ok { "muted" } else { "form-error" } data-testid="files-message">{m}</span>
                })}
            </div>
            <Transition fallback=Loading>
                <ErrorBoundary fallback=boundary_fallback(retry)>
                    {move || {
                        let enc_id = enc_id.clone();
                        Suspend::new(async move {
                            let dir = path.get_untracked();
                            list.await.map(|entries| {
                                if entries.is_empty() {
                                    return view! { <p class="muted">{tr(Key::EmptyFolder)}</p> }.into_any();
                                }
                                view! {
                                    <div class="table-wrap">
                                        <table class="table">
                                            <thead>
                                                <tr>
                                                    <th>{crate::i18n::tr(crate::i18n::Key::ColName)}</th>
                                                    <th>{tr(Key::Size)}</th>
                                                    <th>{tr(Key::Mode)}</th>
                                                    <th>{tr(Key::Modified)}</th>
                                                    <th></th>
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {entries.into_iter().map(|e| {
                                                    let full = join(&dir, &e.name);
                                                    let href = format!("/api/containers/{enc_id}/archive?path={}", api::enc(&full));
                                                    let name = match &e.link_target {
                                                        Some(t) => format!("{} → {t}", e.name),
                                                        None => e.name.clone(),
                                                    };
                                                    let is_dir = e.kind == wire::FileKind::Dir;
                                                    let mtime = e.mtime;
                                                    view! {
                                                        <tr data-testid="file-row" data-name=e.name.clone()>
                                                            <td class="mono break" data-label=tr(Key::Path)>
                                                                {if is_dir {
                                                                    let full = full.clone();
                                                                    view! { <a href="#" class="name-link" on:click=move |ev| { ev.prevent_default(); go(full.clone()); }>{name}"/"</a> }.into_any()
                                                                } else {
                                                                    view! { <span>{name}</span> }.into_any()
                                                                }}
                                                            </td>
                                                            <td class="nowrap" data-label=tr(Key::Size)>{if is_dir { String::new() } else { format::bytes(e.size as i64) }}</td>
                                                            <td class="mono" data-label=tr(Key::Mode)>{mode_text(e.kind, e.mode)}</td>
                                                            <td class="muted nowrap" data-label=tr(Key::Modified)>{move || format::local_time_secs(mtime, i18n.lang.get().code())}</td>
                                                            <td><a class="btn btn-sm" href=href download="" data-testid="file-download">{tr(Key::Download)}</a></td>
                                                        </tr>
                                                    }
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                }
                                .into_any()
                            })
                        })
                    }}
                </ErrorBoundary>
            </Transition>
        </div>
    }
}
