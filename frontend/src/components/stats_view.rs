//! The stats tab (`GET /api/containers/{id}/stats/ws`): CPU, memory, network and block I/O
//! over the last few minutes as hand-drawn SVG lines; and the processes tab (`docker top`).

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

/// About one frame a second: three minutes.
const SAMPLES: usize = 180;
const W: f64 = 300.0;
const H: f64 = 80.0;

/// A chart's line: SVG points for `values` scaled to `max`.
fn points(values: &[f64], max: f64) -> String {
    // The newest sample is at the right edge; older ones step left.
    let offset = SAMPLES.saturating_sub(values.len());
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = W * (offset + i) as f64 / (SAMPLES - 1) as f64;
            let y = H - (v / max.max(1e-9)).clamp(0.0, 1.0) * (H - 4.0) - 2.0;
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Per-second rates of a counter (bytes so far → bytes per second).
fn rates(frames: &VecDeque<StatsFrame>, pick: fn(&StatsFrame) -> u64) -> Vec<f64> {
    frames
        .iter()
        .zip(frames.iter().skip(1))
        .map(|(a, b)| {
            let secs = ((b.ts - a.ts) as f64 / 1000.0).max(0.001);
            pick(b).saturating_sub(pick(a)) as f64 / secs
        })
        .collect()
}

#[component]
fn Chart(
    #[prop(into)] title: Signal<&'static str>,
    /// (label, css class, values) for each line.
    lines: Signal<Vec<(&'static str, &'static str, Vec<f64>)>>,
    #[prop(into)] max: Signal<f64>,
    #[prop(into)] now: Signal<String>,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="chart panel" data-testid=testid>
            <div class="chart-head">
                <h3>{move || title.get()}</h3>
                <span class="chart-now mono" data-testid=format!("{testid}-now")>{move || now.get()}</span>
            </div>
            <svg viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" class="chart-svg" role="img">
                <line x1="0" y1=H - 2.0 x2=W y2=H - 2.0 class="chart-axis" />
                {move || {
                    let max = max.get();
                    lines
                        .get()
                        .into_iter()
                        .map(|(_, class, values)| {
                            view! { <polyline class=format!("chart-line {class}") points=points(&values, max) /> }
                        })
                        .collect_view()
                }}
            </svg>
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

#[component]
pub fn StatsView(id: String) -> impl IntoView {
    let lang = crate::i18n::use_i18n().lang;
    let word = move |k: Key| crate::i18n::containers_more::t(lang.get(), k);
    let frames = RwSignal::new(VecDeque::<StatsFrame>::new());
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
    let cpu = Signal::derive(move || {
        vec![(
            "CPU %",
            "line-a",
            frames.with(|f| f.iter().map(|s| s.cpu_percent).collect()),
        )]
    });
    let cpu_max = Signal::derive(move || {
        frames.with(|f| f.iter().map(|s| s.cpu_percent).fold(10.0, f64::max))
    });
    let mem = Signal::derive(move || {
        vec![(
            "",
            "line-a",
            frames.with(|f| f.iter().map(|s| s.mem_usage as f64).collect()),
        )]
    });
    let mem_max = Signal::derive(move || {
        frames.with(|f| f.iter().map(|s| s.mem_usage as f64).fold(1.0, f64::max) * 1.2)
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
    let max_of = |s: Signal<Vec<(&'static str, &'static str, Vec<f64>)>>| {
        Signal::derive(move || {
            s.with(|l| {
                l.iter()
                    .flat_map(|x| x.2.iter().copied())
                    .fold(1024.0, f64::max)
            })
        })
    };
    let net_max = max_of(net);
    let blk_max = max_of(blk);
    let rate = |v: u64| format!("{}/s", format::bytes(v as i64));
    view! {
        <div class="stats" data-testid="stats-view">
            <Show
                when=move || frames.with(|f| !f.is_empty())
                fallback=|| view! { <p class="muted">{tr(Key::WaitingForStats)}</p> }
            >
                <p class="muted">
                    {tr(Key::Pids)}": "
                    <span data-testid="stats-pids">{move || last().map(|l| l.pids).unwrap_or(0)}</span>
                </p>
            </Show>
            <div class="charts">
                <Chart
                    title=tr(Key::Cpu)
                    lines=cpu
                    max=cpu_max
                    now=Signal::derive(move || last().map(|l| format!("{:.1} %", l.cpu_percent)).unwrap_or_default())
                    testid="chart-cpu"
                />
                <Chart
                    title=tr(Key::MemoryUsage)
                    lines=mem
                    max=mem_max
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
                    max=net_max
                    now=Signal::derive(move || {
                        net.with(|l| {
                            let v = |i: usize| l[i].2.last().copied().unwrap_or(0.0) as u64;
                            format!("↓ {}  ↑ {}", rate(v(0)), rate(v(1)))
                        })
                    })
                    testid="chart-net"
                />
                <Chart
                    title=tr(Key::BlockIo)
                    lines=blk
                    max=blk_max
                    now=Signal::derive(move || {
                        blk.with(|l| {
                            let v = |i: usize| l[i].2.last().copied().unwrap_or(0.0) as u64;
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
