//! `/admin`: users, teams and the audit log (admins only; the server enforces it too).

use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{AuditEntry, CreateTeam, CreateUser, PatchUser, Role, TeamInfo, UserInfo};

use crate::api::{self, ApiError, Method};
use crate::components::status::Loading;
use crate::format;
use crate::i18n::admin::{tr, Key};
use crate::i18n::{error_text, use_i18n};

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
    let error = RwSignal::new(None::<ApiError>);
    let reload = move || {
        users.refetch();
        teams.refetch();
    };
    // Runs a request; on success reloads users and teams, on failure shows the envelope.
    let run =
        move |fut: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ApiError>>>>| {
            spawn_local(async move {
                match fut.await {
                    Ok(()) => {
                        error.set(None);
                        reload();
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        };

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
        username.set(String::new());
        password.set(String::new());
        run(Box::pin(async move {
            api::call::<CreateUser, UserInfo>(Method::Post, "/api/users", Some(&body))
                .await
                .map(|_| ())
        }));
    };
    let team_name = RwSignal::new(String::new());
    let create_team = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = CreateTeam {
            name: team_name.get_untracked(),
        };
        team_name.set(String::new());
        run(Box::pin(async move {
            api::call::<CreateTeam, ()>(Method::Post, "/api/teams", Some(&body)).await
        }));
    };

    view! {
        <section class="page" data-testid="admin-page">
            <div class="page-head">
                <h1>{tr(Key::NavAdmin)}</h1>
            </div>
            {move || {
                error
                    .get()
                    .map(|e| {
                        view! {
                            <div class="banner banner-error" role="alert" data-testid="admin-error">
                                {error_text(i18n.lang.get(), &e)}
                            </div>
                        }
                    })
            }}
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
                                                        view! {
                                                            <tr data-testid="team-row" data-name=team.name.clone()>
                                                                <td>{team.name.clone()}</td>
                                                                <td>{team.members.join(", ")}</td>
                                                                <td>
                                                                    <button
                                                                        class="btn btn-sm btn-danger"
                                                                        on:click=move |_| {
                                                                            let url = format!("/api/teams/{}", api::enc(&name));
                                                                            run(Box::pin(async move { api::call_unit(Method::Delete, &url).await }));
                                                                        }
                                                                    >
                                                                        {tr(Key::Delete)}
                                                                    </button>
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
                                                {list.into_iter().map(|u| user_row(u, run)).collect_view()}
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

fn user_row(
    u: UserInfo,
    run: impl Fn(std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ApiError>>>>)
        + Copy
        + 'static,
) -> impl IntoView {
    let name = u.username.clone();
    let url = format!("/api/users/{}", api::enc(&name));
    let teams_text = RwSignal::new(u.teams.join(", "));
    let disabled = u.disabled;
    let role = u.role;
    let patch = move |body: PatchUser| {
        let url = url.clone();
        run(Box::pin(async move {
            api::call::<PatchUser, ()>(Method::Patch, &url, Some(&body)).await
        }));
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
                <button
                    class="btn btn-sm"
                    on:click=move |_| patch(PatchUser { disabled: Some(!disabled), ..Default::default() })
                >
                    {if disabled { tr(Key::Enable) } else { tr(Key::Disable) }}
                </button>
                <button
                    class="btn btn-sm btn-danger"
                    on:click=move |_| {
                        let url = delete_url.clone();
                        if window().confirm_with_message(tr(Key::ConfirmDelete)()).unwrap_or(false) {
                            run(Box::pin(async move { api::call_unit(Method::Delete, &url).await }));
                        }
                    }
                >
                    {tr(Key::Delete)}
                </button>
            </td>
        </tr>
    }
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
                            let code = i18n.lang.get_untracked().code();
                            view! {
                                <div class="table-wrap">
                                    <table class="table">
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
                                                    view! {
                                                        <tr data-testid="audit-row">
                                                            <td>{format::local_time_secs(r.at, code)}</td>
                                                            <td>{r.user.unwrap_or_default()}</td>
                                                            <td>{r.action}</td>
                                                            <td class="mono">{r.target.unwrap_or_default()}</td>
                                                            <td>{r.result}</td>
                                                            <td class="mono">{r.peer.unwrap_or_default()}</td>
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
