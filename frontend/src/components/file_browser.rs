//! One file browser for shares, volumes and containers: a folder's entries, breadcrumbs,
//! downloads, and (where allowed) uploads with progress, new folders, rename and delete.
//! The folder shown is the page's `?path=`, so back/forward and links work.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wire::{FileEntry, FileKind};

use crate::api::{self, enc, ApiError, Method};
use crate::components::confirm::{self, ConfirmButton, What};
use crate::format;
use crate::i18n::files::{tr, Key};
use crate::i18n::{error_text, use_i18n};

/// Where the files come from; each knows its routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Share(String),
    Volume(String),
    Container(String),
}

impl Source {
    fn base(&self) -> String {
        match self {
            Source::Share(n) => format!("/api/shares/{}", enc(n)),
            Source::Volume(n) => format!("/api/volumes/{}", enc(n)),
            Source::Container(id) => format!("/api/containers/{}", enc(id)),
        }
    }
    fn list_url(&self, path: &str) -> String {
        format!("{}/files?path={}", self.base(), enc(path))
    }
    /// A regular file downloads as itself; a container's folder or link as a tar.
    fn download_url(&self, path: &str, regular_file: bool) -> String {
        match self {
            Source::Container(_) if !regular_file => {
                format!("{}/archive?path={}", self.base(), enc(path))
            }
            _ => format!("{}/download?path={}", self.base(), enc(path)),
        }
    }
    fn upload_url(&self, dir: &str) -> String {
        match self {
            Source::Container(_) => format!("{}/archive?path={}", self.base(), enc(dir)),
            _ => format!("{}/upload?path={}", self.base(), enc(dir)),
        }
    }
    fn mkdir_url(&self, path: &str) -> Option<String> {
        match self {
            Source::Container(_) => None,
            _ => Some(format!("{}/mkdir?path={}", self.base(), enc(path))),
        }
    }
    fn delete_url(&self, path: &str) -> Option<String> {
        match self {
            Source::Container(_) => None,
            _ => Some(format!("{}/files?path={}", self.base(), enc(path))),
        }
    }
    fn rename_url(&self) -> Option<String> {
        match self {
            Source::Share(_) => Some(format!("{}/rename", self.base())),
            _ => None,
        }
    }
}

/// `/a/b` + `c` → `/a/b/c`.
fn child(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn normalise(p: Option<String>) -> String {
    let p = p.unwrap_or_default();
    let p = p.trim_end_matches('/');
    if p.is_empty() {
        "/".into()
    } else if p.starts_with('/') {
        p.into()
    } else {
        format!("/{p}")
    }
}

/// Upload progress: bytes sent of total, or done.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Progress {
    sent: f64,
    total: f64,
}

/// Send the chosen files as `multipart/form-data` with `XMLHttpRequest`, whose upload
/// events report progress (`fetch` cannot).
fn send_files(
    url: &str,
    files: &web_sys::FileList,
    on_progress: impl Fn(f64, f64) + 'static,
    on_done: impl FnOnce(Result<(), String>) + 'static,
) -> Result<(), String> {
    let form = web_sys::FormData::new().map_err(|_| "cannot build the form".to_string())?;
    for i in 0..files.length() {
        if let Some(f) = files.get(i) {
            form.append_with_blob_and_filename("file", &f, &f.name())
                .map_err(|_| "cannot add a file to the form".to_string())?;
        }
    }
    let xhr = web_sys::XmlHttpRequest::new().map_err(|_| "no XMLHttpRequest".to_string())?;
    xhr.open_with_async("PUT", url, true)
        .map_err(|_| "cannot open the request".to_string())?;
    let _ = xhr.set_request_header("Accept", "application/json");
    if let Some(env) = crate::api::current_env() {
        let _ = xhr.set_request_header("X-Berth-Endpoint", &env);
    }
    let progress =
        Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            if e.length_computable() {
                on_progress(e.loaded(), e.total());
            }
        });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    // Owned by the browser from here on (it lives as long as the request can fire it).
    progress.forget();
    let done = std::rc::Rc::new(std::cell::RefCell::new(Some(on_done)));
    let (x2, d2) = (xhr.clone(), done.clone());
    let onload = Closure::once_into_js(move || {
        let status = x2.status().unwrap_or(0);
        let result = if (200..300).contains(&status) {
            Ok(())
        } else {
            let text = x2.response_text().ok().flatten().unwrap_or_default();
            Err(serde_json::from_str::<wire::ErrorBody>(&text)
                .map(|b| b.error.message)
                .unwrap_or_else(|_| format!("upload failed ({status})")))
        };
        if let Some(f) = d2.borrow_mut().take() {
            f(result);
        }
    });
    xhr.set_onload(Some(onload.unchecked_ref()));
    let onerror = Closure::once_into_js(move || {
        if let Some(f) = done.borrow_mut().take() {
            f(Err("the upload broke off (network error)".into()));
        }
    });
    xhr.set_onerror(Some(onerror.unchecked_ref()));
    xhr.send_with_opt_form_data(Some(&form))
        .map_err(|_| "cannot send the upload".to_string())
}

#[component]
pub fn FileBrowser(
    source: Source,
    /// The app route this browser lives at (`/volumes/x/files`); `?path=` is added.
    #[prop(into)]
    route: String,
    /// The name shown for the root folder.
    #[prop(into)]
    root_name: String,
    /// Whether upload, new folder, rename and delete are offered.
    #[prop(into)]
    writable: Signal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let path = Memo::new(move |_| normalise(query.with(|q| q.get("path"))));
    let src = StoredValue::new(source);
    let list = LocalResource::new(move || {
        let url = src.with_value(|s| s.list_url(&path.get()));
        async move { api::get::<Vec<FileEntry>>(&url).await }
    });
    let error = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<Progress>);
    let new_folder = RwSignal::new(String::new());
    let route = StoredValue::new(route);
    let href_for = move |p: &str| format!("{}?path={}", route.get_value(), enc(p));

    let fail = move |e: ApiError| error.set(Some(error_text(i18n.lang.get_untracked(), &e)));

    let on_files = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(files) = input.files() else { return };
        if files.length() == 0 {
            return;
        }
        error.set(None);
        progress.set(Some(Progress {
            sent: 0.0,
            total: 1.0,
        }));
        let url = src.with_value(|s| s.upload_url(&path.get_untracked()));
        let sent = send_files(
            &url,
            &files,
            move |sent, total| {
                progress.try_set(Some(Progress { sent, total }));
            },
            move |res| {
                progress.try_set(None);
                if let Err(msg) = res {
                    error.try_set(Some(msg));
                }
                list.refetch();
            },
        );
        if let Err(msg) = sent {
            progress.set(None);
            error.set(Some(msg));
        }
        // The same files can be chosen again.
        input.set_value("");
    };

    let make_folder = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = new_folder.get_untracked().trim().to_string();
        if name.is_empty() {
            return;
        }
        let Some(url) = src.with_value(|s| s.mkdir_url(&child(&path.get_untracked(), &name)))
        else {
            return;
        };
        spawn_local(async move {
            match api::call_unit(Method::Post, &url).await {
                Ok(()) => {
                    new_folder.set(String::new());
                    list.refetch();
                }
                Err(e) => fail(e),
            }
        });
    };

    // Asked first, by the row's confirmation.
    let delete = move |p: String| {
        let Some(url) = src.with_value(|s| s.delete_url(&p)) else {
            return;
        };
        spawn_local(async move {
            match api::call_unit(Method::Delete, &url).await {
                Ok(()) => list.refetch(),
                Err(e) => fail(e),
            }
        });
    };

    let rename = move |p: String, old: String| {
        let Some(url) = src.with_value(|s| s.rename_url()) else {
            return;
        };
        let label = crate::i18n::files::t(i18n.lang.get_untracked(), Key::NewName);
        let Ok(Some(new_name)) = window().prompt_with_message_and_default(label, &old) else {
            return;
        };
        let new_name = new_name.trim().to_string();
        if new_name.is_empty() || new_name == old {
            return;
        }
        let dir = path.get_untracked();
        let body = wire::RenameRequest {
            from: p,
            to: child(&dir, &new_name),
        };
        spawn_local(async move {
            match api::call::<_, ()>(Method::Post, &url, Some(&body)).await {
                Ok(()) => list.refetch(),
                Err(e) => fail(e),
            }
        });
    };

    let crumbs = move || {
        let p = path.get();
        let mut out = vec![("/".to_string(), root_name.clone())];
        let mut at = String::new();
        for seg in p.split('/').filter(|s| !s.is_empty()) {
            at.push('/');
            at.push_str(seg);
            out.push((at.clone(), seg.to_string()));
        }
        let last = out.len() - 1;
        out.into_iter()
            .enumerate()
            .map(|(i, (p, name))| {
                if i == last {
                    view! { <span class="crumb-current" data-testid="crumb-current">{name}</span> }
                        .into_any()
                } else {
                    // A root named "/" is its own separator: "/ data", not "/ / data".
                    let sep = (name != "/").then(|| view! { <span class="crumb-sep">"/"</span> });
                    view! {
                        <A href=href_for(&p) attr:class="crumb">{name}</A>
                        {sep}
                    }
                    .into_any()
                }
            })
            .collect_view()
    };

    let row = move |e: FileEntry| {
        let here = path.get_untracked();
        let p = child(&here, &e.name);
        let is_dir = e.kind == FileKind::Dir;
        let download = src.with_value(|s| s.download_url(&p, e.kind == FileKind::File));
        let shown = e.name.clone();
        let name_cell = if is_dir {
            view! {
                <A href=href_for(&p) attr:class="file-name" attr:data-testid="file-dir">
                    <span class="ico ico-dir" aria-hidden="true"></span>
                    {shown}
                    "/"
                </A>
            }
            .into_any()
        } else {
            let icon = if e.kind == FileKind::Symlink {
                "ico ico-symlink"
            } else {
                "ico ico-file"
            };
            view! {
                <a href=download.clone() rel="external" download="" class="file-name" data-testid="file-link">
                    <span class=icon aria-hidden="true"></span>
                    {e.name.clone()}
                </a>
                {e.link_target.clone().map(|t| view! { <span class="muted link-target">" → " {t}</span> })}
            }
            .into_any()
        };
        let (p_del, p_ren, old) = (p.clone(), p.clone(), e.name.clone());
        let doomed = e.name.clone();
        let can_delete = src.with_value(|s| s.delete_url("/").is_some());
        let can_rename = src.with_value(|s| s.rename_url().is_some());
        view! {
            <tr data-testid="file-row" data-name=e.name.clone()>
                <td data-label=tr(Key::ColName)>{name_cell}</td>
                <td data-label=tr(Key::ColSize) class="num">
                    {if e.kind == FileKind::File {
                        view! { <span title=format!("{} B", e.size)>{format::bytes(e.size as i64)}</span> }.into_any()
                    } else {
                        view! { <span class="muted">"—"</span> }.into_any()
                    }}
                </td>
                <td data-label=tr(Key::ColModified) class="muted">
                    {move || format::local_time_secs(e.mtime, i18n.lang.get().code())}
                </td>
                <td data-label=tr(Key::ColActions) class="col-actions">
                    <a class="btn btn-sm" href=download rel="external" download="" data-testid="download">
                        {move || if is_dir { tr(Key::DownloadFolder)() } else { tr(Key::Download)() }}
                    </a>
                    <Show when=move || writable.get() && can_rename>
                        <button type="button" class="btn btn-sm" data-testid="rename"
                            on:click={
                                let (p, old) = (p_ren.clone(), old.clone());
                                move |_| rename(p.clone(), old.clone())
                            }>
                            {tr(Key::Rename)}
                        </button>
                    </Show>
                    <Show when=move || writable.get() && can_delete>
                        <ConfirmButton
                            label=Signal::derive(move || tr(Key::Delete)().to_string())
                            question=Signal::derive({
                                let doomed = doomed.clone();
                                move || confirm::question(i18n.lang.get(), What::File, &doomed)
                            })
                            testid="delete"
                            on_confirm=Callback::new({
                                let p = p_del.clone();
                                move |()| delete(p.clone())
                            })
                        />
                    </Show>
                </td>
            </tr>
        }
    };

    let can_mkdir = src.with_value(|s| s.mkdir_url("/x").is_some());
    view! {
        <div class="file-browser" data-testid="file-browser">
            <nav class="crumbs" aria-label="breadcrumbs" data-testid="crumbs">{crumbs}</nav>
            <div class="toolbar">
                <Show when=move || path.get() != "/">
                    <A href=move || {
                        let p = path.get();
                        let parent = p.rsplit_once('/').map(|(a, _)| if a.is_empty() { "/" } else { a }).unwrap_or("/").to_string();
                        href_for(&parent)
                    } attr:class="btn btn-sm" attr:data-testid="up">
                        "↰ "
                        {tr(Key::Up)}
                    </A>
                </Show>
                <button type="button" class="btn btn-sm btn-ghost" data-testid="refresh" on:click=move |_| list.refetch()>
                    {tr(Key::Refresh)}
                </button>
                <Show when=move || writable.get()>
                    <label class="btn btn-sm btn-primary upload-btn">
                        {tr(Key::Upload)}
                        <input type="file" multiple class="visually-hidden" data-testid="upload-input" on:change=on_files />
                    </label>
                    <Show when=move || can_mkdir>
                        <form class="inline-form" on:submit=make_folder>
                            <input class="input input-sm" data-testid="new-folder-name"
                                placeholder=tr(Key::FolderName) aria-label=tr(Key::FolderName) bind:value=new_folder />
                            <button type="submit" class="btn btn-sm" data-testid="new-folder">{tr(Key::NewFolder)}</button>
                        </form>
                    </Show>
                </Show>
            </div>
            {move || progress.get().map(|p| {
                let pct = if p.total > 0.0 { (p.sent / p.total * 100.0).clamp(0.0, 100.0) } else { 0.0 };
                view! {
                    <div class="upload-progress" data-testid="upload-progress" role="progressbar"
                        aria-valuemin="0" aria-valuemax="100" aria-valuenow=format!("{pct:.0}")>
                        <div class="upload-bar" style=format!("width:{pct:.1}%")></div>
                        <span>{tr(Key::Uploading)} " " {format!("{pct:.0}%")} " · "
                            {format::bytes(p.sent as i64)} " / " {format::bytes(p.total as i64)}</span>
                    </div>
                }
            })}
            {move || error.get().map(|msg| view! {
                <div class="banner banner-error" data-testid="files-error" role="alert">
                    <span class="banner-text">{msg}</span>
                    <button type="button" class="icon-btn" on:click=move |_| error.set(None)>"×"</button>
                </div>
            })}
            {move || match list.get() {
                None => view! { <crate::components::status::Loading /> }.into_any(),
                Some(Err(e)) => {
                    let msg = error_text(i18n.lang.get(), &e);
                    view! { <div class="banner banner-error" data-testid="files-error" role="alert"><span class="banner-text">{msg}</span></div> }.into_any()
                }
                Some(Ok(rows)) if rows.is_empty() => view! {
                    <p class="panel muted" data-testid="empty-folder">{tr(Key::EmptyFolder)}</p>
                }.into_any(),
                Some(Ok(rows)) => view! {
                    <div class="table-wrap">
                        <table class="table files-table" data-testid="files-table">
                            <thead><tr>
                                <th>{tr(Key::ColName)}</th>
                                <th class="num">{tr(Key::ColSize)}</th>
                                <th>{tr(Key::ColModified)}</th>
                                <th class="col-actions">{tr(Key::ColActions)}</th>
                            </tr></thead>
                            <tbody>{rows.into_iter().map(row).collect_view()}</tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
        </div>
    }
}
