//! Strings of the pickers (`components/picker.rs`) and of the rows that add a picked
//! volume or container to the run form, in English and Simplified Chinese.

use leptos::prelude::*;

use super::{use_i18n, Lang};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The button that appends the picked entry to the lines above it.
    Add,
    VolumePick,
    VolumeTarget,
    AddVolume,
    ContainerPick,
    LinkAlias,
    AddLink,
}

pub fn t(lang: Lang, key: Key) -> &'static str {
    use Key::*;
    match lang {
        Lang::En => match key {
            Add => "Add",
            VolumePick => "Volume (pick or type a new name)",
            VolumeTarget => "Path in the container, e.g. /data",
            AddVolume => "Add this volume",
            ContainerPick => "Container to link",
            LinkAlias => "Alias (optional)",
            AddLink => "Add this link",
        },
        Lang::ZhCn => match key {
            Add => "添加",
            VolumePick => "数据卷（选择或输入新名称）",
            VolumeTarget => "容器内路径，如 /data",
            AddVolume => "添加此数据卷",
            ContainerPick => "要链接的容器",
            LinkAlias => "别名（可选）",
            AddLink => "添加此链接",
        },
    }
}

/// A reactive text for views.
pub fn tr(key: Key) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = use_i18n().lang;
    move || t(lang.get(), key)
}
