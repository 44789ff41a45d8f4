//! Strings of the environments page, the switcher and the home page's hosts (issue 14).

use super::{use_i18n, Lang};
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    NavEnvironments,
    Environment,
    Environments,
    AddEnvironment,
    Name,
    Url,
    State,
    Engine,
    Containers,
    Images,
    Host,
    Image,
    Use,
    Test,
    Edit,
    Pause,
    Resume,
    Remove,
    Up,
    Checking,
    Paused,
    Down,
    SkipVerifyBadge,
    SkipVerifyTitle,
    AllContainers,
    UrlField,
    TlsSummary,
    TlsKeep,
    CaCert,
    ClientCert,
    ClientPrivate,
    SkipVerify,
    SshSummary,
    SshPrivate,
    KnownHosts,
    Teams,
    Roles,
    RolesHint,
    TestConnection,
    Add,
    Save,
    Cancel,
    EditTitle,
}

pub fn t(lang: Lang, key: Key) -> &'static str {
    use Key::*;
    match lang {
        Lang::En => match key {
            NavEnvironments => "Environments",
            Environment => "Environment",
            Environments => "Environments",
            AddEnvironment => "Add environment",
            Name => "Name",
            Url => "URL",
            State => "State",
            Engine => "Engine",
            Containers => "Containers",
            Images => "Images",
            Host => "Host",
            Image => "Image",
            Use => "Use",
            Test => "Test",
            Edit => "Edit",
            Pause => "Pause",
            Resume => "Resume",
            Remove => "Remove",
            Up => "up",
            Checking => "checking",
            Paused => "paused",
            Down => "down",
            SkipVerifyBadge => "unsafe: skip verify",
            SkipVerifyTitle => "the daemon's certificate is not checked",
            AllContainers => "Containers on every environment",
            UrlField => "URL (unix:///…, tcp://host:2376, ssh://user@host)",
            TlsSummary => "Mutual TLS (PEM; kept sealed, never shown again)",
            TlsKeep => "Leave the three fields empty to keep the stored certificates and key.",
            CaCert => "CA certificate",
            ClientCert => "Client certificate",
            ClientPrivate => "Client key",
            SkipVerify => {
                "Skip verifying the daemon's certificate (unsafe: anyone on the way can pose as it)"
            }
            SshSummary => "SSH (key kept sealed)",
            SshPrivate => "Private key (OpenSSH)",
            KnownHosts => "known_hosts line(s) of the host",
            Teams => "Teams (comma-separated; empty: everyone)",
            Roles => "Role limits here",
            RolesHint => "team=viewer, *=operator; empty: none. Admins are never limited.",
            TestConnection => "Test connection",
            Add => "Add",
            Save => "Save",
            Cancel => "Cancel",
            EditTitle => "Edit environment",
        },
        Lang::ZhCn => match key {
            NavEnvironments => "环境",
            Environment => "环境",
            Environments => "环境",
            AddEnvironment => "添加环境",
            Name => "名称",
            Url => "URL",
            State => "状态",
            Engine => "引擎",
            Containers => "容器",
            Images => "镜像",
            Host => "主机",
            Image => "镜像",
            Use => "使用",
            Test => "测试",
            Edit => "编辑",
            Pause => "暂停",
            Resume => "恢复",
            Remove => "删除",
            Up => "在线",
            Checking => "检查中",
            Paused => "已暂停",
            Down => "离线",
            SkipVerifyBadge => "不安全：跳过验证",
            SkipVerifyTitle => "不检查守护进程的证书",
            AllContainers => "所有环境中的容器",
            UrlField => "URL（unix:///…、tcp://host:2376、ssh://user@host）",
            TlsSummary => "双向 TLS（PEM；加密保存，不再显示）",
            TlsKeep => "三项都留空则保留已保存的证书和私钥。",
            CaCert => "CA 证书",
            ClientCert => "客户端证书",
            ClientPrivate => "客户端私钥",
            SkipVerify => "跳过验证守护进程的证书（不安全：途中任何人都能冒充它）",
            SshSummary => "SSH（私钥加密保存）",
            SshPrivate => "私钥（OpenSSH 格式）",
            KnownHosts => "该主机的 known_hosts 行",
            Teams => "团队（逗号分隔；留空：所有人）",
            Roles => "此处的角色上限",
            RolesHint => "team=viewer, *=operator；留空：不限。管理员不受限制。",
            TestConnection => "测试连接",
            Add => "添加",
            Save => "保存",
            Cancel => "取消",
            EditTitle => "编辑环境",
        },
    }
}

/// "down since …".
pub fn down_since(lang: Lang, since: &str) -> String {
    match lang {
        Lang::En => format!("down since {since}"),
        Lang::ZhCn => format!("自 {since} 起离线"),
    }
}

/// "Engine 20.10.24".
pub fn engine(lang: Lang, version: &str) -> String {
    match lang {
        Lang::En => format!("Engine {version}"),
        Lang::ZhCn => format!("引擎 {version}"),
    }
}

/// The home page's card: "3/5 running, 7 images".
pub fn counts(lang: Lang, running: i64, containers: i64, images: i64) -> String {
    match lang {
        Lang::En => format!("{running}/{containers} running, {images} images"),
        Lang::ZhCn => format!("{running}/{containers} 运行中，{images} 个镜像"),
    }
}

/// The table's cell: "3 running / 5".
pub fn running_of(lang: Lang, running: i64, containers: i64) -> String {
    match lang {
        Lang::En => format!("{running} running / {containers}"),
        Lang::ZhCn => format!("{running} 运行中 / {containers}"),
    }
}

/// A connection test that worked.
pub fn test_ok(lang: Lang, engine: &str, api: &str, millis: u64) -> String {
    match lang {
        Lang::En => format!("OK: engine {engine} (API {api}), {millis} ms"),
        Lang::ZhCn => format!("连接成功：引擎 {engine}（API {api}），{millis} 毫秒"),
    }
}

/// A connection test that failed at `stage` (dns, tcp, tls, ssh, api, …).
pub fn test_failed(lang: Lang, stage: &str, error: &str) -> String {
    match lang {
        Lang::En => format!("{stage} failed: {error}"),
        Lang::ZhCn => format!("{stage} 阶段失败：{error}"),
    }
}

/// A reactive text, for use in views.
pub fn tr(key: Key) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let i18n = use_i18n();
    move || t(i18n.lang.get(), key)
}
