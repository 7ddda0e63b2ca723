//! The office's roster of former employees, imported from CSV. Rows are keyed
//! by personal e-mail, so re-importing a file updates entries and never
//! duplicates them; a person here whose confirmed e-mail matches becomes a
//! verified member at once (and later, when they ask to join).
//!
//! Columns (a header row names them, in any order, case-insensitive):
//! `email` (required), `name`, `tenure_from`, `tenure_to`, `divisions`
//! (separated by `;`), `role` (`alumnus` by default, or `employee`).
use crate::domain::{ImportState, MembershipState, Role, Via};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Read;

use super::memberships::{check_date, check_divisions, new_membership};
use super::{Ctx, ServiceError, ServiceResult};
use crate::db::models::{LocalUser, RosterEntry, RosterImport};
use crate::db::{self};
use crate::ids;

/// Rows written per transaction: one commit per chunk keeps SQLite fast and
/// lets the progress bar move.
const CHUNK: usize = 500;

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub rows: u64,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Memberships verified because a confirmed e-mail here matched.
    pub verified: u64,
    /// (line number in the file, what is wrong) for rows not imported.
    pub bad_rows: Vec<(u64, String)>,
    /// Bad rows beyond those listed (a stored report keeps the first 1,000).
    #[serde(default)]
    pub bad_rows_omitted: u64,
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

/// A value quoted in a report, at most 100 characters of it.
fn clipped(v: &str) -> String {
    v.chars().take(100).collect()
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
            report.bad_rows.push((
                line,
                format!("email {:?} is not an e-mail address", clipped(&email)),
            ));
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
                report.bad_rows.push((
                    line,
                    format!("role {:?} is not alumnus or employee", clipped(&r)),
                ));
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

/// The file's text: UTF-8 (with or without a byte-order mark) or, failing
/// that, Shift_JIS as Excel in Japan saves CSV (Windows-31J); the name of the
/// encoding found.
pub fn decode(bytes: &[u8]) -> ServiceResult<(String, &'static str)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_owned(), "UTF-8"));
    }
    let (text, _, malformed) = encoding_rs::SHIFT_JIS.decode(bytes);
    if malformed {
        return Err(ServiceError::BadRequest(
            "the file is neither UTF-8 nor Shift_JIS text: save it from the spreadsheet as CSV (UTF-8 or Shift_JIS)".into(),
        ));
    }
    Ok((text.into_owned(), "Shift_JIS"))
}

/// Imports a roster file into a local org named `org_name` (the command
/// line); `progress` hears how many rows have been written so far (of
/// `total`, told first).
pub async fn import(
    ctx: &Ctx,
    org_name: &str,
    mut input: impl Read,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> ServiceResult<ImportReport> {
    let org_id = {
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
        .account_id
    };
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| ServiceError::BadRequest(format!("cannot read the file: {e}")))?;
    let (text, _) = decode(&bytes)?;
    let mut report = ImportReport::default();
    let rows = parse(text.as_bytes(), &mut report)?;
    apply(ctx, org_id, &rows, &mut report, Apply::Write(progress)).await?;
    Ok(report)
}

/// Whether `apply` writes (telling progress) or only counts what it would do.
enum Apply<'a> {
    Write(&'a (dyn Fn(u64, u64) + Sync)),
    Preview,
}

async fn apply(
    ctx: &Ctx,
    org_id: i64,
    rows: &[Row],
    report: &mut ImportReport,
    mode: Apply<'_>,
) -> ServiceResult<()> {
    let total = rows.len() as u64;
    if let Apply::Write(progress) = &mode {
        progress(0, total);
    }
    let mut done = 0u64;
    for chunk in rows.chunks(CHUNK) {
        let keys: Vec<String> = chunk.iter().map(|r| r.email_key.clone()).collect();
        let mut conn = ctx.conn().await?;
        let existing: HashMap<String, RosterEntry> =
            db::memberships::roster_entries_for(&mut conn, org_id, &keys)
                .await?
                .into_iter()
                .map(|e| (e.email_key.clone(), e))
                .collect();
        let accounts = db::memberships::confirmed_accounts(&mut conn, &keys).await?;
        let now = ids::now();
        let (mut added, mut updated) = (Vec::new(), Vec::new());
        for r in chunk {
            let entry = RosterEntry {
                id: existing
                    .get(&r.email_key)
                    .map_or_else(ids::next_id, |e| e.id),
                org_id,
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
                        updated.push(entry);
                    }
                }
            }
        }
        let verified = match mode {
            Apply::Preview => verify(&mut conn, org_id, chunk, &accounts, now, false).await?,
            Apply::Write(_) => {
                conn.transaction(async |tx| {
                    db::memberships::insert_roster(tx, &added).await?;
                    for e in &updated {
                        db::memberships::update_roster(tx, e).await?;
                    }
                    verify(tx, org_id, chunk, &accounts, now, true).await
                })
                .await?
            }
        };
        report.added += added.len() as u64;
        report.updated += updated.len() as u64;
        report.verified += verified;
        done += chunk.len() as u64;
        if let Apply::Write(progress) = &mode {
            progress(done, total);
        }
    }
    report.bad_rows.sort_by_key(|(line, _)| *line);
    Ok(())
}

/// Verifies (or, without `write`, counts) the memberships of people here
/// whose confirmed e-mail is in the chunk.
async fn verify(
    tx: &mut db::DbConn<'_>,
    org_id: i64,
    chunk: &[Row],
    accounts: &[(String, i64)],
    now: chrono::NaiveDateTime,
    write: bool,
) -> ServiceResult<u64> {
    let mut verified = 0u64;
    for (key, account_id) in accounts {
        let Some(row) = chunk.iter().find(|r| &r.email_key == key) else {
            continue;
        };
        let current = db::memberships::find(
            tx,
            crate::domain::OrgId(org_id),
            crate::domain::AccountId(*account_id),
        )
        .await?;
        if current
            .as_ref()
            .is_some_and(|m| matches!(m.state, MembershipState::Verified | MembershipState::Left))
        {
            // Verified already, or left by choice: the roster changes neither.
            continue;
        }
        verified += 1;
        if !write {
            continue;
        }
        let mut m = new_membership(
            org_id,
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
        let saved = db::memberships::save(tx, &m).await?;
        crate::services::alumni::tenures_from_claim(tx, &saved, true).await?;
    }
    Ok(verified)
}

/// The largest roster file the web page takes (about 100,000 rows).
pub const MAX_WEB_FILE: usize = 16 * 1024 * 1024;

/// The office uploads a roster file: it is read and checked, and kept with
/// a preview of what importing it would change (nothing is changed yet).
pub async fn preview(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    file_name: &str,
    bytes: &[u8],
) -> ServiceResult<RosterImport> {
    local_office(ctx, me, org_id).await?;
    if bytes.len() > MAX_WEB_FILE {
        return Err(ServiceError::BadRequest(format!(
            "the file is larger than {} MB",
            MAX_WEB_FILE / 1024 / 1024
        )));
    }
    let (text, encoding) = decode(bytes)?;
    let mut report = ImportReport::default();
    let rows = parse(text.as_bytes(), &mut report)?;
    apply(ctx, org_id, &rows, &mut report, Apply::Preview).await?;
    keep_bounded(&mut report);
    let now = ids::now();
    let job = RosterImport {
        id: ids::next_id(),
        org_id,
        created_by: Some(me.account.id),
        file_name: file_name.chars().take(200).collect(),
        encoding: encoding.to_owned(),
        content: text,
        state: ImportState::Previewed,
        total: rows.len() as i64,
        done: 0,
        report: serde_json::to_string(&report).unwrap_or_default(),
        created_at: now,
        updated_at: now,
    };
    let mut conn = ctx.conn().await?;
    // Files previewed and never imported are not kept beyond a day.
    db::memberships::forget_roster_previews(&mut conn, now - chrono::Duration::days(1)).await?;
    db::memberships::insert_roster_import(&mut conn, &job).await?;
    Ok(job)
}

/// A roster import of the org, for its office.
pub async fn find(ctx: &Ctx, me: &LocalUser, org_id: i64, id: i64) -> ServiceResult<RosterImport> {
    local_office(ctx, me, org_id).await?;
    let mut conn = ctx.conn().await?;
    db::memberships::find_roster_import(&mut conn, org_id, id)
        .await?
        .ok_or_else(ServiceError::not_found)
}

/// The office confirms a previewed import: it runs in the background (the
/// page follows its progress); only once, whoever confirms first.
pub async fn start(ctx: &Ctx, me: &LocalUser, org_id: i64, id: i64) -> ServiceResult<()> {
    let job = find(ctx, me, org_id, id).await?;
    let mut conn = ctx.conn().await?;
    if !db::memberships::move_roster_import(
        &mut conn,
        id,
        ImportState::Previewed,
        ImportState::Running,
        ids::now(),
    )
    .await?
    {
        return Err(ServiceError::invalid(
            "import",
            "ERR_TAKEN",
            "this file was imported already",
        ));
    }
    drop(conn);
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let outcome = run(&ctx, &job).await;
        let (state, report) = match outcome {
            Ok(r) => (ImportState::Done, r),
            Err(e) => {
                tracing::error!(error = %e, import = job.id, "roster import failed");
                let mut r = ImportReport::default();
                r.bad_rows.push((0, format!("the import stopped: {e}")));
                (ImportState::Failed, r)
            }
        };
        match ctx.conn().await {
            Ok(mut conn) => {
                let report = serde_json::to_string(&report).unwrap_or_default();
                if let Err(e) = db::memberships::finish_roster_import(
                    &mut conn,
                    job.id,
                    state,
                    &report,
                    ids::now(),
                )
                .await
                {
                    tracing::error!(error = %e, import = job.id, "roster import not recorded");
                }
            }
            Err(e) => tracing::error!(error = %e, import = job.id, "roster import not recorded"),
        }
    });
    Ok(())
}

async fn run(ctx: &Ctx, job: &RosterImport) -> ServiceResult<ImportReport> {
    let mut report = ImportReport::default();
    let rows = parse(job.content.as_bytes(), &mut report)?;
    // Progress goes to the database from here, between chunks (the callback
    // cannot wait for a connection).
    let written = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = written.clone();
    let progress = move |done: u64, _total: u64| {
        seen.store(done, std::sync::atomic::Ordering::Relaxed);
    };
    let total = rows.len() as i64;
    let ticker = {
        let (ctx, id, written) = (ctx.clone(), job.id, written.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                let done = written.load(std::sync::atomic::Ordering::Relaxed) as i64;
                if let Ok(mut conn) = ctx.conn().await {
                    let _ =
                        db::memberships::roster_import_progress(&mut conn, id, done, total).await;
                }
            }
        })
    };
    let outcome = apply(ctx, job.org_id, &rows, &mut report, Apply::Write(&progress)).await;
    ticker.abort();
    keep_bounded(&mut report);
    outcome.map(|()| report)
}

/// The org is an official one here and `me` is its office. Clubs (which
/// anyone may start) import no rosters: a roster verifies people by their
/// address, and its preview tells which addresses have accounts here.
async fn local_office(ctx: &Ctx, me: &LocalUser, org_id: i64) -> ServiceResult<()> {
    super::memberships::require_office(ctx, org_id, me).await?;
    let mut conn = ctx.conn().await?;
    match db::orgs::find(&mut conn, org_id).await? {
        Some((org, account)) if account.local && org.kind == crate::domain::OrgKind::Official => {
            Ok(())
        }
        Some(_) => Err(ServiceError::Forbidden(
            "Rosters are imported by the office of an official org".into(),
        )),
        None => Err(ServiceError::not_found()),
    }
}

/// Bad rows kept in a stored report (the rest are counted).
const KEPT_BAD_ROWS: usize = 1000;

fn keep_bounded(report: &mut ImportReport) {
    if report.bad_rows.len() > KEPT_BAD_ROWS {
        report.bad_rows_omitted += (report.bad_rows.len() - KEPT_BAD_ROWS) as u64;
        report.bad_rows.truncate(KEPT_BAD_ROWS);
    }
}

/// The rows not imported, as CSV for the office to correct and send again.
pub fn bad_rows_csv(report: &ImportReport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["line", "problem"]);
    for (line, why) in &report.bad_rows {
        // A spreadsheet must not take a quoted cell for a formula.
        let why = if why.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{why}")
        } else {
            why.clone()
        };
        let _ = w.write_record([line.to_string(), why]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
