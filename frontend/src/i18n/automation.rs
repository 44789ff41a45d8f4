//! Strings of the webhooks page (issue 16).

use super::{use_i18n, Lang};
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    NavWebhooks,
    Webhooks,
    Kind,
    Target,
    TargetHint,
    GitHub,
    Create,
    SecretOnce,
    Url,
    Owner,
    LastCalled,
    Never,
    Rotate,
    Revoke,
    Jobs,
    NoWebhooks,
    NoJobs,
    UpdateAvailable,
    Update,
    Updating,
    Pinned,
    LocalImage,
    Refresh,
}

pub fn t(lang: Lang, key: Key) -> &'static str {
    use Key::*;
    match lang {
        Lang::En => match key {
            NavWebhooks => "Webhooks",
            Webhooks => "Deploy webhooks",
            Kind => "Kind",
            Target => "Target",
            TargetHint => "stack or container name",
            GitHub => "Also check GitHub signatures",
            Create => "Create",
            SecretOnce => "The secret, shown this once: send it in X-Berth-Secret",
            Url => "URL",
            Owner => "Acts as",
            LastCalled => "Last called",
            Never => "never",
            Rotate => "New secret",
            Revoke => "Revoke",
            Jobs => "Jobs",
            NoWebhooks => "No webhooks yet.",
            NoJobs => "No calls yet.",
            UpdateAvailable => "update available",
            Update => "Update",
            Updating => "updating…",
            Pinned => "pinned digest",
            LocalImage => "built here",
            Refresh => "Refresh",
        },
        Lang::ZhCn => match key {
            NavWebhooks => "Webhook",
            Webhooks => "部署 Webhook",
            Kind => "类型",
            Target => "目标",
            TargetHint => "栈或容器名称",
            GitHub => "同时校验 GitHub 签名",
            Create => "创建",
            SecretOnce => "密钥仅显示这一次：请放在 X-Berth-Secret 请求头中发送",
            Url => "URL",
            Owner => "执行身份",
            LastCalled => "上次调用",
            Never => "从未",
            Rotate => "更换密钥",
            Revoke => "撤销",
            Jobs => "任务",
            NoWebhooks => "还没有 Webhook。",
            NoJobs => "还没有调用。",
            UpdateAvailable => "有更新",
            Update => "更新",
            Updating => "正在更新…",
            Pinned => "固定摘要",
            LocalImage => "本地构建",
            Refresh => "刷新",
        },
    }
}

/// A reactive text, for use in views.
pub fn tr(key: Key) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let i18n = use_i18n();
    move || t(i18n.lang.get(), key)
}
