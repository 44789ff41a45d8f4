//! The stats tab (`GET /api/containers/{id}/stats/ws`): CPU, memory, network and block I/O
//! over a chosen window (1, 5 or 15 minutes) as hand-drawn SVG lines with time and value
//! axes, scales from 0 rounded to nice numbers; and the processes tab (`docker top`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wire::{StatsFrame, TopResult};

use crate::api;
use crate::components::socket::{Callbacks, Socket};
use crate::components::status::{boundary_fallback, Loading};
use crate::format;
use crate::i18n::containers_more::{tr, Key};
use crate::i18n::logs_ux as lx;

/// About one frame a second: the longest window (15 minutes).
const SAMPLES: usize = 900;
const W: f64 = 300.0;
const H: f64 = 80.0;
/// The windows one may choose, in minutes.
const WINDOWS: [u32; 3] = [1, 5, 15];

/// One line of a chart: (unix ms, value) samples.
type Series = Vec<(i64, f64)>;
type Lines = Vec<(&'static str, &'static str, Series)>;

/// A chart's line: SVG points for `values` in the window ending at `end` (unix ms), values
/// scaled to `max` with 0 at the bottom.
fn points(values: &[(i64, f64)], end: i64, span_ms: i64, max: f64) -> String {
    let start = end - span_ms;
    values
        .iter()
        .filter(|(t, _)| *t >= start)
        .map(|(t, v)| {
            let x = W * (t - start) as f64 / span_ms.max(1) as f64;
            let y = H - (v / max.max(1e-9)).clamp(0.0, 1.0) * H;
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The smallest "nice" number (1, 2 or 5 times a power of `base`'s steps) at or above
/// `v`, so a scale reads 0 / 50 / 100 rather than 0 / 61.3 / 122.6.
fn nice_ceil(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * p >= v {
            return m * p;
        }
    }
    10.0 * p
}

/// Per-second rates of a counter (bytes so far → bytes per second), at the later sample's time.
fn rates(frames: &VecDeque<StatsFrame>, pick: fn(&StatsFrame) -> u64) -> Series {
    frames
        .iter()
        .zip(frames.iter().skip(1))
        .map(|(a, b)| {
            let secs = ((b.ts - a.ts) as f64 / 1000.0).max(0.001);
            (b.ts, pick(b).saturating_sub(pick(a)) as f64 / secs)
        })
        .collect()
}

/// The largest value of the lines within the window.
fn peak(lines: &Lines, start: i64) -> f64 {
    lines
        .iter()
        .flat_map(|l| l.2.iter().filter(|(t, _)| *t >= start).map(|(_, v)| *v))
        .fold(0.0, f64::max)
}

#[component]
fn Chart(
    #[prop(into)] title: Signal<&'static str>,
    /// (label, css class, samples) for each line.
    lines: Signal<Lines>,
    /// The top of the scale: at least this span, whatever the data.
    min_span: f64,
    /// How a value of the scale reads (a percentage, bytes, bytes per second).
    label: fn(f64) -> String,
    #[prop(into)] now: Signal<String>,
    /// The window's end (the newest sample's time) and length, in ms.
    end: Signal<i64>,
    span_ms: Signal<i64>,
    testid: &'static str,
) -> impl IntoView {
    let lang = crate::i18n::use_i18n().lang;
    let max = Memo::new(move |_| {
        let start = end.get() - span_ms.get();
        nice_ceil(lines.with(|l| peak(l, start)).max(min_span))
    });
    let minutes = move || span_ms.get() as f64 / 60_000.0;
    view! {
        <div class="chart panel" data-testid=testid>
            <div class="chart-head">
                <h3>{move || title.get()}</h3>
                <span class="chart-now mono" data-testid=format!("{testid}-now")>{move || now.get()}</span>
            </div>
            <div class="chart-body">
                <div class="chart-y mono" data-testid=format!("{testid}-y")>
                    <span>{move || label(max.get())}</span>
                    <span>{move || label(max.get() / 2.0)}</span>
                    <span>{move || label(0.0)}</span>
                </div>
                <svg viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" class="chart-svg" role="img">
                    <line x1="0" y1="0.5" x2=W y2="0.5" class="chart-grid" />
                    <line x1="0" y1=H / 2.0 x2=W y2=H / 2.0 class="chart-grid" />
                    <line x1="0" y1=H - 0.5 x2=W y2=H - 0.5 class="chart-axis" />
                    <line x1="0.5" y1="0" x2="0.5" y2=H class="chart-axis" />
                    {move || {
                        let (max, end, span) = (max.get(), end.get(), span_ms.get());
                        lines
                            .get()
                            .into_iter()
                            .map(|(_, class, values)| {
                                view! { <polyline class=format!("chart-line {class}") points=points(&values, end, span, max) /> }
                            })
                            .collect_view()
                    }}
                </svg>
                <span></span>
                <div class="chart-x mono" data-testid=format!("{testid}-x")>
                    <span>{move || lx::minutes(lang.get(), minutes(), true)}</span>
                    <span>{move || lx::minutes(lang.get(), minutes() / 2.0, true)}</span>
                    <span>{move || lx::t(lang.get(), lx::Key::Now)}</span>
                </div>
            </div>
            <div class="chart-legend">
                {move || {
                    lines
                        .get()
                        .into_iter()
                        .map(|(label, class, _)| view! { <span class=format!("legend {class}")>{label}</span> })
                        .collect_view()
                }}
            </div>
        </div>
    }
}

fn percent(v: f64) -> String {
    format!("{v:.0} %")
}

fn size(v: f64) -> String {
    format::bytes(v as i64)
}

fn per_second(v: f64) -> String {
    format!("{}/s", format::bytes(v as i64))
}

#[component]
pub fn StatsView(id: String) -> impl IntoView {
    let lang = crate::i18n::use_i18n().lang;
    let word = move |k: Key| crate::i18n::containers_more::t(lang.get(), k);
    let frames = RwSignal::new(VecDeque::<StatsFrame>::new());
    let window_min = RwSignal::new(5u32);
    let socket: Rc<RefCell<Option<Socket>>> = Rc::new(RefCell::new(None));
    *socket.borrow_mut() = Socket::open(
        &format!("/api/containers/{}/stats/ws", api::enc(&id)),
        Callbacks {
            on_text: Box::new(move |text| {
                if let Ok(f) = serde_json::from_str::<StatsFrame>(&text) {
                    frames.update(|all| {
                        all.push_back(f);
                        while all.len() > SAMPLES {
                            all.pop_front();
                        }
                    });
                }
            }),
            ..Default::default()
        },
    );
    let socket = SendWrapper::new(socket);
    on_cleanup(move || {
        socket.borrow_mut().take();
    });
    let last = move || frames.with(|f| f.back().cloned());
    let end = Signal::derive(move || {
        frames
            .with(|f| f.back().map(|s| s.ts))
            .unwrap_or_else(|| js_sys::Date::now() as i64)
    });
    let span_ms = Signal::derive(move || i64::from(window_min.get()) * 60_000);
    let cpu = Signal::derive(move || {
        vec![(
            "CPU %",
            "line-a",
            frames.with(|f| f.iter().map(|s| (s.ts, s.cpu_percent)).collect()),
        )]
    });
    let mem = Signal::derive(move || {
        vec![(
            "",
            "line-a",
            frames.with(|f| f.iter().map(|s| (s.ts, s.mem_usage as f64)).collect()),
        )]
    });
    let net = Signal::derive(move || {
        frames.with(|f| {
            vec![
                (word(Key::Received), "line-a", rates(f, |s| s.net_rx)),
                (word(Key::Sent), "line-b", rates(f, |s| s.net_tx)),
            ]
        })
    });
    let blk = Signal::derive(move || {
        frames.with(|f| {
            vec![
                (word(Key::Read), "line-a", rates(f, |s| s.blk_read)),
                (word(Key::Written), "line-b", rates(f, |s| s.blk_write)),
            ]
        })
    });
    let rate = |v: u64| format!("{}/s", format::bytes(v as i64));
    view! {
        <div class="stats" data-testid="stats-view">
            <div class="toolbar stats-toolbar">
                <Show
                    when=move || frames.with(|f| !f.is_empty())
                    fallback=|| view! { <p class="muted">{tr(Key::WaitingForStats)}</p> }
                >
                    <p class="muted">
                        {tr(Key::Pids)}": "
                        <span data-testid="stats-pids">{move || last().map(|l| l.pids).unwrap_or(0)}</span>
                    </p>
                </Show>
                <label class="check">
                    <span>{lx::tr(lx::Key::ChartWindow)}</span>
                    <select class="input input-sm" data-testid="stats-window"
                        on:change=move |ev| {
                            if let Ok(m) = event_target_value(&ev).parse() {
                                window_min.set(m);
                            }
                        }>
                        {WINDOWS.iter().map(|&m| view! {
                            <option value=m.to_string() selected=m == 5>
                                {move || lx::minutes(lang.get(), f64::from(m), false)}
                            </option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <div class="charts">
                <Chart
                    title=tr(Key::Cpu)
                    lines=cpu
                    min_span=10.0
                    label=percent
                    end span_ms
                    now=Signal::derive(move || last().map(|l| format!("{:.1} %", l.cpu_percent)).unwrap_or_default())
                    testid="chart-cpu"
                />
                // From 0 and at least 64 MiB tall: a wobble of a few KiB stays flat.
                <Chart
                    title=tr(Key::MemoryUsage)
                    lines=mem
                    min_span=64.0 * 1024.0 * 1024.0
                    label=size
                    end span_ms
                    now=Signal::derive(move || {
                        last()
                            .map(|l| format!("{} / {}", format::bytes(l.mem_usage as i64), format::bytes(l.mem_limit as i64)))
                            .unwrap_or_default()
                    })
                    testid="chart-mem"
                />
                <Chart
                    title=tr(Key::NetworkIo)
                    lines=net
                    min_span=1024.0
                    label=per_second
                    end span_ms
                    now=Signal::derive(move || {
                        net.with(|l| {
                            let v = |i: usize| l[i].2.last().map_or(0.0, |x| x.1) as u64;
                            format!("↓ {}  ↑ {}", rate(v(0)), rate(v(1)))
                        })
                    })
                    testid="chart-net"
                />
                <Chart
                    title=tr(Key::BlockIo)
                    lines=blk
                    min_span=1024.0
                    label=per_second
                    end span_ms
                    now=Signal::derive(move || {
                        blk.with(|l| {
                            let v = |i: usize| l[i].2.last().map_or(0.0, |x| x.1) as u64;
                            format!("R {}  W {}", rate(v(0)), rate(v(1)))
                        })
                    })
                    testid="chart-blk"
                />
            </div>
        </div>
    }
}

/// `docker top`, refreshed on demand.
#[component]
pub fn TopView(id: String) -> impl IntoView {
    let url = format!("/api/containers/{}/top", api::enc(&id));
    let top = LocalResource::new(move || {
        let url = url.clone();
        async move { api::get::<TopResult>(&url).await }
    });
    let retry = Callback::new(move |_| top.refetch());
    view! {
        <div class="top" data-testid="top-view">
            <div class="toolbar">
                <button type="button" class="btn btn-sm" data-testid="top-refresh" on:click=move |_| top.refetch()>
                    {tr(Key::Refresh)}
                </button>
            </div>
            <Transition fallback=Loading>
                <ErrorBoundary fallback=boundary_fallback(retry)>
                    {move || Suspend::new(async move {
                        top.await.map(|t| {
                            if t.processes.is_empty() {
                                return view! { <p class="muted">{tr(Key::NoProcesses)}</p> }.into_any();
                            }
                            view! {
                                <div class="table-wrap">
                                    <table class="table">
                                        <thead>
                                            <tr>{t.titles.iter().map(|h| view! { <th>{h.clone()}</th> }).collect_view()}</tr>
                                        </thead>
                                        <tbody>
                                            {t.processes.iter().map(|row| {
                                                let cells = row.iter().zip(t.titles.iter()).map(|(c, h)| {
                                                    view! { <td class="mono" data-label=h.clone()>{c.clone()}</td> }
                                                }).collect_view();
                                                view! { <tr data-testid="top-row">{cells}</tr> }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }
                            .into_any()
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </div>
    }
}
