//! Strings of the app templates page (issue 16).

use super::{use_i18n, Lang};
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    NavTemplates,
    Templates,
    Search,
    AllSources,
    Container,
    Stack,
    Deploy,
    Deploying,
    Name,
    Required,
    Unavailable,
    Deployed,
    OpenContainer,
    OpenStack,
    Sources,
    AddUrl,
    AddFile,
    Add,
    Remove,
    NoTemplates,
    Skipped,
    Close,
}

pub fn t(lang: Lang, key: Key) -> &'static str {
    use Key::*;
    match lang {
        Lang::En => match key {
            NavTemplates => "Templates",
            Templates => "App templates",
            Search => "Search templates",
            AllSources => "All sources",
            Container => "container",
            Stack => "stack",
            Deploy => "Deploy",
            Deploying => "Deploying…",
            Name => "Name",
            Required => "required",
            Unavailable => "Not available here:",
            Deployed => "Deployed.",
            OpenContainer => "Open the container",
            OpenStack => "Open the stack",
            Sources => "Template sources",
            AddUrl => "List URL (Portainer v2/v3, Yacht or berth)",
            AddFile => "or a file",
            Add => "Add",
            Remove => "Remove",
            NoTemplates => "No template matches.",
            Skipped => "templates skipped",
            Close => "Close",
        },
        Lang::ZhCn => match key {
            NavTemplates => "模板",
            Templates => "应用模板",
            Search => "搜索模板",
            AllSources => "全部来源",
            Container => "容器",
            Stack => "栈",
            Deploy => "部署",
            Deploying => "正在部署…",
            Name => "名称",
            Required => "必填",
            Unavailable => "此处不可用：",
            Deployed => "已部署。",
            OpenContainer => "打开容器",
            OpenStack => "打开栈",
            Sources => "模板来源",
            AddUrl => "列表 URL（Portainer v2/v3、Yacht 或 berth）",
            AddFile => "或上传文件",
            Add => "添加",
            Remove => "移除",
            NoTemplates => "没有匹配的模板。",
            Skipped => "个模板被跳过",
            Close => "关闭",
        },
    }
}

/// A reactive text, for use in views.
pub fn tr(key: Key) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let i18n = use_i18n();
    move || t(i18n.lang.get(), key)
}
