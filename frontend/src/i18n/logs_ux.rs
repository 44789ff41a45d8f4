//! Strings of the logs toolbar's paging, filters and search navigation, and of the stats
//! charts' axes and window, in English and Simplified Chinese.

use leptos::prelude::*;

use super::{use_i18n, Lang};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    LoadOlder,
    Loading,
    NoOlder,
    AllStreams,
    StdoutOnly,
    StderrOnly,
    Wrap,
    Fullscreen,
    ExitFullscreen,
    PrevMatch,
    NextMatch,
    Streams,
    ChartWindow,
    Now,
}

pub fn t(lang: Lang, key: Key) -> &'static str {
    use Key::*;
    match lang {
        Lang::En => match key {
            LoadOlder => "Load older",
            Loading => "Loading…",
            NoOlder => "The first line is shown",
            AllStreams => "stdout + stderr",
            StdoutOnly => "stdout only",
            StderrOnly => "stderr only",
            Wrap => "Wrap lines",
            Fullscreen => "Full screen",
            ExitFullscreen => "Exit full screen",
            PrevMatch => "Previous match",
            NextMatch => "Next match",
            Streams => "Streams",
            ChartWindow => "Time window",
            Now => "now",
        },
        Lang::ZhCn => match key {
            LoadOlder => "加载更早的日志",
            Loading => "加载中…",
            NoOlder => "已显示第一行",
            AllStreams => "stdout + stderr",
            StdoutOnly => "仅 stdout",
            StderrOnly => "仅 stderr",
            Wrap => "自动换行",
            Fullscreen => "全屏",
            ExitFullscreen => "退出全屏",
            PrevMatch => "上一个匹配",
            NextMatch => "下一个匹配",
            Streams => "输出流",
            ChartWindow => "时间范围",
            Now => "现在",
        },
    }
}

/// "N of M" for the search's current match.
pub fn match_count(lang: Lang, current: usize, total: usize) -> String {
    match lang {
        Lang::En => format!("{current} of {total}"),
        Lang::ZhCn => format!("第 {current} 个，共 {total} 个"),
    }
}

/// A span of minutes: "5 min", or "-5 min" before now.
pub fn minutes(lang: Lang, m: f64, ago: bool) -> String {
    let sign = if ago { "-" } else { "" };
    let m = if m.fract() == 0.0 {
        format!("{m:.0}")
    } else {
        format!("{m:.1}")
    };
    match lang {
        Lang::En => format!("{sign}{m} min"),
        Lang::ZhCn => format!("{sign}{m} 分钟"),
    }
}

/// A reactive string for `key` in the current language.
pub fn tr(key: Key) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = use_i18n().lang;
    move || t(lang.get(), key)
}
