//! Waiting for what a person would see.

use std::time::{Duration, Instant};

use fantoccini::elements::Element;

/// Wait until the element's text is `want`, or fail saying what it was.
pub async fn text_becomes(el: &Element, want: &str, within: Duration) {
    let deadline = Instant::now() + within;
    let mut last = String::new();
    while Instant::now() < deadline {
        last = el.text().await.unwrap_or_default();
        if last.trim() == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected {want:?}, still {last:?} after {within:?}");
}

/// Save a PNG of the page to `$BERTH_SCREENSHOTS/NAME.png` when that variable is set, so a
/// person can look at what the tests saw.
pub async fn screenshot(c: &fantoccini::Client, name: &str) {
    let Ok(dir) = std::env::var("BERTH_SCREENSHOTS") else {
        return;
    };
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png);
    }
}

/// Wait until the element's text satisfies `ok`.
pub async fn text_becomes_with(el: &Element, ok: impl Fn(&str) -> bool, within: Duration) {
    let deadline = Instant::now() + within;
    let mut last = String::new();
    while Instant::now() < deadline {
        last = el.text().await.unwrap_or_default();
        if ok(last.trim()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the text never matched; still {last:?} after {within:?}");
}
