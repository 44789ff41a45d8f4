//! A stack's automated redeploy: `.env` variables set, images pulled, the stack engine's
//! `up` (which recreates only what changed, every body through the one policy), then the
//! health gate on every service. A failure anywhere after the first change puts back the
//! stack's `.env`, re-tags each service's image to what ran before (a same-tag push moved
//! the tag), and brings the old deployment up again.

use std::collections::BTreeMap;
use std::time::Duration;

use wire::Role;

use crate::auth::policy::resolve::Policy;
use crate::docker::reference::Reference;
use crate::docker::stack_up::{self, Progress, UpOptions};
use crate::docker::{images, recreate, settle, stack_spec};
use crate::error::{AppError, AppResult};
use crate::registry;
use crate::stacks::files::{self, StackFiles};
use crate::stacks::model::Project;
use crate::stacks::ops;
use crate::state::AppState;

/// What a call asks of a stack.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// `.env` variables to set (a tag, say) before deploying.
    pub variables: BTreeMap<String, String>,
    pub pull: bool,
    /// How long a service without a healthcheck must run without restarting.
    pub window: Duration,
}

/// A `.env` value as written: bare when it is plain, single-quoted otherwise (dotenv
/// takes single-quoted values literally). Values with a quote or a line break are
/// refused before a job is made.
fn env_value(v: &str) -> String {
    let plain = v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-:/@+,%".contains(c));
    if plain {
        v.to_owned()
    } else {
        format!("'{v}'")
    }
}

/// Check a variable a caller sets: a name as the shell has them, a value on one line.
pub fn check_variable(name: &str, value: &str) -> AppResult<()> {
    let mut chars = name.chars();
    let ok_name = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128;
    if !ok_name {
        return Err(AppError::bad_request(
            "invalid_variable",
            format!("{name:?} is not a variable name (letters, digits and _, not first a digit)"),
        ));
    }
    if value.len() > 4096 || value.chars().any(|c| c.is_control() || c == '\'') {
        return Err(AppError::bad_request(
            "invalid_variable",
            format!(
                "the value of {name} must be one line without control characters or single quotes"
            ),
        ));
    }
    Ok(())
}

/// The `.env` text with `vars` set: lines that set them are replaced where they stand,
/// the others appended; everything else is kept as written.
pub fn apply(env: Option<&str>, vars: &BTreeMap<String, String>) -> Option<String> {
    if vars.is_empty() {
        return env.map(str::to_owned);
    }
    let mut done = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for line in env.unwrap_or_default().lines() {
        let key = line
            .trim_start()
            .trim_start_matches("export ")
            .split('=')
            .next()
            .unwrap_or_default()
            .trim();
        match vars.get(key) {
            Some(v) if line.contains('=') => {
                out.push(format!("{key}={}", env_value(v)));
                done.insert(key.to_owned());
            }
            _ => out.push(line.to_owned()),
        }
    }
    for (k, v) in vars.iter().filter(|(k, _)| !done.contains(*k)) {
        out.push(format!("{k}={}", env_value(v)));
    }
    let mut text = out.join("\n");
    text.push('\n');
    Some(text)
}

fn up_options(f: &StackFiles, pull: bool) -> UpOptions {
    UpOptions {
        pull,
        build: false,
        no_start: false,
        team: f.meta.team.clone(),
        labels: ops::project_labels(f),
    }
}

/// Redeploy stack `name` as `policy.user`.
pub async fn redeploy(
    state: &AppState,
    policy: Policy<'_>,
    name: &str,
    plan: Plan,
    progress: &Progress,
) -> AppResult<()> {
    let ep = policy.ep;
    let data_dir = state.config.data_dir.as_path();
    let f = files::read(data_dir, name)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no stack named {name}")))?;
    ops::access(policy.user, ep, name, Some(&f), Role::Operator).await?;
    if f.meta.swarm {
        return Err(AppError::Conflict(format!(
            "stack {name} runs on the swarm: redeploy it with PUT /api/stacks/{name}"
        )));
    }
    let env = apply(f.env.as_deref(), &plan.variables);
    // A file that does not compile (or a variable that breaks it) changes nothing.
    let project = ops::compile_or_400(name, &f.compose, env.as_deref(), &f.working_dir())?;
    // The job pulls, with the stored credentials of each image's registry (a private
    // registry behind htpasswd is what CI pushes to); the engine then uses what is here.
    let opts = up_options(&f, false);
    stack_up::authorize(policy.user, &project, &opts)?;

    // What runs now: each service's image name and the image it names, to go back to.
    let old_project = ops::project_of(name, &f).ok();
    let mut before = Vec::new();
    for svc in old_project.iter().flat_map(|p| &p.services) {
        let id = policy.image_use(&svc.image).await.ok().map(|i| i.id);
        before.push((svc.image.clone(), id));
    }
    for (k, v) in &plan.variables {
        progress.say(None, "env", format!("{k}={v}")).await;
    }
    if env != f.env {
        files::write(data_dir, name, &f.compose, env.as_deref(), &f.meta).await?;
    }

    let res = async {
        if plan.pull {
            for svc in project.services.iter().filter(|s| s.build.is_none()) {
                let host = Reference::parse("image", &svc.image)?.registry_host();
                let credentials = match registry::matching(state, &host).await? {
                    Some(row) => registry::docker_credentials(state, &row)?,
                    None => None,
                };
                recreate::pull(policy, &svc.image, credentials, &svc.name, progress)
                    .await
                    .map_err(|e| in_service(&svc.name, e))?;
            }
        }
        stack_up::up(policy, &project, opts, progress).await?;
        gate(ep, &project, plan.window, progress).await
    }
    .await;
    let Err(e) = res else {
        return Ok(());
    };
    progress
        .say(None, "rollback", format!("{e}: rolling back"))
        .await;
    let Some(old) = old_project else {
        return Err(e);
    };
    let back = async {
        if env != f.env {
            files::write(data_dir, name, &f.compose, f.env.as_deref(), &f.meta).await?;
        }
        for (image, id) in &before {
            let Some(id) = id else { continue };
            let now = policy.image_use(image).await.ok().map(|i| i.id);
            if now.as_deref() != Some(id.as_str()) {
                retag(policy, id, image).await?;
                progress
                    .say(
                        None,
                        "rollback",
                        format!("{image} names {} again", crate::docker::recreate::short(id)),
                    )
                    .await;
            }
        }
        stack_up::up(policy, &old, up_options(&f, false), progress).await
    }
    .await;
    match back {
        Ok(()) => {
            progress
                .say(None, "rollback", "rolled back to the previous deployment")
                .await;
            Err(AppError::coded(
                http::StatusCode::CONFLICT,
                if e.code() == "deploy_unhealthy" {
                    "deploy_unhealthy"
                } else {
                    "deploy_failed"
                },
                format!("{e} (rolled back to the previous deployment)"),
            ))
        }
        Err(again) => Err(AppError::coded(
            http::StatusCode::CONFLICT,
            "rollback_failed",
            format!("{e}; and the rollback failed too: {again}"),
        )),
    }
}

fn in_service(service: &str, e: AppError) -> AppError {
    match e {
        AppError::Coded {
            status,
            code,
            message,
        } => AppError::Coded {
            status,
            code,
            message: format!("service {service}: {message}"),
        },
        AppError::NotFound(m) => AppError::NotFound(format!("service {service}: {m}")),
        AppError::Forbidden(m) => AppError::Forbidden(format!("service {service}: {m}")),
        other => other,
    }
}

/// Point `image` (a name:tag) at the image `id` again.
async fn retag(policy: Policy<'_>, id: &str, image: &str) -> AppResult<()> {
    let r = Reference::parse("image", image)?;
    if r.digest.is_some() {
        return Ok(());
    }
    let tags = [r.full()];
    policy.image_write(&tags, false).await?;
    images::tag(
        policy.ep,
        id,
        &r.name,
        Some(r.tag.as_deref().unwrap_or("latest")),
    )
    .await?;
    policy.image_written(&tags, Some(id)).await
}

/// Every service's container healthy, or running `window` without restarting.
async fn gate(
    ep: &crate::docker::Endpoint,
    project: &Project,
    window: Duration,
    progress: &Progress,
) -> AppResult<()> {
    progress
        .say(
            None,
            "health",
            format!(
                "waiting until every service is healthy (or running {} s without restarting)",
                window.as_secs()
            ),
        )
        .await;
    // Every replica of every service.
    let checks = project.services.iter().flat_map(|svc| {
        (1..=svc.replicas).map(move |n| {
            let name = stack_spec::container_name(&project.name, svc, n);
            let label = format!("service {}", svc.name);
            async move { settle::settle(ep, &name, &label, window).await }
        })
    });
    for r in futures::future::join_all(checks).await {
        r?;
    }
    progress.say(None, "health", "every service is up").await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_replace_their_lines_and_the_rest_stays() {
        let vars = BTreeMap::from([
            ("TAG".to_string(), "v2".to_string()),
            ("NEW".to_string(), "a b".to_string()),
        ]);
        let got = apply(Some("# comment\nTAG=v1\nOTHER=x\n"), &vars).unwrap();
        assert_eq!(got, "# comment\nTAG=v2\nOTHER=x\nNEW='a b'\n");
        assert_eq!(apply(None, &BTreeMap::new()), None);
        assert!(check_variable("TAG", "v2").is_ok());
        assert!(check_variable("1X", "v").is_err());
        assert!(check_variable("X", "a\nb").is_err());
        assert!(check_variable("X", "it's").is_err());
    }
}
