//! The top bar: brand, navigation, language, theme, user and logout.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api::{self, Method};
use crate::app::use_session;
use crate::components::theme::ThemeToggle;
use crate::i18n::stacks::{tr as stacks_tr, Key as StacksKey};
use crate::i18n::{images, tr, use_i18n, Key, Lang};

#[component]
pub fn Header() -> impl IntoView {
    let session = use_session();
    let i18n = use_i18n();
    let navigate = use_navigate();
    // On a phone the nav folds behind a menu button.
    let menu_open = RwSignal::new(false);

    let logout = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            // Whatever the server says, this browser is done with the session.
            let _ = api::call_unit(Method::Post, "/api/auth/logout").await;
            session.me.set(None);
            navigate("/login", Default::default());
        });
    };

    let lang_switch = view! {
        <select
            class="lang-switch"
            data-testid="lang-switch"
            aria-label=tr(Key::Language)
            title=tr(Key::Language)
            prop:value=move || i18n.lang.get().code()
            on:change=move |ev| {
                if let Some(lang) = Lang::from_tag(&event_target_value(&ev)) {
                    i18n.set(lang);
                }
            }
        >
            {Lang::ALL
                .iter()
                .map(|lang| {
                    let lang = *lang;
                    view! {
                        <option value=lang.code() selected=move || i18n.lang.get() == lang>
                            {lang.label()}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    };

    view! {
        <header class="topbar" class:menu-open=move || menu_open.get()>
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"⚓"</span>
                <span>"berth"</span>
            </A>
            <Show when=move || session.me.with(Option::is_some)>
                <button
                    type="button"
                    class="icon-btn nav-toggle"
                    data-testid="nav-toggle"
                    aria-label=tr(Key::Menu)
                    aria-expanded=move || menu_open.get().to_string()
                    on:click=move |_| menu_open.update(|o| *o = !*o)
                >
                    "☰"
                </button>
                <nav class="nav" on:click=move |_| menu_open.set(false)>
                    <A href="/" exact=true attr:data-testid="nav-dashboard">
                        {tr(Key::NavDashboard)}
                    </A>
                    <A href="/containers" attr:data-testid="nav-containers">
                        {tr(Key::NavContainers)}
                    </A>
                    <A href="/images" attr:data-testid="nav-images">
                        {images::tr(images::Key::NavImages)}
                    </A>
                    <A href="/stacks" attr:data-testid="nav-stacks">
                        {stacks_tr(StacksKey::NavStacks)}
                    </A>
                    <A href="/networks" attr:data-testid="nav-networks">
                        {stacks_tr(StacksKey::NavNetworks)}
                    </A>
                    <A href="/volumes" attr:data-testid="nav-volumes">
                        {stacks_tr(StacksKey::NavVolumes)}
                    </A>
                    <A href="/shares" attr:data-testid="nav-files">
                        {crate::i18n::files::tr(crate::i18n::files::Key::NavFiles)}
                    </A>
                    <SwarmNav />
                    // What the daemon runs, then how berth and the host are set up.
                    <span class="nav-sep" aria-hidden="true"></span>
                    <A href="/registries" attr:data-testid="nav-registries">
                        {images::tr(images::Key::NavRegistries)}
                    </A>
                    <A href="/environments" attr:data-testid="nav-environments">
                        {crate::i18n::environments::tr(crate::i18n::environments::Key::NavEnvironments)}
                    </A>
                    <A href="/templates" attr:data-testid="nav-templates">
                        {crate::i18n::templates::tr(crate::i18n::templates::Key::NavTemplates)}
                    </A>
                    <A href="/webhooks" attr:data-testid="nav-webhooks">
                        {crate::i18n::automation::tr(crate::i18n::automation::Key::NavWebhooks)}
                    </A>
                    <A href="/system" attr:data-testid="nav-system">
                        {stacks_tr(StacksKey::NavSystem)}
                    </A>
                    <Show when=move || session.me.with(|m| m.as_ref().is_some_and(|m| m.role == wire::Role::Admin))>
                        <A href="/admin" attr:data-testid="nav-admin">
                            {crate::i18n::admin::tr(crate::i18n::admin::Key::NavAdmin)}
                        </A>
                    </Show>
                    <A href="/account" attr:data-testid="nav-account">
                        {crate::i18n::admin::tr(crate::i18n::admin::Key::NavAccount)}
                    </A>
                </nav>
            </Show>
            <div class="topbar-tools">
                <Show when=move || session.me.with(Option::is_some)>
                    <crate::pages::environments::EnvSwitcher />
                </Show>
                {lang_switch}
                <ThemeToggle />
                {move || {
                    session
                        .me
                        .get()
                        .map(|me| {
                            view! {
                                <span class="user" data-testid="current-user" title=me.role.as_str()>
                                    {me.username}
                                </span>
                                <button
                                    type="button"
                                    class="btn btn-sm btn-ghost"
                                    data-testid="logout"
                                    on:click=logout.clone()
                                >
                                    {tr(Key::Logout)}
                                </button>
                            }
                        })
                }}
            </div>
        </header>
    }
}

/// "Swarm" in the nav, shown when the environment's daemon is a swarm manager (what the
/// Swarm pages need): asked once per page load, as choosing an environment reloads the page.
#[component]
fn SwarmNav() -> impl IntoView {
    let manager = LocalResource::new(|| async {
        api::get::<serde_json::Value>("/api/system/info")
            .await
            .is_ok_and(|info| info["Swarm"]["ControlAvailable"] == true)
    });
    move || {
        (manager.get() == Some(true)).then(|| {
            view! {
                <A href="/swarm" attr:data-testid="nav-swarm">
                    {crate::i18n::swarm::tr(crate::i18n::swarm::Key::NavSwarm)}
                </A>
            }
        })
    }
}
