//! Light/dark theme. Until the user picks one, the page follows `prefers-color-scheme`
//! (pure CSS); a pick is stored and set as `<html data-theme>`, which the inline script in
//! `static/index.html` applies again before the wasm loads, so there is no flash.

use leptos::prelude::*;

use crate::i18n::{tr, Key};
use crate::prefs;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Theme {
    Light,
    Dark,
}

impl Theme {
    fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// The theme in effect now: the stored pick, else what the OS prefers.
    fn current() -> Theme {
        match prefs::get(prefs::THEME_KEY).as_deref() {
            Some("dark") => Theme::Dark,
            Some("light") => Theme::Light,
            _ => {
                let dark = window()
                    .match_media("(prefers-color-scheme: dark)")
                    .ok()
                    .flatten()
                    .is_some_and(|m| m.matches());
                if dark {
                    Theme::Dark
                } else {
                    Theme::Light
                }
            }
        }
    }
}

/// The header's sun/moon button (`data-testid="theme-toggle"`).
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let theme = RwSignal::new(Theme::current());
    let toggle = move |_| {
        let next = match theme.get_untracked() {
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Light,
        };
        prefs::set(prefs::THEME_KEY, next.as_str());
        if let Some(html) = document().document_element() {
            let _ = html.set_attribute("data-theme", next.as_str());
        }
        theme.set(next);
    };
    view! {
        <button
            class="icon-btn"
            data-testid="theme-toggle"
            data-theme=move || theme.get().as_str()
            title=tr(Key::ToggleTheme)
            aria-label=tr(Key::ToggleTheme)
            on:click=toggle
        >
            // Show what a click switches to.
            {move || if theme.get() == Theme::Dark { "☀" } else { "☾" }}
        </button>
    }
}
