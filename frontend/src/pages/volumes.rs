//! `/volumes`: volumes with the containers using them and their sizes; create, remove.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use wire::{CreateVolume, VolumeSummary};

use super::networks::pairs;
use crate::api::{self, ApiError, Method};
use crate::components::confirm::{self, ConfirmButton, What};
use crate::components::status::{ErrorPanel, Loading};
use crate::format;
use crate::i18n::stacks::{tr, Key};
use crate::i18n::{error_text, use_i18n};

#[component]
pub fn Volumes() -> impl IntoView {
    let i18n = use_i18n();
    let sizes = RwSignal::new(false);
    let list = LocalResource::new(move || {
        let url = if sizes.get() {
            "/api/volumes?size=true"
        } else {
            "/api/volumes"
        };
        api::get::<Vec<VolumeSummary>>(url)
    });
    let error = RwSignal::new(None::<ApiError>);
    let retry = Callback::new(move |_| list.refetch());
    let name = RwSignal::new(String::new());
    let driver = RwSignal::new(String::new());
    let options = RwSignal::new(String::new());
    let labels = RwSignal::new(String::new());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = CreateVolume {
            name: name.get_untracked().trim().to_owned(),
            driver: Some(driver.get_untracked().trim().to_owned()).filter(|d| !d.is_empty()),
            options: pairs(&options.get_untracked()),
            labels: pairs(&labels.get_untracked()),
            team: None,
        };
        spawn_local(async move {
            match api::call::<_, serde_json::Value>(Method::Post, "/api/volumes", Some(&body)).await
            {
                Ok(_) => {
                    error.set(None);
                    for field in [name, driver, options, labels] {
                        field.set(String::new());
                    }
                    list.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    // Why removing a volume failed, shown in its row (the list may be long; a banner at
    // the top is out of sight). The daemon names the containers using it by 64-hex id.
    let row_errors = RwSignal::new(std::collections::BTreeMap::<String, String>::new());
    let remove = move |volume: String| {
        spawn_local(async move {
            let url = format!("/api/volumes/{}", api::enc(&volume));
            match api::call_unit(Method::Delete, &url).await {
                Ok(()) => {
                    row_errors.update(|e| {
                        e.remove(&volume);
                    });
                    list.refetch();
                }
                Err(e) => {
                    let msg =
                        format::name_ids(&error_text(i18n.lang.get_untracked(), &e), |_| None);
                    row_errors.update(|errs| {
                        errs.insert(volume, msg);
                    });
                }
            }
        });
    };

    view! {
        <section class="page" data-testid="volumes-page">
            <div class="page-head"><h1>{tr(Key::NavVolumes)}</h1></div>
            <form class="inline-form" on:submit=create>
                <input class="input" data-testid="volume-name" placeholder=tr(Key::Name) required bind:value=name />
                <input class="input" placeholder=tr(Key::Driver) bind:value=driver />
                <input class="input" placeholder=tr(Key::OptionsHint) bind:value=options />
                <input class="input" placeholder=tr(Key::LabelsHint) bind:value=labels />
                <button class="btn btn-primary" data-testid="volume-create" type="submit">{tr(Key::Create)}</button>
                <label class="check"><input type="checkbox" bind:checked=sizes /><span>{tr(Key::Measure)}</span></label>
            </form>
            {move || error.get().map(|e| view! { <div class="banner banner-error" role="alert">{error_text(i18n.lang.get(), &e)}</div> })}
            {move || match list.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <ErrorPanel err retry /> }.into_any(),
                Some(Ok(rows)) if rows.is_empty() => view! { <p>{tr(Key::NoVolumes)}</p> }.into_any(),
                Some(Ok(rows)) => view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead><tr>
                                <th>{tr(Key::Name)}</th><th>{tr(Key::Driver)}</th><th>{tr(Key::Size)}</th>
                                <th>{tr(Key::UsedBy)}</th><th>{tr(Key::Mountpoint)}</th><th class="col-actions">{tr(Key::Actions)}</th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|v| {
                                    let (n, n_asked, n_err) = (v.name.clone(), v.name.clone(), v.name.clone());
                                    let href = format!("/volumes/{}/files", api::enc(&v.name));
                                    let (row_name, link_text) = (v.name.clone(), v.name.clone());
                                    view! {
                                        <tr data-testid="volume-row" data-name=row_name>
                                            <td class="mono">
                                                // The volume's file browser (issue 7's page).
                                                <A href=href>{link_text}</A>
                                            </td>
                                            <td>{v.driver.clone()}</td>
                                            <td>{v.size.map(format::bytes).unwrap_or_default()}</td>
                                            <td>{v.containers.join(", ")}</td>
                                            <td class="mono muted">{v.mountpoint.clone()}</td>
                                            <td class="col-actions">
                                                <ConfirmButton
                                                    label=Signal::derive(move || tr(Key::Remove)().to_string())
                                                    question=Signal::derive(move || confirm::question(i18n.lang.get(), What::Volume, &n_asked))
                                                    testid="volume-remove"
                                                    on_confirm=Callback::new(move |()| remove(n.clone()))
                                                />
                                                {move || row_errors.with(|e| e.get(&n_err).cloned()).map(|e| view! {
                                                    <p class="form-error row-error" role="alert" data-testid="row-error">{e}</p>
                                                })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
        </section>
    }
}
