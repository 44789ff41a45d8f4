//! Strings of the image page (`pages/image_detail.rs`): its actions, its configuration and
//! the containers made from it, in English and Simplified Chinese.

use leptos::prelude::*;

use super::{use_i18n, Lang};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Run,
    Tag,
    Repo,
    TagName,
    TagSubmit,
    Remove,
    RemoveTag,
    Force,
    ForceNote,
    Config,
    Entrypoint,
    Cmd,
    Env,
    ExposedPorts,
    Volumes,
    Workdir,
    User,
    Labels,
    Platform,
    UsedBy,
    UsedByNone,
    ColName,
    ColState,
    ColImage,
    Nothing,
}

pub fn t(lang: Lang, key: Key) -> &'static str {
    use Key::*;
    match lang {
        Lang::En => match key {
            Run => "Run a container",
            Tag => "Tag",
            Repo => "Repository",
            TagName => "Tag",
            TagSubmit => "Add tag",
            Remove => "Remove image",
            RemoveTag => "Remove tag",
            Force => "Force",
            ForceNote => "also when it has several tags or a stopped container uses it",
            Config => "Configuration",
            Entrypoint => "Entrypoint",
            Cmd => "Command",
            Env => "Environment",
            ExposedPorts => "Exposed ports",
            Volumes => "Volumes",
            Workdir => "Working dir",
            User => "User",
            Labels => "Labels",
            Platform => "Platform",
            UsedBy => "Used by",
            UsedByNone => "No container was created from this image.",
            ColName => "Name",
            ColState => "State",
            ColImage => "Image as given",
            Nothing => "none",
        },
        Lang::ZhCn => match key {
            Run => "运行容器",
            Tag => "打标签",
            Repo => "仓库",
            TagName => "标签",
            TagSubmit => "添加标签",
            Remove => "删除镜像",
            RemoveTag => "删除标签",
            Force => "强制",
            ForceNote => "即使它有多个标签或被已停止的容器使用",
            Config => "配置",
            Entrypoint => "入口点",
            Cmd => "命令",
            Env => "环境变量",
            ExposedPorts => "暴露端口",
            Volumes => "数据卷",
            Workdir => "工作目录",
            User => "用户",
            Labels => "标签（Label）",
            Platform => "平台",
            UsedBy => "使用者",
            UsedByNone => "没有容器是用此镜像创建的。",
            ColName => "名称",
            ColState => "状态",
            ColImage => "创建时的镜像",
            Nothing => "无",
        },
    }
}

pub fn tr(key: Key) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = use_i18n().lang;
    move || t(lang.get(), key)
}

/// The question before removing one tag (the image stays while it has others).
pub fn remove_tag_question(lang: Lang, tag: &str) -> String {
    match lang {
        Lang::En => format!("Remove tag “{tag}”? The image goes too if this is its last tag and no container uses it."),
        Lang::ZhCn => format!("删除标签“{tag}”？若这是它最后一个标签且没有容器使用，镜像也会被删除。"),
    }
}
