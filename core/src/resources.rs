//! The resource library: toolkits, guidance cards, policy templates, articles, video links and
//! training material. Readable by everyone (like the crisis resources); managed by coordinators.
//! A resource shared with the federation must pass the de-identification gate.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::access::{Operation, Principal, authorize};
use crate::db::{Db, DbConnection, Id, Json};
use crate::deid::{self, Inspect, Shareable};
use crate::error::CoreError;
use crate::feed::{self, FeedKind};
use crate::i18n::{Catalogue, Locale};
use crate::ids::new_id;
use crate::page::{MAX_PAGE_SIZE, Page, PagePlan, PageRequest};
use crate::schema::resources;
use crate::stored::to_json;
use crate::vocab::{Profession, ResourceKind, Sharing};
use crate::{institution, time, validate};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, Queryable)]
pub struct Resource {
    pub id: Uuid,
    pub kind: ResourceKind,
    pub title: String,
    pub summary: String,
    pub body: Option<String>,
    pub link: Option<String>,
    #[diesel(deserialize_as = Json<Vec<String>>)]
    pub tags: Vec<String>,
    /// Professions it is written for; empty means everyone.
    #[diesel(deserialize_as = Json<Vec<Profession>>)]
    pub audience: Vec<Profession>,
    pub jurisdiction: Option<String>,
    pub licence: String,
    pub sharing: Sharing,
    /// Set on the cards that ship with Alongside; those cannot be deleted.
    pub built_in: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Inspect for Resource {
    fn texts(&self) -> Vec<(&'static str, &str)> {
        let mut t = vec![
            ("title", self.title.as_str()),
            ("summary", self.summary.as_str()),
            ("licence", self.licence.as_str()),
        ];
        if let Some(b) = &self.body {
            t.push(("body", b));
        }
        if let Some(l) = &self.link {
            t.push(("link", l));
        }
        t.extend(self.tags.iter().map(|tag| ("tags", tag.as_str())));
        t
    }
}

#[derive(Debug, Clone)]
pub struct ResourceInput {
    pub kind: ResourceKind,
    pub title: String,
    pub summary: String,
    pub body: Option<String>,
    pub link: Option<String>,
    pub tags: Vec<String>,
    pub audience: Vec<Profession>,
    pub jurisdiction: Option<String>,
    pub licence: String,
    pub sharing: Sharing,
}

fn check(mut r: ResourceInput) -> Result<ResourceInput, CoreError> {
    r.title = validate::line("title", &r.title, 160)?;
    r.summary = validate::text_block("summary", &r.summary, 600)?;
    r.body = match r.body.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(b) => Some(validate::text_block("body", b, 20_000)?),
    };
    r.link = validate::optional_line("link", r.link.as_deref(), 500)?;
    if let Some(l) = &r.link
        && !(l.starts_with("https://") || l.starts_with("http://"))
    {
        return Err(CoreError::bad_input("link", "must be an http(s) URL"));
    }
    if r.body.is_none() && r.link.is_none() {
        return Err(CoreError::bad_input("body", "give a body or a link"));
    }
    if r.tags.len() > 20 {
        return Err(CoreError::bad_input("tags", "at most 20 tags"));
    }
    r.tags = r
        .tags
        .iter()
        .map(|t| validate::line("tags", &t.to_lowercase(), 40))
        .collect::<Result<_, _>>()?;
    r.tags.sort();
    r.tags.dedup();
    r.audience.sort();
    r.audience.dedup();
    r.jurisdiction = validate::optional_line("jurisdiction", r.jurisdiction.as_deref(), 40)?;
    r.licence = validate::line("licence", &r.licence, 120)?;
    Ok(r)
}

fn load(conn: &mut DbConnection, id: Uuid) -> Result<Resource, CoreError> {
    resources::table
        .filter(resources::id.eq(Id(id)))
        .first(conn)
        .optional()?
        .ok_or(CoreError::NotFound("resource"))
}

/// Refuses a federation-shared resource that fails the gate, naming every finding.
fn gate(resource: Resource) -> Result<Resource, CoreError> {
    if resource.sharing == Sharing::Federation {
        Shareable::new(resource)
            .map(Shareable::into_inner)
            .map_err(|f| deid::refusal(&f))
    } else {
        Ok(resource)
    }
}

/// Publishes a resource shared with the federation to the change feed, or withdraws it when it
/// is no longer shared. The built-in cards ship with every node, so they are never published.
fn to_feed(conn: &mut DbConnection, resource: &Resource) -> Result<(), CoreError> {
    if resource.sharing == Sharing::Federation && resource.built_in.is_none() {
        let shareable = Shareable::new(resource.clone()).map_err(|f| deid::refusal(&f))?;
        feed::publish(conn, FeedKind::Resource, resource.id, &shareable)
    } else {
        feed::withdraw(conn, FeedKind::Resource, resource.id)
    }
}

fn write(
    conn: &mut DbConnection,
    id: Uuid,
    r: &ResourceInput,
    built_in: Option<&str>,
    create: bool,
) -> Result<(), CoreError> {
    let now = time::now();
    let values = (
        resources::kind.eq(r.kind),
        resources::title.eq(&r.title),
        resources::summary.eq(&r.summary),
        resources::body.eq(&r.body),
        resources::link.eq(&r.link),
        resources::tags.eq(to_json(&r.tags)?),
        resources::audience.eq(to_json(&r.audience)?),
        resources::jurisdiction.eq(&r.jurisdiction),
        resources::licence.eq(&r.licence),
        resources::sharing.eq(r.sharing),
        resources::updated_at.eq(now),
    );
    if create {
        diesel::insert_into(resources::table)
            .values((
                resources::id.eq(Id(id)),
                resources::built_in.eq(built_in),
                resources::created_at.eq(now),
                values,
            ))
            .execute(conn)?;
    } else {
        diesel::update(resources::table.filter(resources::id.eq(Id(id))))
            .set(values)
            .execute(conn)?;
    }
    Ok(())
}

pub async fn create(db: &Db, who: &Principal, input: ResourceInput) -> Result<Resource, CoreError> {
    authorize(who, Operation::ManageResources)?;
    let input = check(input)?;
    db.transaction(move |conn| {
        forget_first_pages();
        let id = new_id();
        write(conn, id, &input, None, true)?;
        let resource = gate(load(conn, id)?)?;
        to_feed(conn, &resource)?;
        Ok(resource)
    })
    .await
}

pub async fn update(
    db: &Db,
    who: &Principal,
    id: Uuid,
    input: ResourceInput,
) -> Result<Resource, CoreError> {
    authorize(who, Operation::ManageResources)?;
    let input = check(input)?;
    db.transaction(move |conn| {
        forget_first_pages();
        let current = load(conn, id)?;
        if current.built_in.is_some() {
            return Err(CoreError::Conflict(
                "built-in guidance cards cannot be edited; add your own resource instead".into(),
            ));
        }
        write(conn, id, &input, None, false)?;
        let resource = gate(load(conn, id)?)?;
        to_feed(conn, &resource)?;
        Ok(resource)
    })
    .await
}

pub async fn delete(db: &Db, who: &Principal, id: Uuid) -> Result<(), CoreError> {
    authorize(who, Operation::ManageResources)?;
    db.transaction(move |conn| {
        forget_first_pages();
        if load(conn, id)?.built_in.is_some() {
            return Err(CoreError::Conflict(
                "built-in guidance cards cannot be deleted".into(),
            ));
        }
        feed::withdraw(conn, FeedKind::Resource, id)?;
        diesel::delete(resources::table.filter(resources::id.eq(Id(id)))).execute(conn)?;
        Ok(())
    })
    .await
}

/// A built-in card as its reader reads it: title, summary and body from the catalogue in
/// `locale` (`cards.ftl`), and the "where your conversations are protected here" card filled
/// from the institution's jurisdiction and its privileged programs, at read time, so it is
/// never stale. A resource of the institution's own is as it was written.
fn render(
    conn: &mut DbConnection,
    mut r: Resource,
    words: &Catalogue,
    locale: Locale,
) -> Result<Resource, CoreError> {
    let Some(key) = r.built_in.clone() else {
        return Ok(r);
    };
    let text = |part: &str| words.text(locale, &format!("card-{key}-{part}"));
    r.title = text("title");
    r.summary = text("summary");
    r.licence = words.text(locale, "card-licence");
    r.body = Some(if key == PROTECTED_HERE {
        protected_here_body(conn, words, locale)?
    } else {
        text("body")
    });
    Ok(r)
}

/// The "protected here" card's body: this institution, its jurisdiction and the services it
/// has marked privileged, read at each reading (remembered for at most `db::memo::FRESH_FOR`),
/// since they change.
fn protected_here_body(
    conn: &mut DbConnection,
    words: &Catalogue,
    locale: Locale,
) -> Result<String, CoreError> {
    let inst = institution::load(conn)?;
    let privileged = crate::programs::privileged_names(conn)?;
    let services = if privileged.is_empty() {
        words.text(locale, "card-protected-here-none")
    } else {
        words.text_with(
            locale,
            "card-protected-here-some",
            &[
                ("institution", inst.name.as_str().into()),
                ("programs", privileged.join(", ").into()),
            ],
        )
    };
    Ok(words.text_with(
        locale,
        "card-protected-here-body",
        &[
            ("institution", inst.name.into()),
            ("jurisdiction", inst.jurisdiction.into()),
            ("services", services.into()),
        ],
    ))
}

/// One resource; a built-in card in the reader's `locale`.
pub async fn get(
    db: &Db,
    who: &Principal,
    id: Uuid,
    words: &'static Catalogue,
    locale: Locale,
) -> Result<Resource, CoreError> {
    authorize(who, Operation::ViewResources)?;
    db.run(move |conn| {
        let r = load(conn, id)?;
        render(conn, r, words, locale)
    })
    .await
}

/// Searches by text (title, summary, body; case-insensitive, built-in cards in the reader's
/// `locale`) and tags (all must match), oldest first, `first`/`after` paging.
pub async fn search(
    db: &Db,
    who: &Principal,
    text: Option<String>,
    tags: Vec<String>,
    page: PageRequest,
    words: &'static Catalogue,
    locale: Locale,
) -> Result<Page<Resource>, CoreError> {
    authorize(who, Operation::ViewResources)?;
    let plan = page.plan()?;
    if plan.backward {
        return Err(CoreError::bad_input(
            "last",
            "search pages forward: use first and after",
        ));
    }
    let needle = text
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty());
    if needle.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(CoreError::bad_input("text", "at most 200 characters"));
    }
    let tags: Vec<String> = tags.iter().map(|t| t.trim().to_lowercase()).collect();
    // The library's first page, as everyone opens it, is remembered by language and size; a
    // change on another replica shows within `db::memo::FRESH_FOR`.
    let first = plan
        .first_page()
        .filter(|_| needle.is_none() && tags.is_empty())
        .map(|size| format!("{locale:?} {size}"));
    db.run_remembered(FIRST_PAGE_MEMO, first, move |conn| {
        read_page(conn, needle.as_deref(), &tags, plan, words, locale)
    })
    .await
}

/// The library's first page, remembered by [`search`]: forgotten when a resource, the
/// institution or a program changes (the "protected here" card names the last two).
const FIRST_PAGE_MEMO: &str = "resources, first page";

pub(crate) fn forget_first_pages() {
    crate::db::memo::forget(FIRST_PAGE_MEMO);
}

fn read_page(
    conn: &mut DbConnection,
    needle: Option<&str>,
    tags: &[String],
    plan: PagePlan,
    words: &Catalogue,
    locale: Locale,
) -> Result<Page<Resource>, CoreError> {
    let mut q = resources::table.order(resources::id.asc()).into_boxed();
    if let Some(after) = plan.after {
        q = q.filter(resources::id.gt(Id(after)));
    }
    // Text and tags are matched here, on the rendered card; without them every row
    // matches, so the page (and one more, to tell whether there is a next) is all to read.
    if needle.is_none() && tags.is_empty() {
        q = q.limit(i64::try_from(plan.limit.min(MAX_PAGE_SIZE) + 1).unwrap_or(i64::MAX));
    }
    let rows: Vec<Resource> = q.load(conn)?;
    let mut matched = Vec::new();
    for row in rows {
        let r = render(conn, row, words, locale)?;
        let text_matches = needle.is_none_or(|n| {
            format!(
                "{}\n{}\n{}",
                r.title,
                r.summary,
                r.body.as_deref().unwrap_or("")
            )
            .to_lowercase()
            .contains(n)
        });
        if text_matches && tags.iter().all(|t| r.tags.contains(t)) {
            matched.push(r);
            if matched.len() > plan.limit.min(MAX_PAGE_SIZE) {
                break;
            }
        }
    }
    Ok(Page::from_rows(matched, plan))
}

const SAFE_TO_TALK: &str = "safe-to-talk";
const PROTECTED_HERE: &str = "protected-here";
const WHAT_WE_KEEP: &str = "what-alongside-keeps";

/// The guidance cards that ship with Alongside, written for this project; their words are in
/// the catalogues (`cards.ftl`). The stored row keeps the English, which [`render`] replaces
/// with the reader's language.
fn built_ins() -> Vec<(&'static str, ResourceInput)> {
    let en = crate::i18n::catalogue();
    // The "protected here" body is written for each reader from the institution's settings
    // ([`render`]); formatted here without them it would keep its placeholders and warn at
    // every start, so its stored copy keeps the summary.
    let body = |key: &str| match key {
        PROTECTED_HERE => format!("card-{key}-summary"),
        _ => format!("card-{key}-body"),
    };
    let card = |key: &str, tags: &[&str]| ResourceInput {
        kind: ResourceKind::GuidanceCard,
        title: en.text(Locale::En, &format!("card-{key}-title")),
        summary: en.text(Locale::En, &format!("card-{key}-summary")),
        body: Some(en.text(Locale::En, &body(key))),
        link: None,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        audience: vec![],
        jurisdiction: None,
        licence: en.text(Locale::En, "card-licence"),
        sharing: Sharing::Federation,
    };
    vec![
        (
            SAFE_TO_TALK,
            card(
                SAFE_TO_TALK,
                &["peer support", "confidentiality", "getting started"],
            ),
        ),
        (
            PROTECTED_HERE,
            card(PROTECTED_HERE, &["confidentiality", "legal", "privilege"]),
        ),
        (
            WHAT_WE_KEEP,
            card(WHAT_WE_KEEP, &["privacy", "getting started"]),
        ),
    ]
}

/// Adds the built-in cards a node does not have yet (at start-up).
pub fn ensure_built_ins(conn: &mut DbConnection) -> Result<(), CoreError> {
    forget_first_pages();
    for (key, input) in built_ins() {
        let exists: i64 = resources::table
            .filter(resources::built_in.eq(key))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            let input = check(input)?;
            write(conn, new_id(), &input, Some(key), true)?;
        }
    }
    Ok(())
}
