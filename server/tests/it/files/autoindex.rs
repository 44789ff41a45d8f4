//! `/files/{share}/`: HTML and JSON listings, redirects, files with ranges and validators.

use reqwest::header;
use serde_json::Value;

use super::*;

#[tokio::test]
async fn autoindex_html_lists_a_prepared_tree() {
    let t = tree();
    let app = app_for(&t).await;
    let c = no_redirects(&app).await;

    // A folder without its slash redirects to it.
    let r = c.get(app.url("/files/pub")).send().await.unwrap();
    assert_eq!(r.status(), 301);
    assert_eq!(r.headers()["location"], "/files/pub/");
    let r = c
        .get(app.url("/files/pub/docs?sort=size"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 301);
    assert_eq!(r.headers()["location"], "/files/pub/docs/?sort=size");

    let r = c.get(app.url("/files/pub/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'"),
        "no script on the page: {csp}"
    );
    let html = r.text().await.unwrap();

    // Names, both sizes, folders first, links.
    assert!(html.contains(">hello.txt</a>"), "{html}");
    assert!(html.contains("12 B"), "human size");
    assert!(html.contains("12 bytes"), "exact size");
    assert!(html.contains("href=\"/files/pub/docs/\""));
    assert!(html.contains("href=\"/files/pub/a%20b%20%26%20c.txt\""));
    assert!(html.contains("a b &#38; c.txt"), "escaped ampersand");
    let docs = html.find(">docs/</a>").expect("docs listed");
    let empty = html.find(">empty/</a>").expect("empty listed");
    let hello = html.find(">hello.txt</a>").expect("hello listed");
    assert!(docs < empty && empty < hello, "folders first, by name");
    // A symlink to a folder inside is a folder; links out are shown, not followed.
    assert!(html.contains(">inside/</a>"));
    assert!(html.contains("→ /etc"));
    // The hostile name is text, escaped, and its link percent-encoded.
    assert!(!html.contains("<img src=x"), "never raw HTML");
    assert!(
        html.contains("&#60;img src=x onerror=alert(1)&#62;.txt"),
        "{html}"
    );
    assert!(html.contains("href=\"/files/pub/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.txt\""));
    // Breadcrumbs and sortable columns; at the share root the up link leads to /files/.
    assert!(html.contains("href=\"/files/\""));
    assert!(html.contains("href=\"?sort=size&#38;order=asc\""));
    assert!(
        html.contains("href=\"?sort=name&#38;order=desc\""),
        "current column flips"
    );

    // A subfolder: breadcrumbs to every level and an up link.
    let html = c
        .get(app.url("/files/pub/docs/sub/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("href=\"/files/pub/docs/\""),
        "crumb and up link"
    );
    assert!(html.contains("data-testid=\"up\""));
    assert!(html.contains(">deep.txt</a>"));

    // Sorting by size, largest first (folders stay first).
    let html = c
        .get(app.url("/files/pub/?sort=size&order=desc"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let big = html.find(">thousand.bin</a>").unwrap();
    let small = html.find(">hello.txt</a>").unwrap();
    assert!(big < small);
    assert!(html.find(">docs/</a>").unwrap() < big);

    // The hostile file itself is served as plain text.
    let r = c
        .get(app.url("/files/pub/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(r.text().await.unwrap(), "just text\n");

    // /files/ lists the shares.
    let html = c
        .get(app.url("/files/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("href=\"/files/pub/\"") && html.contains("href=\"/files/rw/\""));
}

#[tokio::test]
async fn autoindex_json_is_like_nginx() {
    let t = tree();
    let app = app_for(&t).await;
    let (status, body) = app.get("/files/pub/?format=json").await;
    assert_eq!(status, 200);
    let rows = body.as_array().expect("an array");
    let find = |n: &str| {
        rows.iter()
            .find(|r| r["name"] == n)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(find("docs")["type"], "directory");
    assert!(find("docs").get("size").is_none());
    assert_eq!(find("hello.txt")["type"], "file");
    assert_eq!(find("hello.txt")["size"], 12);
    assert_eq!(find("hello.txt")["mtime"], "Tue, 14 Nov 2023 22:13:20 GMT");
    assert_eq!(find("inside")["type"], "directory");
    assert_eq!(find(XSS_NAME)["type"], "file");
    assert_eq!(rows[0]["type"], "directory", "folders first");
    // Anonymous: JSON gets a 401 envelope, a browser is sent to log in and back.
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = anon
        .get(app.url("/files/pub/?format=json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = anon
        .get(app.url("/files/pub/docs/"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(
        r.headers()["location"],
        "/login?next=%2Ffiles%2Fpub%2Fdocs%2F"
    );
    let r = anon
        .get(app.url("/files/pub/hello.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn files_are_served_with_ranges_validators_and_head() {
    let t = tree();
    let app = app_for(&t).await;
    let c = &app.client;
    let url = app.url("/files/pub/thousand.bin");
    let all: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();

    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    assert_eq!(r.headers()["content-length"], "1000");
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let lm = r.headers()["last-modified"].to_str().unwrap().to_owned();
    assert_eq!(r.bytes().await.unwrap().as_ref(), &all[..]);

    // HEAD: the same headers, no body.
    let r = c.head(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], "1000");
    assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
    assert!(r.bytes().await.unwrap().is_empty());

    // Single ranges.
    for (range, first, last) in [
        ("bytes=0-9", 0, 9),
        ("bytes=-5", 995, 999),
        ("bytes=990-5000", 990, 999),
    ] {
        let r = c
            .get(&url)
            .header(header::RANGE, range)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 206, "{range}");
        assert_eq!(
            r.headers()["content-range"],
            format!("bytes {first}-{last}/1000").as_str()
        );
        assert_eq!(r.bytes().await.unwrap().as_ref(), &all[first..=last]);
    }
    let r = c
        .get(&url)
        .header(header::RANGE, "bytes=5000-")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 416);
    assert_eq!(r.headers()["content-range"], "bytes */1000");

    // Several ranges: multipart/byteranges with each part's own Content-Range.
    let r = c
        .get(&url)
        .header(header::RANGE, "bytes=0-1,100-103,-2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    let ctype = r.headers()["content-type"].to_str().unwrap().to_owned();
    let boundary = ctype
        .strip_prefix("multipart/byteranges; boundary=")
        .expect("multipart")
        .to_owned();
    let declared: usize = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len(), declared, "Content-Length matches the body");
    let text = String::from_utf8_lossy(&body);
    assert_eq!(text.matches(&format!("--{boundary}\r\n")).count(), 3);
    assert!(text.ends_with(&format!("--{boundary}--\r\n")));
    for (a, b) in [(0usize, 1usize), (100, 103), (998, 999)] {
        let marker = format!("Content-Range: bytes {a}-{b}/1000\r\n\r\n");
        let at = body
            .windows(marker.len())
            .position(|w| w == marker.as_bytes())
            .expect("a part per range")
            + marker.len();
        assert_eq!(&body[at..=at + (b - a)], &all[a..=b]);
    }

    // Conditional requests.
    let r = c
        .get(&url)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let r = c
        .get(&url)
        .header(header::IF_NONE_MATCH, "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .get(&url)
        .header(header::IF_MODIFIED_SINCE, &lm)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let r = c
        .get(&url)
        .header(header::IF_MODIFIED_SINCE, "Thu, 01 Jan 1970 00:00:01 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .get(&url)
        .header(header::IF_MATCH, "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 412);
    // If-Range: the range only while the validator still matches.
    let r = c
        .get(&url)
        .header(header::RANGE, "bytes=0-9")
        .header(header::IF_RANGE, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    let r = c
        .get(&url)
        .header(header::RANGE, "bytes=0-9")
        .header(header::IF_RANGE, "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), 1000);
    let r = c
        .get(&url)
        .header(header::RANGE, "bytes=0-9")
        .header(header::IF_RANGE, &lm)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);

    // Types: text with a charset; active content cannot run in berth's origin.
    let r = c.get(app.url("/files/pub/hello.txt")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    for name in ["page.html", "pic.svg"] {
        let r = c
            .get(app.url(&format!("/files/pub/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let cd = r.headers()["content-disposition"].to_str().unwrap();
        assert!(cd.starts_with("attachment"), "{name}: {cd}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("sandbox"), "{name}: {csp}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    }
    // ?download=1 makes anything an attachment.
    let r = c
        .get(app.url("/files/pub/hello.txt?download=1"))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename=\"hello.txt\""));
}

#[tokio::test]
async fn a_folder_downloads_as_a_tar() {
    let t = tree();
    let app = app_for(&t).await;
    let r = app
        .client
        .get(app.url("/files/pub/docs/?format=tar"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-tar");
    let body = r.bytes().await.unwrap();
    let mut ar = tar::Archive::new(&body[..]);
    let mut seen = std::collections::BTreeMap::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().display().to_string();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut e, &mut s).unwrap();
        seen.insert(path, s);
    }
    assert_eq!(
        seen.get("docs/readme.txt").map(String::as_str),
        Some("read me\n")
    );
    assert_eq!(
        seen.get("docs/sub/deep.txt").map(String::as_str),
        Some("deep\n")
    );
    assert!(seen.contains_key("docs/sub/"));
    // The share root: symlinks are archived as links, never followed out.
    let body = app
        .client
        .get(app.url("/files/pub/?format=tar"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&body).contains(SECRET));
    let mut ar = tar::Archive::new(&body[..]);
    let out2 = ar
        .entries()
        .unwrap()
        .map(|e| e.unwrap())
        .find(|e| e.path().unwrap().ends_with("out2"))
        .expect("the link is in the archive");
    assert_eq!(out2.header().entry_type(), tar::EntryType::Symlink);
}
