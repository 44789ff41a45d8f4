//! Page groups loaded on demand: the code of every page but the login and the containers
//! list is in one of seven wasm chunks (`cargo xtask ui` splits the wasm at
//! the `#[wasm_split]` functions below), fetched the first time a page of its group is shown.
//!
//! Made robust where the first split (18 `#[lazy]` pages behind `Suspend`, reverted) was not:
//!
//! - A chunk's load runs in a task that no view owns ([`start`]), so re-rendering or leaving
//!   the page never drops it half way. (Leptos aborts a `Suspend`'s future when its owner
//!   is cleaned up; the split loader's once-cell then had a load in flight whose caller was
//!   gone.) The state lives in a signal per group that no view owns either, and every
//!   [`Lazy`] of that group reads it.
//! - A failed load is an error, not a panic: the split functions are `fallible` (Leptos'
//!   `#[lazy]` calls `expect` on the load, which aborts the whole app on one failed fetch).
//!   A failed or stalled fetch is retried by itself ([`ATTEMPTS`], with a pause between);
//!   after the last, the page shows the error and a Retry button.
//! - A stalled fetch does not wait forever: the chunk loader's fetch (patched in by xtask,
//!   `xtask/src/chunk_fetch.js`) aborts a download that receives nothing for 10 s.
//!
//! Fewer, larger chunks (seven groups, not one per page) keep a first visit to a handful of
//! fetches.

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use leptos::prelude::*;
use leptos::wasm_split::{wasm_split, SplitLoaderError};

use crate::api::ApiError;
use crate::components::status::{ErrorPanel, Loading};
use crate::i18n::{tr, Key};

/// Loads of one group tried before the page shows its error and a Retry button.
const ATTEMPTS: u32 = 3;
/// Pause before attempt n + 1 (ms), after attempt n failed.
const PAUSE_MS: [i32; 2] = [500, 1500];

/// A page whose code is in a chunk.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Page {
    Dashboard,
    ContainerCreate,
    ContainerDetail,
    ContainerFiles,
    Stacks,
    NewStack,
    StackDetail,
    Images,
    Build,
    ImageDetail,
    Registries,
    Networks,
    Volumes,
    VolumeFiles,
    Shares,
    ShareFiles,
    System,
    Environments,
    Admin,
    Account,
    Webhooks,
    Templates,
    Swarm,
    Services,
    Service,
    Visualizer,
    SwarmFiles,
}

/// The chunks: pages that are visited together share one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Group {
    Home,
    Container,
    Stacks,
    Images,
    Storage,
    Settings,
    Swarm,
}

const GROUPS: usize = 7;

impl Page {
    pub fn group(self) -> Group {
        use Page::*;
        match self {
            Dashboard | System => Group::Home,
            ContainerCreate | ContainerDetail | ContainerFiles => Group::Container,
            Stacks | NewStack | StackDetail | Templates => Group::Stacks,
            Images | Build | ImageDetail | Registries => Group::Images,
            Networks | Volumes | VolumeFiles | Shares | ShareFiles => Group::Storage,
            Environments | Admin | Account | Webhooks => Group::Settings,
            Swarm | Services | Service | Visualizer | SwarmFiles => Group::Swarm,
        }
    }
}

/// Where a group's load is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Not asked for yet.
    Idle,
    /// Attempt n (from 1) is running.
    Loading(u32),
    Ready,
    /// Every attempt failed; [`start`] tries again.
    Failed,
}

thread_local! {
    // `ArcRwSignal`s: reference counted, owned by no view, so never disposed.
    static STATES: RefCell<Vec<ArcRwSignal<State>>> =
        RefCell::new((0..GROUPS).map(|_| ArcRwSignal::new(State::Idle)).collect());
}

fn state(group: Group) -> ArcRwSignal<State> {
    STATES.with(|s| s.borrow()[group as usize].clone())
}

/// Starts loading `group`'s chunk unless it is loaded or loading. Called when a route of the
/// group is entered (before the session is known, so the two load side by side) and by Retry.
pub fn start(group: Group) {
    let state = state(group);
    if matches!(state.get_untracked(), State::Loading(_) | State::Ready) {
        return;
    }
    state.set(State::Loading(1));
    // Not `leptos::task::spawn_local`: that task would belong to the current view's owner.
    wasm_bindgen_futures::spawn_local(async move {
        for attempt in 1..=ATTEMPTS {
            state.set(State::Loading(attempt));
            if preload(group).await.is_ok() {
                state.set(State::Ready);
                return;
            }
            if let Some(&ms) = PAUSE_MS.get(attempt as usize - 1) {
                sleep(ms).await;
            }
        }
        state.set(State::Failed);
    });
}

/// A page of a group: "Loading…" while its chunk loads (with "Reconnecting…" once a fetch
/// failed), the page once it is there, or the error and a Retry button.
#[component]
pub fn Lazy(page: Page) -> impl IntoView {
    let group = page.group();
    let state = state(group);
    start(group);
    let retry = Callback::new(move |_| start(group));
    move || match state.get() {
        // Made untracked: the page is made once, not again when a signal it reads while
        // being made changes (its own effects track what they need).
        State::Ready => untrack(|| match now(render(page)) {
            Some(Ok(view)) => view,
            // Cannot happen once the chunk is loaded; say so rather than show nothing.
            _ => view! { <ErrorPanel err=load_error() retry /> }.into_any(),
        }),
        State::Failed => view! { <ErrorPanel err=load_error() retry /> }.into_any(),
        loading => {
            let retrying = matches!(loading, State::Loading(n) if n > 1);
            view! {
                <div data-testid="page-loading" data-group=format!("{group:?}")>
                    <Loading />
                    {retrying.then(|| view! { <p class="muted center">{tr(Key::LiveReconnecting)}</p> })}
                </div>
            }
            .into_any()
        }
    }
}

fn load_error() -> ApiError {
    ApiError {
        status: 0,
        code: "network".into(),
        message: "this page's code could not be fetched from the server".into(),
    }
}

/// Polls a future once: the split functions are ready at once when their chunk is loaded.
fn now<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

async fn preload(group: Group) -> Result<(), SplitLoaderError> {
    match group {
        Group::Home => preload_home().await,
        Group::Container => preload_container().await,
        Group::Stacks => preload_stacks().await,
        Group::Images => preload_images().await,
        Group::Storage => preload_storage().await,
        Group::Settings => preload_settings().await,
        Group::Swarm => preload_swarm().await,
    }
}

async fn render(page: Page) -> Result<AnyView, SplitLoaderError> {
    match page.group() {
        Group::Home => home(page).await,
        Group::Container => container(page).await,
        Group::Stacks => stacks(page).await,
        Group::Images => images(page).await,
        Group::Storage => storage(page).await,
        Group::Settings => settings(page).await,
        Group::Swarm => swarm(page).await,
    }
}

// The split points, one per group. Each is the only way into its pages' code, so the
// splitter moves that code (and what only it uses) into the group's chunk.

#[wasm_split(berth_home, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_home))]
fn home(page: Page) -> Result<AnyView, SplitLoaderError> {
    use crate::pages::*;
    Ok(match page {
        Page::System => view! { <system::System /> }.into_any(),
        _ => view! { <dashboard::Dashboard /> }.into_any(),
    })
}

#[wasm_split(berth_container, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_container))]
fn container(page: Page) -> Result<AnyView, SplitLoaderError> {
    use crate::pages::*;
    Ok(match page {
        Page::ContainerCreate => view! { <container_create::ContainerCreate /> }.into_any(),
        Page::ContainerFiles => view! { <volume_files::ContainerFiles /> }.into_any(),
        _ => view! { <container_detail::ContainerDetail /> }.into_any(),
    })
}

#[wasm_split(berth_stacks, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_stacks))]
fn stacks(page: Page) -> Result<AnyView, SplitLoaderError> {
    use crate::pages::*;
    Ok(match page {
        Page::NewStack => view! { <stacks::NewStack /> }.into_any(),
        Page::StackDetail => view! { <stack_detail::StackDetailPage /> }.into_any(),
        Page::Templates => view! { <templates::Templates /> }.into_any(),
        _ => view! { <stacks::Stacks /> }.into_any(),
    })
}

#[wasm_split(berth_images, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_images))]
fn images(page: Page) -> Result<AnyView, SplitLoaderError> {
    use crate::pages::*;
    Ok(match page {
        Page::Build => view! { <build::Build /> }.into_any(),
        Page::ImageDetail => view! { <image_detail::ImageDetail /> }.into_any(),
        Page::Registries => view! { <registries::Registries /> }.into_any(),
        _ => view! { <images::Images /> }.into_any(),
    })
}

#[wasm_split(berth_storage, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_storage))]
fn storage(page: Page) -> Result<AnyView, SplitLoaderError> {
    use crate::pages::*;
    Ok(match page {
        Page::Networks => view! { <networks::Networks /> }.into_any(),
        Page::VolumeFiles => view! { <volume_files::VolumeFiles /> }.into_any(),
        Page::Shares => view! { <shares::Shares /> }.into_any(),
        Page::ShareFiles => view! { <shares::ShareFiles /> }.into_any(),
        _ => view! { <volumes::Volumes /> }.into_any(),
    })
}

#[wasm_split(berth_settings, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_settings))]
fn settings(page: Page) -> Result<AnyView, SplitLoaderError> {
    use crate::pages::*;
    Ok(match page {
        Page::Admin => view! { <admin::Admin /> }.into_any(),
        Page::Account => view! { <account::Account /> }.into_any(),
        Page::Webhooks => view! { <webhooks::Webhooks /> }.into_any(),
        _ => view! { <environments::Environments /> }.into_any(),
    })
}

#[wasm_split(berth_swarm, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_swarm))]
fn swarm(page: Page) -> Result<AnyView, SplitLoaderError> {
    use crate::pages::swarm::*;
    Ok(match page {
        Page::Services => view! { <services::Services /> }.into_any(),
        Page::Service => view! { <services::ServicePage /> }.into_any(),
        Page::Visualizer => view! { <visualizer::Visualizer /> }.into_any(),
        Page::SwarmFiles => view! { <files::SwarmFiles /> }.into_any(),
        _ => view! { <overview::Overview /> }.into_any(),
    })
}
