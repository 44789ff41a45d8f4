//! `/images/build`: a Dockerfile editor, a context upload (files, a folder, or a tar /
//! tar.gz), `docker build` options, and the build's output as it streams.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use wasm_bindgen::JsValue;
use web_sys::{File, FormData};

use crate::api;
use crate::components::yaml_editor::YamlEditor;
use crate::i18n::error_text;
use crate::i18n::images::{t, tr, Key};
use crate::i18n::use_i18n;
use crate::stream::{self, Payload};

const TEMPLATE: &str = "FROM busybox:latest\nCOPY . /app/\nWORKDIR /app\nCMD [\"ls\", \"-la\"]\n";
/// The output pane keeps this much of the end.
const MAX_OUTPUT: usize = 512 * 1024;

#[derive(Debug, Clone, PartialEq)]
enum BuildState {
    Idle,
    Running,
    Done { id: String, tags: Vec<String> },
    Failed(String),
}

/// `KEY=value` lines as a JSON object (blank lines and `#` comments skipped).
pub fn key_values(text: &str) -> Option<String> {
    let mut map = serde_json::Map::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        map.insert(
            k.trim().to_string(),
            serde_json::Value::String(v.to_string()),
        );
    }
    (!map.is_empty()).then(|| serde_json::Value::Object(map).to_string())
}

/// The files of an `<input type=file>`, with their path in the context: the file name, or
/// for a folder upload the path below the chosen folder.
fn files_of(input: &NodeRef<leptos::html::Input>, folder: bool) -> Vec<(String, File)> {
    let Some(list) = input.get().and_then(|i| i.files()) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(|f| {
            let path = if folder {
                let rel = js_sys::Reflect::get(&f, &JsValue::from_str("webkitRelativePath"))
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_else(|| f.name());
                rel.split_once('/')
                    .map(|(_, rest)| rest.to_string())
                    .unwrap_or(rel)
            } else {
                f.name()
            };
            (path, f)
        })
        .collect()
}

#[component]
pub fn Build() -> impl IntoView {
    let i18n = use_i18n();
    let dockerfile = RwSignal::new(TEMPLATE.to_string());
    let tags = RwSignal::new(String::new());
    let path = RwSignal::new(String::new());
    let args = RwSignal::new(String::new());
    let target = RwSignal::new(String::new());
    let labels = RwSignal::new(String::new());
    let nocache = RwSignal::new(false);
    let forcerm = RwSignal::new(false);
    let pull = RwSignal::new(false);
    let files_in = NodeRef::<leptos::html::Input>::new();
    let folder_in = NodeRef::<leptos::html::Input>::new();
    let archive_in = NodeRef::<leptos::html::Input>::new();
    let output = RwSignal::new(String::new());
    // The output pane and its panel: shown when a build starts, kept scrolled to the end.
    let output_pane = NodeRef::<leptos::html::Pre>::new();
    let result_panel = NodeRef::<leptos::html::Div>::new();
    let state = RwSignal::new(BuildState::Idle);
    // Not an attribute leptos knows: set it on the element once it exists.
    Effect::new(move |_| {
        if let Some(el) = folder_in.get() {
            let _ = el.set_attribute("webkitdirectory", "");
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if state.get_untracked() == BuildState::Running {
            return;
        }
        let Ok(form) = FormData::new() else {
            return;
        };
        let text = dockerfile.get_untracked();
        if !text.trim().is_empty() {
            let _ = form.append_with_str("dockerfile_text", &text);
        }
        // `.dockerignore` goes first, so the server never has to hold files back.
        let mut files = files_of(&files_in, false);
        files.extend(files_of(&folder_in, true));
        files.sort_by_key(|(p, _)| (p != ".dockerignore", p.clone()));
        for (p, f) in &files {
            let _ = form.append_with_blob_and_filename("files", f, p);
        }
        for (name, f) in files_of(&archive_in, false) {
            let _ = form.append_with_blob_and_filename("context", &f, &name);
        }

        let mut query = Vec::new();
        let t = tags.get_untracked();
        if !t.trim().is_empty() {
            query.push(format!("t={}", api::enc(t.trim())));
        }
        let p = path.get_untracked();
        if !p.trim().is_empty() {
            query.push(format!("dockerfile={}", api::enc(p.trim())));
        }
        if let Some(json) = key_values(&args.get_untracked()) {
            query.push(format!("buildargs={}", api::enc(&json)));
        }
        if let Some(json) = key_values(&labels.get_untracked()) {
            query.push(format!("labels={}", api::enc(&json)));
        }
        let tg = target.get_untracked();
        if !tg.trim().is_empty() {
            query.push(format!("target={}", api::enc(tg.trim())));
        }
        for (flag, on) in [("nocache", nocache), ("forcerm", forcerm), ("pull", pull)] {
            if on.get_untracked() {
                query.push(format!("{flag}=true"));
            }
        }
        let url = format!("/api/images/build?{}", query.join("&"));
        output.set(String::new());
        state.set(BuildState::Running);
        if let Some(panel) = result_panel.get_untracked() {
            panel.scroll_into_view_with_bool(true);
        }
        spawn_local(async move {
            let res = stream::post_lines(&url, Payload::Form(form), move |lines| {
                // Follows the end unless the user scrolled up to read.
                let at_end = output_pane.get_untracked().is_none_or(|el| {
                    el.scroll_height() - el.scroll_top() - el.client_height() < 40
                });
                if at_end {
                    request_animation_frame(move || {
                        if let Some(el) = output_pane.get_untracked() {
                            el.set_scroll_top(el.scroll_height());
                        }
                    });
                }
                output.update(|out| {
                    for line in &lines {
                        if let Some(text) = &line.stream {
                            out.push_str(text);
                        } else if let Some(status) = &line.status {
                            if let Some(id) = &line.id {
                                out.push_str(id);
                                out.push_str(": ");
                            }
                            out.push_str(status);
                            out.push('\n');
                        }
                        if let Some(err) = &line.error {
                            out.push_str(&err.message);
                            out.push('\n');
                        }
                    }
                    if out.len() > MAX_OUTPUT {
                        let cut = out.len() - MAX_OUTPUT;
                        let cut = (cut..out.len())
                            .find(|i| out.is_char_boundary(*i))
                            .unwrap_or(0);
                        out.drain(..cut);
                    }
                });
                for line in &lines {
                    if let Some(err) = &line.error {
                        state.set(BuildState::Failed(err.message.clone()));
                    } else if let Some(done) = &line.done {
                        state.set(BuildState::Done {
                            id: done.id.clone().unwrap_or_default(),
                            tags: done.tags.clone(),
                        });
                    }
                }
            })
            .await;
            match res {
                Err(e) => state.set(BuildState::Failed(error_text(
                    i18n.lang.get_untracked(),
                    &e,
                ))),
                Ok(()) if state.get_untracked() == BuildState::Running => state.set(
                    BuildState::Failed("the stream ended without a result".into()),
                ),
                Ok(()) => {}
            }
        });
    };

    let state_name = move || match state.get() {
        BuildState::Idle => "idle",
        BuildState::Running => "running",
        BuildState::Done { .. } => "done",
        BuildState::Failed(_) => "failed",
    };

    view! {
        <section class="page" data-testid="build-page">
            <div class="page-head">
                <A href="/images" attr:class="back-link">
                    "← "
                    {tr(Key::BackToImages)}
                </A>
            </div>
            <h1>{tr(Key::BuildTitle)}</h1>
            <form class="build-form" on:submit=submit>
                <div class="panel">
                    <h2>{tr(Key::DockerfileEditor)}</h2>
                    <YamlEditor
                        text=dockerfile
                        problems=Signal::derive(Vec::new)
                        label=t(i18n.lang.get_untracked(), Key::DockerfileEditor).to_owned()
                        testid="dockerfile-editor"
                        plain=true
                    />
                </div>
                <div class="panel">
                    <h2>{tr(Key::ContextTitle)}</h2>
                    <p class="muted">{tr(Key::ContextHelp)}</p>
                    <div class="form-grid">
                        <label class="field">
                            <span>{tr(Key::ContextFiles)}</span>
                            <input type="file" multiple data-testid="context-files" node_ref=files_in />
                        </label>
                        <label class="field">
                            <span>{tr(Key::ContextFolder)}</span>
                            <input
                                type="file"
                                multiple
                                data-testid="context-folder"
                                node_ref=folder_in
                            />
                        </label>
                        <label class="field">
                            <span>{tr(Key::ContextArchive)}</span>
                            <input
                                type="file"
                                accept=".tar,.tar.gz,.tgz"
                                data-testid="context-archive"
                                node_ref=archive_in
                            />
                        </label>
                    </div>
                </div>
                <div class="panel">
                    <h2>{tr(Key::Options)}</h2>
                    <div class="form-grid">
                        <label class="field">
                            <span>{tr(Key::Tags)}</span>
                            <input class="input" data-testid="build-tags" placeholder=tr(Key::TagsHint) bind:value=tags />
                        </label>
                        <label class="field">
                            <span>{tr(Key::DockerfilePath)}</span>
                            <input class="input" data-testid="build-dockerfile-path" placeholder="Dockerfile" bind:value=path />
                        </label>
                        <label class="field">
                            <span>{tr(Key::Target)}</span>
                            <input class="input" data-testid="build-target" bind:value=target />
                        </label>
                        <label class="field">
                            <span>{tr(Key::BuildArgs)}</span>
                            <textarea class="input mono" rows="3" data-testid="build-args" placeholder=tr(Key::PairsHint)
                                prop:value=move || args.get() on:input=move |ev| args.set(event_target_value(&ev))></textarea>
                        </label>
                        <label class="field">
                            <span>{tr(Key::Labels)}</span>
                            <textarea class="input mono" rows="3" data-testid="build-labels" placeholder=tr(Key::PairsHint)
                                prop:value=move || labels.get() on:input=move |ev| labels.set(event_target_value(&ev))></textarea>
                        </label>
                    </div>
                    <label class="check">
                        <input type="checkbox" data-testid="build-nocache" bind:checked=nocache />
                        <span>{tr(Key::NoCache)}</span>
                    </label>
                    <label class="check">
                        <input type="checkbox" data-testid="build-forcerm" bind:checked=forcerm />
                        <span>{tr(Key::ForceRm)}</span>
                    </label>
                    <label class="check">
                        <input type="checkbox" data-testid="build-pull" bind:checked=pull />
                        <span>{tr(Key::PullBase)}</span>
                    </label>
                </div>
                <button
                    type="submit"
                    class="btn btn-primary"
                    data-testid="build-submit"
                    disabled=move || state.get() == BuildState::Running
                >
                    {tr(Key::StartBuild)}
                </button>
            </form>
            <div class="panel" data-testid="build-result" data-state=state_name node_ref=result_panel>
                <h2>{tr(Key::Output)}</h2>
                {move || match state.get() {
                    BuildState::Failed(why) => view! {
                        <div class="banner banner-error" data-testid="build-error" role="alert">
                            <strong>{tr(Key::BuildFailed)}</strong>
                            <span class="banner-text">{why}</span>
                        </div>
                    }
                    .into_any(),
                    BuildState::Done { id, tags } => {
                        let href = format!("/images/{}", api::enc(&id));
                        view! {
                            <div class="banner" data-testid="build-done" role="status">
                                <strong>{tr(Key::BuildDone)}</strong>
                                <span class="banner-text mono">{tags.join(", ")} " " {id.clone()}</span>
                                <A href=href attr:data-testid="build-image-link">{tr(Key::OpenImage)}</A>
                            </div>
                        }
                        .into_any()
                    }
                    BuildState::Running => view! { <span class="spinner" aria-hidden="true"></span> }.into_any(),
                    BuildState::Idle => ().into_any(),
                }}
                <pre class="build-output mono" data-testid="build-output" node_ref=output_pane>{move || output.get()}</pre>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::key_values;

    #[test]
    fn key_value_lines_become_json() {
        assert_eq!(key_values(""), None);
        assert_eq!(
            key_values("A=1\n# comment\n\nB = x=y\n").as_deref(),
            Some(r#"{"A":"1","B":" x=y"}"#)
        );
    }
}
