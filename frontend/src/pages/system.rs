//! `/system`: `docker system df`, and `docker system prune` with a preview of what would go
//! before the admin confirms.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{DiskUsage, DiskUsageRow, SystemPrune, SystemPruned};

use crate::api::{self, ApiError, Method};
use crate::components::confirm::PreviewList;
use crate::components::status::{ErrorPanel, Loading};
use crate::format;
use crate::i18n::stacks::{tr, Key};
use crate::i18n::ux::{tr as trx, Key as X};
use crate::i18n::{error_text, use_i18n};

#[component]
pub fn System() -> impl IntoView {
    let i18n = use_i18n();
    let df = LocalResource::new(|| api::get::<DiskUsage>("/api/system/df"));
    let retry = Callback::new(move |_| df.refetch());
    let all = RwSignal::new(false);
    let volumes = RwSignal::new(false);
    let preview = RwSignal::new(None::<SystemPruned>);
    let result = RwSignal::new(None::<SystemPruned>);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);

    let prune = move |dry_run: bool| {
        let body = SystemPrune {
            volumes: volumes.get_untracked(),
            all: all.get_untracked(),
            dry_run,
            labels: vec![],
        };
        busy.set(true);
        spawn_local(async move {
            let res =
                api::call::<_, SystemPruned>(Method::Post, "/api/system/prune", Some(&body)).await;
            busy.set(false);
            match res {
                Ok(r) if dry_run => {
                    result.set(None);
                    preview.set(Some(r));
                }
                Ok(r) => {
                    preview.set(None);
                    result.set(Some(r));
                    df.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    // A changed option makes an older preview wrong.
    Effect::new(move |_| {
        let _ = (all.get(), volumes.get());
        preview.set(None);
    });

    let row = |label: Key, r: DiskUsageRow| {
        view! {
            <tr data-testid="df-row">
                <td>{tr(label)}</td>
                <td>{r.count}</td>
                <td>{r.active}</td>
                <td>{format::bytes(r.size)}</td>
                <td>{format::bytes(r.reclaimable)}</td>
            </tr>
        }
    };
    let list = |label: Key, testid: &'static str, items: Vec<String>| {
        (!items.is_empty()).then(|| {
            let n = items.len();
            view! {
                <div data-testid=testid data-count=n.to_string()>
                    <h3>{tr(label)}" ("{n}")"</h3>
                    <PreviewList items />
                </div>
            }
        })
    };
    let summary = move |p: SystemPruned| {
        let empty = p.containers.is_empty()
            && p.images.is_empty()
            && p.networks.is_empty()
            && p.volumes.is_empty()
            && p.build_cache == 0;
        view! {
            {empty.then(|| view! { <p>{tr(Key::PreviewNothing)}</p> })}
            {list(Key::ContainersRow, "prune-containers", p.containers)}
            {list(Key::Images, "prune-images", p.images)}
            {list(Key::NetworksRow, "prune-networks", p.networks)}
            {list(Key::VolumesRow, "prune-volumes", p.volumes)}
            {(p.build_cache > 0).then(|| view! { <p>{tr(Key::BuildCache)}": "{p.build_cache}</p> })}
            // A preview frees nothing yet: it says what the listed things take, and only
            // when that is known to be something.
            {if !p.dry_run {
                Some(view! {
                    <p data-testid="prune-space"><strong>{tr(Key::SpaceReclaimed)}": "</strong>{format::bytes(p.space_reclaimed)}</p>
                }.into_any())
            } else if p.space_reclaimed > 0 {
                Some(view! {
                    <p data-testid="prune-space"><strong>{trx(X::WouldFree)}" "</strong>{format::bytes(p.space_reclaimed)}</p>
                }.into_any())
            } else {
                None
            }}
        }
    };

    view! {
        <section class="page" data-testid="system-page">
            <div class="page-head"><h1>{tr(Key::DiskUsage)}</h1></div>
            {move || match df.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <ErrorPanel err retry /> }.into_any(),
                Some(Ok(d)) => view! {
                    <div class="table-wrap">
                        <table class="table" data-testid="df">
                            <thead><tr>
                                <th>{tr(Key::Kind)}</th><th>{tr(Key::Count)}</th><th>{tr(Key::Active)}</th>
                                <th>{tr(Key::Size)}</th><th>{tr(Key::Reclaimable)}</th>
                            </tr></thead>
                            <tbody>
                                {row(Key::Images, d.images)}
                                {row(Key::ContainersRow, d.containers)}
                                {row(Key::VolumesRow, d.volumes)}
                                {row(Key::BuildCache, d.build_cache)}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
            <h2>{tr(Key::Prune)}</h2>
            <div class="toolbar">
                <label class="check"><input type="checkbox" data-testid="prune-all" bind:checked=all /><span>{tr(Key::PruneAll)}</span></label>
                <label class="check"><input type="checkbox" data-testid="prune-volumes" bind:checked=volumes /><span>{tr(Key::PruneVolumes)}</span></label>
                <button class="btn" data-testid="prune-preview" disabled=move || busy.get() on:click=move |_| prune(true)>{tr(Key::Preview)}</button>
            </div>
            {move || error.get().map(|e| view! { <div class="banner banner-error" role="alert">{error_text(i18n.lang.get(), &e)}</div> })}
            {move || preview.get().map(|p| view! {
                <div class="panel" data-testid="prune-preview-result">
                    {summary(p)}
                    <button class="btn btn-danger" data-testid="prune-confirm" disabled=move || busy.get() on:click=move |_| prune(false)>
                        {tr(Key::ConfirmPrune)}
                    </button>
                </div>
            })}
            {move || result.get().map(|p| view! {
                <div class="panel" data-testid="prune-result"><h3>{tr(Key::Pruned)}</h3>{summary(p)}</div>
            })}
        </section>
    }
}
