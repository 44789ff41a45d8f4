//! The autoindex page itself: rows, sorting, breadcrumbs, and the nginx-style JSON.
//!
//! Every name goes into the page through askama's HTML escaping (on by default for `.html`
//! templates: never `|safe`), and into links percent-encoded, so a file called
//! `<img src=x onerror=alert(1)>.txt` is shown as text and links to itself.

use std::time::{Duration, UNIX_EPOCH};

use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{chunked, render_tpl};
use crate::files::human_size;
use crate::files::listing::Entry;
use crate::files::path::RelPath;

/// What a URL path segment may keep unencoded (RFC 3986 unreserved characters). `:` is
/// encoded too, so a name like `javascript:x` can never read as a scheme.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn enc(name: &str) -> String {
    utf8_percent_encode(name, SEGMENT).to_string()
}

/// Rows per rendered batch of a streamed page.
const BATCH: usize = 500;

/// The page's own words, chosen from `Accept-Language`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn from_headers(h: &HeaderMap) -> Lang {
        let accept = h
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // The first language named wins (q-values are rarely out of order in practice).
        match accept
            .split(',')
            .next()
            .map(|l| l.trim().to_ascii_lowercase())
        {
            Some(l) if l.starts_with("zh") => Lang::Zh,
            _ => Lang::En,
        }
    }

    fn t(self, en: &'static str, zh: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }
}

pub struct Listing {
    pub lang: Lang,
    /// `None`: the list of shares at `/files/`.
    pub share: Option<String>,
    pub rel: RelPath,
    pub entries: Vec<Entry>,
    pub sort: Option<String>,
    pub order: Option<String>,
    pub writable: bool,
}

pub struct Crumb {
    name: String,
    href: String,
}

pub struct Head {
    class: &'static str,
    label: &'static str,
    href: String,
    current: bool,
    arrow: &'static str,
    aria: &'static str,
}

pub struct Row {
    name: String,
    href: String,
    kind: &'static str,
    icon: &'static str,
    is_dir: bool,
    is_file: bool,
    broken: bool,
    link_target: Option<String>,
    human: String,
    exact: String,
    iso: String,
    when: String,
}

#[derive(Template)]
#[template(path = "autoindex.html", block = "head")]
struct HeadTpl<'a> {
    title: &'a str,
    crumbs: &'a [Crumb],
    tar_href: Option<String>,
    app_href: Option<String>,
    summary: String,
    heads: &'a [Head],
    up_href: Option<String>,
    l: Labels,
}

#[derive(Template)]
#[template(path = "autoindex.html", block = "rows")]
struct RowsTpl<'a> {
    rows: &'a [Row],
    l: Labels,
}

#[derive(Template)]
#[template(path = "autoindex.html", block = "foot")]
struct FootTpl;

#[derive(Clone, Copy)]
pub struct Labels {
    parent: &'static str,
    download_folder: &'static str,
    open_in_app: &'static str,
    bytes: &'static str,
}

impl Labels {
    fn of(lang: Lang) -> Labels {
        Labels {
            parent: lang.t("Parent folder", "上级文件夹"),
            download_folder: lang.t("Download folder (.tar)", "下载文件夹 (.tar)"),
            open_in_app: lang.t("Upload & edit in berth", "在 berth 中上传和编辑"),
            bytes: lang.t("bytes", "字节"),
        }
    }
}

fn when(mtime: i64) -> (String, String) {
    let t = UNIX_EPOCH + Duration::from_secs(mtime.max(0) as u64);
    let dt = time::OffsetDateTime::from(t);
    let iso = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        dt.month() as u8,
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    let shown = format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        dt.year(),
        dt.month() as u8,
        dt.day(),
        dt.hour(),
        dt.minute()
    );
    (iso, shown)
}

/// `1234567` → `1,234,567`.
fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn sort(entries: &mut [Entry], by: &str, desc: bool) {
    entries.sort_by(|a, b| {
        let folders_first = b.is_dir_like().cmp(&a.is_dir_like());
        let key = match by {
            "size" => a.size.cmp(&b.size).then_with(|| a.name.cmp(&b.name)),
            "mtime" => a.mtime.cmp(&b.mtime).then_with(|| a.name.cmp(&b.name)),
            _ => a.name.cmp(&b.name),
        };
        folders_first.then(if desc { key.reverse() } else { key })
    });
}

/// The streamed HTML page.
pub fn render(mut l: Listing) -> Response {
    let by = match l.sort.as_deref() {
        Some("size") => "size",
        Some("mtime") => "mtime",
        _ => "name",
    };
    let desc = l.order.as_deref() == Some("desc");
    sort(&mut l.entries, by, desc);
    let lang = l.lang;
    let labels = Labels::of(lang);

    // `/files/`, `/files/share/`, `/files/share/a/` ...
    let mut base = String::from("/files/");
    let mut crumbs = vec![Crumb {
        name: lang.t("files", "文件").into(),
        href: base.clone(),
    }];
    if let Some(share) = &l.share {
        base.push_str(&enc(share));
        base.push('/');
        crumbs.push(Crumb {
            name: share.clone(),
            href: base.clone(),
        });
        for n in l.rel.names() {
            base.push_str(&enc(n));
            base.push('/');
            crumbs.push(Crumb {
                name: n.clone(),
                href: base.clone(),
            });
        }
    }
    let title = match &l.share {
        Some(s) => format!("/{s}{}", l.rel.display()),
        None => "/".into(),
    };
    let up_href = (crumbs.len() > 1).then(|| crumbs[crumbs.len() - 2].href.clone());

    let heads: Vec<Head> = [
        ("name", "name", lang.t("Name", "名称")),
        ("size", "size", lang.t("Size", "大小")),
        ("mtime", "mtime", lang.t("Modified", "修改时间")),
    ]
    .into_iter()
    .map(|(key, class, label)| {
        let current = key == by;
        // Clicking the current column flips its order; another column starts ascending.
        let next = if current && !desc { "desc" } else { "asc" };
        Head {
            class,
            label,
            href: format!("?sort={key}&order={next}"),
            current,
            arrow: if desc { "▼" } else { "▲" },
            aria: if desc { "descending" } else { "ascending" },
        }
    })
    .collect();

    let files = l.entries.iter().filter(|e| !e.is_dir_like()).count();
    let folders = l.entries.len() - files;
    let total: u64 = l.entries.iter().map(|e| e.size).sum();
    let summary = match lang {
        Lang::En => format!(
            "{folders} folder{}, {files} file{}, {}",
            if folders == 1 { "" } else { "s" },
            if files == 1 { "" } else { "s" },
            human_size(total)
        ),
        Lang::Zh => format!("{folders} 个文件夹，{files} 个文件，{}", human_size(total)),
    };
    let (tar_href, app_href) = match &l.share {
        Some(share) => (
            Some("?format=tar".to_string()),
            l.writable.then(|| {
                format!(
                    "/shares/{}?path={}",
                    enc(share),
                    utf8_percent_encode(&l.rel.display(), NON_ALPHANUMERIC)
                )
            }),
        ),
        None => (None, None),
    };
    let head = render_tpl(&HeadTpl {
        title: &title,
        crumbs: &crumbs,
        tar_href,
        app_href,
        summary,
        heads: &heads,
        up_href,
        l: labels,
    });
    let foot = render_tpl(&FootTpl);

    let entries = std::mem::take(&mut l.entries);
    let rows = RowBatches {
        entries: entries.into_iter(),
        base,
        labels,
    };
    let mut resp = Response::new(chunked(head, rows, foot));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // The page has no script at all: everything (sorting included) is links.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

struct RowBatches {
    entries: std::vec::IntoIter<Entry>,
    base: String,
    labels: Labels,
}

impl Iterator for RowBatches {
    type Item = String;
    fn next(&mut self) -> Option<String> {
        let rows: Vec<Row> = self
            .entries
            .by_ref()
            .take(BATCH)
            .map(|e| row(&self.base, e))
            .collect();
        if rows.is_empty() {
            return None;
        }
        Some(render_tpl(&RowsTpl {
            rows: &rows,
            l: self.labels,
        }))
    }
}

fn row(base: &str, e: Entry) -> Row {
    let is_dir = e.is_dir_like();
    // The list of shares has no times to show.
    let (iso, when) = if e.mtime > 0 {
        when(e.mtime)
    } else {
        (String::new(), String::new())
    };
    let kind = match e.kind {
        wire::FileKind::File => "file",
        wire::FileKind::Dir => "dir",
        wire::FileKind::Symlink => "symlink",
        wire::FileKind::Other => "other",
    };
    Row {
        href: format!("{base}{}{}", enc(&e.name), if is_dir { "/" } else { "" }),
        kind,
        // A CSS class (`ico-dir` ...): the icons are drawn by the page's stylesheet.
        icon: match (is_dir, e.kind) {
            (true, _) => "dir",
            (false, wire::FileKind::Symlink) => "symlink",
            (false, wire::FileKind::Other) => "other",
            _ => "file",
        },
        is_dir,
        is_file: e.kind == wire::FileKind::File,
        broken: e.kind == wire::FileKind::Symlink && e.target.is_none(),
        link_target: e.link_target,
        human: human_size(e.size),
        exact: grouped(e.size),
        iso,
        when,
        name: e.name,
    }
}

/// One row of nginx's `autoindex_format json`.
#[derive(serde::Serialize)]
pub struct NginxRow<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    mtime: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
}

/// nginx's `autoindex_format json`: `[{"name","type":"directory"|"file"|"other","mtime","size"?}]`.
pub fn nginx_json(entries: &[Entry]) -> Vec<NginxRow<'_>> {
    entries
        .iter()
        .map(|e| {
            let mtime =
                httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(e.mtime.max(0) as u64));
            let (kind, size) = if e.is_dir_like() {
                ("directory", None)
            } else if e.kind == wire::FileKind::File {
                ("file", Some(e.size))
            } else if e.target == Some(wire::FileKind::File) {
                // As nginx, which stats what a link points at.
                ("file", Some(e.target_size))
            } else {
                ("other", None)
            };
            NginxRow {
                name: &e.name,
                kind,
                mtime,
                size,
            }
        })
        .collect()
}
