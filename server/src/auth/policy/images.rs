//! Image tags have owners. A tag a non-admin pulls, builds, loads, tags or commits belongs to
//! that user's team (recorded in `image_owners`); a tag with no recorded owner (already on
//! the daemon, or made by an admin) is shared. A non-admin may use (run, build `FROM`, save,
//! push, inspect) shared tags and their teams' tags; may replace only their teams' tags (and
//! pull over shared ones: the registry, not the user, decides what a pull brings); may
//! untag or remove only their teams' tags. Another team's image answers as a missing one.

use std::collections::{HashMap, HashSet};

use wire::Role;

use super::resolve::Policy;
use crate::docker::reference::Reference;
use crate::error::{AppError, AppResult};
use crate::store::image_owners;

/// What the daemon knows of an image, as far as the policy needs it.
#[derive(Debug, Clone, Default)]
pub struct ImageInfo {
    pub id: String,
    pub tags: Vec<String>,
    pub labels: HashMap<String, String>,
}

/// A reference as the daemon lists tags (`busybox:latest`, `team/app:1`,
/// `127.0.0.1:5000/x:2`); `None` for ids and digests, which name content, not a tag.
pub fn tag_name(reference: &str) -> Option<String> {
    if reference.starts_with("sha256:") {
        return None;
    }
    let r = Reference::parse("image", reference).ok()?;
    if r.digest.is_some() {
        return None;
    }
    let name = r.name.strip_prefix("docker.io/").unwrap_or(&r.name);
    let name = name.strip_prefix("library/").unwrap_or(name);
    Some(format!("{name}:{}", r.tag.as_deref().unwrap_or("latest")))
}

/// The image a reference names on this daemon, or None.
pub async fn inspect(p: &Policy<'_>, reference: &str) -> AppResult<Option<ImageInfo>> {
    let r = reference.to_owned();
    match p
        .ep
        .call(|d| async move { d.inspect_image(&r).await })
        .await
    {
        Ok(i) => Ok(Some(ImageInfo {
            id: i.id.unwrap_or_default(),
            tags: i.repo_tags.unwrap_or_default(),
            labels: i.config.and_then(|c| c.labels).unwrap_or_default(),
        })),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The daemon's words for an image it does not have; another team's gets the same.
fn not_found(reference: &str) -> AppError {
    AppError::NotFound(format!("No such image: {reference}"))
}

/// A missing image where a container or build needs one: its own code, so the UI can offer
/// to pull it.
pub fn missing_for_use(reference: &str, e: AppError) -> AppError {
    match e {
        AppError::NotFound(_) => AppError::Missing {
            code: "image_not_found",
            message: format!("image {reference:?} is not on this daemon: pull it first"),
        },
        other => other,
    }
}

/// Who owns what, for one image: its tags' and its id's recorded teams.
struct Owners(HashMap<String, String>);

impl Owners {
    async fn of(p: &Policy<'_>, info: &ImageInfo, extra: Option<&str>) -> AppResult<Owners> {
        let mut names = info.tags.clone();
        names.push(info.id.clone());
        names.extend(extra.map(str::to_owned));
        Ok(Owners(
            image_owners::owners(p.db, &p.ep.name, &names)
                .await?
                .into_iter()
                .collect(),
        ))
    }

    /// Shared (no owner) or one of the user's teams'.
    fn usable(&self, p: &Policy<'_>, name: &str) -> bool {
        self.0.get(name).is_none_or(|t| p.user.teams.contains(t))
    }

    /// One of the user's teams'.
    fn owned(&self, p: &Policy<'_>, name: &str) -> bool {
        self.0.get(name).is_some_and(|t| p.user.teams.contains(t))
    }
}

impl Policy<'_> {
    /// Resolve an image the user wants to use (run, build from, save, push, inspect). An
    /// image of another team's answers exactly as a missing one.
    pub async fn image_use(&self, reference: &str) -> AppResult<ImageInfo> {
        let info = inspect(self, reference)
            .await?
            .ok_or_else(|| not_found(reference))?;
        if self.user.role == Role::Admin {
            return Ok(info);
        }
        // A name the image carries is a tag; anything else (an id, an id prefix that also
        // parses as a name) names the content.
        let asked = tag_name(reference).filter(|t| info.tags.contains(t));
        let owners = Owners::of(self, &info, asked.as_deref()).await?;
        let ok = match asked {
            // By tag: that tag decides.
            Some(tag) => owners.usable(self, &tag),
            // By id or digest: any tag the user may use, or an untagged image whose id is
            // shared or theirs.
            None if info.tags.is_empty() => owners.usable(self, &info.id),
            None => info.tags.iter().any(|t| owners.usable(self, t)),
        };
        if ok {
            Ok(info)
        } else {
            Err(not_found(reference))
        }
    }

    /// Check the user may make these tags point at new content: each is new on the daemon
    /// or their team's (a pull may also refresh a shared tag). Returns the tags that become
    /// (or stay) the user's team's: all but the shared ones a pull refreshes.
    pub async fn image_write(&self, tags: &[String], pull: bool) -> AppResult<Vec<String>> {
        self.user.require(Role::Operator)?;
        if self.user.role == Role::Admin {
            return Ok(Vec::new());
        }
        let mut theirs = Vec::new();
        for reference in tags {
            let Some(tag) = tag_name(reference) else {
                continue;
            };
            let Some(info) = inspect(self, &tag).await? else {
                theirs.push(tag);
                continue;
            };
            let owners = Owners::of(self, &info, Some(&tag)).await?;
            if owners.owned(self, &tag) {
                theirs.push(tag);
                continue;
            }
            if pull && owners.usable(self, &tag) {
                continue;
            }
            return Err(AppError::Conflict(if owners.usable(self, &tag) {
                format!(
                    "{tag} is a shared image: only an admin may replace it; choose another name"
                )
            } else {
                format!("the tag {tag} is another team's: choose another name")
            }));
        }
        Ok(theirs)
    }

    /// Resolve an image the user wants to untag or remove: every tag it would take away
    /// must be their team's. Returns the tags that go (for the ownership records).
    pub async fn image_remove(&self, reference: &str) -> AppResult<ImageInfo> {
        self.user.require(Role::Operator)?;
        let info = self.image_use(reference).await?;
        if self.user.role == Role::Admin {
            return Ok(info);
        }
        let asked = tag_name(reference).filter(|t| info.tags.contains(t));
        let owners = Owners::of(self, &info, asked.as_deref()).await?;
        let going: Vec<&String> = match &asked {
            // Untagging one of several tags takes only that one.
            Some(tag) if info.tags.len() > 1 => vec![tag],
            _ => info.tags.iter().collect(),
        };
        let mine = if going.is_empty() {
            owners.owned(self, &info.id)
        } else {
            going.iter().all(|t| owners.owned(self, t))
        };
        if mine {
            Ok(info)
        } else {
            let what = asked.unwrap_or_else(|| reference.to_owned());
            Err(AppError::Forbidden(format!(
                "{what} is shared or another team's image: only an admin may remove it"
            )))
        }
    }

    /// Record that the user's team now owns these tags (and image id). Admins' images
    /// stay shared.
    pub async fn image_written(&self, tags: &[String], id: Option<&str>) -> AppResult<()> {
        if self.user.role == Role::Admin {
            return Ok(());
        }
        let Some(team) = self.user.teams.first() else {
            return Ok(());
        };
        let mut names: Vec<String> = tags.iter().filter_map(|t| tag_name(t)).collect();
        names.extend(id.filter(|i| !i.is_empty()).map(str::to_owned));
        image_owners::set(self.db, &self.ep.name, &names, team).await?;
        Ok(())
    }

    /// Forget the records of tags that are gone.
    pub async fn image_untagged(&self, tags: &[String]) -> AppResult<()> {
        let names: Vec<String> = tags.iter().filter_map(|t| tag_name(t)).collect();
        image_owners::forget(self.db, &self.ep.name, &names).await?;
        Ok(())
    }

    /// Which tags of a listed image this user may see; None hides the image.
    pub fn visible_tags(
        &self,
        owners: &HashMap<String, String>,
        id: &str,
        tags: &[String],
    ) -> Option<Vec<String>> {
        if self.user.role == Role::Admin {
            return Some(tags.to_vec());
        }
        let mine: HashSet<&String> = self.user.teams.iter().collect();
        let usable = |n: &String| owners.get(n).is_none_or(|t| mine.contains(t));
        if tags.is_empty() {
            return usable(&id.to_owned()).then(Vec::new);
        }
        let shown: Vec<String> = tags.iter().filter(|t| usable(t)).cloned().collect();
        (!shown.is_empty()).then_some(shown)
    }
}

#[cfg(test)]
mod tests {
    use super::tag_name;

    #[test]
    fn tags_as_the_daemon_lists_them() {
        assert_eq!(tag_name("busybox").as_deref(), Some("busybox:latest"));
        assert_eq!(
            tag_name("docker.io/library/busybox:1").as_deref(),
            Some("busybox:1")
        );
        assert_eq!(
            tag_name("docker.io/team/app").as_deref(),
            Some("team/app:latest")
        );
        assert_eq!(
            tag_name("127.0.0.1:5000/x:2").as_deref(),
            Some("127.0.0.1:5000/x:2")
        );
        assert_eq!(tag_name("sha256:0123abcd"), None);
        assert_eq!(tag_name("x@sha256:0123456789abcdef0123456789abcdef"), None);
    }
}
