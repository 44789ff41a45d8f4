//! Strings of Git-backed stacks (issue 16): the "from Git" choice of the new-stack page and
//! the Git panel of the stack page.

use super::{use_i18n, Lang};
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Source,
    FromEditor,
    FromGit,
    Url,
    UrlHint,
    Ref,
    Path,
    Poll,
    PollHint,
    Git,
    Commit,
    LastPoll,
    NextPoll,
    NoPolling,
    Never,
    PullNow,
    Pulling,
    Force,
    Deployed,
    Unchanged,
    Failed,
    FailedAt,
    Job,
}

pub fn t(lang: Lang, key: Key) -> &'static str {
    use Key::*;
    match lang {
        Lang::En => match key {
            Source => "Source",
            FromEditor => "Compose file",
            FromGit => "From Git",
            Url => "Repository URL",
            UrlHint => "git://host/path/repo.git (admins: file:///path)",
            Ref => "Branch or tag",
            Path => "Compose file in the repository",
            Poll => "Poll every (seconds)",
            PollHint => "0: only on “Pull now” or a webhook; at least 5",
            Git => "Git source",
            Commit => "Deployed commit",
            LastPoll => "Last poll",
            NextPoll => "Next poll",
            NoPolling => "not polling",
            Never => "never",
            PullNow => "Pull now",
            Pulling => "Pulling…",
            Force => "Redeploy everything",
            Deployed => "deployed",
            Unchanged => "nothing new",
            Failed => "failed",
            FailedAt => "Failed at commit",
            Job => "Job log",
        },
        Lang::ZhCn => match key {
            Source => "来源",
            FromEditor => "Compose 文件",
            FromGit => "来自 Git",
            Url => "仓库地址",
            UrlHint => "git://主机/路径/repo.git（管理员可用 file:///路径）",
            Ref => "分支或标签",
            Path => "仓库中的 Compose 文件",
            Poll => "轮询间隔（秒）",
            PollHint => "0：仅在“立即拉取”或 Webhook 调用时；至少 5 秒",
            Git => "Git 来源",
            Commit => "已部署的提交",
            LastPoll => "上次轮询",
            NextPoll => "下次轮询",
            NoPolling => "未轮询",
            Never => "从未",
            PullNow => "立即拉取",
            Pulling => "正在拉取…",
            Force => "全部重新部署",
            Deployed => "已部署",
            Unchanged => "没有新提交",
            Failed => "失败",
            FailedAt => "失败的提交",
            Job => "任务日志",
        },
    }
}

/// The word for a poll's result.
pub fn result(lang: Lang, r: &str) -> &'static str {
    match r {
        "deployed" => t(lang, Key::Deployed),
        "unchanged" => t(lang, Key::Unchanged),
        _ => t(lang, Key::Failed),
    }
}

/// A reactive text, for use in views.
pub fn tr(key: Key) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let i18n = use_i18n();
    move || t(i18n.lang.get(), key)
}
