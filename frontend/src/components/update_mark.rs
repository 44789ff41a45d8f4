//! "Update available" on a container's and a stack's page (issue 16): what the update
//! detector says of its image(s) (`GET /api/updates`, answers kept on the server a few
//! minutes), and an Update button that starts the health-gated update job and shows how it
//! ended — succeeded, or failed and rolled back with the reason.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::i18n::updates::{t, Key};
use crate::i18n::use_i18n;

/// What the mark is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A container, by id.
    Container(String),
    /// A stack berth manages, by name.
    Stack(String),
}

impl Target {
    fn matches(&self, u: &wire::UpdateInfo) -> bool {
        match self {
            Target::Container(id) => u.container == *id || u.container.starts_with(id.as_str()),
            Target::Stack(name) => u.stack.as_deref() == Some(name.as_str()),
        }
    }

    fn url(&self) -> String {
        match self {
            Target::Container(id) => format!("/api/containers/{}/update", api::enc(id)),
            Target::Stack(name) => format!("/api/stacks/{}/update", api::enc(name)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Run {
    Idle,
    Running,
    Done,
    Failed(String),
}

#[component]
pub fn UpdateMark(target: Target) -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang;
    let rows = LocalResource::new(|| api::get::<Vec<wire::UpdateInfo>>("/api/updates"));
    let run = RwSignal::new(Run::Idle);
    let target = StoredValue::new(target);
    let available = {
        Memo::new(move |_| {
            rows.get()
                .and_then(Result::ok)
                .unwrap_or_default()
                .into_iter()
                .filter(|u| target.with_value(|t| t.matches(u)) && u.update_available)
                .map(|u| u.image)
                .collect::<Vec<_>>()
        })
    };
    let start = {
        move |_| {
            let url = target.with_value(Target::url);
            run.set(Run::Running);
            spawn_local(async move {
                let started =
                    match api::call::<(), wire::JobStarted>(api::Method::Post, &url, None).await {
                        Ok(s) => s,
                        Err(e) => {
                            run.set(Run::Failed(e.to_string()));
                            return;
                        }
                    };
                // The job's end, waited for on the server (a long poll, not a timer).
                let job_url = format!("/api/jobs/{}?wait=600", api::enc(&started.job));
                match api::get::<wire::Job>(&job_url).await {
                    Ok(job) if job.state == wire::JobState::Succeeded => {
                        run.set(Run::Done);
                        rows.refetch();
                    }
                    Ok(job) => run.set(Run::Failed(
                        job.error
                            .map(|e| e.message)
                            .unwrap_or_else(|| format!("{:?}", job.state)),
                    )),
                    Err(e) => run.set(Run::Failed(e.to_string())),
                }
            });
        }
    };
    view! {
        <Show when=move || !available.get().is_empty() || run.get() != Run::Idle>
            <div class="update-mark" data-testid="update-mark">
                {move || {
                    let images = available.get();
                    (!images.is_empty()).then(|| view! {
                        <span class="badge badge-warn" data-testid="update-available"
                            title=images.join(", ")>
                            {move || t(lang.get(), Key::Available)}
                        </span>
                    })
                }}
                {move || match run.get() {
                    Run::Idle => view! {
                        <button type="button" class="btn btn-sm" data-testid="update-now"
                            on:click=start>
                            {move || t(lang.get(), Key::UpdateNow)}
                        </button>
                    }.into_any(),
                    Run::Running => view! {
                        <span class="update-busy" data-testid="update-busy" aria-busy="true">
                            <span class="spinner spinner-sm" aria-hidden="true"></span>
                            {move || t(lang.get(), Key::Updating)}
                        </span>
                    }.into_any(),
                    Run::Done => view! {
                        <span class="update-done" data-testid="update-done" role="status">
                            {move || t(lang.get(), Key::Updated)}
                        </span>
                    }.into_any(),
                    Run::Failed(why) => view! {
                        <span class="update-failed error-inline" data-testid="update-failed" role="alert">
                            {move || t(lang.get(), Key::Failed)} " " {why.clone()}
                        </span>
                    }.into_any(),
                }}
            </div>
        </Show>
    }
}
