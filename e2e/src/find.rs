//! Locating what a test needs, by `data-testid`.

use fantoccini::elements::Element;
use fantoccini::{Client, Locator};

pub fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// Wait (up to 40 s) for an element with this test id: generous, for a loaded two-core
/// machine (four test threads, two browsers and the daemons: a cold first load of the app
/// was seen to take over 20 s there); a page that is really missing still fails the test.
pub async fn by_testid(c: &Client, id: &str) -> Element {
    let css = testid(id);
    c.wait()
        .at_most(std::time::Duration::from_secs(40))
        .for_element(Locator::Css(&css))
        .await
        .unwrap_or_else(|e| panic!("no element {css} appeared: {e}"))
}

/// The row of the containers table for the container with this name.
pub async fn container_row(c: &Client, name: &str) -> Element {
    let css = format!("[data-testid=\"container-row\"][data-name=\"{name}\"]");
    c.wait()
        .at_most(std::time::Duration::from_secs(15))
        .for_element(Locator::Css(&css))
        .await
        .unwrap_or_else(|e| panic!("no row for container {name}: {e}"))
}
