//! The one confirmation for everything that destroys: an inline prompt next to the button
//! that caused it, naming what goes, with a confirming and a cancel button.
//!
//! Used instead of `window.confirm` (which blocks the page, cannot be styled or translated
//! and names nothing) and instead of acting on the first click. Test ids: the prompt is
//! `confirm`, its buttons `confirm-yes` and `confirm-no`.
//!
//! ```ignore
//! // A button that asks first:
//! <ConfirmButton
//!     label=Signal::derive(move || tr(Key::Remove)().to_string())
//!     question=Signal::derive(move || confirm::question(lang.get(), What::Volume, &name))
//!     testid="volume-remove"
//!     on_confirm=Callback::new(move |()| remove(name.clone()))
//! />
//! // Or a prompt opened by anything (a menu item, a bulk action):
//! let open = RwSignal::new(false);
//! <ConfirmPrompt open question=... on_confirm=... />
//! ```

use leptos::html;
use leptos::prelude::*;

use crate::i18n::confirm::{self as strings, Key};
use crate::i18n::use_i18n;

pub use crate::i18n::confirm::{question, What};

/// The inline prompt, shown while `open` is true. Escape or Cancel closes it; the confirming
/// button gets the focus so Enter confirms and Tab reaches Cancel.
#[component]
pub fn ConfirmPrompt(
    open: RwSignal<bool>,
    /// The whole question, naming what goes (see [`question`]).
    #[prop(into)]
    question: Signal<String>,
    /// The confirming button's text ("Remove" unless given).
    #[prop(into, optional)]
    confirm_label: Option<Signal<String>>,
    #[prop(into)] on_confirm: Callback<()>,
) -> impl IntoView {
    let lang = use_i18n().lang;
    let yes = NodeRef::<html::Button>::new();
    Effect::new(move |_| {
        if open.get() {
            if let Some(b) = yes.get() {
                let _ = b.focus();
            }
        }
    });
    let confirm_text = move || match confirm_label {
        Some(l) => l.get(),
        None => strings::t(lang.get(), Key::Remove).to_string(),
    };
    view! {
        <Show when=move || open.get()>
            <span
                class="confirm"
                role="alertdialog"
                aria-live="assertive"
                data-testid="confirm"
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        open.set(false);
                    }
                }
            >
                <span class="confirm-question" data-testid="confirm-question">{move || question.get()}</span>
                <button
                    type="button"
                    class="btn btn-sm btn-danger"
                    data-testid="confirm-yes"
                    node_ref=yes
                    on:click=move |_| {
                        open.set(false);
                        on_confirm.run(());
                    }
                >
                    {confirm_text}
                </button>
                <button
                    type="button"
                    class="btn btn-sm btn-ghost"
                    data-testid="confirm-no"
                    on:click=move |_| open.set(false)
                >
                    {move || strings::t(lang.get(), Key::Cancel)}
                </button>
            </span>
        </Show>
    }
}

/// A danger button that opens a [`ConfirmPrompt`] next to itself and runs `on_confirm`
/// only once the user confirms.
#[component]
pub fn ConfirmButton(
    /// The button's text; also the confirming button's text unless `confirm_label` is given.
    #[prop(into)]
    label: Signal<String>,
    #[prop(into)] question: Signal<String>,
    #[prop(into, optional)] confirm_label: Option<Signal<String>>,
    #[prop(into)] on_confirm: Callback<()>,
    /// The trigger's `data-testid`.
    #[prop(into, optional)]
    testid: Option<String>,
    #[prop(into, optional)] disabled: Signal<bool>,
    /// Extra classes for the trigger (default `btn-sm`).
    #[prop(optional)]
    class: Option<&'static str>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let confirm_label = confirm_label.unwrap_or(label);
    let class = format!("btn btn-danger {}", class.unwrap_or("btn-sm"));
    view! {
        <span class="confirm-wrap">
            <button
                type="button"
                class=class
                data-testid=testid
                disabled=move || disabled.get()
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.set(true)
            >
                {move || label.get()}
            </button>
            <ConfirmPrompt open question confirm_label on_confirm />
        </span>
    }
}

/// How many items a preview of what goes lists before "and N more".
pub const PREVIEW_ITEMS: usize = 10;

/// The list of what a prune (or any batch) would remove: its first [`PREVIEW_ITEMS`], then
/// an "and N more" button that opens the rest, so a long preview neither hides how much goes
/// nor fills the page. Test ids: `preview-item` for each, `preview-more` for the button.
#[component]
pub fn PreviewList(items: Vec<String>) -> impl IntoView {
    let lang = use_i18n().lang;
    let open = RwSignal::new(false);
    let hidden = items.len().saturating_sub(PREVIEW_ITEMS);
    let items = StoredValue::new(items);
    view! {
        <ul class="prune-list">
            {move || {
                let n = if open.get() { usize::MAX } else { PREVIEW_ITEMS };
                items.with_value(|items| {
                    items
                        .iter()
                        .take(n)
                        .map(|i| view! { <li class="mono" data-testid="preview-item">{i.clone()}</li> })
                        .collect_view()
                })
            }}
        </ul>
        {(hidden > 0).then(|| view! {
            <button
                type="button"
                class="btn btn-xs btn-ghost"
                data-testid="preview-more"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {move || if open.get() {
                    crate::i18n::ux::t(lang.get(), crate::i18n::ux::Key::ShowFewer).to_string()
                } else {
                    crate::i18n::ux::and_more(lang.get(), hidden)
                }}
            </button>
        })}
    }
}
