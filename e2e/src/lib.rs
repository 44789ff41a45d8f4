//! Helpers for berth's browser tests, split as the leptos e2e examples do:
//! [`find`] locates elements, [`action`] does what a person does, [`check`] waits for what
//! a person would see. [`Berth`] is the real binary; [`Browser`] a real headless Chromium
//! driven through chromedriver (WebDriver).

pub mod action;
pub mod berth;
pub mod browser;
pub mod check;
pub mod docker;
pub mod find;
pub mod gitserve;
pub mod many;
pub mod registry;

pub use berth::Berth;
pub use browser::Browser;

/// Browser tests share two cores with everything else: at most this many run at once.
pub static BROWSER_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
