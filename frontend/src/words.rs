//! Words the daemon and the server send in English, said in Chinese: container states
//! (`running`), Docker's status line (`Up 4 minutes (healthy)`) and audit action names
//! (`volume_create`, `volume.upload`).
//!
//! Pure string work with no dependency, so its tests run natively: the frontend crate
//! itself only builds for wasm (`rustc --edition 2021 --test frontend/src/words.rs`).
//! Anything not recognised is returned as it came: an odd line stays readable in English
//! rather than being half translated.

/// A container or stack state word in Chinese; `None` when the word is unknown.
pub fn state_zh(state: &str) -> Option<&'static str> {
    Some(match state.trim().to_ascii_lowercase().as_str() {
        "running" => "运行中",
        "exited" => "已退出",
        "paused" => "已暂停",
        "created" => "已创建",
        "restarting" => "重启中",
        "dead" => "已失效",
        "removing" => "删除中",
        "stopped" => "已停止",
        "partial" => "部分运行",
        "down" => "未运行",
        "healthy" => "健康",
        "unhealthy" => "不健康",
        "unknown" => "未知",
        _ => return None,
    })
}

/// A state as the badge shows it in Chinese: `running` → `运行中`, and a stack's
/// `running(2), exited(1)` → `运行中(2), 已退出(1)`. Unknown words stay as they are.
pub fn states_zh(text: &str) -> String {
    text.split(',')
        .map(|part| {
            let part = part.trim();
            let (word, rest) = match part.find('(') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            match state_zh(word) {
                Some(zh) => format!("{zh}{rest}"),
                None => part.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Docker's human duration ("4 minutes", "About an hour", "Less than a second") in Chinese.
fn duration_zh(text: &str) -> Option<String> {
    let text = text.trim();
    match text {
        "Less than a second" => return Some("不到 1 秒".into()),
        "About a minute" => return Some("约 1 分钟".into()),
        "About an hour" => return Some("约 1 小时".into()),
        _ => {}
    }
    let (n, unit) = text.split_once(' ')?;
    let n: u64 = n.parse().ok()?;
    let unit = match unit.trim_end_matches('s') {
        "second" => "秒",
        "minute" => "分钟",
        "hour" => "小时",
        "day" => "天",
        "week" => "周",
        "month" => "个月",
        "year" => "年",
        _ => return None,
    };
    Some(format!("{n} {unit}"))
}

/// The bracketed tail of an `Up` line: `(healthy)`, `(Paused)`, ...
fn tail_zh(tail: &str) -> Option<&'static str> {
    Some(match tail {
        "healthy" => "健康",
        "unhealthy" => "不健康",
        "health: starting" => "健康检查中",
        "Paused" => "已暂停",
        _ => return None,
    })
}

/// Docker's status line in Chinese, or `None` when it is not one of the shapes Docker
/// writes (then the caller shows the raw text).
pub fn status_zh(raw: &str) -> Option<String> {
    let raw = raw.trim();
    match raw {
        "Created" => return Some("已创建".into()),
        "Dead" => return Some("已失效".into()),
        "Removal In Progress" => return Some("删除中".into()),
        _ => {}
    }
    if let Some(rest) = raw.strip_prefix("Up ") {
        // "Up 3 seconds (healthy)": a duration, then at most one bracketed note.
        let (dur, note) = match rest.find(" (") {
            Some(i) if rest.ends_with(')') => (&rest[..i], Some(&rest[i + 2..rest.len() - 1])),
            _ => (rest, None),
        };
        let mut out = format!("已运行 {}", duration_zh(dur)?);
        if let Some(note) = note {
            out.push_str(&format!("（{}）", tail_zh(note)?));
        }
        return Some(out);
    }
    // "Exited (0) 2 hours ago", "Restarting (1) 5 seconds ago".
    for (word, zh) in [("Exited", "已退出"), ("Restarting", "重启中")] {
        if let Some(rest) = raw.strip_prefix(word) {
            let rest = rest.trim_start();
            let rest = rest.strip_prefix('(')?;
            let (code, rest) = rest.split_once(')')?;
            let code: i64 = code.parse().ok()?;
            let ago = rest.trim().strip_suffix(" ago")?;
            return Some(format!("{zh}（代码 {code}），{}前", duration_zh(ago)?));
        }
    }
    None
}

/// An audit action's words (`volume_create`, `volume.upload`, `start`) for people, in
/// English and Chinese; `None` when a word is not known.
pub fn action_words(action: &str) -> Option<(String, String)> {
    // Whole names whose words do not read well one by one.
    let whole = match action {
        "login" => Some(("Log in", "登录")),
        "logout" => Some(("Log out", "退出登录")),
        "docker_api" => Some(("Docker API call", "Docker API 调用")),
        "stack_git_pull" => Some(("Pull stack from git", "从 Git 拉取编排")),
        "stack_git_update" => Some(("Update stack from git", "从 Git 更新编排")),
        "stack_update_done" => Some(("Stack update finished", "编排更新完成")),
        "container_update_done" => Some(("Container update finished", "容器更新完成")),
        "registry_delete_tag" => Some(("Delete registry tag", "删除仓库标签")),
        "webhook_call" => Some(("Webhook called", "Webhook 被调用")),
        "webhook_deploy" => Some(("Deploy by webhook", "通过 Webhook 部署")),
        _ => None,
    };
    if let Some((en, zh)) = whole {
        return Some((en.into(), zh.into()));
    }
    let mut verbs_en = Vec::new();
    let mut verbs_zh = Vec::new();
    let mut nouns_en = Vec::new();
    let mut nouns_zh = String::new();
    for word in action.split(['.', '_']).filter(|w| !w.is_empty()) {
        if let Some((en, zh)) = verb(word) {
            verbs_en.push(en);
            verbs_zh.push(zh);
        } else if let Some((en, zh)) = noun(word) {
            nouns_en.push(en);
            nouns_zh.push_str(zh);
        } else {
            return None;
        }
    }
    if verbs_en.is_empty() {
        return None;
    }
    let mut en = verbs_en.join(" ");
    if !nouns_en.is_empty() {
        en.push(' ');
        en.push_str(&nouns_en.join(" "));
    }
    // Capital first letter: "Create volume".
    let mut chars = en.chars();
    let en = match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => en,
    };
    Some((en, format!("{}{nouns_zh}", verbs_zh.join(""))))
}

fn verb(word: &str) -> Option<(&'static str, &'static str)> {
    Some(match word {
        "create" | "add" => ("create", "创建"),
        "remove" | "delete" => ("remove", "删除"),
        "update" => ("update", "更新"),
        "save" => ("save", "保存"),
        "start" => ("start", "启动"),
        "stop" => ("stop", "停止"),
        "restart" => ("restart", "重启"),
        "kill" => ("kill", "强制停止"),
        "pause" => ("pause", "暂停"),
        "unpause" => ("resume", "恢复"),
        "run" => ("run", "运行"),
        "commit" => ("commit", "提交"),
        "upload" => ("upload to", "上传到"),
        "mkdir" => ("make folder in", "新建文件夹于"),
        "rename" => ("rename in", "重命名于"),
        "revoke" => ("revoke", "吊销"),
        "connect" => ("connect to", "连接到"),
        "disconnect" => ("disconnect from", "断开"),
        "prune" => ("prune", "清理"),
        "pull" => ("pull", "拉取"),
        "push" => ("push", "推送"),
        "load" => ("load", "导入"),
        "build" => ("build", "构建"),
        "tag" => ("tag", "标记"),
        "scale" => ("scale", "伸缩"),
        "rollback" => ("roll back", "回滚"),
        "rotate" => ("rotate", "轮换"),
        "init" => ("initialise", "初始化"),
        "deploy" => ("deploy", "部署"),
        "exec" => ("exec in", "执行于"),
        _ => return None,
    })
}

fn noun(word: &str) -> Option<(&'static str, &'static str)> {
    Some(match word {
        "container" => ("container", "容器"),
        "image" => ("image", "镜像"),
        "volume" => ("volume", "数据卷"),
        "network" => ("network", "网络"),
        "stack" => ("stack", "编排"),
        "service" => ("service", "服务"),
        "secret" => ("secret", "密钥"),
        "config" => ("config", "配置"),
        "node" => ("node", "节点"),
        "swarm" => ("swarm", "集群"),
        "user" => ("user", "用户"),
        "team" => ("team", "团队"),
        "token" => ("token", "令牌"),
        "share" => ("share", "共享"),
        "registry" => ("registry", "镜像仓库"),
        "webhook" => ("webhook", "Webhook"),
        "environment" => ("environment", "环境"),
        "template" => ("template", "模板"),
        "source" => ("source", "源"),
        "system" => ("system", "系统"),
        "terminal" => ("terminal", "终端"),
        _ => return None,
    })
}

/// An audit result (`ok`, `denied`, an error code) in Chinese; `None` when unknown.
pub fn result_zh(result: &str) -> Option<&'static str> {
    Some(match result {
        "ok" => "成功",
        "denied" => "被拒绝",
        "throttled" => "已限流",
        "forbidden" => "无权限",
        "unauthorized" => "未登录",
        "not_found" => "不存在",
        "conflict" => "冲突",
        "bad_request" => "请求无效",
        "docker_error" => "Docker 错误",
        "docker_unavailable" => "Docker 不可用",
        "internal" => "内部错误",
        "cancelled" => "已取消",
        "deployed" => "已部署",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(status_zh("Up 4 minutes").as_deref(), Some("已运行 4 分钟"));
        assert_eq!(
            status_zh("Up 3 seconds (healthy)").as_deref(),
            Some("已运行 3 秒（健康）")
        );
        assert_eq!(
            status_zh("Up About an hour (health: starting)").as_deref(),
            Some("已运行 约 1 小时（健康检查中）")
        );
        assert_eq!(
            status_zh("Up Less than a second").as_deref(),
            Some("已运行 不到 1 秒")
        );
        assert_eq!(
            status_zh("Up 2 days (Paused)").as_deref(),
            Some("已运行 2 天（已暂停）")
        );
        assert_eq!(
            status_zh("Exited (0) 2 hours ago").as_deref(),
            Some("已退出（代码 0），2 小时前")
        );
        assert_eq!(
            status_zh("Exited (137) About a minute ago").as_deref(),
            Some("已退出（代码 137），约 1 分钟前")
        );
        assert_eq!(
            status_zh("Restarting (1) 5 seconds ago").as_deref(),
            Some("重启中（代码 1），5 秒前")
        );
        assert_eq!(status_zh("Created").as_deref(), Some("已创建"));
        // Not Docker's shapes: the caller falls back to the raw text.
        assert_eq!(status_zh("Up forever"), None);
        assert_eq!(status_zh("Up 3 seconds (odd)"), None);
        assert_eq!(status_zh("Exited (x) 2 hours ago"), None);
        assert_eq!(status_zh(""), None);
    }

    #[test]
    fn states() {
        assert_eq!(state_zh("running"), Some("运行中"));
        assert_eq!(states_zh("running(2), exited(1)"), "运行中(2), 已退出(1)");
        assert_eq!(states_zh("weird"), "weird");
    }

    #[test]
    fn actions() {
        let zh = |a: &str| action_words(a).map(|(_, zh)| zh);
        let en = |a: &str| action_words(a).map(|(en, _)| en);
        assert_eq!(en("volume_create").as_deref(), Some("Create volume"));
        assert_eq!(zh("volume_create").as_deref(), Some("创建数据卷"));
        // Dots and underscores read the same.
        assert_eq!(zh("volume.upload").as_deref(), Some("上传到数据卷"));
        assert_eq!(en("user.update").as_deref(), Some("Update user"));
        assert_eq!(zh("start").as_deref(), Some("启动"));
        assert_eq!(zh("template_source_add").as_deref(), Some("创建模板源"));
        assert_eq!(zh("login").as_deref(), Some("登录"));
        assert_eq!(action_words("frobnicate"), None);
        assert_eq!(action_words("volume"), None);
    }
}
