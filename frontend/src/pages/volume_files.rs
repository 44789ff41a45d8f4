//! `/volumes/:name/files`: a volume's file browser. `/containers/:id/files`: a container's
//! own file system (through the archive routes of `/api/containers/{id}`), with its mounts
//! listed and named volumes linked to their browser.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use serde_json::Value;
use wire::Role;

use crate::api::{self, enc};
use crate::app::use_session;
use crate::components::file_browser::{FileBrowser, Source};
use crate::i18n::files::{tr, Key};

fn operator() -> Signal<bool> {
    let session = use_session();
    Signal::derive(move || {
        session
            .me
            .with(|m| m.as_ref().is_some_and(|m| m.role >= Role::Operator))
    })
}

#[component]
pub fn VolumeFiles() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let writable = operator();
    view! {
        <section class="page" data-testid="volume-files-page">
            <div class="page-head">
                <A href="/shares" attr:class="back-link">"← " {tr(Key::NavFiles)}</A>
            </div>
            <h1><span class="muted">{tr(Key::VolumeFilesTitle)} " "</span>{move || name.get()}</h1>
            {move || {
                let n = name.get();
                view! {
                    <FileBrowser
                        source=Source::Volume(n.clone())
                        route=format!("/volumes/{}/files", enc(&n))
                        root_name=n
                        writable
                    />
                }
            }}
        </section>
    }
}

/// One mount of a container, from its inspect JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MountRow {
    kind: String,
    name: Option<String>,
    source: String,
    destination: String,
}

fn mounts(inspect: &Value) -> Vec<MountRow> {
    inspect["Mounts"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .map(|m| MountRow {
                    kind: m["Type"].as_str().unwrap_or_default().to_string(),
                    name: m["Name"].as_str().map(str::to_string),
                    source: m["Source"].as_str().unwrap_or_default().to_string(),
                    destination: m["Destination"].as_str().unwrap_or_default().to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[component]
pub fn ContainerFiles() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let writable = operator();
    let inspect = LocalResource::new(move || {
        let id = id.get();
        async move { api::get::<Value>(&format!("/api/containers/{}", enc(&id))).await }
    });
    let mount_rows = move || {
        inspect.get().and_then(|r| r.ok()).map(|v| {
            let rows = mounts(&v);
            (!rows.is_empty()).then(|| view! {
                <div class="panel" data-testid="container-mounts">
                    <h2>{tr(Key::Mounts)}</h2>
                    <ul class="plain-list">
                        {rows.into_iter().map(|m| {
                            let target = m.destination.clone();
                            let link = (m.kind == "volume").then_some(m.name.clone()).flatten();
                            view! {
                                <li>
                                    <span class="mono">{target}</span>
                                    " ← "
                                    {match link {
                                        Some(vol) => view! {
                                            <A href=format!("/volumes/{}/files", enc(&vol)) attr:data-testid="mount-volume-link">{vol.clone()}</A>
                                        }.into_any(),
                                        None => view! { <span class="mono muted">{m.source.clone()}</span> }.into_any(),
                                    }}
                                    <span class="muted">" (" {m.kind.clone()} ")"</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </div>
            })
        })
    };
    view! {
        <section class="page" data-testid="container-files-page">
            <div class="page-head">
                <A href=move || format!("/containers/{}", enc(&id.get())) attr:class="back-link">
                    "← " {move || {
                        // The container's name, as people know it; the id until it is known.
                        inspect
                            .get()
                            .and_then(|r| r.ok())
                            .and_then(|v| v["Name"].as_str().map(|n| n.trim_start_matches('/').to_string()))
                            .unwrap_or_else(|| id.get())
                    }}
                </A>
            </div>
            <h1>{tr(Key::ContainerFilesTitle)}</h1>
            {mount_rows}
            {move || {
                let i = id.get();
                view! {
                    <FileBrowser
                        source=Source::Container(i.clone())
                        route=format!("/containers/{}/files", enc(&i))
                        root_name="/"
                        writable
                    />
                }
            }}
        </section>
    }
}
