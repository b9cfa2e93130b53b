//! `alongside admin import-staff FILE.csv`: the staff roster for hospitals without SCIM. A
//! header row names the columns (any order, any case):
//!
//! - `staff_id` and `name`, required;
//! - `email`, `phone` (with its country code), `pager`, `department`;
//! - `profession` (physician, nurse, pharmacist, allied_health, trainee, administrator,
//!   support_staff, other) or `title` (the profession is read from it);
//! - `language` (en, es) and `active` (true/false; false stops all contact).
//!
//! People are matched by staff id, so importing the same file twice changes nothing. Every
//! rejected row is reported with its line and reason, and a file with any rejected row changes
//! nothing at all. People missing from the file are left as they are (a file may be one
//! department's).

pub mod csv;

use std::collections::HashMap;

use diesel::Connection;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::CoreError;
use crate::i18n::Locale;
use crate::people::{self, NewPerson, Records};
use crate::schema::people as people_t;
use crate::validate;
use crate::vocab::Profession;
use uuid::Uuid;

/// The most rows one file may hold.
pub const MAX_ROWS: usize = 50_000;

const COLUMNS: [&str; 10] = [
    "staff_id",
    "name",
    "email",
    "phone",
    "pager",
    "department",
    "profession",
    "title",
    "language",
    "active",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deactivated: usize,
    pub rejected: Vec<Rejected>,
    /// False for a dry run, and whenever a row was rejected.
    pub applied: bool,
}

/// One row, checked.
struct Row {
    line: usize,
    records: Records,
}

enum Abort {
    Core(CoreError),
    /// Roll back, reporting this.
    Report(ImportReport),
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Abort::Core(e.into())
    }
}

impl From<CoreError> for Abort {
    fn from(e: CoreError) -> Self {
        Abort::Core(e)
    }
}

/// Imports `text` in one transaction. With `dry_run`, reports what would change and changes
/// nothing.
pub fn import(
    conn: &mut DbConnection,
    text: &str,
    dry_run: bool,
) -> Result<ImportReport, CoreError> {
    let (rows, mut rejected) = parse(text)?;
    let result = conn.transaction::<ImportReport, Abort, _>(|tx| {
        crate::db::take_write_lock(tx)?;
        let mut report = ImportReport::default();
        for row in &rows {
            match apply(tx, row, &mut report) {
                Ok(()) => {}
                Err(CoreError::BadInput { field, message }) => rejected.push(Rejected {
                    line: row.line,
                    reason: format!("{field}: {message}"),
                }),
                Err(CoreError::Conflict(m)) => rejected.push(Rejected {
                    line: row.line,
                    reason: m,
                }),
                Err(e) => return Err(Abort::Core(e)),
            }
        }
        if !rejected.is_empty() {
            rejected.sort_by_key(|r| r.line);
            return Err(Abort::Report(ImportReport {
                rejected: std::mem::take(&mut rejected),
                applied: false,
                ..report
            }));
        }
        if dry_run {
            return Err(Abort::Report(report));
        }
        report.applied = true;
        Ok(report)
    });
    match result {
        Ok(report) => Ok(report),
        Err(Abort::Report(report)) => Ok(report),
        Err(Abort::Core(e)) => Err(e),
    }
}

/// Reads and checks every row; returns the good ones and the reasons for the others.
fn parse(text: &str) -> Result<(Vec<Row>, Vec<Rejected>), CoreError> {
    let records = csv::records(text)
        .map_err(|(line, m)| CoreError::bad_input("file", format!("line {line}: {m}")))?;
    let mut it = records.into_iter();
    let Some(header) = it.next() else {
        return Err(CoreError::bad_input(
            "file",
            "the file is empty: it needs a header row",
        ));
    };
    let names: Vec<String> = header
        .fields
        .iter()
        .map(|h| h.trim().to_ascii_lowercase().replace([' ', '-'], "_"))
        .collect();
    for n in &names {
        if !COLUMNS.contains(&n.as_str()) {
            return Err(CoreError::bad_input(
                "file",
                format!(
                    "line 1: unknown column {n:?}; the columns are {}",
                    COLUMNS.join(", ")
                ),
            ));
        }
    }
    for required in ["staff_id", "name"] {
        if !names.iter().any(|n| n == required) {
            return Err(CoreError::bad_input(
                "file",
                format!("line 1: the header needs a {required} column"),
            ));
        }
    }
    let rest: Vec<csv::Record> = it.collect();
    if rest.len() > MAX_ROWS {
        return Err(CoreError::bad_input(
            "file",
            format!("at most {MAX_ROWS} rows per file; split it"),
        ));
    }
    let mut rows = Vec::with_capacity(rest.len());
    let mut rejected = Vec::new();
    let mut staff_seen: HashMap<String, usize> = HashMap::new();
    let mut email_seen: HashMap<String, usize> = HashMap::new();
    for rec in rest {
        if rec.fields.len() != names.len() {
            rejected.push(Rejected {
                line: rec.line,
                reason: format!(
                    "{} fields where the header has {}",
                    rec.fields.len(),
                    names.len()
                ),
            });
            continue;
        }
        let get = |col: &str| {
            names
                .iter()
                .position(|n| n == col)
                .and_then(|i| rec.fields.get(i))
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        match check_row(&get) {
            Ok(records) => {
                let staff = records.staff_id.clone().unwrap_or_default();
                if let Some(first) = staff_seen.insert(staff.clone(), rec.line) {
                    rejected.push(Rejected {
                        line: rec.line,
                        reason: format!("staff_id: {staff} is also on line {first}"),
                    });
                    continue;
                }
                if let Some(email) = &records.email
                    && let Some(first) = email_seen.insert(email.clone(), rec.line)
                {
                    rejected.push(Rejected {
                        line: rec.line,
                        reason: format!("email: {email} is also on line {first}"),
                    });
                    continue;
                }
                rows.push(Row {
                    line: rec.line,
                    records,
                });
            }
            Err(CoreError::BadInput { field, message }) => rejected.push(Rejected {
                line: rec.line,
                reason: format!("{field}: {message}"),
            }),
            Err(e) => return Err(e),
        }
    }
    Ok((rows, rejected))
}

fn check_row<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<Records, CoreError> {
    let staff_id = validate::line("staff_id", get("staff_id").unwrap_or_default(), 64)?;
    let display_name = validate::line("name", get("name").unwrap_or_default(), 120)?;
    let email = get("email")
        .map(|e| validate::email("email", e))
        .transpose()?;
    let phone = get("phone")
        .map(|p| validate::phone("phone", p))
        .transpose()?;
    let pager = validate::optional_line("pager", get("pager"), 40)?;
    let department = validate::optional_line("department", get("department"), 80)?;
    let profession = match (get("profession"), get("title")) {
        (Some(p), _) => Some(p.to_ascii_lowercase().parse::<Profession>().map_err(|_| {
            CoreError::bad_input(
                "profession",
                format!(
                    "{p:?} is not one of {}",
                    Profession::ALL
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?),
        (None, Some(title)) => Some(Profession::from_title(title)),
        (None, None) => None,
    };
    let locale = get("language")
        .map(|l| {
            Locale::parse(l).map(|l| l.tag().to_owned()).ok_or_else(|| {
                CoreError::bad_input(
                    "language",
                    format!(
                        "{l:?} is not one of {}",
                        Locale::ALL.map(|l| l.tag()).join(", ")
                    ),
                )
            })
        })
        .transpose()?;
    let active = match get("active").map(str::to_ascii_lowercase).as_deref() {
        None | Some("true" | "yes" | "1") => true,
        Some("false" | "no" | "0") => false,
        Some(other) => {
            return Err(CoreError::bad_input(
                "active",
                format!("{other:?} is not true or false"),
            ));
        }
    };
    Ok(Records {
        display_name,
        email,
        staff_id: Some(staff_id),
        department,
        profession,
        phone,
        pager,
        locale,
        active,
    })
}

/// The person's columns as they are now, to tell an unchanged row.
type Current = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
);

fn apply(conn: &mut DbConnection, row: &Row, report: &mut ImportReport) -> Result<(), CoreError> {
    let r = &row.records;
    let staff = r.staff_id.clone().unwrap_or_default();
    let current = |conn: &mut DbConnection, by_staff: bool, key: &str| {
        let q = people_t::table.into_boxed();
        let q = if by_staff {
            q.filter(people_t::staff_id.eq(key.to_owned()))
        } else {
            q.filter(people_t::email.eq(key.to_owned()))
        };
        q.select((
            people_t::id,
            (
                people_t::display_name,
                people_t::email,
                people_t::department,
                people_t::pager,
                people_t::profession,
                people_t::phone,
                people_t::locale,
                people_t::staff_id,
                people_t::active,
            ),
        ))
        .first::<(Uuid, Current)>(conn)
        .optional()
    };
    let mut found = current(conn, true, &staff)?;
    if let Some(email) = &r.email {
        match current(conn, false, email)? {
            // Someone a coordinator added by email before there was a staff id: the same person.
            Some(holder) if holder.1.7.is_none() && found.is_none() => found = Some(holder),
            Some(holder) if holder.1.7.as_deref() != Some(staff.as_str()) => {
                return Err(CoreError::bad_input(
                    "email",
                    format!("{email} is another person's on the roster"),
                ));
            }
            _ => {}
        }
    }
    let person = match found {
        Some((id, cur)) => {
            let same = cur.7 == r.staff_id
                && cur.0 == r.display_name
                && cur.1 == r.email
                && cur.2 == r.department
                && cur.3 == r.pager
                && r.profession.is_none_or(|p| p.as_str() == cur.4)
                && r.phone.as_ref().is_none_or(|p| Some(p) == cur.5.as_ref())
                && r.locale.as_ref().is_none_or(|l| Some(l) == cur.6.as_ref())
                && cur.8 == r.active;
            if same {
                report.unchanged += 1;
                return Ok(());
            }
            report.updated += 1;
            if cur.8 && !r.active {
                report.deactivated += 1;
            }
            id
        }
        None => {
            report.created += 1;
            if !r.active {
                report.deactivated += 1;
            }
            people::insert(
                conn,
                NewPerson {
                    staff_id: r.staff_id.clone(),
                    display_name: r.display_name.clone(),
                    email: r.email.clone(),
                    profession: r.profession.unwrap_or(Profession::Other),
                    specialty: None,
                    department: r.department.clone(),
                    experience_band: None,
                    languages: vec![],
                },
            )?
            .id
        }
    };
    // The server's cached standing of a suspended account lapses on its own within seconds.
    people::apply_records(conn, person, r, "operator")?;
    Ok(())
}
