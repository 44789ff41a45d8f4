//! Strings of the update mark on container and stack pages (issue 16).

use super::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Available,
    UpdateNow,
    Updating,
    Updated,
    Failed,
}

pub fn t(lang: Lang, key: Key) -> &'static str {
    use Key::*;
    match lang {
        Lang::En => match key {
            Available => "update available",
            UpdateNow => "Update",
            Updating => "Updating: pull, recreate, health check…",
            Updated => "Updated: it runs the new image",
            Failed => "Update failed and was rolled back:",
        },
        Lang::ZhCn => match key {
            Available => "有可用更新",
            UpdateNow => "更新",
            Updating => "正在更新：拉取、重建、健康检查…",
            Updated => "已更新：正在运行新镜像",
            Failed => "更新失败，已回滚：",
        },
    }
}
