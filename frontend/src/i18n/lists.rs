//! Strings of the containers list at scale (issue 19): columns, sorting, paging, grouping
//! by stack, the row menu and bulk actions, in English and Simplified Chinese.

use leptos::prelude::*;

use super::{use_i18n, Lang};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    ColId,
    ColStack,
    ColIps,
    Select,
    SelectPage,
    GroupByStack,
    NoStack,
    PerPage,
    PrevPage,
    NextPage,
    MoreActions,
    ClearSelection,
    OpenStack,
    SortBy,
}

pub fn t(lang: Lang, key: Key) -> &'static str {
    use Key::*;
    match lang {
        Lang::En => match key {
            ColId => "ID",
            ColStack => "Stack",
            ColIps => "IPs",
            Select => "Select",
            SelectPage => "Select every container on this page",
            GroupByStack => "Group by stack",
            NoStack => "No stack",
            PerPage => "Per page",
            PrevPage => "Previous page",
            NextPage => "Next page",
            MoreActions => "More actions",
            ClearSelection => "Clear selection",
            OpenStack => "Open stack",
            SortBy => "Sort by",
        },
        Lang::ZhCn => match key {
            ColId => "ID",
            ColStack => "堆栈",
            ColIps => "IP 地址",
            Select => "选择",
            SelectPage => "选择本页所有容器",
            GroupByStack => "按堆栈分组",
            NoStack => "无堆栈",
            PerPage => "每页",
            PrevPage => "上一页",
            NextPage => "下一页",
            MoreActions => "更多操作",
            ClearSelection => "取消选择",
            OpenStack => "打开堆栈",
            SortBy => "排序",
        },
    }
}

/// A reactive string for `key` in the current language.
pub fn tr(key: Key) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = use_i18n().lang;
    move || t(lang.get(), key)
}

/// "3 selected".
pub fn selected(lang: Lang, n: usize) -> String {
    match lang {
        Lang::En => format!("{n} selected"),
        Lang::ZhCn => format!("已选择 {n} 个"),
    }
}

/// The pager: "26–50 of 1000".
pub fn range(lang: Lang, first: usize, last: usize, total: usize) -> String {
    match lang {
        Lang::En => format!("{first}–{last} of {total}"),
        Lang::ZhCn => format!("第 {first}–{last} 个，共 {total} 个"),
    }
}

/// "Page 2 of 40".
pub fn page_of(lang: Lang, page: usize, pages: usize) -> String {
    match lang {
        Lang::En => format!("Page {page} of {pages}"),
        Lang::ZhCn => format!("第 {page} 页，共 {pages} 页"),
    }
}

/// A stack's group header: "4 containers, 3 running".
pub fn group_count(lang: Lang, n: usize, running: usize) -> String {
    match lang {
        Lang::En => {
            let s = if n == 1 { "" } else { "s" };
            format!("{n} container{s}, {running} running")
        }
        Lang::ZhCn => format!("{n} 个容器，{running} 个运行中"),
    }
}

/// What a bulk action does, for its confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bulk {
    Start,
    Stop,
    Restart,
    Kill,
    Remove,
}

/// How many names a confirmation lists before "and N more".
const NAMED: usize = 8;

fn name_list(lang: Lang, names: &[String]) -> String {
    let shown = names
        .iter()
        .take(NAMED)
        .map(|n| format!("“{n}”"))
        .collect::<Vec<_>>();
    let rest = names.len().saturating_sub(NAMED);
    match lang {
        Lang::En => {
            let mut s = shown.join(", ");
            if rest > 0 {
                s.push_str(&format!(" and {rest} more"));
            }
            s
        }
        Lang::ZhCn => {
            let mut s = shown.join("、");
            if rest > 0 {
                s.push_str(&format!(" 等另外 {rest} 个"));
            }
            s
        }
    }
}

/// The one question a bulk action asks, naming every container it touches (the first
/// few by name, then a count).
pub fn bulk_question(lang: Lang, what: Bulk, names: &[String]) -> String {
    let n = names.len();
    let list = name_list(lang, names);
    match lang {
        Lang::En => {
            let c = if n == 1 { "container" } else { "containers" };
            match what {
                Bulk::Start => format!("Start {n} {c}: {list}?"),
                Bulk::Stop => format!("Stop {n} {c}: {list}?"),
                Bulk::Restart => format!("Restart {n} {c}: {list}?"),
                Bulk::Kill => format!(
                    "Kill {n} {c}: {list}? Their processes get SIGKILL and cannot clean up."
                ),
                Bulk::Remove => format!(
                    "Remove {n} {c}: {list}? Running ones are stopped first; their anonymous data goes with them."
                ),
            }
        }
        Lang::ZhCn => match what {
            Bulk::Start => format!("启动 {n} 个容器：{list}？"),
            Bulk::Stop => format!("停止 {n} 个容器：{list}？"),
            Bulk::Restart => format!("重启 {n} 个容器：{list}？"),
            Bulk::Kill => {
                format!("强制终止 {n} 个容器：{list}？其进程会收到 SIGKILL，无法清理。")
            }
            Bulk::Remove => {
                format!("删除 {n} 个容器：{list}？运行中的会先被停止，其匿名数据一并删除。")
            }
        },
    }
}

/// After a bulk action: "3 done, 1 failed".
pub fn bulk_outcome(lang: Lang, ok: usize, failed: usize) -> String {
    match (lang, failed) {
        (Lang::En, 0) => format!("{ok} done"),
        (Lang::En, _) => format!("{ok} done, {failed} failed (see their rows)"),
        (Lang::ZhCn, 0) => format!("{ok} 个已完成"),
        (Lang::ZhCn, _) => format!("{ok} 个已完成，{failed} 个失败（见各行）"),
    }
}
