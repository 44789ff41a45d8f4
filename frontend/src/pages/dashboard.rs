//! `/`: the hosts (when there are several), and what the chosen daemon is and holds, from
//! `GET /api/system/summary`.

use leptos::prelude::*;
use wire::SystemSummary;

use crate::api;
use crate::components::status::{boundary_fallback, Loading};
use crate::format;
use crate::i18n::{tr, Key};

#[component]
pub fn Dashboard() -> impl IntoView {
    let summary = LocalResource::new(|| api::get::<SystemSummary>("/api/system/summary"));
    let retry = Callback::new(move |_| summary.refetch());

    view! {
        <section class="page" data-testid="dashboard-page">
            <div class="page-head">
                <h1>{tr(Key::NavDashboard)}</h1>
            </div>
            <crate::pages::environments::HostsSummary />
            <Transition fallback=Loading>
                <ErrorBoundary fallback=boundary_fallback(retry)>
                    {move || Suspend::new(async move {
                        summary.await.map(|s| view! { <Cards s /> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[component]
fn Cards(s: SystemSummary) -> impl IntoView {
    let card = |label: Key, value: String, testid: &'static str| {
        // Long words (an OS name) get a smaller type than numbers.
        let class = if value.len() > 12 {
            "stat-value stat-text"
        } else {
            "stat-value"
        };
        view! {
            <div class="card stat">
                <div class="stat-label">{tr(label)}</div>
                <div class=class data-testid=testid>{value}</div>
            </div>
        }
    };
    view! {
        <div class="cards">
            {card(Key::Engine, s.version, "dash-version")}
            {card(Key::ApiVersion, s.api_version, "dash-api-version")}
            {card(Key::OperatingSystem, s.os, "dash-os")}
            {card(Key::Kernel, s.kernel, "dash-kernel")}
            {card(Key::Cpus, s.cpus.to_string(), "dash-cpus")}
            {card(Key::Memory, format::bytes(s.memory), "dash-memory")}
        </div>
        <div class="cards">
            <a href="/containers" class="card stat stat-link">
                <div class="stat-label">{tr(Key::Containers)}</div>
                <div class="stat-value" data-testid="dash-containers">{s.containers}</div>
                <div class="stat-breakdown">
                    <span class="part">
                        <span class="dot dot-running"></span>
                        <span data-testid="dash-running">{s.running}</span>
                        {tr(Key::Running)}
                    </span>
                    <span class="part">
                        <span class="dot dot-paused"></span>
                        <span data-testid="dash-paused">{s.paused}</span>
                        {tr(Key::Paused)}
                    </span>
                    <span class="part">
                        <span class="dot dot-stopped"></span>
                        <span data-testid="dash-stopped">{s.stopped}</span>
                        {tr(Key::Stopped)}
                    </span>
                </div>
            </a>
            {card(Key::Images, s.images.to_string(), "dash-images")}
            {card(Key::Volumes, s.volumes.to_string(), "dash-volumes")}
        </div>
    }
}
