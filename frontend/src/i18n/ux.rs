//! Strings of issue 19's confirmations, errors and forms: hints next to an error, "you" on
//! an admin's own row, the container page's "no such container", a prune preview's
//! "and N more".

use leptos::prelude::*;

use super::{use_i18n, Lang};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// On an admin's own row, in place of Disable and Delete.
    You,
    /// The daemon's "conflict ... (must be forced)" when removing an image.
    ForceHint,
    /// "... (cannot be forced) - image is being used by running container".
    RunningHint,
    /// The row's own Force checkbox, offered with [`Key::ForceHint`].
    Force,
    NoSuchContainer,
    NoSuchContainerHint,
    BackToContainers,
    /// A prune preview: what the listed things take.
    WouldFree,
    /// A prune preview's "and N more" button, once opened.
    ShowFewer,
}

pub fn t(lang: Lang, key: Key) -> &'static str {
    use Key::*;
    match lang {
        Lang::En => match key {
            You => "you",
            ForceHint => "The daemon removes it only when forced: tick Force and remove it again.",
            RunningHint => "A running container uses it: stop (or remove) that container first.",
            Force => "Force",
            NoSuchContainer => "No such container",
            NoSuchContainerHint => {
                "It may have been removed, or the link names a container this host does not have."
            }
            BackToContainers => "Back to containers",
            WouldFree => "Would free up to",
            ShowFewer => "show fewer",
        },
        Lang::ZhCn => match key {
            You => "你",
            ForceHint => "守护进程只在强制时才删除它：勾选“强制”后再删除一次。",
            RunningHint => "有正在运行的容器在使用它：请先停止（或删除）该容器。",
            Force => "强制",
            NoSuchContainer => "没有这个容器",
            NoSuchContainerHint => "它可能已被删除，或链接指向的容器不在此主机上。",
            BackToContainers => "返回容器列表",
            WouldFree => "最多可释放",
            ShowFewer => "收起",
        },
    }
}

/// A reactive text, for use in views.
pub fn tr(key: Key) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let i18n = use_i18n();
    move || t(i18n.lang.get(), key)
}

/// "and 330 more" under a list cut at its first items.
pub fn and_more(lang: Lang, n: usize) -> String {
    match lang {
        Lang::En => format!("and {n} more"),
        Lang::ZhCn => format!("还有 {n} 项"),
    }
}

/// After a batch removal where some failed: the reasons are in the rows.
pub fn not_removed(lang: Lang, removed: usize, failed: usize) -> String {
    match (lang, removed) {
        (Lang::En, 0) => "Nothing was removed: the reason is in the marked row.".to_string(),
        (Lang::En, _) => {
            format!("Removed {removed}; {failed} could not be removed: see the marked rows.")
        }
        (Lang::ZhCn, 0) => "未删除任何镜像：原因见标出的行。".to_string(),
        (Lang::ZhCn, _) => format!("已删除 {removed} 个；{failed} 个未能删除：原因见标出的行。"),
    }
}

/// The hint for an error of removing an image, if the message is one a user can act on.
pub fn image_remove_hint(message: &str) -> Option<Key> {
    if message.contains("must be forced") {
        Some(Key::ForceHint)
    } else if message.contains("cannot be forced") {
        Some(Key::RunningHint)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daemons_conflicts_get_their_hints() {
        let forced = "conflict: unable to delete 0123456789ab (must be forced) - image is being used by stopped container 89abcdef0123";
        assert_eq!(image_remove_hint(forced), Some(Key::ForceHint));
        let running = "conflict: unable to delete 0123456789ab (cannot be forced) - image is being used by running container 89abcdef0123";
        assert_eq!(image_remove_hint(running), Some(Key::RunningHint));
        assert_eq!(image_remove_hint("No such image: x"), None);
    }
}
