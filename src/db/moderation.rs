//! Instance moderation: domain blocks and allows, suspended and silenced
//! accounts, handled reports, and the settings an admin changed.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{DomainAllow, DomainBlock, Report, StoredSettings};
use diesel::sql_types::{BigInt, Timestamp};

use super::schema::{
    accounts, domain_allows, domain_block_accounts, domain_blocks, instance_settings, reports,
    silenced_accounts,
};
use super::{DbConn, DbResult};
use crate::domain::DomainBlockSeverity;
use crate::with_conn;

pub async fn domain_blocks(conn: &mut DbConn<'_>) -> DbResult<Vec<DomainBlock>> {
    with_conn!(conn, |c| domain_blocks::table
        .order(domain_blocks::domain)
        .select(DomainBlock::as_select())
        .load(c)
        .await)
}

pub async fn domain_block(conn: &mut DbConn<'_>, id: i64) -> DbResult<Option<DomainBlock>> {
    with_conn!(conn, |c| domain_blocks::table
        .find(id)
        .select(DomainBlock::as_select())
        .first(c)
        .await
        .optional())
}

pub async fn domain_block_of(conn: &mut DbConn<'_>, domain: &str) -> DbResult<Option<DomainBlock>> {
    with_conn!(conn, |c| domain_blocks::table
        .filter(domain_blocks::domain.eq(domain))
        .select(DomainBlock::as_select())
        .first(c)
        .await
        .optional())
}

/// Stores a new block, or changes the severity and comments of the domain's block.
pub async fn put_domain_block(conn: &mut DbConn<'_>, b: &DomainBlock) -> DbResult<()> {
    with_conn!(conn, |c| diesel::insert_into(domain_blocks::table)
        .values(b)
        .on_conflict(domain_blocks::domain)
        .do_update()
        .set((
            domain_blocks::severity.eq(b.severity),
            domain_blocks::public_comment.eq(&b.public_comment),
            domain_blocks::private_comment.eq(&b.private_comment),
        ))
        .execute(c)
        .await
        .map(drop))
}

pub async fn delete_domain_block(conn: &mut DbConn<'_>, id: i64) -> DbResult<bool> {
    with_conn!(conn, |c| diesel::delete(domain_blocks::table.find(id))
        .execute(c)
        .await
        .map(|n| n == 1))
}

pub async fn domain_allows(conn: &mut DbConn<'_>) -> DbResult<Vec<DomainAllow>> {
    with_conn!(conn, |c| domain_allows::table
        .order(domain_allows::domain)
        .select(DomainAllow::as_select())
        .load(c)
        .await)
}

/// Adds a domain to the allow-list; the stored row (new or existing).
pub async fn put_domain_allow(conn: &mut DbConn<'_>, a: &DomainAllow) -> DbResult<DomainAllow> {
    with_conn!(conn, |c| diesel::insert_into(domain_allows::table)
        .values(a)
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    with_conn!(conn, |c| domain_allows::table
        .filter(domain_allows::domain.eq(&a.domain))
        .select(DomainAllow::as_select())
        .first(c)
        .await)
}

pub async fn delete_domain_allow(conn: &mut DbConn<'_>, id: i64) -> DbResult<bool> {
    with_conn!(conn, |c| diesel::delete(domain_allows::table.find(id))
        .execute(c)
        .await
        .map(|n| n == 1))
}

/// `LIKE` patterns for the accounts of a domain, its subdomains and any port
/// (accounts store `host` or `host:port`).
fn domain_patterns(domain: &str) -> [String; 3] {
    let d = super::search::like_escape(domain);
    [format!("{d}:%"), format!("%.{d}"), format!("%.{d}:%")]
}

/// Suspends or silences the remote accounts of the block's domain (its
/// subdomains and any port) that are not yet, remembering which: lifting the
/// block restores exactly those.
pub async fn restrict_domain(conn: &mut DbConn<'_>, block: &DomainBlock) -> DbResult<usize> {
    let domain = block.domain.as_str();
    let [port, sub, sub_port] = domain_patterns(domain);
    let of_domain = accounts::local.eq(false).and(
        accounts::domain
            .eq(domain)
            .or(accounts::domain.like(port).escape('\\'))
            .or(accounts::domain.like(sub).escape('\\'))
            .or(accounts::domain.like(sub_port).escape('\\')),
    );
    let id = block.id;
    let marked =
        match block.severity {
            DomainBlockSeverity::Suspend => {
                with_conn!(conn, |c| diesel::insert_into(domain_block_accounts::table)
                    .values(
                        accounts::table
                            .filter(of_domain)
                            .filter(accounts::suspended.eq(false))
                            .select((id.into_sql::<BigInt>(), accounts::id))
                    )
                    .into_columns((
                        domain_block_accounts::domain_block_id,
                        domain_block_accounts::account_id
                    ))
                    .on_conflict_do_nothing()
                    .execute(c)
                    .await)?
            }
            DomainBlockSeverity::Silence => {
                with_conn!(conn, |c| diesel::insert_into(domain_block_accounts::table)
                    .values(
                        accounts::table
                            .filter(of_domain)
                            .filter(accounts::id.ne_all(
                                silenced_accounts::table.select(silenced_accounts::account_id)
                            ))
                            .select((id.into_sql::<BigInt>(), accounts::id))
                    )
                    .into_columns((
                        domain_block_accounts::domain_block_id,
                        domain_block_accounts::account_id
                    ))
                    .on_conflict_do_nothing()
                    .execute(c)
                    .await)?
            }
        };
    set_marked(conn, block, true).await?;
    Ok(marked)
}

/// Undoes [`restrict_domain`].
pub async fn lift_domain(conn: &mut DbConn<'_>, block: &DomainBlock) -> DbResult<()> {
    set_marked(conn, block, false).await?;
    with_conn!(conn, |c| diesel::delete(
        domain_block_accounts::table.filter(domain_block_accounts::domain_block_id.eq(block.id))
    )
    .execute(c)
    .await
    .map(drop))
}

async fn set_marked(conn: &mut DbConn<'_>, block: &DomainBlock, on: bool) -> DbResult<()> {
    let marked = domain_block_accounts::table
        .filter(domain_block_accounts::domain_block_id.eq(block.id))
        .select(domain_block_accounts::account_id);
    let at = block.created_at;
    with_conn!(conn, |c| match (block.severity, on) {
        (DomainBlockSeverity::Suspend, _) => diesel::update(accounts::table)
            .filter(accounts::id.eq_any(marked))
            .set(accounts::suspended.eq(on))
            .execute(c)
            .await
            .map(drop),
        (DomainBlockSeverity::Silence, true) => diesel::insert_into(silenced_accounts::table)
            .values(marked.select((
                domain_block_accounts::account_id,
                at.into_sql::<Timestamp>()
            )))
            .into_columns((
                silenced_accounts::account_id,
                silenced_accounts::silenced_at
            ))
            .on_conflict_do_nothing()
            .execute(c)
            .await
            .map(drop),
        (DomainBlockSeverity::Silence, false) => diesel::delete(
            silenced_accounts::table.filter(silenced_accounts::account_id.eq_any(marked))
        )
        .execute(c)
        .await
        .map(drop),
    })
}

/// Forgets which domain blocks changed an account (a moderator decided on it).
pub async fn unmark(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<()> {
    with_conn!(conn, |c| diesel::delete(
        domain_block_accounts::table.filter(domain_block_accounts::account_id.eq(account_id))
    )
    .execute(c)
    .await
    .map(drop))
}

/// Records that a block changed an account (one met after the block).
pub async fn mark(conn: &mut DbConn<'_>, block_id: i64, account_id: i64) -> DbResult<()> {
    with_conn!(conn, |c| diesel::insert_into(domain_block_accounts::table)
        .values((
            domain_block_accounts::domain_block_id.eq(block_id),
            domain_block_accounts::account_id.eq(account_id)
        ))
        .on_conflict_do_nothing()
        .execute(c)
        .await
        .map(drop))
}

/// Suspends or reinstates one account.
pub async fn set_suspended(conn: &mut DbConn<'_>, account_id: i64, on: bool) -> DbResult<()> {
    with_conn!(conn, |c| diesel::update(accounts::table.find(account_id))
        .set(accounts::suspended.eq(on))
        .execute(c)
        .await
        .map(drop))
}

/// Silences (Some) or unsilences (None) one account.
pub async fn set_silenced(
    conn: &mut DbConn<'_>,
    account_id: i64,
    at: Option<NaiveDateTime>,
) -> DbResult<()> {
    match at {
        Some(at) => with_conn!(conn, |c| diesel::insert_into(silenced_accounts::table)
            .values((
                silenced_accounts::account_id.eq(account_id),
                silenced_accounts::silenced_at.eq(at)
            ))
            .on_conflict_do_nothing()
            .execute(c)
            .await
            .map(drop)),
        None => with_conn!(conn, |c| diesel::delete(
            silenced_accounts::table.find(account_id)
        )
        .execute(c)
        .await
        .map(drop)),
    }
}

/// Which of `ids` are silenced.
pub async fn silenced(conn: &mut DbConn<'_>, ids: &[i64]) -> DbResult<Vec<i64>> {
    with_conn!(conn, |c| silenced_accounts::table
        .filter(silenced_accounts::account_id.eq_any(ids))
        .select(silenced_accounts::account_id)
        .load(c)
        .await)
}

/// Reports, newest first: the open ones or the handled ones.
pub async fn reports(conn: &mut DbConn<'_>, resolved: bool, limit: i64) -> DbResult<Vec<Report>> {
    with_conn!(conn, |c| {
        let q = reports::table
            .order(reports::id.desc())
            .limit(limit)
            .select(Report::as_select());
        if resolved {
            q.filter(reports::action_taken_at.is_not_null())
                .load(c)
                .await
        } else {
            q.filter(reports::action_taken_at.is_null()).load(c).await
        }
    })
}

/// Marks a report handled by `by`; false when it was already handled.
pub async fn resolve_report(
    conn: &mut DbConn<'_>,
    id: i64,
    by: Option<i64>,
    at: NaiveDateTime,
) -> DbResult<bool> {
    with_conn!(conn, |c| diesel::update(
        reports::table
            .find(id)
            .filter(reports::action_taken_at.is_null())
    )
    .set((
        reports::action_taken_at.eq(at),
        reports::action_taken_by_account_id.eq(by)
    ))
    .execute(c)
    .await
    .map(|n| n == 1))
}

pub async fn reopen_report(conn: &mut DbConn<'_>, id: i64) -> DbResult<()> {
    with_conn!(conn, |c| diesel::update(reports::table.find(id))
        .set((
            reports::action_taken_at.eq(None::<NaiveDateTime>),
            reports::action_taken_by_account_id.eq(None::<i64>)
        ))
        .execute(c)
        .await
        .map(drop))
}

pub async fn settings(conn: &mut DbConn<'_>) -> DbResult<Option<StoredSettings>> {
    with_conn!(conn, |c| instance_settings::table
        .find(1)
        .select(StoredSettings::as_select())
        .first(c)
        .await
        .optional())
}

pub async fn put_settings(conn: &mut DbConn<'_>, s: &StoredSettings) -> DbResult<()> {
    with_conn!(conn, |c| diesel::insert_into(instance_settings::table)
        .values((instance_settings::id.eq(1), s))
        .on_conflict(instance_settings::id)
        .do_update()
        .set(s)
        .execute(c)
        .await
        .map(drop))
}
