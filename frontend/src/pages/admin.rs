//! `/admin`: users, teams and the audit log (admins only; the server enforces it too).

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{AuditEntry, CreateTeam, CreateUser, PatchUser, Role, TeamInfo, UserInfo};

use crate::api::{self, ApiError, Method};
use crate::app::use_session;
use crate::components::confirm::{self, ConfirmButton, What};
use crate::components::status::Loading;
use crate::format;
use crate::i18n::admin::{tr, Key};
use crate::i18n::ux::{tr as trx, Key as X};
use crate::i18n::{error_text, use_i18n, Lang};
use crate::words;

fn role_key(role: Role) -> Key {
    match role {
        Role::Admin => Key::RoleAdmin,
        Role::Operator => Key::RoleOperator,
        Role::Viewer => Key::RoleViewer,
    }
}

/// Splits "a, b,,c" into team names.
fn teams_of(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[component]
pub fn Admin() -> impl IntoView {
    let i18n = use_i18n();
    let users = LocalResource::new(|| api::get::<Vec<UserInfo>>("/api/users"));
    let teams = LocalResource::new(|| api::get::<Vec<TeamInfo>>("/api/teams"));
    let reload = move || {
        users.refetch();
        teams.refetch();
    };
    // Runs a request; on success reloads users and teams, on failure puts the envelope in
    // `slot`, which is shown next to what caused it (a form, a row).
    let run = move |fut: Job, slot: ErrorSlot| {
        spawn_local(async move {
            match fut.await {
                Ok(()) => {
                    slot.set(None);
                    reload();
                }
                Err(e) => slot.set(Some(e)),
            }
        });
    };
    let user_error = RwSignal::new(None::<ApiError>);
    let team_error = RwSignal::new(None::<ApiError>);

    // New user form.
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new("operator".to_string());
    let new_teams = RwSignal::new(String::new());
    let create_user = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = CreateUser {
            username: username.get_untracked(),
            password: password.get_untracked(),
            role: Role::parse(&role.get_untracked()).unwrap_or(Role::Viewer),
            teams: teams_of(&new_teams.get_untracked()),
        };
        run(
            Box::pin(async move {
                let res =
                    api::call::<CreateUser, UserInfo>(Method::Post, "/api/users", Some(&body))
                        .await;
                // Made: the form starts over. Refused: it keeps what was typed, so the
                // admin corrects the one thing the message names.
                if res.is_ok() {
                    username.set(String::new());
                    password.set(String::new());
                    new_teams.set(String::new());
                }
                res.map(|_| ())
            }),
            user_error,
        );
    };
    let team_name = RwSignal::new(String::new());
    let create_team = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = CreateTeam {
            name: team_name.get_untracked(),
        };
        run(
            Box::pin(async move {
                let res =
                    api::call::<CreateTeam, ()>(Method::Post, "/api/teams", Some(&body)).await;
                if res.is_ok() {
                    team_name.set(String::new());
                }
                res
            }),
            team_error,
        );
    };
    let shown = move |slot: ErrorSlot, testid: &'static str| {
        move || {
            slot.get().map(|e| {
                view! {
                    <p class="form-error" role="alert" data-testid=testid>
                        {error_text(i18n.lang.get(), &e)}
                    </p>
                }
            })
        }
    };
    let me = use_session().me;
    let my_name = move || me.with(|m| m.as_ref().map(|m| m.username.clone()));

    view! {
        <section class="page" data-testid="admin-page">
            <div class="page-head">
                <h1>{tr(Key::NavAdmin)}</h1>
            </div>
            <div class="panel">
                <h2>{tr(Key::Teams)}</h2>
                <form class="inline-form" on:submit=create_team>
                    <input
                        class="input"
                        data-testid="team-name"
                        placeholder=tr(Key::NewTeam)
                        bind:value=team_name
                        required
                    />
                    <button class="btn btn-primary" type="submit" data-testid="team-create">
                        {tr(Key::Create)}
                    </button>
                </form>
                {shown(team_error, "team-error")}
                <Transition fallback=Loading>
                    {move || Suspend::new(async move {
                        match teams.await {
                            Ok(list) if list.is_empty() => {
                                view! { <p class="empty">{tr(Key::NoTeams)}</p> }.into_any()
                            }
                            Ok(list) => {
                                view! {
                                    <div class="table-wrap">
                                        <table class="table">
                                            <thead>
                                                <tr>
                                                    <th>{tr(Key::Teams)}</th>
                                                    <th>{tr(Key::Members)}</th>
                                                    <th></th>
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {list
                                                    .into_iter()
                                                    .map(|team| {
                                                        let name = team.name.clone();
                                                        let asked = team.name.clone();
                                                        let row_error = RwSignal::new(None::<ApiError>);
                                                        let run = StoredValue::new_local(run);
                                                        view! {
                                                            <tr data-testid="team-row" data-name=team.name.clone()>
                                                                <td>{team.name.clone()}</td>
                                                                <td>{team.members.join(", ")}</td>
                                                                <td>
                                                                    <ConfirmButton
                                                                        label=Signal::derive(move || tr(Key::Delete)().to_string())
                                                                        question=Signal::derive(move || confirm::question(i18n.lang.get(), What::Team, &asked))
                                                                        testid="team-delete"
                                                                        on_confirm=Callback::new(move |()| {
                                                                            let url = format!("/api/teams/{}", api::enc(&name));
                                                                            run.with_value(|run| run(Box::pin(async move { api::call_unit(Method::Delete, &url).await }), row_error));
                                                                        })
                                                                    />
                                                                    {shown(row_error, "row-error")}
                                                                </td>
                                                            </tr>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                }
                                    .into_any()
                            }
                            Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
            <div class="panel">
                <h2>{tr(Key::Users)}</h2>
                <form class="inline-form" on:submit=create_user data-testid="user-form">
                    <input class="input" data-testid="user-name" placeholder=tr(Key::Username) bind:value=username required />
                    <input class="input" data-testid="user-password" type="password" placeholder=tr(Key::Password) bind:value=password required />
                    <select class="input" data-testid="user-role" bind:value=role>
                        <option value="viewer">{tr(Key::RoleViewer)}</option>
                        <option value="operator">{tr(Key::RoleOperator)}</option>
                        <option value="admin">{tr(Key::RoleAdmin)}</option>
                    </select>
                    <input class="input" data-testid="user-teams" placeholder=tr(Key::TeamsHint) bind:value=new_teams />
                    <button class="btn btn-primary" type="submit" data-testid="user-create">
                        {tr(Key::Create)}
                    </button>
                </form>
                {shown(user_error, "user-error")}
                <Transition fallback=Loading>
                    {move || Suspend::new(async move {
                        match users.await {
                            Ok(list) => {
                                view! {
                                    <div class="table-wrap">
                                        <table class="table">
                                            <thead>
                                                <tr>
                                                    <th>{tr(Key::Username)}</th>
                                                    <th>{tr(Key::Role)}</th>
                                                    <th>{tr(Key::TeamsCol)}</th>
                                                    <th>{tr(Key::State)}</th>
                                                    <th></th>
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {list.into_iter().map(|u| {
                                                    let me = my_name().as_deref() == Some(u.username.as_str());
                                                    user_row(u, me, run)
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                }
                                    .into_any()
                            }
                            Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
            <AuditLog />
        </section>
    }
}

/// A request `run` makes.
type Job = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ApiError>>>>;
/// Where a request's error is shown.
type ErrorSlot = RwSignal<Option<ApiError>>;

/// A user's row. On the admin's own row Disable and Delete are "you": the server refuses
/// both (an admin cannot lock themselves out), so the page does not offer them.
fn user_row(u: UserInfo, me: bool, run: impl Fn(Job, ErrorSlot) + Copy + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let row_error = RwSignal::new(None::<ApiError>);
    let name = u.username.clone();
    let url = format!("/api/users/{}", api::enc(&name));
    let teams_text = RwSignal::new(u.teams.join(", "));
    let disabled = u.disabled;
    let role = u.role;
    let patch = move |body: PatchUser| {
        let url = url.clone();
        run(
            Box::pin(
                async move { api::call::<PatchUser, ()>(Method::Patch, &url, Some(&body)).await },
            ),
            row_error,
        );
    };
    let patch_role = patch.clone();
    let patch_teams = patch.clone();
    let delete_url = format!("/api/users/{}", api::enc(&name));
    view! {
        <tr data-testid="user-row" data-name=name.clone()>
            <td>{name.clone()}</td>
            <td>
                <select
                    class="input input-sm"
                    data-testid="user-row-role"
                    on:change=move |ev| {
                        if let Some(r) = Role::parse(&event_target_value(&ev)) {
                            patch_role(PatchUser { role: Some(r), ..Default::default() });
                        }
                    }
                >
                    {[Role::Viewer, Role::Operator, Role::Admin]
                        .into_iter()
                        .map(|r| view! { <option value=r.as_str() selected=r == role>{tr(role_key(r))}</option> })
                        .collect_view()}
                </select>
            </td>
            <td>
                <input
                    class="input input-sm"
                    data-testid="user-row-teams"
                    bind:value=teams_text
                    on:change=move |_| {
                        patch_teams(PatchUser { teams: Some(teams_of(&teams_text.get_untracked())), ..Default::default() });
                    }
                />
            </td>
            <td>
                <span class="badge" class:badge-muted=disabled>
                    {if disabled { tr(Key::Disabled)() } else { tr(Key::Active)() }}
                </span>
            </td>
            <td class="row-actions">
                {if me {
                    view! { <span class="badge" data-testid="user-you">{trx(X::You)}</span> }.into_any()
                } else {
                    let asked = name.clone();
                    let run = StoredValue::new_local(run);
                    view! {
                        <button
                            class="btn btn-sm"
                            data-testid="user-disable"
                            on:click=move |_| patch(PatchUser { disabled: Some(!disabled), ..Default::default() })
                        >
                            {if disabled { tr(Key::Enable) } else { tr(Key::Disable) }}
                        </button>
                        <ConfirmButton
                            label=Signal::derive(move || tr(Key::Delete)().to_string())
                            question=Signal::derive(move || confirm::question(i18n.lang.get(), What::User, &asked))
                            testid="user-delete"
                            on_confirm=Callback::new(move |()| {
                                let url = delete_url.clone();
                                run.with_value(|run| {
                                    run(Box::pin(async move { api::call_unit(Method::Delete, &url).await }), row_error)
                                });
                            })
                        />
                    }
                    .into_any()
                }}
                {move || row_error.get().map(|e| view! {
                    <p class="form-error" role="alert" data-testid="row-error">{error_text(i18n.lang.get(), &e)}</p>
                })}
            </td>
        </tr>
    }
}

/// An audit action for people: "Create volume" / "创建数据卷"; the raw name when a word
/// is not known.
fn action_text(lang: Lang, action: &str) -> String {
    match (lang, words::action_words(action)) {
        (Lang::En, Some((en, _))) => en,
        (Lang::ZhCn, Some((_, zh))) => zh,
        (_, None) => action.to_string(),
    }
}

/// A target with each container id in it (`ID`, or a network's `NETWORK ID`) as the
/// container's name, other ids cut to the 12 characters the CLI prints.
fn target_text(target: &str, names: &HashMap<String, String>) -> String {
    format::name_ids(target, |hex| names.get(hex).cloned())
}

#[component]
fn AuditLog() -> impl IntoView {
    let i18n = use_i18n();
    let user = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    let entries = LocalResource::new(move || {
        let mut url = "/api/audit?limit=200".to_string();
        let (u, a) = (user.get(), action.get());
        if !u.trim().is_empty() {
            url.push_str(&format!("&user={}", api::enc(u.trim())));
        }
        if !a.trim().is_empty() {
            url.push_str(&format!("&action={}", api::enc(a.trim())));
        }
        async move { api::get::<Vec<AuditEntry>>(&url).await }
    });
    let containers =
        LocalResource::new(|| api::get::<Vec<wire::ContainerSummary>>("/api/containers?all=true"));
    view! {
        <div class="panel" data-testid="audit">
            <h2>{tr(Key::Audit)}</h2>
            <div class="inline-form">
                <input class="input" placeholder=tr(Key::FilterUser) bind:value=user />
                <input class="input" placeholder=tr(Key::FilterAction) bind:value=action />
            </div>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match entries.await {
                        Ok(rows) if rows.is_empty() => view! { <p class="empty">{tr(Key::NoAudit)}</p> }.into_any(),
                        Ok(rows) => {
                            let lang = i18n.lang.get_untracked();
                            let code = lang.code();
                            // Container ids become names where the container still exists.
                            let names: HashMap<String, String> = containers
                                .await
                                .unwrap_or_default()
                                .into_iter()
                                .map(|c| (c.id.clone(), c.display_name().to_string()))
                                .collect();
                            view! {
                                <div class="table-wrap">
                                    <table class="table audit-table">
                                        <thead>
                                            <tr>
                                                <th>{tr(Key::When)}</th>
                                                <th>{tr(Key::Who)}</th>
                                                <th>{tr(Key::Action)}</th>
                                                <th>{tr(Key::Target)}</th>
                                                <th>{tr(Key::Result)}</th>
                                                <th>{tr(Key::From)}</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {rows
                                                .into_iter()
                                                .map(|r| {
                                                    let target = r.target.clone().unwrap_or_default();
                                                    let shown = target_text(&target, &names);
                                                    let result = match lang {
                                                        Lang::ZhCn => words::result_zh(&r.result)
                                                            .map(str::to_owned)
                                                            .unwrap_or_else(|| r.result.clone()),
                                                        Lang::En => r.result.clone(),
                                                    };
                                                    view! {
                                                        <tr data-testid="audit-row">
                                                            <td class="nowrap" data-label=tr(Key::When)>
                                                                <time data-testid="audit-when" title=format::local_time_secs(r.at, code)>
                                                                    {format::short_time_secs(r.at, code)}
                                                                </time>
                                                            </td>
                                                            <td data-label=tr(Key::Who)>{r.user.unwrap_or_default()}</td>
                                                            <td data-label=tr(Key::Action) data-testid="audit-action"
                                                                data-action=r.action.clone() title=r.action.clone()>
                                                                {action_text(lang, &r.action)}
                                                            </td>
                                                            <td class="mono wrap-any" data-label=tr(Key::Target) title=target>{shown}</td>
                                                            <td data-label=tr(Key::Result) title=r.result.clone()>{result}</td>
                                                            <td class="mono nowrap" data-label=tr(Key::From) data-testid="audit-from">
                                                                {r.peer.unwrap_or_default()}
                                                            </td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}
