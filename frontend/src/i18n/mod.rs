//! Every string the UI shows, in English and Simplified Chinese.
//!
//! Each area of the app keeps its own strings in a submodule (`i18n/images.rs`, ...) with
//! its own `Key` enum and the same `t`/`tr` shape, so areas grow without touching this file.
//!
//! Hand-written on purpose: a `Key` enum plus one exhaustive `match` per language means a
//! missing translation is a compile error, there is no macro crate or runtime catalogue to
//! parse, and the strings cost nothing beyond their bytes in the wasm. Adding a language is
//! one more `match` and one more `Lang` variant.

pub mod containers_more;
pub mod image_page;
pub mod images;
pub mod lists;
pub mod logs_ux;
pub mod pickers;

use leptos::prelude::*;

pub mod admin;
pub mod automation;
pub mod confirm;
pub mod environments;
pub mod files;
pub mod gitstacks;
pub mod stacks;
pub mod swarm;
pub mod templates;
pub mod updates;
pub mod ux;

use crate::api::ApiError;
use crate::prefs;

/// A language the UI speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    ZhCn,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

    /// The BCP 47 tag: stored in localStorage and set as `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// The language's own name, as the switch shows it.
    pub fn label(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::ZhCn => "简体中文",
        }
    }

    /// Any `zh*` tag maps to Simplified Chinese, everything else to English.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase();
        if tag.starts_with("zh") {
            Some(Lang::ZhCn)
        } else if tag.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }
}

/// A UI string. Each variant has an English and a Chinese text below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    // shell
    NavDashboard,
    NavContainers,
    Logout,
    ToggleTheme,
    Language,
    Menu,
    // common
    Loading,
    Retry,
    Dismiss,
    ErrorTitle,
    NetworkError,
    NotFoundTitle,
    PageNotFound,
    BackToContainers,
    Nothing,
    // login
    LoginTitle,
    Username,
    Password,
    SignIn,
    SigningIn,
    WrongLogin,
    TooManyLogins,
    // dashboard
    Engine,
    ApiVersion,
    OperatingSystem,
    Kernel,
    Cpus,
    Memory,
    Containers,
    Running,
    Paused,
    Stopped,
    Images,
    Volumes,
    // containers
    ColName,
    ColImage,
    ColState,
    ColStatus,
    ColPorts,
    ColCreated,
    ColActions,
    FilterPlaceholder,
    RunningOnly,
    EmptyContainers,
    NoMatches,
    LiveOn,
    LiveConnecting,
    LiveDaemonLost,
    LiveReconnecting,
    ActionStart,
    ActionStop,
    ActionRestart,
    ActionPause,
    ActionUnpause,
    ActionKill,
    ActionRemove,
    ActionFailed,
    // detail
    Overview,
    Id,
    Command,
    Mounts,
    Networks,
    Env,
    Labels,
    RawJson,
    IpAddress,
    Gateway,
    MacAddress,
    Source,
    Destination,
    Mode,
    ContainerNotFound,
}

/// The text of `key` in `lang`.
pub fn t(lang: Lang, key: Key) -> &'static str {
    match lang {
        Lang::En => en(key),
        Lang::ZhCn => zh_cn(key),
    }
}

fn en(key: Key) -> &'static str {
    use Key::*;
    match key {
        NavDashboard => "Dashboard",
        NavContainers => "Containers",
        Logout => "Log out",
        ToggleTheme => "Toggle dark mode",
        Language => "Language",
        Menu => "Menu",
        Loading => "Loading…",
        Retry => "Retry",
        Dismiss => "Dismiss",
        ErrorTitle => "Something went wrong",
        NetworkError => "Cannot reach the berth server. Check your connection.",
        NotFoundTitle => "Not found",
        PageNotFound => "There is no page at this address.",
        BackToContainers => "Back to containers",
        Nothing => "none",
        LoginTitle => "Sign in to berth",
        Username => "Username",
        Password => "Password",
        SignIn => "Sign in",
        SigningIn => "Signing in…",
        WrongLogin => "Wrong username or password.",
        TooManyLogins => "Too many attempts. Wait a little, then try again.",
        Engine => "Docker Engine",
        ApiVersion => "API version",
        OperatingSystem => "Operating system",
        Kernel => "Kernel",
        Cpus => "CPUs",
        Memory => "Memory",
        Containers => "Containers",
        Running => "Running",
        Paused => "Paused",
        Stopped => "Stopped",
        Images => "Images",
        Volumes => "Volumes",
        ColName => "Name",
        ColImage => "Image",
        ColState => "State",
        ColStatus => "Status",
        ColPorts => "Ports",
        ColCreated => "Created",
        ColActions => "Actions",
        FilterPlaceholder => "Filter by name, image, stack or state",
        RunningOnly => "Running only",
        EmptyContainers => "No containers yet",
        NoMatches => "No containers match the filter",
        LiveOn => "Live",
        LiveConnecting => "Connecting…",
        LiveDaemonLost => "Daemon unreachable",
        LiveReconnecting => "Reconnecting…",
        ActionStart => "Start",
        ActionStop => "Stop",
        ActionRestart => "Restart",
        ActionPause => "Pause",
        ActionUnpause => "Unpause",
        ActionKill => "Kill",
        ActionRemove => "Remove",
        ActionFailed => "Action failed",
        Overview => "Overview",
        Id => "ID",
        Command => "Command",
        Mounts => "Mounts",
        Networks => "Networks",
        Env => "Environment",
        Labels => "Labels",
        RawJson => "Raw JSON",
        IpAddress => "IP address",
        Gateway => "Gateway",
        MacAddress => "MAC address",
        Source => "Source",
        Destination => "Destination",
        Mode => "Mode",
        ContainerNotFound => "This container does not exist (any more).",
    }
}

fn zh_cn(key: Key) -> &'static str {
    use Key::*;
    match key {
        NavDashboard => "仪表盘",
        NavContainers => "容器",
        Logout => "退出登录",
        ToggleTheme => "切换深色模式",
        Language => "语言",
        Menu => "菜单",
        Loading => "加载中…",
        Retry => "重试",
        Dismiss => "关闭",
        ErrorTitle => "出错了",
        NetworkError => "无法连接到 berth 服务器，请检查网络。",
        NotFoundTitle => "未找到",
        PageNotFound => "此地址没有页面。",
        BackToContainers => "返回容器列表",
        Nothing => "无",
        LoginTitle => "登录 berth",
        Username => "用户名",
        Password => "密码",
        SignIn => "登录",
        SigningIn => "正在登录…",
        WrongLogin => "用户名或密码错误。",
        TooManyLogins => "尝试次数过多，请稍等片刻后再试。",
        Engine => "Docker 引擎",
        ApiVersion => "API 版本",
        OperatingSystem => "操作系统",
        Kernel => "内核",
        Cpus => "CPU",
        Memory => "内存",
        Containers => "容器",
        Running => "运行中",
        Paused => "已暂停",
        Stopped => "已停止",
        Images => "镜像",
        Volumes => "卷",
        ColName => "名称",
        ColImage => "镜像",
        ColState => "状态",
        ColStatus => "状态详情",
        ColPorts => "端口",
        ColCreated => "创建时间",
        ColActions => "操作",
        FilterPlaceholder => "按名称、镜像、堆栈或状态筛选",
        RunningOnly => "仅显示运行中",
        EmptyContainers => "还没有容器",
        NoMatches => "没有符合筛选条件的容器",
        LiveOn => "实时",
        LiveConnecting => "连接中…",
        LiveDaemonLost => "无法连接 Docker 守护进程",
        LiveReconnecting => "正在重新连接…",
        ActionStart => "启动",
        ActionStop => "停止",
        ActionRestart => "重启",
        ActionPause => "暂停",
        ActionUnpause => "恢复",
        ActionKill => "强制终止",
        ActionRemove => "删除",
        ActionFailed => "操作失败",
        Overview => "概览",
        Id => "ID",
        Command => "命令",
        Mounts => "挂载",
        Networks => "网络",
        Env => "环境变量",
        Labels => "标签",
        RawJson => "原始 JSON",
        IpAddress => "IP 地址",
        Gateway => "网关",
        MacAddress => "MAC 地址",
        Source => "源",
        Destination => "目标",
        Mode => "模式",
        ContainerNotFound => "该容器不存在（或已被删除）。",
    }
}

/// "5 minutes ago" for an age in seconds.
pub fn ago(lang: Lang, secs: i64) -> String {
    let secs = secs.max(0);
    // (unit seconds, English singular, English plural, Chinese)
    const UNITS: [(i64, &str, &str, &str); 5] = [
        (365 * 86_400, "year", "years", "年"),
        (30 * 86_400, "month", "months", "个月"),
        (86_400, "day", "days", "天"),
        (3_600, "hour", "hours", "小时"),
        (60, "minute", "minutes", "分钟"),
    ];
    for (size, one, many, zh) in UNITS {
        let n = secs / size;
        if n >= 1 {
            return match lang {
                Lang::En if n == 1 => format!("1 {one} ago"),
                Lang::En => format!("{n} {many} ago"),
                Lang::ZhCn => format!("{n} {zh}前"),
            };
        }
    }
    match lang {
        Lang::En => "just now".to_string(),
        Lang::ZhCn => "刚刚".to_string(),
    }
}

/// What a person should read for an API error: the server's envelope message, or a
/// translated line when the server was never reached.
pub fn error_text(lang: Lang, err: &ApiError) -> String {
    if err.status == 0 {
        t(lang, Key::NetworkError).to_string()
    } else {
        err.message.clone()
    }
}

/// The app's language, shared through context.
#[derive(Clone, Copy)]
pub struct I18n {
    pub lang: RwSignal<Lang>,
}

impl I18n {
    /// Language from localStorage, else from `navigator.language`, else English; keeps
    /// `<html lang>` and localStorage in step with the signal.
    pub fn init() -> Self {
        let initial = prefs::get(prefs::LANG_KEY)
            .and_then(|s| Lang::from_tag(&s))
            .or_else(|| {
                window()
                    .navigator()
                    .language()
                    .and_then(|s| Lang::from_tag(&s))
            })
            .unwrap_or(Lang::En);
        let lang = RwSignal::new(initial);
        Effect::new(move |_| {
            let lang = lang.get();
            if let Some(html) = document().document_element() {
                let _ = html.set_attribute("lang", lang.code());
            }
        });
        Self { lang }
    }

    /// Switches language and remembers the choice.
    pub fn set(&self, lang: Lang) {
        prefs::set(prefs::LANG_KEY, lang.code());
        self.lang.set(lang);
    }

    /// The current text of `key`; reactive when called inside a view closure.
    pub fn t(&self, key: Key) -> &'static str {
        t(self.lang.get(), key)
    }
}

/// The app's `I18n`; provided by `App`.
pub fn use_i18n() -> I18n {
    expect_context::<I18n>()
}

/// A reactive text for views: `{tr(Key::Retry)}` re-renders when the language changes.
pub fn tr(key: Key) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = use_i18n().lang;
    move || t(lang.get(), key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(Lang::from_tag("zh-TW"), Some(Lang::ZhCn));
        assert_eq!(Lang::from_tag("en-GB"), Some(Lang::En));
        assert_eq!(Lang::from_tag("de"), None);
    }

    #[test]
    fn ages() {
        assert_eq!(ago(Lang::En, 5), "just now");
        assert_eq!(ago(Lang::En, 60), "1 minute ago");
        assert_eq!(ago(Lang::En, 7_200), "2 hours ago");
        assert_eq!(ago(Lang::ZhCn, 3 * 86_400), "3 天前");
    }
}
