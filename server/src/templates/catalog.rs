//! The catalogue a user sees: the built-ins and every added source's templates, each with
//! an id unique across all of them (`berth-…`, or `{source id}-{template id}`).

use sqlx::SqlitePool;

use super::{builtin, parse, Body, Kind, Template};
use crate::store::template_sources::{self, Row};

/// One template with where it came from.
pub struct Entry {
    pub id: String,
    pub source: String,
    pub source_name: String,
    pub template: Template,
    pub unavailable: Option<String>,
}

impl Entry {
    pub fn info(&self) -> wire::TemplateInfo {
        let t = &self.template;
        let (image, compose) = match &t.body {
            Body::Container(c) => (Some(c.image.clone()), None),
            Body::Compose { content } => (None, Some(content.clone())),
        };
        wire::TemplateInfo {
            id: self.id.clone(),
            source: self.source.clone(),
            source_name: self.source_name.clone(),
            title: t.title.clone(),
            description: t.description.clone(),
            note: t.note.clone(),
            categories: t.categories.clone(),
            logo: t.logo.clone(),
            kind: match t.kind {
                Kind::Container => "container",
                Kind::Stack => "stack",
            }
            .into(),
            variables: t
                .variables
                .iter()
                .filter(|v| !v.preset)
                .map(|v| wire::TemplateVariable {
                    name: v.name.clone(),
                    label: v.label.clone(),
                    description: v.description.clone(),
                    default: v.default.clone(),
                    select: v
                        .select
                        .iter()
                        .map(|c| wire::TemplateChoice {
                            text: c.text.clone(),
                            value: c.value.clone(),
                        })
                        .collect(),
                    required: v.required,
                })
                .collect(),
            image,
            compose,
            unavailable: self.unavailable.clone(),
        }
    }
}

/// A stored source as listed: its row read into templates.
pub fn source_info(row: &Row) -> wire::TemplateSource {
    let (format, templates, errors) = match parse::parse_list(&row.content) {
        Ok(p) => (
            p.format.to_owned(),
            p.templates.len(),
            p.errors
                .into_iter()
                .map(|e| wire::TemplateListError {
                    index: e.index,
                    title: e.title,
                    message: e.message,
                })
                .collect(),
        ),
        // Only lists that parsed are stored; a later parser that refuses one says so here.
        Err(e) => (
            "unreadable".to_owned(),
            0,
            vec![wire::TemplateListError {
                index: 0,
                title: None,
                message: e.to_string(),
            }],
        ),
    };
    wire::TemplateSource {
        id: row.id.to_string(),
        name: row.name.clone(),
        url: row.url.clone(),
        format,
        templates,
        errors,
        added_at: row.created_at,
        added_by: row.added_by.clone(),
    }
}

fn of_source(row: &Row) -> Vec<Entry> {
    let Ok(parsed) = parse::parse_list(&row.content) else {
        return Vec::new();
    };
    parsed
        .templates
        .into_iter()
        .map(|t| Entry {
            id: format!("{}-{}", row.id, t.id),
            source: row.id.to_string(),
            source_name: row.name.clone(),
            template: t,
            unavailable: None,
        })
        .collect()
}

/// Every template: the built-ins first, then each source's in the order they were added.
pub async fn all(db: &SqlitePool) -> sqlx::Result<Vec<Entry>> {
    let mut out: Vec<Entry> = builtin::all()
        .into_iter()
        .map(|t| Entry {
            id: t.id.clone(),
            source: "builtin".into(),
            source_name: "berth".into(),
            unavailable: builtin::unavailable(&t.id).map(str::to_owned),
            template: t,
        })
        .collect();
    for row in template_sources::list(db).await? {
        out.extend(of_source(&row));
    }
    Ok(out)
}

/// One template by id.
pub async fn find(db: &SqlitePool, id: &str) -> sqlx::Result<Option<Entry>> {
    Ok(all(db).await?.into_iter().find(|e| e.id == id))
}
