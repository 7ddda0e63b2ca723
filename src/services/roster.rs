//! The office's roster of former employees, imported from CSV. Rows are keyed
//! by personal e-mail, so re-importing a file updates entries and never
//! duplicates them; a person here whose confirmed e-mail matches becomes a
//! verified member at once (and later, when they ask to join).
//!
//! Columns (a header row names them, in any order, case-insensitive):
//! `email` (required), `name`, `tenure_from`, `tenure_to`, `divisions`
//! (separated by `;`), `role` (`alumnus` by default, or `employee`).
use crate::domain::{MembershipState, Role, Via};
use std::collections::HashMap;
use std::io::Read;

use super::memberships::{check_date, check_divisions, new_membership};
use super::{Ctx, ServiceError, ServiceResult};
use crate::db::models::RosterEntry;
use crate::db::{self};
use crate::ids;

/// Rows written per transaction: one commit per chunk keeps SQLite fast and
/// lets the progress bar move.
const CHUNK: usize = 500;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub rows: u64,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Memberships verified because a confirmed e-mail here matched.
    pub verified: u64,
    /// (line number in the file, what is wrong) for rows not imported.
    pub bad_rows: Vec<(u64, String)>,
}

struct Row {
    email_key: String,
    name: String,
    tenure_from: Option<String>,
    tenure_to: Option<String>,
    divisions: String,
    role: Role,
}

fn valid_email(e: &str) -> bool {
    let Some((user, host)) = e.split_once('@') else {
        return false;
    };
    !user.is_empty()
        && host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && !host.contains('@')
        && e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn field_message(e: ServiceError) -> String {
    match e {
        ServiceError::Validation(errs) => errs
            .iter()
            .map(|f| format!("{} {}", f.field, f.description))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Reads and checks every row; bad rows are reported, not fatal.
fn parse(input: impl Read, report: &mut ImportReport) -> ServiceResult<Vec<Row>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ServiceError::BadRequest(format!("cannot read the header row: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let Some(email_col) = col("email") else {
        return Err(ServiceError::BadRequest(
            "the header row has no `email` column (expected: email,name,tenure_from,tenure_to,divisions,role)".into(),
        ));
    };
    let cols = (
        col("name"),
        col("tenure_from"),
        col("tenure_to"),
        col("divisions"),
        col("role"),
    );
    let mut rows: Vec<Row> = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        report.rows += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                report.bad_rows.push((line, format!("unreadable row: {e}")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("").to_owned();
        let email = get(Some(email_col)).to_lowercase();
        if !valid_email(&email) {
            report
                .bad_rows
                .push((line, format!("email {email:?} is not an e-mail address")));
            continue;
        }
        if let Some(first) = seen.get(&email) {
            report
                .bad_rows
                .push((line, format!("email {email} repeats line {first}")));
            continue;
        }
        let role = match Some(get(cols.4).to_lowercase())
            .filter(|r| !r.is_empty())
            .map(|r| (Role::parse(&r), r))
        {
            None => Role::Alumnus,
            Some((Some(r @ (Role::Alumnus | Role::Employee)), _)) => r,
            Some((Some(Role::Office) | None, r)) => {
                report
                    .bad_rows
                    .push((line, format!("role {r:?} is not alumnus or employee")));
                continue;
            }
        };
        let divisions: Vec<String> = get(cols.3).split(';').map(str::to_owned).collect();
        let checked = (|| {
            Ok::<_, ServiceError>((
                check_date("tenure_from", Some(get(cols.1)))?,
                check_date("tenure_to", Some(get(cols.2)))?,
                check_divisions(&divisions)?,
            ))
        })();
        let (tenure_from, tenure_to, divisions) = match checked {
            Ok(v) => v,
            Err(e) => {
                report.bad_rows.push((line, field_message(e)));
                continue;
            }
        };
        let name = get(cols.0);
        if name.chars().count() > 200 {
            report
                .bad_rows
                .push((line, "name is longer than 200 characters".into()));
            continue;
        }
        seen.insert(email.clone(), line);
        rows.push(Row {
            email_key: email,
            name,
            tenure_from,
            tenure_to,
            divisions,
            role,
        });
    }
    Ok(rows)
}

/// Imports a roster file into a local org; `progress` hears how many rows
/// have been written so far (of `total`, told first).
pub async fn import(
    ctx: &Ctx,
    org_name: &str,
    input: impl Read,
    progress: &dyn Fn(u64, u64),
) -> ServiceResult<ImportReport> {
    let org = {
        let mut conn = ctx.conn().await?;
        let account = db::accounts::find_by_acct_key(&mut conn, &org_name.to_lowercase())
            .await?
            .map(|(a, _)| a)
            .filter(|a| a.local);
        match account {
            Some(a) => db::orgs::find(&mut conn, a.id).await?.map(|(o, _)| o),
            None => None,
        }
        .ok_or_else(|| ServiceError::NotFound(format!("there is no org named {org_name:?} here")))?
    };
    let mut report = ImportReport::default();
    let rows = parse(input, &mut report)?;
    let total = rows.len() as u64;
    progress(0, total);
    let mut done = 0u64;
    for chunk in rows.chunks(CHUNK) {
        let keys: Vec<String> = chunk.iter().map(|r| r.email_key.clone()).collect();
        let mut conn = ctx.conn().await?;
        let existing: HashMap<String, RosterEntry> =
            db::memberships::roster_entries_for(&mut conn, org.account_id, &keys)
                .await?
                .into_iter()
                .map(|e| (e.email_key.clone(), e))
                .collect();
        let accounts = db::memberships::confirmed_accounts(&mut conn, &keys).await?;
        let now = ids::now();
        let (mut added, mut updated, mut changed) = (Vec::new(), Vec::new(), 0u64);
        for r in chunk {
            let entry = RosterEntry {
                id: existing
                    .get(&r.email_key)
                    .map_or_else(ids::next_id, |e| e.id),
                org_id: org.account_id,
                email_key: r.email_key.clone(),
                name: r.name.clone(),
                tenure_from: r.tenure_from.clone(),
                tenure_to: r.tenure_to.clone(),
                divisions: r.divisions.clone(),
                role: r.role,
                created_at: existing.get(&r.email_key).map_or(now, |e| e.created_at),
                updated_at: now,
            };
            match existing.get(&r.email_key) {
                None => added.push(entry),
                Some(old) => {
                    let same = RosterEntry {
                        updated_at: old.updated_at,
                        ..entry.clone()
                    };
                    if same == *old {
                        report.unchanged += 1;
                    } else {
                        changed += 1;
                        updated.push(entry);
                    }
                }
            }
        }
        let verified = conn
            .transaction(async |tx| {
                db::memberships::insert_roster(tx, &added).await?;
                for e in &updated {
                    db::memberships::update_roster(tx, e).await?;
                }
                let mut verified = 0u64;
                for (key, account_id) in &accounts {
                    let Some(row) = chunk.iter().find(|r| &r.email_key == key) else {
                        continue;
                    };
                    let current = db::memberships::find(
                        tx,
                        crate::domain::OrgId(org.account_id),
                        crate::domain::AccountId(*account_id),
                    )
                    .await?;
                    if current.as_ref().is_some_and(|m| {
                        matches!(m.state, MembershipState::Verified | MembershipState::Left)
                    }) {
                        // Verified already, or left by choice: the roster changes neither.
                        continue;
                    }
                    let mut m = new_membership(
                        org.account_id,
                        *account_id,
                        row.role,
                        MembershipState::Verified,
                        Via::Roster,
                    );
                    if let Some(c) = &current {
                        m.id = c.id;
                        m.message = c.message.clone();
                        m.created_at = c.created_at;
                    }
                    m.tenure_from = row.tenure_from.clone();
                    m.tenure_to = row.tenure_to.clone();
                    m.divisions = row.divisions.clone();
                    m.decided_at = Some(now);
                    db::memberships::save(tx, &m).await?;
                    verified += 1;
                }
                Ok::<_, ServiceError>(verified)
            })
            .await?;
        report.added += added.len() as u64;
        report.updated += changed;
        report.verified += verified;
        done += chunk.len() as u64;
        progress(done, total);
    }
    report.bad_rows.sort_by_key(|(line, _)| *line);
    Ok(report)
}
