//! Strings of the shared confirmation (`components/confirm.rs`) and the questions it asks.

use super::Lang;

/// What is about to go; the question names it ("Remove volume “data”?").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    Container,
    KillContainer,
    Volume,
    Network,
    Registry,
    Tag,
    Environment,
    /// One image or several: `name` is their names joined by ", ".
    Images,
    Stack,
    File,
    Share,
    User,
    Team,
    Token,
    Webhook,
    TemplateSource,
}

/// The question for removing `what` called `name`.
pub fn question(lang: Lang, what: What, name: &str) -> String {
    use What::*;
    match lang {
        Lang::En => match what {
            Container => format!(
                "Remove container “{name}”? It is stopped first; its anonymous data goes with it."
            ),
            KillContainer => {
                format!("Kill container “{name}”? Its processes get SIGKILL and cannot clean up.")
            }
            Volume => format!("Remove volume “{name}” and all its data?"),
            Network => format!("Remove network “{name}”?"),
            Registry => format!("Remove registry “{name}”? Its stored credentials are deleted."),
            Tag => format!("Delete tag “{name}” from the registry?"),
            Environment => format!(
                "Remove environment “{name}”? berth forgets the host and its stored keys; nothing on the host is touched."
            ),
            Images => format!("Remove image(s) {name}?"),
            Stack => format!("Delete stack “{name}”? It is taken down with its volumes, and its files are deleted."),
            File => format!("Delete “{name}” for good? A folder goes with everything in it."),
            Share => format!("Remove share “{name}”? The folder on the host stays."),
            User => format!("Delete user “{name}”? Their sessions and tokens end."),
            Team => format!("Delete team “{name}”? Its members lose what the team gave them."),
            Token => format!("Revoke token “{name}”? Whatever uses it stops working."),
            Webhook => format!("Revoke webhook “{name}”? Calls to its URL start failing."),
            TemplateSource => format!("Remove template source “{name}”? Its templates leave the list; stacks deployed from them stay."),
        },
        Lang::ZhCn => match what {
            Container => format!("删除容器“{name}”？容器会先被停止，其匿名数据一并删除。"),
            KillContainer => format!("强制终止容器“{name}”？其进程会收到 SIGKILL，无法清理。"),
            Volume => format!("删除数据卷“{name}”及其全部数据？"),
            Network => format!("删除网络“{name}”？"),
            Registry => format!("删除镜像仓库“{name}”？其保存的凭据将被删除。"),
            Tag => format!("从镜像仓库删除标签“{name}”？"),
            Environment => {
                format!("删除环境“{name}”？berth 将忘记该主机及其保存的密钥；主机上的内容不受影响。")
            }
            Images => format!("删除镜像 {name}？"),
            Stack => format!("删除编排“{name}”？它会连同数据卷一起停止，其文件也会被删除。"),
            File => format!("永久删除“{name}”？文件夹会连同其中所有内容一起删除。"),
            Share => format!("删除共享“{name}”？主机上的文件夹会保留。"),
            User => format!("删除用户“{name}”？其会话和令牌将失效。"),
            Team => format!("删除团队“{name}”？其成员将失去该团队授予的权限。"),
            Token => format!("撤销令牌“{name}”？使用它的程序将无法工作。"),
            Webhook => format!("撤销 Webhook“{name}”？对其 URL 的调用将失败。"),
            TemplateSource => format!("删除模板来源“{name}”？其模板将从列表中移除；已部署的编排不受影响。"),
        },
    }
}

/// The two buttons of the confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Cancel,
    Remove,
}

pub fn t(lang: Lang, key: Key) -> &'static str {
    match lang {
        Lang::En => match key {
            Key::Cancel => "Cancel",
            Key::Remove => "Remove",
        },
        Lang::ZhCn => match key {
            Key::Cancel => "取消",
            Key::Remove => "删除",
        },
    }
}
