//! berth in a real headless Chromium: the real binary, a real dockerd.
//! ONE test binary; run through `cargo xtask test`.

use std::time::Duration;

use e2e::{action, check, docker, find, Berth, Browser, BROWSER_SLOTS};

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[tokio::test]
async fn login_then_stop_a_container_and_see_its_badge_change() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let name = unique("e2e-stop");
    docker::run_idle(&name);
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/containers")).await.unwrap();
    find::by_testid(c, "containers-page").await;
    let row = find::container_row(c, &name).await;
    let badge = row
        .find(fantoccini::Locator::Css(&find::testid("state-badge")))
        .await
        .expect("a state badge");
    check::text_becomes(&badge, "running", Duration::from_secs(5)).await;

    // A marker that a page reload would wipe: the badge must change in place.
    c.execute("window.__berthNoReload = true;", vec![])
        .await
        .unwrap();
    row.find(fantoccini::Locator::Css(&find::testid("action-stop")))
        .await
        .expect("a stop button on a running container")
        .click()
        .await
        .unwrap();
    let badge = find::container_row(c, &name)
        .await
        .find(fantoccini::Locator::Css(&find::testid("state-badge")))
        .await
        .unwrap();
    check::text_becomes(&badge, "exited", Duration::from_secs(20)).await;
    assert_eq!(docker::state(&name), "exited", "the daemon agrees");
    let still = c
        .execute("return window.__berthNoReload === true;", vec![])
        .await
        .unwrap();
    assert_eq!(still, serde_json::json!(true), "no page reload happened");

    browser.close().await;
    docker::remove(&name);
}

#[tokio::test]
async fn a_change_made_outside_berth_shows_up_live() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let name = unique("e2e-live");
    docker::run_idle(&name);
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/containers")).await.unwrap();
    let badge = find::container_row(c, &name)
        .await
        .find(fantoccini::Locator::Css(&find::testid("state-badge")))
        .await
        .unwrap();
    check::text_becomes(&badge, "running", Duration::from_secs(5)).await;

    // Someone pauses it from the command line: the page hears it from the daemon's events.
    let host = std::env::var("BERTH_TEST_DOCKER_HOST").unwrap();
    let out = std::process::Command::new("docker")
        .args(["-H", &host, "pause", &name])
        .output()
        .unwrap();
    assert!(out.status.success());
    let badge = find::container_row(c, &name)
        .await
        .find(fantoccini::Locator::Css(&find::testid("state-badge")))
        .await
        .unwrap();
    check::text_becomes(&badge, "paused", Duration::from_secs(15)).await;

    browser.close().await;
    docker::remove(&name);
}

#[tokio::test]
async fn wrong_password_shows_an_error_and_dashboard_shows_the_engine() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    c.goto(&berth.url("/login")).await.unwrap();
    find::by_testid(c, "login-username")
        .await
        .send_keys("admin")
        .await
        .unwrap();
    find::by_testid(c, "login-password")
        .await
        .send_keys("wrong")
        .await
        .unwrap();
    find::by_testid(c, "login-submit")
        .await
        .click()
        .await
        .unwrap();
    let err = find::by_testid(c, "login-error").await;
    assert!(
        !err.text().await.unwrap().trim().is_empty(),
        "the error is shown"
    );

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/")).await.unwrap();
    let version = find::by_testid(c, "dash-version").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = version.text().await.unwrap_or_default();
        if text.contains("20.") || text.chars().filter(|c| *c == '.').count() >= 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "engine version shown: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.close().await;
}

/// Wait until `css` matches an element whose attribute `attr` is `want`.
async fn wait_attr(c: &fantoccini::Client, css: &str, attr: &str, want: &str, within: Duration) {
    let deadline = std::time::Instant::now() + within;
    let mut last = None;
    while std::time::Instant::now() < deadline {
        if let Ok(el) = c.find(fantoccini::Locator::Css(css)).await {
            last = el.attr(attr).await.ok().flatten();
            if last.as_deref() == Some(want) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} [{attr}] expected {want:?}, last {last:?}");
}

#[tokio::test]
async fn pull_from_a_local_registry_shows_per_layer_progress() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let registry = e2e::registry::Registry::start().await;
    // An image with a layer of its own (3 MB of noise), pushed and then removed here, so
    // the pull really downloads it.
    let image = format!("{}/e2e/{}:1", registry.host(), unique("pull"));
    let base =
        std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into());
    docker::build(
        &image,
        &format!(
            "FROM {base}\nLABEL berth-e2e=pull\nRUN head -c 3000000 /dev/urandom > /noise-{}\n",
            unique("n")
        ),
    );
    docker::push(&image);
    docker::remove_image(&image);
    assert!(!docker::has_image(&image));

    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/images")).await.unwrap();
    find::by_testid(c, "images-page").await;

    // Two pulls at once: the real one, and one from a registry that does not answer.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for name in [image.clone(), format!("127.0.0.1:{dead}/e2e/none:1")] {
        let input = find::by_testid(c, "pull-image").await;
        input.send_keys(&name).await.unwrap();
        find::by_testid(c, "pull-submit")
            .await
            .click()
            .await
            .unwrap();
    }
    let card = format!("[data-testid=\"task\"][data-title=\"{image}\"]");
    // A progress bar per layer shows up while it runs, and the card ends done.
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(fantoccini::Locator::Css(&format!(
            "{card} [data-testid=\"layer-progress\"]"
        )))
        .await
        .expect("a per-layer progress bar");
    wait_attr(c, &card, "data-state", "done", Duration::from_secs(60)).await;
    let statuses = c
        .find_all(fantoccini::Locator::Css(&format!(
            "{card} [data-testid=\"layer-status\"]"
        )))
        .await
        .unwrap();
    let mut texts = Vec::new();
    for s in statuses {
        texts.push(s.text().await.unwrap());
    }
    assert!(
        texts.iter().any(|t| t.contains("Pull complete")),
        "a layer was downloaded: {texts:?}"
    );
    let bars = c
        .find_all(fantoccini::Locator::Css(&format!("{card} progress")))
        .await
        .unwrap();
    let mut full = 0;
    for b in bars {
        if b.attr("value").await.unwrap().as_deref() == Some("100") {
            full += 1;
        }
    }
    assert!(full >= 1, "finished layers show full bars");
    assert!(docker::has_image(&image), "the daemon has it now");

    // The other pull failed, and says why.
    let dead_card = format!("[data-testid=\"task\"][data-title=\"127.0.0.1:{dead}/e2e/none:1\"]");
    wait_attr(
        c,
        &dead_card,
        "data-state",
        "failed",
        Duration::from_secs(30),
    )
    .await;
    let err = c
        .find(fantoccini::Locator::Css(&format!(
            "{dead_card} [data-testid=\"task-error\"]"
        )))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(err.contains("does not answer"), "{err}");

    browser.close().await;
    docker::remove_image(&image);
}

#[tokio::test]
async fn build_from_the_editor_streams_its_output() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    let tag = format!("{}:e2e", unique("e2e-build"));
    let marker = unique("marker");
    let base =
        std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into());

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/images/build")).await.unwrap();
    let editor = find::by_testid(c, "dockerfile-editor").await;
    editor.clear().await.unwrap();
    editor
        .send_keys(&format!(
            "FROM {base}\nRUN echo {marker}-step-one\nRUN sleep 2 && echo {marker}-step-two\n"
        ))
        .await
        .unwrap();
    find::by_testid(c, "build-tags")
        .await
        .send_keys(&tag)
        .await
        .unwrap();
    find::by_testid(c, "build-forcerm")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "build-submit")
        .await
        .click()
        .await
        .unwrap();

    // The first step's output is on screen while the build still runs.
    let output = find::by_testid(c, "build-output").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut seen_running = false;
    loop {
        let text = output.text().await.unwrap_or_default();
        let state = find::by_testid(c, "build-result")
            .await
            .attr("data-state")
            .await
            .unwrap()
            .unwrap_or_default();
        if text.contains(&format!("{marker}-step-one")) && state == "running" {
            seen_running = true;
        }
        if state == "done" {
            assert!(text.contains(&format!("{marker}-step-two")), "{text}");
            break;
        }
        if state == "failed" {
            let why = find::by_testid(c, "build-error")
                .await
                .text()
                .await
                .unwrap();
            panic!("the build failed: {why}\n{text}");
        }
        assert!(std::time::Instant::now() < deadline, "no result: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen_running, "output streamed before the build ended");
    assert!(docker::has_image(&tag));
    // The finished image links to its page.
    find::by_testid(c, "build-image-link")
        .await
        .click()
        .await
        .unwrap();
    let title = find::by_testid(c, "image-title").await;
    check::text_becomes(&title, &tag, Duration::from_secs(10)).await;

    // A failing step shows its error.
    c.goto(&berth.url("/images/build")).await.unwrap();
    let editor = find::by_testid(c, "dockerfile-editor").await;
    editor.clear().await.unwrap();
    editor
        .send_keys(&format!("FROM {base}\nRUN exit 7\n"))
        .await
        .unwrap();
    find::by_testid(c, "build-submit")
        .await
        .click()
        .await
        .unwrap();
    let err = find::by_testid(c, "build-error").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let text = err.text().await.unwrap_or_default();
        if text.contains("non-zero code: 7") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    browser.close().await;
    docker::remove_image(&tag);
}

#[tokio::test]
async fn commit_a_container_from_its_page() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let name = unique("e2e-commit");
    docker::run_idle(&name);
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    let repo = unique("e2e-committed");

    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url(&format!("/containers/{name}")))
        .await
        .unwrap();
    find::by_testid(c, "container-detail").await;
    // The form sits in a closed <details>: open it.
    c.execute(
        "document.querySelector('[data-testid=\"commit-form\"]').closest('details').open = true;",
        vec![],
    )
    .await
    .unwrap();
    find::by_testid(c, "commit-repo")
        .await
        .send_keys(&repo)
        .await
        .unwrap();
    find::by_testid(c, "commit-tag")
        .await
        .send_keys("v1")
        .await
        .unwrap();
    find::by_testid(c, "commit-changes")
        .await
        .send_keys("ENV FROM_E2E=yes")
        .await
        .unwrap();
    find::by_testid(c, "commit-submit")
        .await
        .click()
        .await
        .unwrap();
    let result = find::by_testid(c, "commit-result").await;
    assert!(result.text().await.unwrap().contains("sha256:"));
    assert!(docker::has_image(&format!("{repo}:v1")));

    browser.close().await;
    docker::remove(&name);
    docker::remove_image(&format!("{repo}:v1"));
}
