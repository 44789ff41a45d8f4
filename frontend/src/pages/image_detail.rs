//! `/images/:id`: an image's facts and configuration, the containers made from it, its
//! layers (`docker history`), and what to do with it: run, tag, push per tag, remove a tag,
//! remove the image (with Force), raw JSON.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::Value;
use wire::ContainerSummary;

use crate::api::{self, ApiError, Method};
use crate::components::confirm::{self, ConfirmButton, What};
use crate::components::pull::{StreamTask, TaskCard};
use crate::components::status::{boundary_fallback, Loading};
use crate::format;
use crate::i18n::error_text;
use crate::i18n::image_page::{self as page, Key as P};
use crate::i18n::images::{tr, Key};
use crate::i18n::use_i18n;
use crate::stream::{self, Payload};

/// What a change on the page did to the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// Still there (a tag came or went): read it again.
    Changed,
    /// Deleted: back to the list.
    Gone,
}

#[component]
pub fn ImageDetail() -> impl IntoView {
    let params = use_params_map();
    let navigate = use_navigate();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    // After a change the page follows the image by its id: the tag the route named may be
    // the one just removed.
    let by_id = RwSignal::new(None::<String>);
    let detail = LocalResource::new(move || {
        let id = by_id.get().unwrap_or_else(|| id.get());
        async move {
            let base = format!("/api/images/{}", api::enc(&id));
            let info = api::get::<Value>(&base).await?;
            let history = api::get::<Value>(&format!("{base}/history")).await?;
            let containers = api::get::<Vec<ContainerSummary>>("/api/containers?all=true").await?;
            Ok::<_, ApiError>((info, history, containers))
        }
    });
    let retry = Callback::new(move |_| detail.refetch());
    let on_change = Callback::new(move |change: Change| match change {
        Change::Gone => navigate("/images", Default::default()),
        Change::Changed => {
            let full = detail.with_untracked(|d| match d {
                Some(Ok((info, _, _))) => info
                    .pointer("/Id")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                _ => None,
            });
            if full.is_some() && by_id.get_untracked() != full {
                by_id.set(full);
            } else {
                detail.refetch();
            }
        }
    });
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
                        detail.await.map(|(info, history, containers)| {
                            view! { <Facts info history containers on_change /> }
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The keys of an object (`ExposedPorts`, `Volumes`), in the daemon's order.
fn keys(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// `name` with the `:latest` the daemon assumes when it names no tag or digest.
fn with_tag(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || last.contains('@') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

/// Whether a container's image (as the daemon lists it: the reference it was created from,
/// or the image id once that reference names another image) is this image.
fn made_from(container_image: &str, id: &str, tags: &[String], digests: &[String]) -> bool {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    let given = container_image
        .strip_prefix("sha256:")
        .unwrap_or(container_image);
    if given.len() >= 12 && given.chars().all(|c| c.is_ascii_hexdigit()) && hex.starts_with(given) {
        return true;
    }
    let given = with_tag(container_image);
    let plain = |t: &str| {
        t.strip_prefix("docker.io/library/")
            .or_else(|| t.strip_prefix("docker.io/"))
            .unwrap_or(t)
            .to_string()
    };
    tags.iter().any(|t| plain(t) == plain(&given))
        || digests.iter().any(|d| plain(d) == plain(container_image))
}

/// A list as lines, or the muted "none".
fn list_or_none(items: Vec<String>, testid: &'static str) -> impl IntoView {
    if items.is_empty() {
        view! { <span class="muted" data-testid=testid>{page::tr(P::Nothing)}</span> }.into_any()
    } else {
        view! {
            <div data-testid=testid>
                {items.into_iter().map(|i| view! { <div class="mono break">{i}</div> }).collect_view()}
            </div>
        }
        .into_any()
    }
}

#[component]
fn Facts(
    info: Value,
    history: Value,
    containers: Vec<ContainerSummary>,
    on_change: Callback<Change>,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang;
    let s = |p: &str| {
        info.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let id = s("/Id");
    let created = s("/Created");
    let size = info.pointer("/Size").and_then(Value::as_i64).unwrap_or(0);
    let tags = strings(info.pointer("/RepoTags"));
    let digests = strings(info.pointer("/RepoDigests"));
    let platform = [s("/Os"), s("/Architecture"), s("/Variant")]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("/");
    let cfg = |p: &str| info.pointer(&format!("/Config{p}"));
    let entrypoint = strings(cfg("/Entrypoint")).join(" ");
    let cmd = strings(cfg("/Cmd")).join(" ");
    let env = strings(cfg("/Env"));
    let ports = keys(cfg("/ExposedPorts"));
    let volumes = keys(cfg("/Volumes"));
    let workdir = cfg("/WorkingDir")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let user = cfg("/User")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let labels: Vec<String> = cfg("/Labels")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let used_by: Vec<ContainerSummary> = containers
        .into_iter()
        .filter(|c| made_from(&c.image, &id, &tags, &digests))
        .collect();
    let name = tags.first().cloned().unwrap_or_else(|| id.clone());
    let short = id
        .strip_prefix("sha256:")
        .unwrap_or(&id)
        .chars()
        .take(12)
        .collect::<String>();
    let shown = tags.first().cloned().unwrap_or_else(|| short.clone());
    let run_href = format!("/containers/new?image={}", api::enc(&name));
    let layers: Vec<Value> = history.as_array().cloned().unwrap_or_default();
    let raw = serde_json::to_string_pretty(&info).unwrap_or_default();

    // Daemon messages name images and containers by 64-hex ids; the page knows their names.
    let names = StoredValue::new({
        let mut n: Vec<(String, String)> = used_by
            .iter()
            .map(|c| (c.id.clone(), c.display_name().to_string()))
            .collect();
        n.push((
            id.strip_prefix("sha256:").unwrap_or(&id).to_string(),
            shown.clone(),
        ));
        n
    });
    let named = move |msg: &str| {
        let msg = format::name_ids(msg, |hex| {
            names.with_value(|n| n.iter().find(|(i, _)| i == hex).map(|(_, n)| n.clone()))
        });
        // The daemon's conflicts name both by their 12-character short ids.
        names.with_value(|n| {
            n.iter().fold(msg, |msg, (hex, name)| match hex.get(..12) {
                Some(short) => msg.replace(short, name),
                None => msg,
            })
        })
    };

    // Remove: the image (Force optional) or one tag; the reason it failed next to it.
    let force = RwSignal::new(false);
    let remove_error = RwSignal::new(None::<String>);
    let remove = move |target: String, force: bool| {
        remove_error.set(None);
        spawn_local(async move {
            let url = format!("/api/images/{}?force={force}", api::enc(&target));
            match api::call::<(), wire::RemovedImage>(Method::Delete, &url, None).await {
                Ok(r) if !r.deleted.is_empty() => on_change.run(Change::Gone),
                Ok(_) => on_change.run(Change::Changed),
                Err(e) => remove_error.set(Some(named(&error_text(lang.get_untracked(), &e)))),
            }
        });
    };
    let remove_image = {
        let id = id.clone();
        Callback::new(move |()| remove(id.clone(), force.get_untracked()))
    };

    // Tag: repository[:tag].
    let tagging = RwSignal::new(false);
    let repo = RwSignal::new(String::new());
    let tag_name = RwSignal::new(String::new());
    let tag_error = RwSignal::new(None::<String>);
    let submit_tag = {
        let id = id.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            tag_error.set(None);
            let mut r = repo.get_untracked().trim().to_string();
            let mut t = tag_name.get_untracked().trim().to_string();
            // "repo:tag" typed into Repository alone (a registry's ":port" is not a tag).
            if t.is_empty() {
                if let Some((head, tail)) = r.rsplit_once(':') {
                    if !tail.contains('/') {
                        t = tail.to_string();
                        r = head.to_string();
                    }
                }
            }
            let body = wire::TagRequest {
                repo: r,
                tag: Some(t).filter(|t| !t.is_empty()),
            };
            let url = format!("/api/images/{}/tag", api::enc(&id));
            spawn_local(async move {
                match api::call::<_, ()>(Method::Post, &url, Some(&body)).await {
                    Ok(()) => {
                        tagging.set(false);
                        on_change.run(Change::Changed);
                    }
                    Err(e) => tag_error.set(Some(error_text(lang.get_untracked(), &e))),
                }
            });
        }
    };

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
                        t.fail(error_text(lang.get_untracked(), &e));
                    }
                });
            }
        });
    };
    let question_name = shown.clone();
    view! {
        <h1 class="mono break" data-testid="image-title">{shown.clone()}</h1>
        <div class="panel" data-testid="image-actions">
            <div class="actions">
                <A href=run_href attr:class="btn btn-primary" attr:data-testid="image-run">
                    {page::tr(P::Run)}
                </A>
                <button
                    type="button"
                    class="btn"
                    data-testid="image-tag-open"
                    aria-expanded=move || tagging.get().to_string()
                    on:click=move |_| tagging.update(|t| *t = !*t)
                >
                    {page::tr(P::Tag)}
                </button>
                <ConfirmButton
                    label=Signal::derive(move || page::t(lang.get(), P::Remove).to_string())
                    question=Signal::derive(move || confirm::question(lang.get(), What::Images, &question_name))
                    testid="image-remove"
                    class="btn"
                    on_confirm=remove_image
                />
                <label class="check" title=page::tr(P::ForceNote)>
                    <input type="checkbox" data-testid="image-force" bind:checked=force />
                    <span>{page::tr(P::Force)}</span>
                </label>
            </div>
            {move || remove_error.get().map(|msg| {
                let hint = crate::i18n::ux::image_remove_hint(&msg);
                view! {
                    <div class="form-error" role="alert" data-testid="image-remove-error">
                        <div>{msg}</div>
                        {hint.map(|h| view! {
                            <div class="hint" data-testid="image-remove-hint">{crate::i18n::ux::tr(h)}</div>
                        })}
                    </div>
                }
            })}
            <Show when=move || tagging.get()>
                <form class="form-row" data-testid="image-tag-form" on:submit=submit_tag.clone()>
                    <label class="field">
                        <span>{page::tr(P::Repo)}</span>
                        <input class="input" data-testid="image-tag-repo" bind:value=repo required placeholder="repository[:tag]" />
                    </label>
                    <label class="field">
                        <span>{page::tr(P::TagName)}</span>
                        <input class="input" data-testid="image-tag-tag" bind:value=tag_name placeholder="latest" />
                    </label>
                    <div class="actions">
                        <button type="submit" class="btn btn-primary" data-testid="image-tag-submit">
                            {page::tr(P::TagSubmit)}
                        </button>
                        <button type="button" class="btn btn-ghost" on:click=move |_| tagging.set(false)>
                            {tr(Key::Close)}
                        </button>
                    </div>
                    {move || tag_error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="image-tag-error">{e}</p> })}
                </form>
            </Show>
        </div>
        <div class="panel">
            <h2>{tr(Key::Overview)}</h2>
            <dl class="facts">
                <dt>{tr(Key::ColId)}</dt>
                <dd class="mono break" data-testid="image-full-id">{id.clone()}</dd>
                <dt>{tr(Key::ColSize)}</dt>
                <dd>{format::bytes(size)}</dd>
                <dt>{tr(Key::ColCreated)}</dt>
                <dd>{move || format::local_time(&created, lang.get().code())}</dd>
                <dt>{page::tr(P::Platform)}</dt>
                <dd class="mono" data-testid="image-platform">{platform}</dd>
                <dt>{tr(Key::ColTags)}</dt>
                <dd>
                    {if tags.is_empty() {
                        view! { <span class="muted" data-testid="image-tags-none">{page::tr(P::Nothing)}</span> }.into_any()
                    } else {
                        view! {
                            <span class="chips">
                                {tags
                                    .iter()
                                    .map(|t| {
                                        let (t_push, t_rm, t_q) = (t.clone(), t.clone(), t.clone());
                                        view! {
                                            <span class="tag-line" data-testid="image-tag-chip" data-tag=t.clone()>
                                                <span class="badge mono">{t.clone()}</span>
                                                " "
                                                <button
                                                    type="button"
                                                    class="btn btn-xs"
                                                    data-testid="image-push"
                                                    on:click=move |_| start_push(t_push.clone())
                                                >
                                                    {tr(Key::Push)}
                                                </button>
                                                <ConfirmButton
                                                    label=Signal::derive(move || page::t(lang.get(), P::RemoveTag).to_string())
                                                    question=Signal::derive(move || page::remove_tag_question(lang.get(), &t_q))
                                                    testid="image-tag-remove"
                                                    class="btn-xs"
                                                    on_confirm=Callback::new(move |()| remove(t_rm.clone(), false))
                                                />
                                            </span>
                                        }
                                    })
                                    .collect_view()}
                            </span>
                        }
                        .into_any()
                    }}
                </dd>
                <dt>{tr(Key::ColDigests)}</dt>
                <dd>{list_or_none(digests, "image-digests")}</dd>
            </dl>
        </div>
        {move || push.get().map(|task| view! { <TaskCard task /> })}
        <div class="panel" data-testid="image-config">
            <h2>{page::tr(P::Config)}</h2>
            <dl class="facts">
                <dt>{page::tr(P::Entrypoint)}</dt>
                <dd>{list_or_none(Some(entrypoint).filter(|e| !e.is_empty()).into_iter().collect(), "image-entrypoint")}</dd>
                <dt>{page::tr(P::Cmd)}</dt>
                <dd>{list_or_none(Some(cmd).filter(|c| !c.is_empty()).into_iter().collect(), "image-cmd")}</dd>
                <dt>{page::tr(P::Env)}</dt>
                <dd>{list_or_none(env, "image-env")}</dd>
                <dt>{page::tr(P::ExposedPorts)}</dt>
                <dd>{list_or_none(ports, "image-ports")}</dd>
                <dt>{page::tr(P::Volumes)}</dt>
                <dd>{list_or_none(volumes, "image-volumes")}</dd>
                <dt>{page::tr(P::Workdir)}</dt>
                <dd>{list_or_none(Some(workdir).filter(|w| !w.is_empty()).into_iter().collect(), "image-workdir")}</dd>
                <dt>{page::tr(P::User)}</dt>
                <dd>{list_or_none(Some(user).filter(|u| !u.is_empty()).into_iter().collect(), "image-user")}</dd>
                <dt>{page::tr(P::Labels)}</dt>
                <dd>{list_or_none(labels, "image-labels")}</dd>
            </dl>
        </div>
        <div class="panel" data-testid="image-used-by">
            <h2>{page::tr(P::UsedBy)} " (" {used_by.len()} ")"</h2>
            {if used_by.is_empty() {
                view! { <p class="muted" data-testid="image-used-by-none">{page::tr(P::UsedByNone)}</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th>{page::tr(P::ColName)}</th>
                                    <th>{page::tr(P::ColState)}</th>
                                    <th>{page::tr(P::ColImage)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {used_by
                                    .into_iter()
                                    .map(|c| {
                                        let name = c.display_name().to_string();
                                        let href = format!("/containers/{}", api::enc(&name));
                                        let badge = format!("badge state-{}", c.state);
                                        let row_name = name.clone();
                                        view! {
                                            <tr data-testid="image-used-by-row" data-name=row_name>
                                                <td data-label=page::tr(P::ColName)>
                                                    <A href=href attr:class="mono">{name}</A>
                                                </td>
                                                <td data-label=page::tr(P::ColState)>
                                                    <span class=badge>{c.state.clone()}</span>
                                                </td>
                                                <td class="mono break" data-label=page::tr(P::ColImage)>{c.image.clone()}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any()
            }}
        </div>
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

#[cfg(test)]
mod tests {
    use super::made_from;

    #[test]
    fn a_container_is_matched_by_tag_id_or_digest() {
        let id = format!("sha256:{}", "ab12".repeat(16));
        let tags = vec!["berth-test/busybox:latest".to_string()];
        let digests = vec!["berth-test/busybox@sha256:ffff".to_string()];
        assert!(made_from("berth-test/busybox", &id, &tags, &digests));
        assert!(made_from("berth-test/busybox:latest", &id, &tags, &digests));
        assert!(made_from(&id, &id, &tags, &digests));
        assert!(made_from("ab12ab12ab12", &id, &tags, &digests));
        assert!(made_from(
            "berth-test/busybox@sha256:ffff",
            &id,
            &tags,
            &digests
        ));
        assert!(!made_from("berth-test/busybox:1", &id, &tags, &digests));
        assert!(!made_from("ab12", &id, &tags, &digests));
    }
}
