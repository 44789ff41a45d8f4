//! `/images/:id`: an image's facts, its layers (`docker history`), push per tag, raw JSON.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use serde_json::Value;

use crate::api;
use crate::components::pull::{StreamTask, TaskCard};
use crate::components::status::{boundary_fallback, Loading};
use crate::format;
use crate::i18n::error_text;
use crate::i18n::images::{tr, Key};
use crate::i18n::use_i18n;
use crate::stream::{self, Payload};

#[component]
pub fn ImageDetail() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let detail = LocalResource::new(move || {
        let id = id.get();
        async move {
            let base = format!("/api/images/{}", api::enc(&id));
            let info = api::get::<Value>(&base).await?;
            let history = api::get::<Value>(&format!("{base}/history")).await?;
            Ok::<_, api::ApiError>((info, history))
        }
    });
    let retry = Callback::new(move |_| detail.refetch());
    view! {
        <section class="page" data-testid="image-detail">
            <div class="page-head">
                <A href="/images" attr:class="back-link">
                    "← "
                    {tr(Key::BackToImages)}
                </A>
            </div>
            <Transition fallback=Loading>
                <ErrorBoundary fallback=boundary_fallback(retry)>
                    {move || Suspend::new(async move {
                        detail.await.map(|(info, history)| view! { <Facts info history /> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn Facts(info: Value, history: Value) -> impl IntoView {
    let i18n = use_i18n();
    let s = |p: &str| {
        info.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let id = s("/Id");
    let created = s("/Created");
    let size = info.pointer("/Size").and_then(Value::as_i64).unwrap_or(0);
    let tags: Vec<String> = info
        .pointer("/RepoTags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let digests: Vec<String> = info
        .pointer("/RepoDigests")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let layers: Vec<Value> = history.as_array().cloned().unwrap_or_default();
    let raw = serde_json::to_string_pretty(&info).unwrap_or_default();
    let push = RwSignal::new(None::<StreamTask>);
    let start_push = move |image: String| {
        push.set(Some(StreamTask::new(1, image.clone())));
        let body = serde_json::json!({ "image": image }).to_string();
        spawn_local(async move {
            let res = stream::post_lines("/api/images/push", Payload::Json(body), move |lines| {
                push.update(|t| {
                    if let Some(t) = t.as_mut() {
                        t.fold(&lines);
                    }
                })
            })
            .await;
            if let Err(e) = res {
                push.update(|t| {
                    if let Some(t) = t.as_mut() {
                        t.fail(error_text(i18n.lang.get_untracked(), &e));
                    }
                });
            }
        });
    };
    view! {
        <h1 class="mono break" data-testid="image-title">
            {tags.first().cloned().unwrap_or_else(|| id.clone())}
        </h1>
        <div class="panel">
            <h2>{tr(Key::Overview)}</h2>
            <dl class="facts">
                <dt>{tr(Key::ColId)}</dt>
                <dd class="mono break" data-testid="image-full-id">{id.clone()}</dd>
                <dt>{tr(Key::ColSize)}</dt>
                <dd>{format::bytes(size)}</dd>
                <dt>{tr(Key::ColCreated)}</dt>
                <dd>{move || format::local_time(&created, i18n.lang.get().code())}</dd>
                <dt>{tr(Key::ColTags)}</dt>
                <dd>
                    {tags
                        .iter()
                        .map(|t| {
                            let t2 = t.clone();
                            view! {
                                <div class="tag-line">
                                    <span class="mono">{t.clone()}</span>
                                    " "
                                    <button
                                        type="button"
                                        class="btn btn-sm"
                                        data-testid="image-push"
                                        on:click=move |_| start_push(t2.clone())
                                    >
                                        {tr(Key::Push)}
                                    </button>
                                </div>
                            }
                        })
                        .collect_view()}
                </dd>
                <dt>{tr(Key::ColDigests)}</dt>
                <dd>
                    {digests.into_iter().map(|d| view! { <div class="mono break">{d}</div> }).collect_view()}
                </dd>
            </dl>
        </div>
        {move || push.get().map(|task| view! { <TaskCard task /> })}
        <div class="panel">
            <h2>{tr(Key::History)}</h2>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th>{tr(Key::CreatedBy)}</th>
                            <th>{tr(Key::ColSize)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {layers
                            .into_iter()
                            .map(|l| {
                                let by = l.pointer("/CreatedBy").and_then(Value::as_str).unwrap_or("").to_string();
                                let size = l.pointer("/Size").and_then(Value::as_i64).unwrap_or(0);
                                view! {
                                    <tr data-testid="history-row">
                                        <td class="mono break">{by}</td>
                                        <td class="nowrap">{format::bytes(size)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </div>
        <details class="panel raw">
            <summary>{tr(Key::Raw)}</summary>
            <pre class="mono">{raw}</pre>
        </details>
    }
}
