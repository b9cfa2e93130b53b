//! Anonymous post-support surveys. When a case closes, the requester is emailed a single-use
//! token. Neither the token table nor the answers refer to the request or the person, and the
//! emailed copy of the token is erased once delivered, so no query can link answers to anyone.
//! Results are shown only as suppressed aggregates.

use crate::metrics::suppression::SuppressionK;
use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::{Operation, Principal, authorize};
use crate::db::{Db, DbConnection, Id};
use crate::error::CoreError;
use crate::i18n::{Catalogue, Locale};
use crate::ids::new_id;
use crate::metrics::suppression::{self, Published};
use crate::notify::outbox::{AlsoText, enqueue_for_person};
use crate::notify::templates::{Topic, Vars};
use crate::schema::{survey_responses, survey_tokens};
use crate::stored::{from_json, to_json};
use crate::{secrets, time};

/// How long a survey link works.
pub const SURVEY_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answers {
    /// 1 (strongly disagree) to 5 (strongly agree).
    Likert5,
    YesNo,
    Choice {
        choices: Vec<String>,
    },
}

/// A question; institutions may replace the default set with an instrument they hold a licence
/// for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub text: String,
    #[serde(flatten)]
    pub answers: Answers,
}

impl Question {
    /// The values an answer may take.
    pub fn options(&self) -> Vec<String> {
        match &self.answers {
            Answers::Likert5 => (1..=5).map(|n| n.to_string()).collect(),
            Answers::YesNo => vec!["yes".into(), "no".into()],
            Answers::Choice { choices } => choices.clone(),
        }
    }
}

/// The default questions, written for this project; their words are in the catalogues
/// (`survey-q-<id>`), read here in English as the stored form.
pub fn default_questions() -> Vec<Question> {
    let en = crate::i18n::catalogue();
    let q = |id: &str, answers: Answers| Question {
        id: id.into(),
        text: en.text(Locale::En, &format!("survey-q-{id}")),
        answers,
    };
    vec![
        q("satisfied", Answers::Likert5),
        q("heard", Answers::YesNo),
        q("recommend", Answers::YesNo),
        q(
            "stress",
            Answers::Choice {
                choices: vec!["lower".into(), "about the same".into(), "higher".into()],
            },
        ),
    ]
}

/// A question as its reader reads it, with each answer's value and its words.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionText {
    pub id: String,
    pub text: String,
    #[serde(flatten)]
    pub answers: Answers,
    /// (value to send, what the reader reads).
    pub options: Vec<(String, String)>,
}

/// `about the same` → `about-the-same`, for catalogue keys.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// The questions in `locale`: a shipped question (same id and English words) and the shipped
/// answers from the catalogue; an institution's own instrument shows as configured.
pub fn in_language(
    questions: Vec<Question>,
    words: &Catalogue,
    locale: Locale,
) -> Vec<QuestionText> {
    let shipped = default_questions();
    let or_as_written = |key: &str, written: &str| {
        if words.has(locale, key) {
            words.text(locale, key)
        } else {
            written.to_owned()
        }
    };
    questions
        .into_iter()
        .map(|q| {
            let text = if shipped.contains(&q) {
                words.text(locale, &format!("survey-q-{}", q.id))
            } else {
                q.text.clone()
            };
            let options = match &q.answers {
                Answers::Likert5 => (1..=5)
                    .map(|n| {
                        (
                            n.to_string(),
                            words.text(locale, &format!("survey-likert-{n}")),
                        )
                    })
                    .collect(),
                Answers::YesNo => vec![
                    ("yes".into(), words.text(locale, "survey-yes")),
                    ("no".into(), words.text(locale, "survey-no")),
                ],
                Answers::Choice { choices } => choices
                    .iter()
                    .map(|c| {
                        (
                            c.clone(),
                            or_as_written(&format!("survey-choice-{}", slug(c)), c),
                        )
                    })
                    .collect(),
            };
            QuestionText {
                id: q.id,
                text,
                answers: q.answers,
                options,
            }
        })
        .collect()
}

/// Issues a token for a closed case and emails it to `email`. Called inside the closing
/// transaction; stores nothing that names the case or the person.
pub(crate) fn issue(conn: &mut DbConnection, person: Uuid) -> Result<(), CoreError> {
    let token = secrets::random_token()?;
    let now = time::now();
    diesel::insert_into(survey_tokens::table)
        .values((
            survey_tokens::token_hash.eq(secrets::sha256_hex(&token)),
            survey_tokens::issued_month.eq(now.format("%Y-%m").to_string()),
            // Day precision: an exact time could be matched to when the case closed.
            survey_tokens::expires_at.eq((now + Duration::days(SURVEY_DAYS))
                .date()
                .and_hms_opt(0, 0, 0)
                .unwrap_or(now)),
        ))
        .execute(conn)?;
    let vars = Vars {
        token: Some(token),
        ..Vars::default()
    };
    enqueue_for_person(
        conn,
        Topic::Survey,
        person,
        &format!("survey:{}", new_id()),
        &vars,
        AlsoText::Never,
    )?;
    Ok(())
}

/// Records one set of answers; the token then stops working. No sign-in: the token is the key.
pub async fn submit(
    db: &Db,
    questions: Vec<Question>,
    token: String,
    answers: BTreeMap<String, String>,
) -> Result<(), CoreError> {
    for (id, value) in &answers {
        let q = questions
            .iter()
            .find(|q| &q.id == id)
            .ok_or_else(|| CoreError::bad_input(id.clone(), "is not a question of this survey"))?;
        if !q.options().contains(value) {
            return Err(CoreError::bad_input(
                id.clone(),
                format!("answer one of: {}", q.options().join(", ")),
            ));
        }
    }
    if answers.is_empty() {
        return Err(CoreError::bad_input(
            "answers",
            "answer at least one question",
        ));
    }
    let hash = secrets::sha256_hex(token.trim());
    db.transaction(move |conn| {
        let now = time::now();
        let used = diesel::update(
            survey_tokens::table
                .filter(survey_tokens::token_hash.eq(&hash))
                .filter(survey_tokens::expires_at.gt(now))
                .filter(survey_tokens::used.eq(false)),
        )
        .set(survey_tokens::used.eq(true))
        .execute(conn)?;
        if used != 1 {
            return Err(CoreError::Unauthenticated(
                "this survey link is not valid, was already used, or has expired".into(),
            ));
        }
        diesel::insert_into(survey_responses::table)
            .values((
                survey_responses::id.eq(Id(new_id())),
                survey_responses::submitted_month.eq(now.format("%Y-%m").to_string()),
                survey_responses::answers.eq(to_json(&answers)?),
            ))
            .execute(conn)?;
        Ok(())
    })
    .await
}

/// Where a survey link stands, so its page can say which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStatus {
    Open,
    AlreadyAnswered,
    /// Expired, or never issued: the two are not told apart.
    Expired,
}

/// Looks a survey link up without using it.
pub async fn link_status(db: &Db, token: String) -> Result<LinkStatus, CoreError> {
    let hash = secrets::sha256_hex(token.trim());
    db.run(move |conn| {
        let row: Option<(NaiveDateTime, bool)> = survey_tokens::table
            .filter(survey_tokens::token_hash.eq(&hash))
            .select((survey_tokens::expires_at, survey_tokens::used))
            .first(conn)
            .optional()?;
        Ok(match row {
            Some((expires, _)) if expires <= time::now() => LinkStatus::Expired,
            Some((_, true)) => LinkStatus::AlreadyAnswered,
            Some((_, false)) => LinkStatus::Open,
            None => LinkStatus::Expired,
        })
    })
    .await
}

/// Removes survey links past their expiry (run by retention).
pub(crate) fn purge(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, CoreError> {
    Ok(
        diesel::delete(survey_tokens::table.filter(survey_tokens::expires_at.le(now)))
            .execute(conn)?,
    )
}

#[derive(Debug, Clone, Serialize)]
pub struct QuestionResult {
    pub id: String,
    pub text: String,
    /// One row (`answers`), a column per option, suppressed.
    pub answers: Published,
}

/// Results for the months `from` to `to`, suppressed with threshold `k`. Aggregates only.
pub async fn results(
    db: &Db,
    who: &Principal,
    questions: Vec<Question>,
    from: String,
    to: String,
    k: SuppressionK,
) -> Result<Vec<QuestionResult>, CoreError> {
    authorize(who, Operation::ViewAggregates)?;
    let from = crate::events::check_month("from", &from)?;
    let to = crate::events::check_month("to", &to)?;
    let stored: Vec<String> = db
        .run(move |conn| {
            Ok(survey_responses::table
                .filter(survey_responses::submitted_month.ge(&from))
                .filter(survey_responses::submitted_month.le(&to))
                .select(survey_responses::answers)
                .load(conn)?)
        })
        .await?;
    let all: Vec<BTreeMap<String, String>> = stored
        .iter()
        .map(|s| from_json(s))
        .collect::<Result<_, _>>()?;
    Ok(questions
        .into_iter()
        .map(|q| {
            let options = q.options();
            let counts = vec![
                options
                    .iter()
                    .map(|o| all.iter().filter(|a| a.get(&q.id) == Some(o)).count() as u64)
                    .collect(),
            ];
            QuestionResult {
                answers: suppression::suppress(vec!["answers".into()], options, &counts, k),
                id: q.id,
                text: q.text,
            }
        })
        .collect())
}
