//! Pickers: a text field that offers what already exists (local images, networks, volumes,
//! containers, stacks) through an HTML `<datalist>`. The browser filters the offers as one types and
//! anything else can still be typed: an image not pulled yet, a volume the run will make,
//! a container by id. A `<datalist>` rather than a hand-made dropdown: keyboard, touch and
//! screen readers work as in any other field, and there is nothing to position or close.
//!
//! Each kind is fetched once per page: a page calls [`Picks::provide`] and all its fields of
//! a kind share one list, loaded the first time such a field renders. A list that cannot be
//! loaded (the daemon is away, the user may not list it) offers nothing; the field still
//! takes text.

use std::sync::atomic::{AtomicUsize, Ordering};

use leptos::prelude::*;
use leptos::task::spawn_local;
use wire::{ContainerSummary, ImageSummary, NetworkSummary, StackSummary, VolumeSummary};

use crate::api::{self, ApiError};
use crate::format;

/// What a field names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Image,
    Network,
    Volume,
    Container,
    Stack,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Image,
        Kind::Network,
        Kind::Volume,
        Kind::Container,
        Kind::Stack,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The list route it is read from (the same the resource's own page uses).
    fn url(self) -> &'static str {
        match self {
            Kind::Image => "/api/images",
            Kind::Network => "/api/networks",
            Kind::Volume => "/api/volumes",
            Kind::Container => "/api/containers?all=true",
            Kind::Stack => "/api/stacks",
        }
    }
}

/// One offer: what goes into the field, and a hint the browser shows beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// Local images by `repo:tag`, with their size; untagged ones cannot be named that way.
pub fn image_choices(list: &[ImageSummary]) -> Vec<Choice> {
    let mut out: Vec<Choice> = list
        .iter()
        .flat_map(|i| {
            i.repo_tags
                .iter()
                .filter(|t| !t.starts_with("<none>"))
                .map(|t| Choice {
                    value: t.clone(),
                    label: format::bytes(i.size),
                })
        })
        .collect();
    out.sort_by(|a, b| a.value.cmp(&b.value));
    out.dedup_by(|a, b| a.value == b.value);
    out
}

/// Networks by name, with their driver.
pub fn network_choices(list: &[NetworkSummary]) -> Vec<Choice> {
    let mut out: Vec<Choice> = list
        .iter()
        .map(|n| Choice {
            value: n.name.clone(),
            label: n.driver.clone(),
        })
        .collect();
    out.sort_by(|a, b| a.value.cmp(&b.value));
    out
}

/// Named volumes, with their driver. Anonymous ones (64 hex digits, made for one container)
/// are left out: nobody picks those by name, and there can be hundreds.
pub fn volume_choices(list: &[VolumeSummary]) -> Vec<Choice> {
    let anonymous = |n: &str| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit());
    let mut out: Vec<Choice> = list
        .iter()
        .filter(|v| !anonymous(&v.name))
        .map(|v| Choice {
            value: v.name.clone(),
            label: v.driver.clone(),
        })
        .collect();
    out.sort_by(|a, b| a.value.cmp(&b.value));
    out
}

/// Containers by name, with their image and state.
pub fn container_choices(list: &[ContainerSummary]) -> Vec<Choice> {
    let mut out: Vec<Choice> = list
        .iter()
        .map(|c| Choice {
            value: c.display_name().to_owned(),
            label: format!("{} · {}", c.image, c.state),
        })
        .collect();
    out.sort_by(|a, b| a.value.cmp(&b.value));
    out
}

/// Stacks berth keeps a compose file of (the ones it can deploy), with their status.
pub fn stack_choices(list: &[StackSummary]) -> Vec<Choice> {
    let mut out: Vec<Choice> = list
        .iter()
        .filter(|s| s.managed)
        .map(|s| Choice {
            value: s.name.clone(),
            label: s.status.clone(),
        })
        .collect();
    out.sort_by(|a, b| a.value.cmp(&b.value));
    out
}

async fn load(kind: Kind) -> Result<Vec<Choice>, ApiError> {
    let url = kind.url();
    Ok(match kind {
        Kind::Image => image_choices(&api::get::<Vec<ImageSummary>>(url).await?),
        Kind::Network => network_choices(&api::get::<Vec<NetworkSummary>>(url).await?),
        Kind::Volume => volume_choices(&api::get::<Vec<VolumeSummary>>(url).await?),
        Kind::Container => container_choices(&api::get::<Vec<ContainerSummary>>(url).await?),
        Kind::Stack => stack_choices(&api::get::<Vec<StackSummary>>(url).await?),
    })
}

/// A page's lists, one per kind, each fetched the first time a field asks for it.
#[derive(Clone, Copy)]
pub struct Picks {
    lists: [RwSignal<Vec<Choice>>; Kind::ALL.len()],
    asked: StoredValue<[bool; Kind::ALL.len()]>,
}

impl Picks {
    fn new() -> Picks {
        Picks {
            lists: Kind::ALL.map(|_| RwSignal::new(Vec::new())),
            asked: StoredValue::new([false; Kind::ALL.len()]),
        }
    }

    /// Lists for the fields of this page (and the components inside it).
    pub fn provide() -> Picks {
        let picks = Picks::new();
        provide_context(picks);
        picks
    }

    /// The offers of `kind`: empty until loaded (and if loading fails).
    fn of(self, kind: Kind) -> ReadSignal<Vec<Choice>> {
        let i = kind.index();
        let list = self.lists[i];
        let first = self
            .asked
            .try_update_value(|asked| !std::mem::replace(&mut asked[i], true));
        if first == Some(true) {
            spawn_local(async move {
                if let Ok(choices) = load(kind).await {
                    // Gone with its page: nothing to show it in.
                    let _ = list.try_set(choices);
                }
            });
        }
        list.read_only()
    }
}

/// A fresh `<datalist>` id: several fields (e.g. one per network row) each have one.
fn list_id() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("pick-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// A text input bound to `value` that offers the existing `kind`s; when `kind` changes
/// (a form's "stack or container" switch) the same field offers the other kind. `skip`
/// leaves out what makes no sense there (e.g. containers already on the network).
#[component]
pub fn Picker(
    #[prop(into)] kind: Signal<Kind>,
    value: RwSignal<String>,
    testid: &'static str,
    #[prop(into, optional)] placeholder: Signal<String>,
    /// The input's class; `input` unless given.
    #[prop(optional)]
    class: Option<&'static str>,
    #[prop(optional)] skip: Vec<String>,
    /// `aria-label`, for a field without a visible label.
    #[prop(into, optional)]
    aria_label: Option<Signal<String>>,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let picks = use_context::<Picks>().unwrap_or_else(Picks::new);
    let id = list_id();
    let options = move || {
        picks
            .of(kind.get())
            .get()
            .into_iter()
            .filter(|c| !skip.contains(&c.value))
            .map(|c| view! { <option value=c.value>{c.label}</option> })
            .collect_view()
    };
    view! {
        <input class=class.unwrap_or("input") data-testid=testid list=id.clone() autocomplete="off" required=required
            placeholder=move || placeholder.get() aria-label=move || aria_label.map(|l| l.get())
            bind:value=value />
        <datalist id=id data-testid=format!("{testid}-options")>{options}</datalist>
    }
}
