//! Issue 19's confirmations, errors and forms, as a user meets them: a removal asks first
//! and names what goes, an error appears next to what caused it with what to do, forms
//! reset after success and keep what was typed after a refusal.

use std::process::Command;
use std::time::Duration;

use e2e::{action, check, docker, find, Berth, Browser, BROWSER_SLOTS};
use fantoccini::{Client, Locator};

use super::{unique, wait_js};

fn cli() -> Command {
    let host = std::env::var("BERTH_TEST_DOCKER_HOST").expect("BERTH_TEST_DOCKER_HOST");
    let mut c = Command::new("docker");
    c.args(["-H", &host]);
    c
}

fn cli_ok(args: &[&str]) -> String {
    let out = cli().args(args).output().expect("docker");
    assert!(out.status.success(), "docker {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn exists(kind: &str, name: &str) -> bool {
    cli()
        .args([kind, "inspect", name])
        .output()
        .expect("docker inspect")
        .status
        .success()
}

/// An image of its own (a unique label makes a unique id), tagged `tag`.
fn own_image(tag: &str) {
    docker::build(
        tag,
        &format!(
            "FROM {}\nLABEL berth-test=1 e2e-uxconfirm={tag}\n",
            std::env::var("BERTH_TEST_IMAGE")
                .unwrap_or_else(|_| "berth-test/busybox:latest".into())
        ),
    );
}

/// Removes images, networks, volumes and containers a test made, also when it fails.
#[derive(Default)]
struct Cleanup {
    containers: Vec<String>,
    images: Vec<String>,
    networks: Vec<String>,
    volumes: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            docker::remove(c);
        }
        for i in &self.images {
            docker::remove_image(i);
        }
        for n in &self.networks {
            let _ = cli().args(["network", "rm", n]).output();
        }
        for v in &self.volumes {
            docker::volume_remove(v);
        }
    }
}

fn row_css(testid: &str, attr: &str, value: &str) -> String {
    format!("[data-testid=\"{testid}\"][{attr}=\"{value}\"]")
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

async fn gone(c: &Client, css: &str) {
    let js = format!("return !document.querySelector({css:?});");
    wait_js(c, &js, Duration::from_secs(20), |v| {
        v.as_bool() == Some(true)
    })
    .await;
}

async fn value_of(c: &Client, testid: &str) -> String {
    let js = format!("return document.querySelector('[data-testid=\"{testid}\"]').value;");
    c.execute(&js, vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Clicks `remove` in the row `row`: the question must name `name`; Cancel must keep the
/// thing (`still_there` asks the daemon), then Confirm must remove it from page and daemon.
async fn ask_cancel_confirm(
    c: &Client,
    row: &str,
    remove: &str,
    name: &str,
    still_there: impl Fn() -> bool,
) {
    click(c, &format!("{row} {remove}")).await;
    let question = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&format!(
            "{row} [data-testid=confirm-question]"
        )))
        .await
        .expect("the removal asks first, next to the row");
    let text = question.text().await.unwrap();
    assert!(text.contains(name), "the question names {name}: {text}");
    check::screenshot(
        c,
        &format!(
            "uxconfirm-ask-{}",
            remove.replace(|ch: char| !ch.is_ascii_alphanumeric(), "")
        ),
    )
    .await;
    assert!(still_there(), "nothing is removed before the answer");

    click(c, &format!("{row} [data-testid=confirm-no]")).await;
    gone(c, &format!("{row} [data-testid=confirm]")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(still_there(), "Cancel keeps {name}");
    c.find(Locator::Css(row))
        .await
        .expect("Cancel keeps the row");

    click(c, &format!("{row} {remove}")).await;
    click(c, &format!("{row} [data-testid=confirm-yes]")).await;
    gone(c, row).await;
    assert!(!still_there(), "Confirm removed {name} from the daemon");
}

#[tokio::test]
async fn removing_a_volume_a_network_or_an_image_asks_first_naming_it() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let mut clean = Cleanup::default();
    let volume = unique("e2e-ux-vol");
    let network = unique("e2e-ux-net");
    let tag = format!("{}:1", unique("e2e-ux-img"));
    docker::volume_create(&volume);
    clean.volumes.push(volume.clone());
    cli_ok(&["network", "create", "--label", "berth-test=1", &network]);
    clean.networks.push(network.clone());
    own_image(&tag);
    clean.images.push(tag.clone());
    let pair: Vec<String> = (0..2)
        .map(|_| format!("{}:1", unique("e2e-ux-sel")))
        .collect();
    for t in &pair {
        own_image(t);
        clean.images.push(t.clone());
    }

    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;

    c.goto(&berth.url("/volumes")).await.unwrap();
    let row = row_css("volume-row", "data-name", &volume);
    ask_cancel_confirm(c, &row, "[data-testid=volume-remove]", &volume, || {
        exists("volume", &volume)
    })
    .await;

    c.goto(&berth.url("/networks")).await.unwrap();
    let row = row_css("network-row", "data-name", &network);
    ask_cancel_confirm(c, &row, "[data-testid=network-remove]", &network, || {
        exists("network", &network)
    })
    .await;

    c.goto(&berth.url("/images")).await.unwrap();
    let row = row_css("image-row", "data-tag", &tag);
    ask_cancel_confirm(c, &row, "[data-testid=image-remove]", &tag, || {
        docker::has_image(&tag)
    })
    .await;

    // Removing a selection asks first too, naming every image in it.
    for t in &pair {
        click(
            c,
            &format!(
                "{} [data-testid=image-select]",
                row_css("image-row", "data-tag", t)
            ),
        )
        .await;
    }
    find::by_testid(c, "remove-selected")
        .await
        .click()
        .await
        .unwrap();
    let q = find::by_testid(c, "confirm-question")
        .await
        .text()
        .await
        .unwrap();
    for t in &pair {
        assert!(q.contains(t.as_str()), "the question names {t}: {q}");
    }
    find::by_testid(c, "confirm-no")
        .await
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        pair.iter().all(|t| docker::has_image(t)),
        "Cancel keeps both"
    );
    find::by_testid(c, "remove-selected")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "confirm-yes")
        .await
        .click()
        .await
        .unwrap();
    for t in &pair {
        gone(c, &row_css("image-row", "data-tag", t)).await;
        assert!(!docker::has_image(t), "Confirm removed {t}");
    }
}

#[tokio::test]
async fn an_image_a_stopped_container_uses_says_to_tick_force_in_its_row_and_force_removes_it() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let mut clean = Cleanup::default();
    let tag = format!("{}:1", unique("e2e-ux-forced"));
    let user = unique("e2e-ux-user");
    own_image(&tag);
    clean.images.push(tag.clone());
    cli_ok(&[
        "create",
        "--name",
        &user,
        "--label",
        "berth-test=1",
        &tag,
        "true",
    ]);
    clean.containers.push(user.clone());

    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/images")).await.unwrap();
    let row = row_css("image-row", "data-tag", &tag);
    click(c, &format!("{row} [data-testid=image-remove]")).await;
    click(c, &format!("{row} [data-testid=confirm-yes]")).await;

    // The daemon's conflict, in the row, saying what to do, with the Force box offered.
    // Read afresh each time: the row re-renders as the list refreshes.
    let hint_css = format!("{row} [data-testid=image-row-hint]");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let hint = loop {
        if let Ok(el) = c.find(Locator::Css(&hint_css)).await {
            if let Ok(text) = el.text().await {
                if !text.is_empty() {
                    break text;
                }
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the refusal is shown in the image's row, with a hint"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        hint.contains("tick Force"),
        "the hint says to tick Force: {hint}"
    );
    let msg = c
        .find(Locator::Css(&format!(
            "{row} [data-testid=image-row-error-text]"
        )))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(msg.contains("must be forced"), "the daemon's reason: {msg}");
    let long_hex = msg
        .split(|ch: char| !ch.is_ascii_hexdigit())
        .any(|w| w.len() == 64);
    assert!(!long_hex, "no 64-character ids in the message: {msg}");
    assert!(docker::has_image(&tag), "refused: the image stays");
    let notice = find::by_testid(c, "images-notice")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        notice.contains("Nothing was removed"),
        "the summary points at the row: {notice}"
    );
    check::screenshot(c, "uxconfirm-image-force-hint").await;

    click(c, &format!("{row} [data-testid=image-row-force]")).await;
    let forced = c
        .execute(
            "return document.querySelector('[data-testid=remove-force]').checked;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        forced,
        serde_json::json!(true),
        "the row's box is the Force option"
    );
    click(c, &format!("{row} [data-testid=image-remove]")).await;
    click(c, &format!("{row} [data-testid=confirm-yes]")).await;
    gone(c, &row).await;
    assert!(!docker::has_image(&tag), "forced, the image is gone");
}

#[tokio::test]
async fn the_network_form_starts_over_after_a_create_and_a_refused_user_form_keeps_its_values() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let mut clean = Cleanup::default();
    let network = unique("e2e-ux-made");
    clean.networks.push(network.clone());
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;

    c.goto(&berth.url("/networks")).await.unwrap();
    find::by_testid(c, "network-name")
        .await
        .send_keys(&network)
        .await
        .unwrap();
    find::by_testid(c, "network-labels")
        .await
        .send_keys("berth-test=1")
        .await
        .unwrap();
    find::by_testid(c, "network-internal")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "network-create")
        .await
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&row_css("network-row", "data-name", &network)))
        .await
        .expect("the new network is listed");
    assert!(exists("network", &network));
    assert_eq!(
        value_of(c, "network-name").await,
        "",
        "the name field is empty"
    );
    assert_eq!(
        value_of(c, "network-labels").await,
        "",
        "the labels field is empty"
    );
    let internal = c
        .execute(
            "return document.querySelector('[data-testid=network-internal]').checked;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        internal,
        serde_json::json!(false),
        "the Internal box is cleared"
    );

    // "admin" exists: the server refuses, and the form keeps what was typed.
    c.goto(&berth.url("/admin")).await.unwrap();
    find::by_testid(c, "user-name")
        .await
        .send_keys("admin")
        .await
        .unwrap();
    find::by_testid(c, "user-password")
        .await
        .send_keys("another-pw-123")
        .await
        .unwrap();
    find::by_testid(c, "user-teams")
        .await
        .send_keys("ops, dev")
        .await
        .unwrap();
    find::by_testid(c, "user-create")
        .await
        .click()
        .await
        .unwrap();
    let err = find::by_testid(c, "user-error").await;
    assert!(
        !err.text().await.unwrap().is_empty(),
        "the refusal says why"
    );
    // Next to the form: the error is right after it, not at the top of the page.
    let next = c
        .execute(
            "return document.querySelector('[data-testid=user-form]').nextElementSibling.dataset.testid;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(next, serde_json::json!("user-error"));
    assert_eq!(value_of(c, "user-name").await, "admin");
    assert_eq!(value_of(c, "user-password").await, "another-pw-123");
    assert_eq!(value_of(c, "user-teams").await, "ops, dev");
    check::screenshot(c, "uxconfirm-user-refused").await;

    // The admin's own row offers neither Disable nor Delete.
    let own = row_css("user-row", "data-name", "admin");
    c.find(Locator::Css(&format!("{own} [data-testid=user-you]")))
        .await
        .expect("the own row says you");
    assert!(c
        .find(Locator::Css(&format!("{own} [data-testid=user-delete]")))
        .await
        .is_err());
    assert!(c
        .find(Locator::Css(&format!("{own} [data-testid=user-disable]")))
        .await
        .is_err());

    // Deleting a team asks first too, naming it.
    let team = unique("e2e-ux-team");
    find::by_testid(c, "team-name")
        .await
        .send_keys(&team)
        .await
        .unwrap();
    find::by_testid(c, "team-create")
        .await
        .click()
        .await
        .unwrap();
    let row = row_css("team-row", "data-name", &team);
    click(c, &format!("{row} [data-testid=team-delete]")).await;
    let q = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&format!(
            "{row} [data-testid=confirm-question]"
        )))
        .await
        .expect("deleting a team asks first");
    assert!(q.text().await.unwrap().contains(&team));
    assert_eq!(
        value_of(c, "team-name").await,
        "",
        "a made team clears its form"
    );
    click(c, &format!("{row} [data-testid=confirm-no]")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    c.find(Locator::Css(&row))
        .await
        .expect("Cancel keeps the team");
    click(c, &format!("{row} [data-testid=team-delete]")).await;
    click(c, &format!("{row} [data-testid=confirm-yes]")).await;
    gone(c, &row).await;
}

#[tokio::test]
async fn a_bad_stack_name_is_flagged_a_missing_container_has_its_page_and_a_long_prune_preview_says_how_many_more(
) {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let mut clean = Cleanup::default();
    let prefix = unique("e2e-ux-idle");
    for i in 0..12 {
        let n = format!("{prefix}-{i}");
        cli_ok(&["network", "create", "--label", "berth-test=1", &n]);
        clean.networks.push(n);
    }
    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;

    // The stack name's pattern works in this Chromium: a bad name is :invalid.
    c.goto(&berth.url("/stacks/new")).await.unwrap();
    let field = find::by_testid(c, "stack-name").await;
    field.send_keys("Bad Name!").await.unwrap();
    let invalid = "return document.querySelector('[data-testid=stack-name]').matches(':invalid');";
    assert_eq!(
        c.execute(invalid, vec![]).await.unwrap(),
        serde_json::json!(true),
        "a name with capitals and spaces is flagged"
    );
    field.clear().await.unwrap();
    field.send_keys("good-name_1").await.unwrap();
    assert_eq!(
        c.execute(invalid, vec![]).await.unwrap(),
        serde_json::json!(false),
        "a good name with a dash passes"
    );

    // A container that is not there: that, and the way back; nothing else.
    c.goto(&berth.url("/containers/e2e-ux-no-such-container"))
        .await
        .unwrap();
    let missing = find::by_testid(c, "container-missing").await;
    assert!(missing.text().await.unwrap().contains("No such container"));
    check::screenshot(c, "uxconfirm-container-missing").await;
    for absent in ["live-indicator", "commit-form", "tabs"] {
        assert!(
            c.find(Locator::Css(&find::testid(absent))).await.is_err(),
            "no {absent} on the page of a missing container"
        );
    }
    find::by_testid(c, "container-missing-back")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "containers-page").await;

    // A prune preview of 12+ networks lists 10 and says how many more; it frees nothing yet.
    c.goto(&berth.url("/system")).await.unwrap();
    find::by_testid(c, "prune-preview")
        .await
        .click()
        .await
        .unwrap();
    let nets = find::by_testid(c, "prune-networks").await;
    let total: usize = nets
        .attr("data-count")
        .await
        .unwrap()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(
        total >= 12,
        "our 12 idle networks are in the preview: {total}"
    );
    let shown = nets
        .find_all(Locator::Css("[data-testid=preview-item]"))
        .await
        .unwrap()
        .len();
    assert_eq!(shown, 10, "the preview lists the first 10");
    let more = nets
        .find(Locator::Css("[data-testid=preview-more]"))
        .await
        .expect("an 'and N more'");
    assert_eq!(
        more.text().await.unwrap(),
        format!("and {} more", total - 10)
    );
    let text = find::by_testid(c, "prune-preview-result")
        .await
        .text()
        .await
        .unwrap();
    check::screenshot(c, "uxconfirm-prune-preview").await;
    assert!(
        !text.contains("Space reclaimed"),
        "nothing was reclaimed before the prune ran: {text}"
    );
    more.click().await.unwrap();
    let shown = nets
        .find_all(Locator::Css("[data-testid=preview-item]"))
        .await
        .unwrap()
        .len();
    assert_eq!(shown, total, "'and N more' opens the rest");
}

#[tokio::test]
async fn a_file_a_token_and_a_user_go_only_after_the_question_naming_them() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let mut clean = Cleanup::default();
    let volume = unique("e2e-ux-files");
    let mountpoint = std::path::PathBuf::from(docker::volume_create(&volume));
    clean.volumes.push(volume.clone());
    let doomed = mountpoint.join("doomed.txt");
    std::fs::write(&doomed, "bye\n").unwrap();

    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;

    c.goto(&berth.url(&format!("/volumes/{volume}/files")))
        .await
        .unwrap();
    let row = row_css("file-row", "data-name", "doomed.txt");
    let on_disk = doomed.clone();
    ask_cancel_confirm(c, &row, "[data-testid=delete]", "doomed.txt", move || {
        on_disk.exists()
    })
    .await;

    // A token, revoked from the account page.
    let token = unique("e2e-ux-token");
    c.goto(&berth.url("/account")).await.unwrap();
    find::by_testid(c, "token-name")
        .await
        .send_keys(&token)
        .await
        .unwrap();
    find::by_testid(c, "token-create")
        .await
        .click()
        .await
        .unwrap();
    let row = row_css("token-row", "data-name", &token);
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&row))
        .await
        .expect("the new token is listed");
    click(c, &format!("{row} [data-testid=token-revoke]")).await;
    let q = find::by_testid(c, "confirm-question").await;
    assert!(
        q.text().await.unwrap().contains(&token),
        "the question names the token"
    );
    click(c, &format!("{row} [data-testid=confirm-no]")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    c.find(Locator::Css(&row))
        .await
        .expect("Cancel keeps the token");
    click(c, &format!("{row} [data-testid=token-revoke]")).await;
    click(c, &format!("{row} [data-testid=confirm-yes]")).await;
    gone(c, &row).await;

    // A user, deleted from the admin page.
    let user = unique("e2e-ux-doomed");
    c.goto(&berth.url("/admin")).await.unwrap();
    find::by_testid(c, "user-name")
        .await
        .send_keys(&user)
        .await
        .unwrap();
    find::by_testid(c, "user-password")
        .await
        .send_keys("a-good-pw-123")
        .await
        .unwrap();
    find::by_testid(c, "user-create")
        .await
        .click()
        .await
        .unwrap();
    let row = row_css("user-row", "data-name", &user);
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&row))
        .await
        .expect("the new user is listed");
    assert_eq!(
        value_of(c, "user-name").await,
        "",
        "a made user clears the form"
    );
    click(c, &format!("{row} [data-testid=user-delete]")).await;
    let q = find::by_testid(c, "confirm-question").await;
    assert!(
        q.text().await.unwrap().contains(&user),
        "the question names the user"
    );
    click(c, &format!("{row} [data-testid=confirm-no]")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    c.find(Locator::Css(&row))
        .await
        .expect("Cancel keeps the user");
    click(c, &format!("{row} [data-testid=user-delete]")).await;
    click(c, &format!("{row} [data-testid=confirm-yes]")).await;
    gone(c, &row).await;
}
