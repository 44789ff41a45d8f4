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
use crate::pages::{containers::Containers, dashboard::Dashboard, login::Login};

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

    view! {
        <Header />
        <main class="main" id="main">
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=Login />
                <Route path=path!("/") view=|| view! { <Protected><Dashboard /></Protected> } />
                <Route
                    path=path!("/containers")
                    view=|| view! { <Protected><Containers /></Protected> }
                />
                <Route path=path!("/stacks") view=|| view! { <Protected>{lazy(split::stacks)}</Protected> } />
                <Route path=path!("/stacks/new") view=|| view! { <Protected>{lazy(split::new_stack)}</Protected> } />
                <Route
                    path=path!("/stacks/:name")
                    view=|| view! { <Protected>{lazy(split::stack_detail)}</Protected> }
                />
                <Route path=path!("/networks") view=|| view! { <Protected>{lazy(split::networks)}</Protected> } />
                <Route path=path!("/volumes") view=|| view! { <Protected>{lazy(split::volumes)}</Protected> } />
                <Route path=path!("/system") view=|| view! { <Protected>{lazy(split::system)}</Protected> } />
                <Route path=path!("/admin") view=|| view! { <Protected>{lazy(split::admin)}</Protected> } />
                <Route path=path!("/account") view=|| view! { <Protected>{lazy(split::account)}</Protected> } />
                <Route
                    path=path!("/containers/new")
                    view=|| view! { <Protected>{lazy(split::container_create)}</Protected> }
                />
                <Route
                    path=path!("/containers/:id")
                    view=|| view! { <Protected>{lazy(split::container_detail)}</Protected> }
                />
                <Route
                    path=path!("/containers/:id/files")
                    view=|| view! { <Protected>{lazy(split::container_files)}</Protected> }
                />
                <Route path=path!("/shares") view=|| view! { <Protected>{lazy(split::shares)}</Protected> } />
                <Route
                    path=path!("/shares/:name")
                    view=|| view! { <Protected>{lazy(split::share_files)}</Protected> }
                />
                <Route
                    path=path!("/volumes/:name/files")
                    view=|| view! { <Protected>{lazy(split::volume_files)}</Protected> }
                />
                <Route path=path!("/images") view=|| view! { <Protected>{lazy(split::images)}</Protected> } />
                <Route
                    path=path!("/images/build")
                    view=|| view! { <Protected>{lazy(split::build)}</Protected> }
                />
                <Route
                    path=path!("/images/:id")
                    view=|| view! { <Protected>{lazy(split::image_detail)}</Protected> }
                />
                <Route
                    path=path!("/registries")
                    view=|| view! { <Protected>{lazy(split::registries)}</Protected> }
                />
            </Routes>
        </main>
    }
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

/// A page whose code is a wasm chunk of its own, fetched the first time the page is shown
/// (`cargo xtask` splits the wasm at each `#[lazy]` function in [`split`]). The first load
/// then carries the shell, the login, the dashboard and the containers list only.
fn lazy<F>(load: fn() -> F) -> impl IntoView
where
    F: std::future::Future<Output = AnyView> + 'static,
{
    Suspend::new(send_wrapper::SendWrapper::new(load()))
}

/// The split points: one per page (see [`lazy`]). Built untracked: the page is made once,
/// when its chunk has arrived, and not again when a signal it read while being made changes.
mod split {
    use leptos::prelude::*;

    #[lazy]
    pub fn stack_detail() -> AnyView {
        untrack(|| view! { <crate::pages::stack_detail::StackDetailPage /> }.into_any())
    }
    #[lazy]
    pub fn new_stack() -> AnyView {
        untrack(|| view! { <crate::pages::stacks::NewStack /> }.into_any())
    }
    #[lazy]
    pub fn stacks() -> AnyView {
        untrack(|| view! { <crate::pages::stacks::Stacks /> }.into_any())
    }
    #[lazy]
    pub fn networks() -> AnyView {
        untrack(|| view! { <crate::pages::networks::Networks /> }.into_any())
    }
    #[lazy]
    pub fn volumes() -> AnyView {
        untrack(|| view! { <crate::pages::volumes::Volumes /> }.into_any())
    }
    #[lazy]
    pub fn system() -> AnyView {
        untrack(|| view! { <crate::pages::system::System /> }.into_any())
    }
    #[lazy]
    pub fn admin() -> AnyView {
        untrack(|| view! { <crate::pages::admin::Admin /> }.into_any())
    }
    #[lazy]
    pub fn account() -> AnyView {
        untrack(|| view! { <crate::pages::account::Account /> }.into_any())
    }
    #[lazy]
    pub fn container_create() -> AnyView {
        untrack(|| view! { <crate::pages::container_create::ContainerCreate /> }.into_any())
    }
    #[lazy]
    pub fn container_detail() -> AnyView {
        untrack(|| view! { <crate::pages::container_detail::ContainerDetail /> }.into_any())
    }
    #[lazy]
    pub fn container_files() -> AnyView {
        untrack(|| view! { <crate::pages::volume_files::ContainerFiles /> }.into_any())
    }
    #[lazy]
    pub fn shares() -> AnyView {
        untrack(|| view! { <crate::pages::shares::Shares /> }.into_any())
    }
    #[lazy]
    pub fn share_files() -> AnyView {
        untrack(|| view! { <crate::pages::shares::ShareFiles /> }.into_any())
    }
    #[lazy]
    pub fn volume_files() -> AnyView {
        untrack(|| view! { <crate::pages::volume_files::VolumeFiles /> }.into_any())
    }
    #[lazy]
    pub fn images() -> AnyView {
        untrack(|| view! { <crate::pages::images::Images /> }.into_any())
    }
    #[lazy]
    pub fn build() -> AnyView {
        untrack(|| view! { <crate::pages::build::Build /> }.into_any())
    }
    #[lazy]
    pub fn image_detail() -> AnyView {
        untrack(|| view! { <crate::pages::image_detail::ImageDetail /> }.into_any())
    }
    #[lazy]
    pub fn registries() -> AnyView {
        untrack(|| view! { <crate::pages::registries::Registries /> }.into_any())
    }
}
