//! Issue 19's pickers, as a user meets them: the run form's image, network and volume
//! fields offer what the daemon has; what is picked is what the container gets; the
//! networks page's connect field offers the containers not on that network yet; the
//! webhook form's target field offers containers or stacks as its kind says.
//!
//! The browser's own suggestion popup is outside the DOM, so a test cannot click in it.
//! It reads what a field offers (its `<datalist>`), then types an offered value, which
//! is what picking one does to the field.

use std::process::Command;
use std::time::Duration;

use e2e::{action, check, docker, find, Berth, Browser, BROWSER_SLOTS};
use fantoccini::Client;

use super::{unique, wait_js};

fn cli(args: &[&str]) -> String {
    let host = std::env::var("BERTH_TEST_DOCKER_HOST").expect("BERTH_TEST_DOCKER_HOST");
    let out = Command::new("docker")
        .args(["-H", &host])
        .args(args)
        .output()
        .expect("docker");
    assert!(out.status.success(), "docker {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Removes what the test made, also when it fails.
#[derive(Default)]
struct Cleanup {
    containers: Vec<String>,
    networks: Vec<String>,
    volumes: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            docker::remove(c);
        }
        let host = std::env::var("BERTH_TEST_DOCKER_HOST").unwrap_or_default();
        for n in &self.networks {
            let _ = Command::new("docker")
                .args(["-H", &host, "network", "rm", n])
                .output();
        }
        for v in &self.volumes {
            docker::volume_remove(v);
        }
    }
}

/// What the field at `css` offers, once it offers `want` (and is there at all).
async fn offers(c: &Client, css: &str, want: &str) -> Vec<String> {
    let js = format!(
        "const i = document.querySelector({css:?}); \
         return i && i.list ? [...i.list.options].map(o => o.value) : null;"
    );
    // Generous: the lists load after the page, on a shared two-core machine.
    let got = wait_js(c, &js, Duration::from_secs(40), |v| {
        v.as_array()
            .is_some_and(|a| a.iter().any(|o| o.as_str() == Some(want)))
    })
    .await;
    got.as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o.as_str().map(str::to_owned))
        .collect()
}

async fn type_into(c: &Client, testid: &str, text: &str) {
    let input = find::by_testid(c, testid).await;
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

async fn value_of(c: &Client, testid: &str) -> String {
    find::by_testid(c, testid)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test]
async fn pick_an_image_network_and_volume_to_run_then_a_container_to_connect() {
    let _slot = BROWSER_SLOTS.acquire().await.unwrap();
    let net = unique("e2e-pick-net");
    let other_net = unique("e2e-pick-other");
    let vol = unique("e2e-pick-vol");
    let name = unique("e2e-pick-c");
    let linked = unique("e2e-pick-linked");
    let image =
        std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into());
    let _clean = Cleanup {
        containers: vec![name.clone(), linked.clone()],
        networks: vec![net.clone(), other_net.clone()],
        volumes: vec![vol.clone()],
    };
    for n in [&net, &other_net] {
        cli(&["network", "create", "--label", "berth-test=1", n]);
    }
    docker::volume_create(&vol);
    // A container to link to, on the network the new one will join.
    cli(&[
        "run",
        "-d",
        "--name",
        &linked,
        "--network",
        &net,
        "--label",
        "berth-test=1",
        &image,
        "sleep",
        "300",
    ]);

    let berth = Berth::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    action::login(c, &berth, "admin", e2e::berth::ADMIN_PASSWORD).await;
    c.goto(&berth.url("/containers/new")).await.unwrap();
    find::by_testid(c, "create-page").await;

    // The image field offers the local images by repo:tag, the test image among them.
    let images = offers(c, "[data-testid=create-image]", &image).await;
    assert!(
        images.iter().all(|i| !i.starts_with("<none>")),
        "untagged images are not offered: {images:?}"
    );
    type_into(c, "create-image", &image).await;
    type_into(c, "create-name", &name).await;
    type_into(c, "create-cmd", "sleep 300").await;

    // A named volume: offered, picked, given a path, and added as a line of the list.
    offers(c, "[data-testid=create-volume-pick]", &vol).await;
    type_into(c, "create-volume-pick", &vol).await;
    type_into(c, "create-volume-target", "/data").await;
    find::by_testid(c, "create-volume-add")
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(
        value_of(c, "create-volumes").await,
        format!("{vol}:/data"),
        "Add puts name:path into the volumes list"
    );
    assert_eq!(
        value_of(c, "create-volume-pick").await,
        "",
        "the add row starts over"
    );

    // The network: offered with the daemon's own ones.
    find::by_testid(c, "create-more")
        .await
        .click()
        .await
        .unwrap();
    let networks = offers(c, "[data-testid=create-network]", &net).await;
    assert!(
        networks.iter().any(|n| n == "bridge") && networks.contains(&other_net),
        "all networks are offered: {networks:?}"
    );
    type_into(c, "create-network", &net).await;

    // A link: the container picked, an alias given, added as container:alias.
    offers(c, "[data-testid=create-link-pick]", &linked).await;
    type_into(c, "create-link-pick", &linked).await;
    type_into(c, "create-link-alias", "db").await;
    find::by_testid(c, "create-link-add")
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(value_of(c, "create-links").await, format!("{linked}:db"));
    type_into(c, "create-labels", "berth-test=1").await;

    // In Simplified Chinese the add row speaks it too.
    let lang = find::by_testid(c, "lang-switch").await;
    lang.select_by_value("zh-CN").await.unwrap();
    let hint = "return document.querySelector('[data-testid=create-volume-pick]').placeholder;";
    wait_js(c, hint, Duration::from_secs(5), |v| {
        v.as_str() == Some("数据卷（选择或输入新名称）")
    })
    .await;
    lang.select_by_value("en").await.unwrap();

    let preview = find::by_testid(c, "create-preview").await;
    check::text_becomes_with(
        &preview,
        |t| {
            t.contains(&format!("--network {net}"))
                && t.contains(&format!("{vol}:/data"))
                && t.contains(&format!("--link {linked}:db"))
        },
        Duration::from_secs(5),
    )
    .await;
    find::by_testid(c, "create-submit")
        .await
        .click()
        .await
        .unwrap();
    find::by_testid(c, "logs-view").await;

    // The daemon made it with what was picked.
    let nets = cli(&[
        "inspect",
        "-f",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
        &name,
    ]);
    assert_eq!(nets, net, "the container is on the picked network only");
    let mounts = cli(&[
        "inspect",
        "-f",
        "{{range .Mounts}}{{.Type}}:{{.Name}}:{{.Destination}} {{end}}",
        &name,
    ]);
    assert_eq!(
        mounts,
        format!("volume:{vol}:/data"),
        "the picked volume is mounted"
    );
    let links = cli(&[
        "inspect",
        "-f",
        &format!("{{{{json (index .NetworkSettings.Networks \"{net}\").Links}}}}"),
        &name,
    ]);
    assert_eq!(
        links,
        format!("[\"{linked}:db\"]"),
        "the picked container is linked as db on the picked network"
    );

    // The networks page: each row's connect field offers the containers not on it yet.
    c.goto(&berth.url("/networks")).await.unwrap();
    let row = |n: &str| format!("[data-testid=network-row][data-name=\"{n}\"]");
    let field = format!(
        "{} [data-testid=network-connect-container]",
        row(&other_net)
    );
    offers(c, &field, &name).await;
    let on_bridge = offers(
        c,
        &format!("{} [data-testid=network-connect-container]", row("bridge")),
        &name,
    )
    .await;
    assert!(
        !on_bridge.is_empty(),
        "bridge's field offers containers too"
    );
    let own = c
        .execute(
            &format!(
                "return [...document.querySelector({:?}).list.options].map(o => o.value);",
                format!("{} [data-testid=network-connect-container]", row(&net))
            ),
            vec![],
        )
        .await
        .unwrap();
    assert!(
        !own.as_array()
            .unwrap()
            .iter()
            .any(|o| o.as_str() == Some(name.as_str())),
        "a network's own members are not offered for connecting: {own}"
    );

    // Picking it there and connecting: the daemon has it on both networks.
    let input = c
        .find(fantoccini::Locator::Css(&field))
        .await
        .expect("the connect field");
    input.send_keys(&name).await.unwrap();
    c.find(fantoccini::Locator::Css(&format!(
        "{} [data-testid=network-connect]",
        row(&other_net)
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let member = format!("{} [data-testid=network-member]", row(&other_net));
    let js = format!(
        "return [...document.querySelectorAll({member:?})].map(m => m.textContent).join(' ');"
    );
    wait_js(c, &js, Duration::from_secs(20), |v| {
        v.as_str().is_some_and(|t| t.contains(&name))
    })
    .await;
    let nets = cli(&[
        "inspect",
        "-f",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
        &name,
    ]);
    let mut nets: Vec<&str> = nets.split_whitespace().collect();
    nets.sort_unstable();
    let mut want = vec![net.as_str(), other_net.as_str()];
    want.sort_unstable();
    assert_eq!(nets, want, "connected to the second network");

    // The webhook form's one target field offers containers when the kind says container,
    // and stacks (not containers) when it says stack.
    c.goto(&berth.url("/webhooks")).await.unwrap();
    let kind = find::by_testid(c, "webhook-kind").await;
    kind.select_by_value("container").await.unwrap();
    offers(c, "[data-testid=webhook-target]", &name).await;
    kind.select_by_value("stack").await.unwrap();
    let js = "return [...document.querySelector('[data-testid=webhook-target]').list.options].map(o => o.value);";
    wait_js(c, js, Duration::from_secs(10), |v| {
        v.as_array()
            .is_some_and(|a| !a.iter().any(|o| o.as_str() == Some(name.as_str())))
    })
    .await;

    browser.close().await;
}
