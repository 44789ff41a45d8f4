//! berth's browser app: a Leptos client-side app compiled to wasm, served by the `berth`
//! server at `/` (see `static/index.html`, which loads it).

mod ansi;
mod api;
mod app;
mod components;
mod format;
mod i18n;
mod lazy;
mod ndjson;
mod pages;
mod prefs;
mod stream;
mod words;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
