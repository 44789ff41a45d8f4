//! `/networks`: networks with their containers and addresses; create, connect with a fixed
//! address, disconnect, remove.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{ConnectNetwork, CreateNetwork, DisconnectNetwork, NetworkSummary};

use crate::api::{self, ApiError, Method};
use crate::components::confirm::{self, ConfirmButton, What};
use crate::components::picker::{Kind, Picker, Picks};
use crate::components::status::{ErrorPanel, Loading};
use crate::format;
use crate::i18n::stacks::{tr, Key};
use crate::i18n::{error_text, use_i18n};

/// "a=1, b=2" → a map (also for volume options).
pub fn pairs(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .filter_map(|kv| {
            let kv = kv.trim();
            if kv.is_empty() {
                return None;
            }
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            Some((k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}

fn opt(s: String) -> Option<String> {
    let s = s.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

#[component]
pub fn Networks() -> impl IntoView {
    let i18n = use_i18n();
    // The rows' container fields share one list of containers.
    Picks::provide();
    let list = LocalResource::new(|| api::get::<Vec<NetworkSummary>>("/api/networks"));
    let error = RwSignal::new(None::<String>);
    let retry = Callback::new(move |_| list.refetch());
    // Runs a request; its error goes to `slot` (shown next to what caused it), success
    // clears the slot and reloads the list. A failure keeps the list (and so the row
    // showing the error) as it is.
    let run = move |fut: Job, slot: RwSignal<Option<String>>| {
        spawn_local(async move {
            match fut.await {
                Ok(()) => {
                    slot.set(None);
                    list.refetch();
                }
                Err(e) => {
                    // The daemon names networks and containers by 64-hex id; the page
                    // knows their names.
                    let known = list
                        .get_untracked()
                        .and_then(Result::ok)
                        .unwrap_or_default();
                    let msg = format::name_ids(&error_text(i18n.lang.get_untracked(), &e), |hex| {
                        known.iter().find_map(|n| {
                            if n.id == hex {
                                Some(n.name.clone())
                            } else {
                                n.containers
                                    .iter()
                                    .find(|m| m.id == hex)
                                    .map(|m| m.name.clone())
                            }
                        })
                    });
                    slot.set(Some(msg));
                }
            }
        });
    };

    let name = RwSignal::new(String::new());
    let driver = RwSignal::new(String::new());
    let subnet = RwSignal::new(String::new());
    let gateway = RwSignal::new(String::new());
    let ip_range = RwSignal::new(String::new());
    let internal = RwSignal::new(false);
    let labels = RwSignal::new(String::new());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = CreateNetwork {
            name: name.get_untracked().trim().to_owned(),
            driver: opt(driver.get_untracked()),
            subnet: opt(subnet.get_untracked()),
            gateway: opt(gateway.get_untracked()),
            ip_range: opt(ip_range.get_untracked()),
            internal: internal.get_untracked(),
            labels: pairs(&labels.get_untracked()),
            team: None,
        };
        run(
            Box::pin(async move {
                let res =
                    api::call::<_, serde_json::Value>(Method::Post, "/api/networks", Some(&body))
                        .await;
                // Created: the form starts over for the next one. Refused: it keeps what
                // was typed, to be corrected.
                if res.is_ok() {
                    for field in [name, driver, subnet, gateway, ip_range, labels] {
                        field.set(String::new());
                    }
                    internal.set(false);
                }
                res.map(|_| ())
            }),
            error,
        );
    };

    view! {
        <section class="page" data-testid="networks-page">
            <div class="page-head"><h1>{tr(Key::NavNetworks)}</h1></div>
            <form class="inline-form" on:submit=create>
                <input class="input" data-testid="network-name" placeholder=tr(Key::Name) required bind:value=name />
                <input class="input" data-testid="network-driver" placeholder=tr(Key::Driver) bind:value=driver />
                <input class="input" data-testid="network-subnet" placeholder=tr(Key::Subnet) bind:value=subnet />
                <input class="input" data-testid="network-gateway" placeholder=tr(Key::Gateway) bind:value=gateway />
                <input class="input" data-testid="network-ip-range" placeholder=tr(Key::IpRange) bind:value=ip_range />
                <input class="input" data-testid="network-labels" placeholder=tr(Key::LabelsHint) bind:value=labels />
                <label class="check"><input type="checkbox" data-testid="network-internal" bind:checked=internal /><span>{tr(Key::Internal)}</span></label>
                <button class="btn btn-primary" data-testid="network-create" type="submit">{tr(Key::Create)}</button>
            </form>
            {move || error.get().map(|e| view! { <div class="banner banner-error" role="alert" data-testid="network-form-error">{e}</div> })}
            {move || match list.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(err)) => view! { <ErrorPanel err retry /> }.into_any(),
                Some(Ok(rows)) if rows.is_empty() => view! { <p>{tr(Key::NoNetworks)}</p> }.into_any(),
                Some(Ok(rows)) => view! {
                    <div class="table-wrap">
                        <table class="table networks-table">
                            <thead><tr>
                                <th>{tr(Key::Name)}</th><th>{tr(Key::Driver)}</th><th>{tr(Key::Subnet)}</th>
                                <th>{tr(Key::Containers)}</th><th class="col-actions">{tr(Key::Actions)}</th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|n| view! { <NetworkRow n run /> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
        </section>
    }
}

/// A request `run` makes, showing its error in a given slot.
type Job = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ApiError>>>>;

#[component]
fn NetworkRow(
    n: NetworkSummary,
    run: impl Fn(Job, RwSignal<Option<String>>) + Copy + 'static,
) -> impl IntoView {
    // This row's last error, shown in the row.
    let error = RwSignal::new(None::<String>);
    let container = RwSignal::new(String::new());
    let ipv4 = RwSignal::new(String::new());
    let id = n.id.clone();
    // Who is on it already is not offered for connecting.
    let on_it = n
        .containers
        .iter()
        .map(|m| m.name.clone())
        .collect::<Vec<_>>();
    let connect = {
        let id = id.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let body = ConnectNetwork {
                container: container.get_untracked().trim().to_owned(),
                ipv4: opt(ipv4.get_untracked()),
                aliases: vec![],
            };
            let url = format!("/api/networks/{}/connect", api::enc(&id));
            run(
                Box::pin(async move { api::call::<_, ()>(Method::Post, &url, Some(&body)).await }),
                error,
            );
        }
    };
    let remove = {
        let id = id.clone();
        move |()| {
            let url = format!("/api/networks/{}", api::enc(&id));
            run(
                Box::pin(async move { api::call_unit(Method::Delete, &url).await }),
                error,
            );
        }
    };
    let subnets = n
        .subnets
        .iter()
        .map(|s| {
            let mut t = s.subnet.clone().unwrap_or_default();
            if let Some(g) = &s.gateway {
                t.push_str(&format!(" gw {g}"));
            }
            if let Some(r) = &s.ip_range {
                t.push_str(&format!(" range {r}"));
            }
            t
        })
        .collect::<Vec<_>>()
        .join(", ");
    let members = n
        .containers
        .iter()
        .map(|m| {
            let (cid, nid) = (m.id.clone(), id.clone());
            let disconnect = move |_| {
                let url = format!("/api/networks/{}/disconnect", api::enc(&nid));
                let body = DisconnectNetwork { container: cid.clone(), force: false };
                run(Box::pin(async move { api::call::<_, ()>(Method::Post, &url, Some(&body)).await }), error);
            };
            view! {
                <div class="member" data-testid="network-member">
                    <span>{m.name.clone()}</span>" "
                    <span class="mono">{m.ipv4.clone().unwrap_or_default()}</span>" "
                    <button class="btn btn-xs" on:click=disconnect title=tr(Key::Disconnect)>"×"</button>
                </div>
            }
        })
        .collect_view();
    view! {
        <tr data-testid="network-row" data-name=n.name.clone()>
            <td class="cell-name" data-label=tr(Key::Name)>{n.name.clone()}{n.builtin.then(|| view! { " " <span class="badge">{tr(Key::Builtin)}</span> })}</td>
            <td data-label=tr(Key::Driver)>{n.driver.clone()}{n.internal.then(|| view! { " " <span class="badge">{tr(Key::Internal)}</span> })}</td>
            <td class="mono" data-label=tr(Key::Subnet)>{subnets}</td>
            <td data-label=tr(Key::Containers)><div class="members">{members}</div></td>
            <td class="col-actions" data-label=tr(Key::Actions)>
                <form class="inline-form" on:submit=connect>
                    <Picker kind=Kind::Container value=container testid="network-connect-container" class="input input-sm"
                        placeholder=Signal::derive(move || tr(Key::Container)().to_owned()) skip=on_it />
                    <input class="input input-sm" placeholder=tr(Key::Ipv4) bind:value=ipv4 />
                    <button class="btn btn-sm" type="submit" data-testid="network-connect">{tr(Key::Connect)}</button>
                </form>
                {(!n.builtin).then(|| {
                    let lang = use_i18n().lang;
                    let net = n.name.clone();
                    // `run` is not `Send`; the callback reaches it through a local store.
                    let remove = StoredValue::new_local(remove);
                    view! {
                        <ConfirmButton
                            label=Signal::derive(move || tr(Key::Remove)().to_string())
                            question=Signal::derive(move || confirm::question(lang.get(), What::Network, &net))
                            testid="network-remove"
                            on_confirm=Callback::new(move |()| remove.with_value(|f| f(())))
                        />
                    }
                })}
                {move || error.get().map(|e| view! { <p class="form-error row-error" role="alert" data-testid="row-error">{e}</p> })}
            </td>
        </tr>
    }
}
