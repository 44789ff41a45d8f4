//! Issue 19's image page, as a user meets it: an image's configuration and the containers
//! made from it, tagging it from the page, Run into the create form, removing a tag after a
//! confirmation, and removing the image with Force once the daemon asks for it.

use std::process::Command;
use std::time::Duration;

use e2e::{action, check, docker, find, Berth, Browser, BROWSER_SLOTS};
use fantoccini::{Client, Locator};

use super::{unique, wait_js};

fn cli_ok(args: &[&str]) {
    let host = std::env::var("BERTH_TEST_DOCKER_HOST").expect("BERTH_TEST_DOCKER_HOST");
    let out = Command::new("docker")
        .args(["-H", &host])
        .args(args)
        .output()
        .expect("docker");
    assert!(out.status.success(), "docker {args:?}: {out:?}");
}

/// Removes what the test made, also when it fails.
struct Cleanup {
    containers: Vec<String>,
    images: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            docker::remove(c);
        }
        for i in &self.images {
            docker::remove_image(i);
        }
    }
}

async fn click(c: &Client, css: &str) {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn text(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn present(c: &Client, css: &str, want: bool) {
    let js = format!("return !!document.querySelector({css:?});");
    wait_js(c, &js, Duration::from_secs(20), |v| {
        v.as_bool() == Some(want)
    })
    .await;
}

fn chip(tag: &str) -> String {
    format!("[data-testid=\"image-tag-chip\"][data-tag=\"{tag}\"]")
}

#[tokio::test]
async fn the_image_page_shows_config_and_users_tags_runs_and_removes() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let repo = unique("e2e-imgpage");
    let tag = format!("{repo}:1");
    let new_tag = format!("{repo}-copy:v2");
    let container = unique("e2e-imgpage-c");
    let mut clean = Cleanup {
        containers: vec![container.clone()],
        images: vec![tag.clone(), new_tag.clone()],
    };
    docker::build(
        &tag,
        &format!(
            "FROM {}\nLABEL berth-test=1 e2e-imagepage={repo}\nENV IMAGEPAGE_GREETING=hello\n\
             EXPOSE 8080/tcp\nWORKDIR /srv\n",
            std::env::var("BERTH_TEST_IMAGE")
                .unwrap_or_else(|_| "berth-test/busybox:latest".into())
        ),
    );
    docker::run_idle_image(&container, &tag, &[]);

    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url(&format!("/images/{tag}"))).await.unwrap();
    find::by_testid(c, "image-config").await;

    // Its configuration, what it has no digest of, and the container made from it.
    let env = text(c, "[data-testid=image-env]").await;
    assert!(env.contains("IMAGEPAGE_GREETING=hello"), "env: {env}");
    let ports = text(c, "[data-testid=image-ports]").await;
    assert!(ports.contains("8080/tcp"), "exposed ports: {ports}");
    assert_eq!(text(c, "[data-testid=image-workdir]").await, "/srv");
    let labels = text(c, "[data-testid=image-labels]").await;
    assert!(
        labels.contains(&format!("e2e-imagepage={repo}")),
        "labels: {labels}"
    );
    assert!(
        !text(c, "[data-testid=image-platform]").await.is_empty(),
        "the platform is shown"
    );
    assert_eq!(
        text(c, "[data-testid=image-digests]").await,
        "none",
        "a local build has no digest, and the page says so"
    );
    let used = format!("[data-testid=\"image-used-by-row\"][data-name=\"{container}\"]");
    let link = text(c, &format!("{used} a")).await;
    assert_eq!(link, container, "Used by names the container");
    check::screenshot(c, "imagepage-facts").await;

    // Tag it from the page: "repo:tag" typed in one box.
    click(c, "[data-testid=image-tag-open]").await;
    let input = find::by_testid(c, "image-tag-repo").await;
    // A name the daemon refuses: the reason in the form, what was typed kept.
    input.send_keys("Bad Name:v3").await.unwrap();
    click(c, "[data-testid=image-tag-submit]").await;
    let refused = text(c, "[data-testid=image-tag-error]").await;
    assert!(!refused.is_empty(), "the refusal is shown in the form");
    assert_eq!(
        input.prop("value").await.unwrap().as_deref(),
        Some("Bad Name:v3"),
        "what was typed stays"
    );
    input.clear().await.unwrap();
    input.send_keys(&new_tag).await.unwrap();
    click(c, "[data-testid=image-tag-submit]").await;
    present(c, &chip(&new_tag), true).await;
    assert!(docker::has_image(&new_tag), "the daemon has the new tag");
    present(c, &chip(&tag), true).await;

    // Run: the create form, with this image filled in.
    click(c, "[data-testid=image-run]").await;
    let js = "const i = document.querySelector('[data-testid=create-image]'); return i ? i.value : null;";
    let filled = wait_js(c, js, Duration::from_secs(20), |v| {
        v.as_str().is_some_and(|s| !s.is_empty())
    })
    .await;
    let filled = filled.as_str().unwrap();
    assert!(
        filled == tag || filled == new_tag,
        "the image field holds this image: {filled}"
    );
    c.back().await.unwrap();
    find::by_testid(c, "image-config").await;

    // Remove the new tag: it asks first, Cancel keeps it, Confirm removes it.
    let remove = format!("{} [data-testid=image-tag-remove]", chip(&new_tag));
    click(c, &remove).await;
    let q = text(
        c,
        &format!("{} [data-testid=confirm-question]", chip(&new_tag)),
    )
    .await;
    assert!(q.contains(&new_tag), "the question names the tag: {q}");
    click(c, &format!("{} [data-testid=confirm-no]", chip(&new_tag))).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(docker::has_image(&new_tag), "Cancel keeps the tag");
    present(c, &chip(&new_tag), true).await;
    click(c, &remove).await;
    click(c, &format!("{} [data-testid=confirm-yes]", chip(&new_tag))).await;
    present(c, &chip(&new_tag), false).await;
    assert!(!docker::has_image(&new_tag), "Confirm removed the tag");
    assert!(docker::has_image(&tag), "the image and its other tag stay");

    // In Simplified Chinese, dark, on a phone: translated, and nothing scrolls sideways.
    find::by_testid(c, "lang-switch")
        .await
        .select_by_value("zh-CN")
        .await
        .unwrap();
    let digests = find::by_testid(c, "image-digests").await;
    check::text_becomes(&digests, "无", Duration::from_secs(5)).await;
    find::by_testid(c, "theme-toggle")
        .await
        .click()
        .await
        .unwrap();
    c.set_window_size(390, 844).await.unwrap();
    find::by_testid(c, "image-used-by").await;
    let widths = wait_js(
        c,
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
        Duration::from_secs(5),
        |v| v.is_array(),
    )
    .await;
    check::screenshot(c, "imagepage-phone-zh").await;
    let (scroll, client) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
    assert!(
        scroll <= client,
        "no sideways scrolling at 390 px: {scroll} > {client}"
    );
    c.set_window_size(1280, 900).await.unwrap();
    find::by_testid(c, "lang-switch")
        .await
        .select_by_value("en")
        .await
        .unwrap();
    let digests = find::by_testid(c, "image-digests").await;
    check::text_becomes(&digests, "none", Duration::from_secs(5)).await;

    // Remove the image a stopped container uses: the daemon wants Force, the page says so.
    cli_ok(&["stop", "-t", "1", &container]);
    click(c, "[data-testid=image-remove]").await;
    click(c, "[data-testid=image-actions] [data-testid=confirm-yes]").await;
    let hint = text(c, "[data-testid=image-remove-hint]").await;
    assert!(hint.contains("tick Force"), "the hint: {hint}");
    let err = text(c, "[data-testid=image-remove-error]").await;
    assert!(
        !err.split(|ch: char| !ch.is_ascii_hexdigit())
            .any(|w| w.len() == 64),
        "no 64-character ids in the message: {err}"
    );
    assert!(
        err.contains(&container) && err.contains(&tag),
        "the message names the container and the image as the page does: {err}"
    );
    assert!(docker::has_image(&tag), "refused: the image stays");
    check::screenshot(c, "imagepage-force-hint").await;
    click(c, "[data-testid=image-force]").await;
    click(c, "[data-testid=image-remove]").await;
    click(c, "[data-testid=image-actions] [data-testid=confirm-yes]").await;
    find::by_testid(c, "images-page").await;
    assert!(!docker::has_image(&tag), "forced, the image is gone");
    clean.images.clear();
}
