//! Small per-browser preferences (language, theme) kept in localStorage.
//!
//! Storage can be missing or refuse writes (private mode, disabled cookies); every helper
//! then quietly does nothing, and the app falls back to its defaults.

use leptos::prelude::window;

pub const LANG_KEY: &str = "berth.lang";
/// Read by the inline script in `static/index.html` too, so the theme applies before wasm loads.
pub const THEME_KEY: &str = "berth.theme";

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

pub fn get(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

pub fn set(key: &str, value: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, value);
    }
}
