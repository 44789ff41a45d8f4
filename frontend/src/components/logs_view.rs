//! The logs tab: `GET /api/containers/{id}/logs/ws`, live.
//!
//! Frames are queued outside the reactive graph and land in the view in one batch every
//! 250 ms, so a container writing as fast as it can costs one render per batch. At most
//! `KEEP` lines stay in memory and `WINDOW` in the DOM. Lines are text nodes in spans
//! (ANSI colours become classes): nothing a container writes is ever parsed as HTML.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use leptos::html;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wire::{LogLine, LogNotice, LogPage};

use crate::ansi::{self, Segment};
use crate::api;
use crate::components::socket::{Callbacks, Socket};
use crate::i18n::containers_more::{exit_code, lines_skipped, tr, Key};
use crate::i18n::logs_ux::{self as lx, match_count};
use crate::i18n::use_i18n;

const KEEP: usize = 5000;
const WINDOW: usize = 1000;
const BATCH: Duration = Duration::from_millis(250);
const FIRST_TAIL: usize = 500;
/// Lines one "load older" brings.
const OLDER_PAGE: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Note {
    Skipped(u64),
    Stopped(Option<i64>),
    Restarted,
    End,
}

#[derive(Debug)]
struct Row {
    id: u64,
    stderr: bool,
    ts: String,
    text: String,
    segments: Vec<Segment>,
    note: Option<Note>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Connecting,
    Live,
    DaemonLost,
    Reconnecting,
}

/// What the search box asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Search {
    text: String,
    regex: bool,
}

impl Search {
    /// Byte ranges of the matches in `s`; Err when the regex is invalid.
    fn ranges(&self, s: &str) -> Result<Vec<(usize, usize)>, ()> {
        if self.text.is_empty() {
            return Ok(Vec::new());
        }
        if !self.regex {
            let hay = s.to_lowercase();
            let needle = self.text.to_lowercase();
            // Lower-casing can change lengths outside ASCII; then we only say "matches".
            if hay.len() != s.len() {
                return Ok(if hay.contains(&needle) {
                    vec![(0, 0)]
                } else {
                    vec![]
                });
            }
            return Ok(hay
                .match_indices(&needle)
                .map(|(i, m)| (i, i + m.len()))
                .collect());
        }
        let re = regex(&self.text).ok_or(())?;
        let mut out = Vec::new();
        let units: Vec<u16> = s.encode_utf16().collect();
        // JS indexes in UTF-16 units; Rust slices in bytes.
        let byte_at = |u: usize| String::from_utf16_lossy(&units[..u.min(units.len())]).len();
        while let Some(m) = re.exec(s) {
            let len16 = m.get(0).as_string().map_or(0, |t| t.encode_utf16().count());
            let end16 = re.last_index() as usize;
            if len16 == 0 {
                // An empty match: step on, or the loop never ends.
                re.set_last_index(re.last_index() + 1);
                if end16 >= units.len() {
                    break;
                }
                continue;
            }
            out.push((byte_at(end16 - len16), byte_at(end16)));
            if out.len() > 200 {
                break;
            }
        }
        Ok(out)
    }
}

/// A JS RegExp (case-insensitive, global), or None if the pattern is invalid; built
/// through `Reflect` so that a bad pattern is an error, not a panic.
fn regex(pattern: &str) -> Option<js_sys::RegExp> {
    use wasm_bindgen::JsCast;
    let ctor = js_sys::Reflect::get(&js_sys::global(), &"RegExp".into()).ok()?;
    let args = js_sys::Array::of2(&pattern.into(), &"gi".into());
    js_sys::Reflect::construct(ctor.unchecked_ref::<js_sys::Function>(), &args)
        .ok()
        .map(|v| v.unchecked_into())
}

struct Feed {
    path: String,
    socket: RefCell<Option<Socket>>,
    pending: RefCell<Vec<Row>>,
    next_id: Cell<u64>,
    /// The newest line's timestamp: a reconnect asks from there and drops repeats.
    last_ts: RefCell<String>,
    stopped: Cell<bool>,
    batch_pending: Cell<bool>,
    rows: RwSignal<VecDeque<Arc<Row>>>,
    paused: RwSignal<bool>,
    link: RwSignal<Link>,
    follow: RwSignal<bool>,
    scroller: NodeRef<html::Div>,
    /// Lines kept and shown: `KEEP` and `WINDOW`, plus what "load older" brought.
    kept: RwSignal<usize>,
    window: RwSignal<usize>,
}

/// RFC 3339 with the fraction padded to nine digits: comparable as a string.
fn sortable(ts: &str) -> String {
    let Some((head, rest)) = ts.split_once('.') else {
        return ts.trim_end_matches('Z').to_string() + ".000000000";
    };
    let frac: String = rest.trim_end_matches('Z').chars().take(9).collect();
    format!("{head}.{frac:0<9}")
}

impl Feed {
    fn connect(self: &Rc<Self>) {
        if self.stopped.get() {
            return;
        }
        let last = self.last_ts.borrow().clone();
        let query = if last.is_empty() {
            format!("timestamps=true&tail={FIRST_TAIL}")
        } else {
            let secs = (js_sys::Date::parse(&last) / 1000.0).floor() as i64;
            format!("timestamps=true&tail=all&since={secs}")
        };
        let (this, this2, this3) = (Rc::clone(self), Rc::clone(self), Rc::clone(self));
        let socket = Socket::open(
            &format!("{}?{query}", self.path),
            Callbacks {
                on_open: Box::new(move || this.link.set(Link::Live)),
                on_text: Box::new(move |text| this2.frame(&text)),
                on_close: Box::new(move |_| {
                    if this3.stopped.get() {
                        return;
                    }
                    this3.link.set(Link::Reconnecting);
                    let again = Rc::clone(&this3);
                    set_timeout(move || again.connect(), Duration::from_secs(2));
                }),
                ..Default::default()
            },
        );
        *self.socket.borrow_mut() = socket;
    }

    fn frame(self: &Rc<Self>, text: &str) {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
            return;
        };
        let items = match value {
            serde_json::Value::Array(items) => items,
            other => vec![other],
        };
        for item in items {
            if item.get("berth").is_some() {
                if let Ok(n) = serde_json::from_value::<LogNotice>(item) {
                    self.notice(n);
                }
            } else if let Ok(line) = serde_json::from_value::<LogLine>(item) {
                self.line(line);
            }
        }
        self.schedule();
    }

    fn push(&self, row: Row) {
        let mut pending = self.pending.borrow_mut();
        pending.push(row);
        if pending.len() > KEEP {
            let extra = pending.len() - KEEP;
            pending.drain(..extra);
        }
    }

    fn id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        id
    }

    fn line(&self, line: LogLine) {
        let ts = line.ts.unwrap_or_default();
        if !ts.is_empty() {
            let key = sortable(&ts);
            let mut last = self.last_ts.borrow_mut();
            // After a reconnect the server repeats the last second.
            if !last.is_empty() && key <= sortable(&last) {
                return;
            }
            *last = ts.clone();
        }
        let row = Row {
            id: self.id(),
            stderr: line.stream == "stderr",
            segments: ansi::parse(&line.line),
            text: line.line,
            ts,
            note: None,
        };
        self.push(row);
    }

    fn notice(&self, n: LogNotice) {
        let note = match n {
            LogNotice::Skipped { count } => Note::Skipped(count),
            LogNotice::Stopped { exit_code } => Note::Stopped(exit_code),
            LogNotice::Restarted => Note::Restarted,
            LogNotice::End => Note::End,
            LogNotice::DaemonLost { .. } => {
                self.link.set(Link::DaemonLost);
                return;
            }
            LogNotice::DaemonBack => {
                self.link.set(Link::Live);
                return;
            }
        };
        let row = Row {
            id: self.id(),
            stderr: false,
            ts: String::new(),
            text: String::new(),
            segments: Vec::new(),
            note: Some(note),
        };
        self.push(row);
    }

    /// One view update per `BATCH`, however many frames came.
    fn schedule(self: &Rc<Self>) {
        if self.batch_pending.replace(true) {
            return;
        }
        let this = Rc::clone(self);
        set_timeout(
            move || {
                this.batch_pending.set(false);
                this.flush();
            },
            BATCH,
        );
    }

    fn flush(self: &Rc<Self>) {
        if self.stopped.get() || self.paused.get_untracked() {
            return;
        }
        let new: Vec<Row> = self.pending.borrow_mut().drain(..).collect();
        if new.is_empty() {
            return;
        }
        self.rows.update(|rows| {
            rows.extend(new.into_iter().map(Arc::new));
            let keep = self.kept.get_untracked();
            while rows.len() > keep {
                rows.pop_front();
            }
        });
        if self.follow.get_untracked() {
            let scroller = self.scroller;
            request_animation_frame(move || {
                if let Some(el) = scroller.get_untracked() {
                    el.set_scroll_top(el.scroll_height());
                }
            });
        }
    }
}

impl Feed {
    /// Older lines (oldest first) go above the first one, the view staying where it was.
    fn prepend(&self, lines: Vec<LogLine>) {
        let n = lines.len();
        if n == 0 {
            return;
        }
        let new: Vec<Arc<Row>> = lines
            .into_iter()
            .map(|line| {
                Arc::new(Row {
                    id: self.id(),
                    stderr: line.stream == "stderr",
                    segments: ansi::parse(&line.line),
                    text: line.line,
                    ts: line.ts.unwrap_or_default(),
                    note: None,
                })
            })
            .collect();
        let before = self
            .scroller
            .get_untracked()
            .map(|el| (el.scroll_height(), el.scroll_top()));
        self.follow.set(false);
        self.kept.update(|k| *k += n);
        self.window.update(|w| *w += n);
        self.rows.update(|rows| {
            for row in new.into_iter().rev() {
                rows.push_front(row);
            }
        });
        let scroller = self.scroller;
        request_animation_frame(move || {
            if let (Some(el), Some((height, top))) = (scroller.get_untracked(), before) {
                el.set_scroll_top(top + el.scroll_height() - height);
            }
        });
    }
}

/// A daemon timestamp in the browser's time zone, to the millisecond (the raw one stays in
/// the title).
fn local_time(ts: &str) -> String {
    // JS reads three digits of fraction at most.
    let cut = match ts.split_once('.') {
        Some((head, rest)) => {
            let frac: String = rest.trim_end_matches('Z').chars().take(3).collect();
            format!("{head}.{frac:0<3}Z")
        }
        None => ts.to_string(),
    };
    let d = js_sys::Date::new(&cut.into());
    if d.get_time().is_nan() {
        return ts.to_string();
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds(),
        d.get_milliseconds()
    )
}

/// Which stream the filter lets through: "all", "stdout" or "stderr".
fn stream_ok(filter: &str, row: &Row) -> bool {
    row.note.is_some()
        || match filter {
            "stdout" => !row.stderr,
            "stderr" => row.stderr,
            _ => true,
        }
}

/// The search's `<mark>`s in the log, oldest first (through `Reflect`, as a `NodeList`
/// binding is not worth its weight for one call).
fn marks(scroller: &web_sys::HtmlDivElement) -> Vec<web_sys::Element> {
    use wasm_bindgen::JsCast;
    let Ok(f) = js_sys::Reflect::get(scroller, &"querySelectorAll".into()) else {
        return Vec::new();
    };
    let Ok(list) = f
        .unchecked_ref::<js_sys::Function>()
        .call1(scroller, &"[data-testid=log-match]".into())
    else {
        return Vec::new();
    };
    js_sys::Array::from(&list)
        .iter()
        .map(|e| e.unchecked_into())
        .collect()
}

/// The logs of container `id` (full id, short id or name), or with `service` those of
/// swarm service `id`, every task's merged (`/api/services/{id}/logs/ws`; a service has no
/// paged or downloadable logs, so those two buttons are left out).
#[component]
pub fn LogsView(id: String, #[prop(optional)] service: bool) -> impl IntoView {
    let i18n = use_i18n();
    let rows = RwSignal::new(VecDeque::<Arc<Row>>::new());
    let paused = RwSignal::new(false);
    let follow = RwSignal::new(true);
    let link = RwSignal::new(Link::Connecting);
    let show_ts = RwSignal::new(false);
    let search_text = RwSignal::new(String::new());
    let use_regex = RwSignal::new(false);
    let only_matching = RwSignal::new(false);
    let scroller = NodeRef::<html::Div>::new();
    let streams = RwSignal::new("all".to_string());
    let wrap = RwSignal::new(true);
    let full = RwSignal::new(false);
    let older_busy = RwSignal::new(false);
    let older_more = RwSignal::new(true);
    let older_error = RwSignal::new(None::<String>);
    let kept = RwSignal::new(KEEP);
    let window = RwSignal::new(WINDOW);
    let current = RwSignal::new(0usize);

    let feed = Rc::new(Feed {
        path: if service {
            format!("/api/services/{}/logs/ws", api::enc(&id))
        } else {
            format!("/api/containers/{}/logs/ws", api::enc(&id))
        },
        socket: RefCell::new(None),
        pending: RefCell::new(Vec::new()),
        next_id: Cell::new(0),
        last_ts: RefCell::new(String::new()),
        stopped: Cell::new(false),
        batch_pending: Cell::new(false),
        rows,
        paused,
        link,
        follow,
        scroller,
        kept,
        window,
    });
    feed.connect();
    let older_feed = SendWrapper::new(Rc::clone(&feed));
    let resume = SendWrapper::new(Rc::clone(&feed));
    let feed = SendWrapper::new(feed);
    on_cleanup(move || {
        feed.stopped.set(true);
        feed.socket.borrow_mut().take();
    });

    let search = Memo::new(move |_| Search {
        text: search_text.get(),
        regex: use_regex.get(),
    });
    let bad_regex =
        move || search.with(|s| s.regex && !s.text.is_empty() && regex(&s.text).is_none());
    let visible = move || {
        let s = search.get();
        let filter = only_matching.get() && !s.text.is_empty();
        let streams = streams.get();
        rows.with(|rows| {
            let mut out: Vec<Arc<Row>> = rows
                .iter()
                .rev()
                .filter(|r| stream_ok(&streams, r))
                .filter(|r| {
                    !filter || r.note.is_some() || s.ranges(&r.text).is_ok_and(|m| !m.is_empty())
                })
                .take(window.get())
                .cloned()
                .collect();
            out.reverse();
            out
        })
    };
    // Matches among the lines shown (the same rows `visible` takes).
    let total = Memo::new(move |_| {
        let s = search.get();
        if s.text.is_empty() {
            return 0;
        }
        let streams = streams.get();
        let window = window.get();
        rows.with(|rows| {
            rows.iter()
                .rev()
                .filter(|r| r.note.is_none() && stream_ok(&streams, r))
                .take(window)
                .map(|r| {
                    s.ranges(&r.text)
                        .map_or(0, |m| m.iter().filter(|(a, b)| a != b).count())
                })
                .sum::<usize>()
        })
    });
    // A new search starts at its newest match.
    Effect::new(move |_| {
        search.track();
        current.set(total.get_untracked());
    });
    let go_to = move |step: isize| {
        let n = total.get_untracked();
        if n == 0 {
            return;
        }
        let at = current.get_untracked().clamp(1, n) as isize + step;
        let at = if at < 1 {
            n
        } else if at as usize > n {
            1
        } else {
            at as usize
        };
        current.set(at);
        follow.set(false);
        request_animation_frame(move || {
            let Some(el) = scroller.get_untracked() else {
                return;
            };
            for (i, m) in marks(&el).iter().enumerate() {
                let here = i + 1 == at;
                let _ = m.class_list().toggle_with_force("current", here);
                if here {
                    m.scroll_into_view_with_bool(false);
                }
            }
        });
    };
    let load_older = {
        let id = id.clone();
        move |_| {
            if older_busy.get_untracked() {
                return;
            }
            let before =
                rows.with_untracked(|r| r.iter().find(|r| !r.ts.is_empty()).map(|r| r.ts.clone()));
            let mut url = format!(
                "/api/containers/{}/logs/page?lines={OLDER_PAGE}",
                api::enc(&id)
            );
            if let Some(b) = &before {
                url.push_str(&format!("&before={}", api::enc(b)));
            }
            older_busy.set(true);
            older_error.set(None);
            let feed = older_feed.clone();
            leptos::task::spawn_local(async move {
                match api::get::<LogPage>(&url).await {
                    Ok(page) => {
                        older_more.set(page.more);
                        feed.prepend(page.lines);
                    }
                    Err(e) => older_error.set(Some(e.message)),
                }
                older_busy.set(false);
            });
        }
    };
    let on_scroll = move |_| {
        if let Some(el) = scroller.get_untracked() {
            let at_bottom = el.scroll_height() - el.scroll_top() - el.client_height() < 40;
            if follow.get_untracked() != at_bottom {
                follow.set(at_bottom);
            }
        }
    };
    let jump = Callback::new(move |_: ()| {
        follow.set(true);
        paused.set(false);
        resume.flush();
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    });
    let download = {
        let id = api::enc(&id);
        move || format!("/api/containers/{id}/logs?timestamps={}", show_ts.get())
    };

    view! {
        <div class="logs" class:logs-full=move || full.get() data-testid="logs-view">
            <div class="toolbar logs-toolbar">
                <button
                    type="button"
                    class="btn btn-sm"
                    data-testid="logs-pause"
                    on:click=move |_| paused.update(|p| *p = !*p)
                >
                    {move || if paused.get() { tr(Key::Resume)() } else { tr(Key::Pause)() }}
                </button>
                <label class="check">
                    <input type="checkbox" data-testid="logs-timestamps" bind:checked=show_ts />
                    <span>{tr(Key::Timestamps)}</span>
                </label>
                <input
                    type="search"
                    class="input filter"
                    data-testid="logs-search"
                    placeholder=tr(Key::Search)
                    aria-label=tr(Key::Search)
                    bind:value=search_text
                />
                <label class="check">
                    <input type="checkbox" data-testid="logs-regex" bind:checked=use_regex />
                    <span>{tr(Key::Regex)}</span>
                </label>
                <label class="check">
                    <input type="checkbox" data-testid="logs-only-matching" bind:checked=only_matching />
                    <span>{tr(Key::OnlyMatching)}</span>
                </label>
                <span class="logs-matches" class:hidden=move || search_text.with(String::is_empty)>
                    <span data-testid="logs-matches" aria-live="polite">
                        {move || match_count(i18n.lang.get(), current.get().min(total.get()), total.get())}
                    </span>
                    <button type="button" class="btn btn-sm" data-testid="logs-match-prev"
                        title=lx::tr(lx::Key::PrevMatch) aria-label=lx::tr(lx::Key::PrevMatch)
                        on:click=move |_| go_to(-1)>"↑"</button>
                    <button type="button" class="btn btn-sm" data-testid="logs-match-next"
                        title=lx::tr(lx::Key::NextMatch) aria-label=lx::tr(lx::Key::NextMatch)
                        on:click=move |_| go_to(1)>"↓"</button>
                </span>
                <select class="input input-sm" data-testid="logs-streams" aria-label=lx::tr(lx::Key::Streams)
                    on:change=move |ev| streams.set(event_target_value(&ev))>
                    <option value="all">{lx::tr(lx::Key::AllStreams)}</option>
                    <option value="stdout">{lx::tr(lx::Key::StdoutOnly)}</option>
                    <option value="stderr">{lx::tr(lx::Key::StderrOnly)}</option>
                </select>
                <label class="check">
                    <input type="checkbox" data-testid="logs-wrap" bind:checked=wrap />
                    <span>{lx::tr(lx::Key::Wrap)}</span>
                </label>
                <button type="button" class="btn btn-sm" data-testid="logs-fullscreen"
                    aria-pressed=move || full.get().to_string()
                    on:click=move |_| full.update(|f| *f = !*f)>
                    {move || if full.get() { lx::tr(lx::Key::ExitFullscreen)() } else { lx::tr(lx::Key::Fullscreen)() }}
                </button>
                {(!service).then(|| view! {
                    <a class="btn btn-sm" data-testid="logs-download" href=download download="">
                        {tr(Key::Download)}
                    </a>
                })}
                <span class="logs-count muted" data-testid="logs-count">
                    {move || rows.with(|r| r.iter().filter(|r| r.note.is_none()).count())}
                </span>
            </div>
            {move || bad_regex().then(|| view! { <p class="form-error">{tr(Key::BadRegex)}</p> })}
            {move || match link.get() {
                Link::DaemonLost => Some(view! {
                    <div class="banner banner-error" data-testid="logs-daemon-lost" role="status">
                        <span class="banner-text">{tr(Key::DaemonLostResuming)}</span>
                    </div>
                }.into_any()),
                Link::Reconnecting => Some(view! {
                    <div class="banner" data-testid="logs-reconnecting" role="status">
                        <span class="banner-text">{tr(Key::Reconnecting)}</span>
                    </div>
                }.into_any()),
                _ => None,
            }}
            {move || older_error.get().map(|e| view! { <p class="form-error" data-testid="logs-older-error">{e}</p> })}
            <div
                class="log-lines mono"
                class:nowrap=move || !wrap.get()
                data-testid="log-lines"
                node_ref=scroller
                on:scroll=on_scroll
            >
                <div class="logs-older" class:hidden=service>
                    {move || if older_more.get() {
                        view! {
                            <button type="button" class="btn btn-sm" data-testid="logs-older"
                                disabled=move || older_busy.get() on:click=load_older.clone()>
                                {move || if older_busy.get() { lx::tr(lx::Key::Loading)() } else { lx::tr(lx::Key::LoadOlder)() }}
                            </button>
                        }.into_any()
                    } else {
                        view! { <span class="muted" data-testid="logs-no-older">{lx::tr(lx::Key::NoOlder)}</span> }.into_any()
                    }}
                </div>
                {move || rows.with(VecDeque::is_empty).then(|| view! {
                    <p class="muted">{tr(Key::NoLogLines)}</p>
                })}
                <For each=visible key=|r| r.id let:row>
                    <LogRow row show_ts search />
                </For>
            </div>
            <Show when=move || !follow.get() || paused.get()>
                <button type="button" class="btn btn-primary jump" data-testid="logs-jump" on:click=move |_| jump.run(())>
                    {tr(Key::JumpToLatest)}
                </button>
            </Show>
            // Referenced so the language switch re-renders notes.
            <span hidden>{move || i18n.lang.get().code()}</span>
        </div>
    }
}

#[component]
fn LogRow(row: Arc<Row>, show_ts: RwSignal<bool>, search: Memo<Search>) -> impl IntoView {
    let i18n = use_i18n();
    if let Some(note) = row.note {
        let text = move || {
            let lang = i18n.lang.get();
            match note {
                Note::Skipped(n) => lines_skipped(lang, n),
                Note::Stopped(code) => format!(
                    "{} ({})",
                    crate::i18n::containers_more::t(lang, Key::ContainerStopped),
                    exit_code(lang, code)
                ),
                Note::Restarted => {
                    crate::i18n::containers_more::t(lang, Key::ContainerRestarted).into()
                }
                Note::End => crate::i18n::containers_more::t(lang, Key::LogsEnd).into(),
            }
        };
        return view! { <div class="log-note" data-testid="log-note">"— "{text}" —"</div> }
            .into_any();
    }
    let class = if row.stderr {
        "log-line log-stderr"
    } else {
        "log-line log-stdout"
    };
    let stream = if row.stderr { "stderr" } else { "stdout" };
    let ts = row.ts.clone();
    let local = local_time(&ts);
    let body = {
        let row = row.clone();
        move || search.with(|s| pieces(&row, s))
    };
    view! {
        <div class=class data-testid="log-line" data-stream=stream>
            <Show when=move || show_ts.get()>
                <span class="log-ts" title=ts.clone()>{local.clone()}</span>
            </Show>
            <span class="log-text">{body}</span>
        </div>
    }
    .into_any()
}

/// The row's segments split at the search matches; matches inside `<mark>`.
fn pieces(row: &Row, search: &Search) -> Vec<AnyView> {
    let mut ranges = search.ranges(&row.text).unwrap_or_default();
    if ranges
        .iter()
        .any(|&(a, b)| !row.text.is_char_boundary(a) || !row.text.is_char_boundary(b))
    {
        ranges.clear();
    }
    let mut out = Vec::new();
    let mut offset = 0;
    for seg in &row.segments {
        let (start, end) = (offset, offset + seg.text.len());
        offset = end;
        let class = seg.style.class();
        let css = seg.style.css();
        let mut cut = start;
        let mut parts: Vec<(String, bool)> = Vec::new();
        for &(m0, m1) in &ranges {
            if m1 <= cut || m0 >= end || m0 == m1 {
                continue;
            }
            let (a, b) = (m0.max(cut), m1.min(end));
            if a > cut {
                parts.push((seg.text[cut - start..a - start].to_string(), false));
            }
            parts.push((seg.text[a - start..b - start].to_string(), true));
            cut = b;
        }
        if cut < end {
            parts.push((seg.text[cut - start..].to_string(), false));
        }
        for (text, marked) in parts {
            let span = view! { <span class=class.clone() style=css.clone()>{text}</span> };
            out.push(if marked {
                view! { <mark data-testid="log-match">{span}</mark> }.into_any()
            } else {
                span.into_any()
            });
        }
    }
    out
}
