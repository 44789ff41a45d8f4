//! The app shell: context (language, session), the router and the routes.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_navigate;
use leptos_router::{path, NavigateOptions};
use wire::Me;

use crate::api::{self, ApiError};
use crate::components::header::Header;
use crate::components::status::{ErrorPanel, Loading};
use crate::i18n::{tr, I18n, Key};
use crate::lazy::{self, Lazy, Page};
use crate::pages::{containers::Containers, login::Login};

/// Who is logged in, shared through context.
#[derive(Clone, Copy)]
pub struct Session {
    /// `Some` once `/api/auth/me` (or the login) said who we are.
    pub me: RwSignal<Option<Me>>,
    /// `/api/auth/me` failed for another reason than 401 (server down, say).
    pub error: RwSignal<Option<ApiError>>,
}

impl Session {
    /// Asks the server who we are. A 401 is handled by `api::call` (off to `/login`).
    pub fn load(self) {
        self.error.set(None);
        spawn_local(async move {
            match api::get::<Me>("/api/auth/me").await {
                Ok(me) => self.me.set(Some(me)),
                Err(e) if e.status == 401 => self.me.set(None),
                Err(e) => self.error.set(Some(e)),
            }
        });
    }
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

#[component]
pub fn App() -> impl IntoView {
    provide_context(I18n::init());
    provide_context(Session {
        me: RwSignal::new(None),
        error: RwSignal::new(None),
    });
    view! {
        <Router>
            <Shell />
        </Router>
    }
}

/// Everything inside the router: it needs `use_navigate`, so the 401 handler lives here.
#[component]
fn Shell() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    api::set_unauthorized_handler(move || {
        session.me.try_set(None);
        let location = window().location();
        let path = location.pathname().unwrap_or_default();
        if path.starts_with("/login") {
            return;
        }
        // Come back here after logging in.
        let here = format!("{path}{}", location.search().unwrap_or_default());
        navigate(
            &format!("/login?next={}", api::enc(&here)),
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        );
    });
    session.load();
    keep_env_in_url();

    view! {
        <Header />
        <main class="main" id="main">
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=Login />
                <Route path=path!("/") view=|| page(Page::Dashboard) />
                <Route
                    path=path!("/containers")
                    view=|| view! { <Protected><Containers /></Protected> }
                />
                <Route path=path!("/stacks") view=|| page(Page::Stacks) />
                <Route path=path!("/stacks/new") view=|| page(Page::NewStack) />
                <Route
                    path=path!("/stacks/:name")
                    view=|| page(Page::StackDetail)
                />
                <Route path=path!("/networks") view=|| page(Page::Networks) />
                <Route path=path!("/volumes") view=|| page(Page::Volumes) />
                <Route path=path!("/system") view=|| page(Page::System) />
                <Route path=path!("/environments") view=|| page(Page::Environments) />
                <Route path=path!("/admin") view=|| page(Page::Admin) />
                <Route path=path!("/account") view=|| page(Page::Account) />
                <Route
                    path=path!("/containers/new")
                    view=|| page(Page::ContainerCreate)
                />
                <Route
                    path=path!("/containers/:id")
                    view=|| page(Page::ContainerDetail)
                />
                <Route
                    path=path!("/containers/:id/files")
                    view=|| page(Page::ContainerFiles)
                />
                <Route path=path!("/shares") view=|| page(Page::Shares) />
                <Route
                    path=path!("/shares/:name")
                    view=|| page(Page::ShareFiles)
                />
                <Route
                    path=path!("/volumes/:name/files")
                    view=|| page(Page::VolumeFiles)
                />
                <Route path=path!("/templates") view=|| page(Page::Templates) />
                <Route path=path!("/webhooks") view=|| page(Page::Webhooks) />
                <Route path=path!("/images") view=|| page(Page::Images) />
                <Route
                    path=path!("/images/build")
                    view=|| page(Page::Build)
                />
                <Route
                    path=path!("/images/:id")
                    view=|| page(Page::ImageDetail)
                />
                <Route
                    path=path!("/registries")
                    view=|| page(Page::Registries)
                />
                <Route path=path!("/swarm") view=|| page(Page::Swarm) />
                <Route path=path!("/swarm/services") view=|| page(Page::Services) />
                <Route
                    path=path!("/swarm/services/:id")
                    view=|| page(Page::Service)
                />
                <Route
                    path=path!("/swarm/visualizer")
                    view=|| page(Page::Visualizer)
                />
                <Route path=path!("/swarm/secrets") view=|| page(Page::SwarmFiles) />
            </Routes>
        </main>
    }
}

/// A page whose code is in a chunk (`lazy`): its load starts at once, beside the session's.
fn page(page: Page) -> impl IntoView {
    lazy::start(page.group());
    view! { <Protected><Lazy page /></Protected> }
}

/// Renders its children only once the session is known, so pages never fire requests that
/// would just come back 401.
#[component]
fn Protected(children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let logged_in = Memo::new(move |_| session.me.with(Option::is_some));
    let retry = Callback::new(move |_| session.load());
    move || {
        if logged_in.get() {
            children().into_any()
        } else if let Some(err) = session.error.get() {
            view! { <ErrorPanel err retry /> }.into_any()
        } else {
            view! { <Loading /> }.into_any()
        }
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <div class="panel state-panel" data-testid="not-found">
                <h2>{tr(Key::NotFoundTitle)}</h2>
                <p>{tr(Key::PageNotFound)}</p>
            </div>
        </section>
    }
}

/// Keeps `?env=` in the address bar after every navigation, so a copied link opens the
/// same host (in-app links leave it out; the chosen environment is remembered).
fn keep_env_in_url() {
    // Opening a link with `?env=` chooses that host, as the switcher does: otherwise the
    // first in-app link (which leaves `?env=` out) would go back to the remembered one.
    if let Some(env) = api::env_in_url() {
        api::choose_env(&env);
    }
    let location = leptos_router::hooks::use_location();
    Effect::new(move |_| {
        let _ = location.pathname.get();
        let _ = location.search.get();
        let Some(env) = api::current_env() else {
            return;
        };
        if env == "local" || api::env_in_url().is_some() {
            return;
        }
        let loc = window().location();
        let path = loc.pathname().unwrap_or_default();
        let search = loc.search().unwrap_or_default();
        let sep = if search.is_empty() { "?" } else { "&" };
        let url = format!("{path}{search}{sep}env={}", api::enc(&env));
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    });
}
