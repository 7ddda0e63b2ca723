//! Memberships, org invites, the roster, consents and club recognitions.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{Account, Consent, Membership, OrgBlock, OrgInvite, RosterEntry};
use super::schema::{
    accounts, consents, memberships, org_blocks, org_invites, org_recognitions, roster_entries,
    users,
};
use super::statuses::Page;
use super::{DbConn, DbResult};
use crate::domain::{AccountId, OrgId};
use crate::with_conn;

pub async fn find(
    conn: &mut DbConn<'_>,
    org: OrgId,
    account: AccountId,
) -> DbResult<Option<Membership>> {
    with_conn!(conn, |c| memberships::table
        .filter(memberships::org_id.eq(org.0))
        .filter(memberships::account_id.eq(account.0))
        .select(Membership::as_select())
        .first(c)
        .await
        .optional())
}

pub async fn find_by_id(conn: &mut DbConn<'_>, id: i64) -> DbResult<Option<Membership>> {
    with_conn!(conn, |c| memberships::table
        .find(id)
        .select(Membership::as_select())
        .first(c)
        .await
        .optional())
}

/// Inserts a membership, or replaces the one the person already has in that
/// org (a new request after leaving, an invite accepted while pending...).
pub async fn save(conn: &mut DbConn<'_>, m: &Membership) -> DbResult<Membership> {
    with_conn!(conn, |c| diesel::insert_into(memberships::table)
        .values(m)
        .on_conflict((memberships::org_id, memberships::account_id))
        .do_update()
        .set((
            memberships::role.eq(&m.role),
            memberships::state.eq(&m.state),
            memberships::via.eq(&m.via),
            memberships::tenure_from.eq(&m.tenure_from),
            memberships::tenure_to.eq(&m.tenure_to),
            memberships::divisions.eq(&m.divisions),
            memberships::message.eq(&m.message),
            memberships::left_on.eq(&m.left_on),
            memberships::graduation_requested_on.eq(&m.graduation_requested_on),
            memberships::join_ap_id.eq(&m.join_ap_id),
            memberships::decided_by.eq(m.decided_by),
            memberships::decided_at.eq(m.decided_at),
            memberships::updated_at.eq(m.updated_at),
        ))
        .returning(Membership::as_returning())
        .get_result(c)
        .await)
}

/// Adds a membership unless the person has one in the org already (whatever
/// its state: a decision made meanwhile stands); returns whether it was added.
pub async fn insert_new(conn: &mut DbConn<'_>, m: &Membership) -> DbResult<bool> {
    with_conn!(conn, |c| diesel::insert_into(memberships::table)
        .values(m)
        .on_conflict((memberships::org_id, memberships::account_id))
        .do_nothing()
        .execute(c)
        .await
        .map(|n| n == 1))
}

/// Whether `account` chose to be listed in an org's directory (its latest
/// `directory` consent there is yes), asked per row: the planner probes
/// `consents_member_idx` for each candidate instead of reading the org.
#[macro_export]
macro_rules! listed {
    ($org_id:expr, $account:expr) => {{
        use $crate::db::schema::consents;
        consents::table
            .filter(consents::org_id.eq($org_id))
            .filter(consents::account_id.eq($account))
            .filter(consents::purpose.eq($crate::domain::ConsentPurpose::Directory))
            .order(consents::id.desc())
            .select(consents::granted)
            .limit(1)
            .single_value()
            .eq(true)
            // No choice at all is NULL: not listed.
            .assume_not_null()
    }};
}

/// The accounts whose latest `directory` choice in an org is yes, as one
/// subquery over the whole org (for a list of all of them).
#[macro_export]
macro_rules! listed_in {
    ($org_id:expr) => {{
        use $crate::db::schema::consents;
        let org_id: i64 = $org_id;
        let latest = diesel::alias!(consents as latest);
        let last_choices = latest
            .filter(latest.field(consents::org_id).eq(org_id))
            .filter(
                latest
                    .field(consents::purpose)
                    .eq($crate::domain::ConsentPurpose::Directory),
            )
            .group_by(latest.field(consents::account_id))
            .select(diesel::dsl::max(latest.field(consents::id)));
        consents::table
            .filter(consents::org_id.eq(org_id))
            .filter(consents::granted.eq(true))
            .filter(consents::id.nullable().eq_any(last_choices))
            .select(consents::account_id)
    }};
}

/// An org's memberships in one state, with the people, newest first.
/// A page of an org's memberships in one state. With `listed_for`, only
/// those the directory may show to that person: who consented to be listed
/// (their latest `directory` choice is yes), and the person themselves. The
/// rule is in the query, so a page is always full and its `Link` leads on.
pub async fn list(
    conn: &mut DbConn<'_>,
    org_id: i64,
    state: crate::domain::MembershipState,
    role: Option<crate::domain::Role>,
    listed_for: Option<i64>,
    text: Option<&str>,
    page: Page,
) -> DbResult<Vec<(Membership, Account)>> {
    // A name, display name or address containing the text, any case.
    let anywhere = text.map(|t| format!("%{}%", super::search::like_escape(&t.to_lowercase())));
    with_conn!(conn, |c| {
        let mut q = memberships::table
            .inner_join(accounts::table.on(accounts::id.eq(memberships::account_id)))
            .filter(memberships::org_id.eq(org_id))
            .filter(memberships::state.eq(state))
            .select((Membership::as_select(), Account::as_select()))
            .into_boxed();
        if let Some(r) = role {
            q = q.filter(memberships::role.eq(r));
        }
        if let Some(like) = &anywhere {
            use super::search::lower_text;
            q = q.filter(
                lower_text(accounts::display_name)
                    .like(like.clone())
                    .escape('\\')
                    .or(accounts::acct_key.like(like.clone()).escape('\\')),
            );
        }
        if let Some(viewer) = listed_for {
            q = q.filter(
                memberships::account_id
                    .eq(viewer)
                    .or(memberships::account_id.eq_any(crate::listed_in!(org_id))),
            );
        }
        crate::paginate!(q, memberships::id, page).load(c).await
    })
}

/// The orgs in which the account is a verified member.
pub async fn verified_orgs(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<Vec<i64>> {
    with_conn!(conn, |c| memberships::table
        .filter(memberships::account_id.eq(account_id))
        .filter(memberships::state.eq(crate::domain::MembershipState::Verified))
        .select(memberships::org_id)
        .load(c)
        .await)
}

/// The orgs of which the account is a verified office member.
pub async fn office_orgs(conn: &mut DbConn<'_>, account_id: i64) -> DbResult<Vec<i64>> {
    with_conn!(conn, |c| memberships::table
        .filter(memberships::account_id.eq(account_id))
        .filter(memberships::state.eq(crate::domain::MembershipState::Verified))
        .filter(memberships::role.eq(crate::domain::Role::Office))
        .select(memberships::org_id)
        .load(c)
        .await)
}

/// Local verified members of an org (for notifications and streams).
pub async fn local_members(conn: &mut DbConn<'_>, org_id: i64) -> DbResult<Vec<i64>> {
    with_conn!(conn, |c| memberships::table
        .inner_join(accounts::table.on(accounts::id.eq(memberships::account_id)))
        .filter(memberships::org_id.eq(org_id))
        .filter(memberships::state.eq(crate::domain::MembershipState::Verified))
        .filter(accounts::local.eq(true))
        .select(memberships::account_id)
        .load(c)
        .await)
}

/// Whether a verified member of the org has an account here.
pub async fn has_local_member(conn: &mut DbConn<'_>, org_id: i64) -> DbResult<bool> {
    with_conn!(conn, |c| diesel::select(diesel::dsl::exists(
        memberships::table
            .inner_join(accounts::table.on(accounts::id.eq(memberships::account_id)))
            .filter(memberships::org_id.eq(org_id))
            .filter(memberships::state.eq(crate::domain::MembershipState::Verified))
            .filter(accounts::local.eq(true)),
    ))
    .get_result(c)
    .await)
}

/// Where an org's remote verified members receive (shared inboxes first:
/// their instance holds the membership and shows the post to members only).
pub async fn member_inboxes(conn: &mut DbConn<'_>, org_id: i64) -> DbResult<Vec<String>> {
    let rows: Vec<(Option<String>, Option<String>)> = with_conn!(conn, |c| memberships::table
        .inner_join(accounts::table.on(accounts::id.eq(memberships::account_id)))
        .filter(memberships::org_id.eq(org_id))
        .filter(memberships::state.eq(crate::domain::MembershipState::Verified))
        .filter(accounts::local.eq(false))
        .select((accounts::shared_inbox_url, accounts::inbox_url))
        .load(c)
        .await)?;
    Ok(super::federation::preferred_inboxes(rows))
}

/// Whether this account is a verified member of the org.
pub async fn is_verified_member(
    conn: &mut DbConn<'_>,
    org: OrgId,
    account: AccountId,
) -> DbResult<bool> {
    let n: i64 = with_conn!(conn, |c| memberships::table
        .filter(memberships::org_id.eq(org.0))
        .filter(memberships::account_id.eq(account.0))
        .filter(memberships::state.eq(crate::domain::MembershipState::Verified))
        .count()
        .get_result(c)
        .await)?;
    Ok(n > 0)
}

/// Whether this account is a verified member with `role` of any org.
pub async fn holds_role(
    conn: &mut DbConn<'_>,
    account: AccountId,
    role: crate::domain::Role,
) -> DbResult<bool> {
    let n: i64 = with_conn!(conn, |c| memberships::table
        .filter(memberships::account_id.eq(account.0))
        .filter(memberships::role.eq(role))
        .filter(memberships::state.eq(crate::domain::MembershipState::Verified))
        .count()
        .get_result(c)
        .await)?;
    Ok(n > 0)
}

/// Counts of an org's verified members by role.
pub async fn role_counts(
    conn: &mut DbConn<'_>,
    org_id: i64,
) -> DbResult<Vec<(crate::domain::Role, i64)>> {
    with_conn!(conn, |c| memberships::table
        .filter(memberships::org_id.eq(org_id))
        .filter(memberships::state.eq(crate::domain::MembershipState::Verified))
        .group_by(memberships::role)
        .select((memberships::role, diesel::dsl::count_star()))
        .load(c)
        .await)
}

// Invites

pub async fn insert_invite(conn: &mut DbConn<'_>, i: &OrgInvite) -> DbResult<()> {
    with_conn!(conn, |c| diesel::insert_into(org_invites::table)
        .values(i)
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn find_invite(conn: &mut DbConn<'_>, code: &str) -> DbResult<Option<OrgInvite>> {
    with_conn!(conn, |c| org_invites::table
        .filter(org_invites::code.eq(code))
        .select(OrgInvite::as_select())
        .first(c)
        .await
        .optional())
}

pub async fn list_invites(conn: &mut DbConn<'_>, org_id: i64) -> DbResult<Vec<OrgInvite>> {
    with_conn!(conn, |c| org_invites::table
        .filter(org_invites::org_id.eq(org_id))
        .filter(org_invites::revoked_at.is_null())
        .order(org_invites::id.desc())
        .select(OrgInvite::as_select())
        .load(c)
        .await)
}

/// Uses one place of an invite if it still has one (a single guarded
/// update, so two people cannot take the last place of a single-use invite).
pub async fn use_invite(conn: &mut DbConn<'_>, id: i64, now: NaiveDateTime) -> DbResult<bool> {
    let n = with_conn!(conn, |c| diesel::update(
        org_invites::table
            .filter(org_invites::id.eq(id))
            .filter(org_invites::revoked_at.is_null())
            .filter(
                org_invites::max_uses.is_null().or(org_invites::max_uses
                    .gt(org_invites::uses.nullable())
                    .assume_not_null())
            )
            .filter(
                org_invites::expires_at
                    .is_null()
                    .or(org_invites::expires_at.gt(now).assume_not_null())
            )
    )
    .set(org_invites::uses.eq(org_invites::uses + 1))
    .execute(c)
    .await)?;
    Ok(n == 1)
}

pub async fn revoke_invite(
    conn: &mut DbConn<'_>,
    org_id: i64,
    id: i64,
    now: NaiveDateTime,
) -> DbResult<usize> {
    with_conn!(conn, |c| diesel::update(
        org_invites::table
            .filter(org_invites::id.eq(id))
            .filter(org_invites::org_id.eq(org_id))
    )
    .set(org_invites::revoked_at.eq(now))
    .execute(c)
    .await)
}

// Roster

pub async fn roster_entry(
    conn: &mut DbConn<'_>,
    org_id: i64,
    email_key: &str,
) -> DbResult<Option<RosterEntry>> {
    with_conn!(conn, |c| roster_entries::table
        .filter(roster_entries::org_id.eq(org_id))
        .filter(roster_entries::email_key.eq(email_key))
        .select(RosterEntry::as_select())
        .first(c)
        .await
        .optional())
}

/// Roster entries of an org matching these local people's e-mail addresses:
/// (account id, entry, whether the person proved the address).
pub async fn roster_matches(
    conn: &mut DbConn<'_>,
    org_id: i64,
    account_ids: &[i64],
) -> DbResult<Vec<(i64, RosterEntry, bool)>> {
    use super::schema::users;
    let rows: Vec<(i64, RosterEntry, Option<chrono::NaiveDateTime>)> =
        with_conn!(conn, |c| roster_entries::table
            .inner_join(users::table.on(users::email_key.eq(roster_entries::email_key)))
            .filter(roster_entries::org_id.eq(org_id))
            .filter(users::account_id.eq_any(account_ids))
            .select((
                users::account_id,
                RosterEntry::as_select(),
                users::email_confirmed_at,
            ))
            .load(c)
            .await)?;
    Ok(rows
        .into_iter()
        .map(|(a, e, confirmed)| (a, e, confirmed.is_some()))
        .collect())
}

/// The existing roster entries for these e-mail keys.
pub async fn roster_entries_for(
    conn: &mut DbConn<'_>,
    org_id: i64,
    keys: &[String],
) -> DbResult<Vec<RosterEntry>> {
    with_conn!(conn, |c| roster_entries::table
        .filter(roster_entries::org_id.eq(org_id))
        .filter(roster_entries::email_key.eq_any(keys))
        .select(RosterEntry::as_select())
        .load(c)
        .await)
}

pub async fn insert_roster(conn: &mut DbConn<'_>, rows: &[RosterEntry]) -> DbResult<()> {
    // Row by row: diesel's multi-row insert is not available through the
    // async SQLite wrapper; the caller's transaction keeps this one commit.
    with_conn!(conn, |c| {
        for r in rows {
            diesel::insert_into(roster_entries::table)
                .values(r)
                .execute(c)
                .await?;
        }
        Ok(())
    })
}

pub async fn update_roster(conn: &mut DbConn<'_>, e: &RosterEntry) -> DbResult<()> {
    with_conn!(conn, |c| diesel::update(roster_entries::table.find(e.id))
        .set((
            roster_entries::name.eq(&e.name),
            roster_entries::tenure_from.eq(&e.tenure_from),
            roster_entries::tenure_to.eq(&e.tenure_to),
            roster_entries::divisions.eq(&e.divisions),
            roster_entries::role.eq(&e.role),
            roster_entries::updated_at.eq(e.updated_at),
        ))
        .execute(c)
        .await
        .map(|_| ()))
}

/// Local accounts whose confirmed e-mail is one of `keys`: (e-mail key, account id).
pub async fn confirmed_accounts(
    conn: &mut DbConn<'_>,
    keys: &[String],
) -> DbResult<Vec<(String, i64)>> {
    with_conn!(conn, |c| users::table
        .filter(users::email_key.eq_any(keys))
        .filter(users::email_confirmed_at.is_not_null())
        .select((users::email_key, users::account_id))
        .load(c)
        .await)
}

// Consents

pub async fn insert_consents(conn: &mut DbConn<'_>, rows: &[Consent]) -> DbResult<()> {
    with_conn!(conn, |c| {
        for r in rows {
            diesel::insert_into(consents::table)
                .values(r)
                .execute(c)
                .await?;
        }
        Ok(())
    })
}

/// Every consent record of these people in an org, oldest first (the last
/// per purpose holds).
pub async fn consents(
    conn: &mut DbConn<'_>,
    org: OrgId,
    account_ids: &[i64],
) -> DbResult<Vec<Consent>> {
    with_conn!(conn, |c| consents::table
        .filter(consents::org_id.eq(org.0))
        .filter(consents::account_id.eq_any(account_ids))
        .order(consents::id.asc())
        .select(Consent::as_select())
        .load(c)
        .await)
}

// Club recognitions

pub async fn recognise(
    conn: &mut DbConn<'_>,
    org: OrgId,
    club: OrgId,
    by: AccountId,
    now: NaiveDateTime,
) -> DbResult<()> {
    with_conn!(conn, |c| diesel::insert_into(org_recognitions::table)
        .values((
            org_recognitions::org_id.eq(org.0),
            org_recognitions::club_id.eq(club.0),
            org_recognitions::recognised_by.eq(by.0),
            org_recognitions::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c)
        .await
        .map(|_| ()))
}

pub async fn withdraw_recognition(
    conn: &mut DbConn<'_>,
    org: OrgId,
    club: OrgId,
) -> DbResult<usize> {
    with_conn!(conn, |c| diesel::delete(
        org_recognitions::table
            .filter(org_recognitions::org_id.eq(org.0))
            .filter(org_recognitions::club_id.eq(club.0))
    )
    .execute(c)
    .await)
}

/// Clubs an org recognises.
pub async fn recognised_clubs(conn: &mut DbConn<'_>, org_id: i64) -> DbResult<Vec<Account>> {
    with_conn!(conn, |c| org_recognitions::table
        .inner_join(accounts::table.on(accounts::id.eq(org_recognitions::club_id)))
        .filter(org_recognitions::org_id.eq(org_id))
        .order(org_recognitions::created_at.asc())
        .select(Account::as_select())
        .load(c)
        .await)
}

/// Orgs that recognise a club.
pub async fn recognised_by(conn: &mut DbConn<'_>, club_id: i64) -> DbResult<Vec<Account>> {
    with_conn!(conn, |c| org_recognitions::table
        .inner_join(accounts::table.on(accounts::id.eq(org_recognitions::org_id)))
        .filter(org_recognitions::club_id.eq(club_id))
        .order(org_recognitions::created_at.asc())
        .select(Account::as_select())
        .load(c)
        .await)
}

// Org blocks

pub async fn insert_block(conn: &mut DbConn<'_>, b: &OrgBlock) -> DbResult<bool> {
    with_conn!(conn, |c| diesel::insert_into(org_blocks::table)
        .values(b)
        .on_conflict_do_nothing()
        .execute(c)
        .await
        .map(|n| n == 1))
}

pub async fn delete_block(conn: &mut DbConn<'_>, org_id: i64, id: i64) -> DbResult<usize> {
    with_conn!(conn, |c| diesel::delete(
        org_blocks::table
            .filter(org_blocks::id.eq(id))
            .filter(org_blocks::org_id.eq(org_id))
    )
    .execute(c)
    .await)
}

pub async fn blocks(conn: &mut DbConn<'_>, org_id: i64) -> DbResult<Vec<OrgBlock>> {
    with_conn!(conn, |c| org_blocks::table
        .filter(org_blocks::org_id.eq(org_id))
        .order(org_blocks::id.desc())
        .select(OrgBlock::as_select())
        .load(c)
        .await)
}

/// Whether the org blocks this account, or its domain.
pub async fn blocked(conn: &mut DbConn<'_>, org_id: i64, a: &Account) -> DbResult<bool> {
    let domain = a.domain.clone().unwrap_or_default().to_lowercase();
    let n: i64 = with_conn!(conn, |c| org_blocks::table
        .filter(org_blocks::org_id.eq(org_id))
        .filter(
            org_blocks::account_id
                .eq(a.id)
                .or(org_blocks::domain.eq(&domain))
        )
        .count()
        .get_result(c)
        .await)?;
    Ok(n > 0)
}

/// Ends memberships of the org by accounts on a blocked domain.
pub async fn remove_domain_members(
    conn: &mut DbConn<'_>,
    org_id: i64,
    domain: &str,
    now: NaiveDateTime,
) -> DbResult<Vec<i64>> {
    use crate::domain::MembershipState;
    with_conn!(conn, |c| {
        let people: Vec<i64> = memberships::table
            .filter(memberships::org_id.eq(org_id))
            // The office stays (an org must never lock itself out).
            .filter(memberships::role.ne(crate::domain::Role::Office))
            .filter(
                memberships::account_id.eq_any(
                    accounts::table
                        .filter(accounts::domain.eq(domain))
                        .select(accounts::id),
                ),
            )
            .select(memberships::account_id)
            .load(c)
            .await?;
        diesel::update(
            memberships::table
                .filter(memberships::org_id.eq(org_id))
                .filter(memberships::account_id.eq_any(&people)),
        )
        .set((
            memberships::state.eq(MembershipState::Left),
            memberships::decided_at.eq(now),
            memberships::updated_at.eq(now),
        ))
        .execute(c)
        .await?;
        Ok(people)
    })
}

/// Stores a roster file from the office's page (with its preview).
pub async fn insert_roster_import(
    conn: &mut DbConn<'_>,
    i: &crate::db::models::RosterImport,
) -> DbResult<()> {
    use crate::db::schema::roster_imports;
    with_conn!(conn, |c| diesel::insert_into(roster_imports::table)
        .values(i)
        .execute(c)
        .await
        .map(drop))
}

pub async fn find_roster_import(
    conn: &mut DbConn<'_>,
    org_id: i64,
    id: i64,
) -> DbResult<Option<crate::db::models::RosterImport>> {
    use crate::db::models::RosterImport;
    use crate::db::schema::roster_imports;
    with_conn!(conn, |c| roster_imports::table
        .find(id)
        .filter(roster_imports::org_id.eq(org_id))
        .select(RosterImport::as_select())
        .first(c)
        .await
        .optional())
}

/// Moves an import from `from` to `to` (false when it was not in `from`:
/// someone else started it first).
pub async fn move_roster_import(
    conn: &mut DbConn<'_>,
    id: i64,
    from: crate::domain::ImportState,
    to: crate::domain::ImportState,
    now: NaiveDateTime,
) -> DbResult<bool> {
    use crate::db::schema::roster_imports;
    with_conn!(conn, |c| diesel::update(
        roster_imports::table
            .find(id)
            .filter(roster_imports::state.eq(from))
    )
    .set((
        roster_imports::state.eq(to),
        roster_imports::updated_at.eq(now),
    ))
    .execute(c)
    .await
    .map(|n| n == 1))
}

/// Rows written so far.
pub async fn roster_import_progress(
    conn: &mut DbConn<'_>,
    id: i64,
    done: i64,
    total: i64,
) -> DbResult<()> {
    use crate::db::schema::roster_imports;
    with_conn!(conn, |c| diesel::update(roster_imports::table.find(id))
        .set((
            roster_imports::done.eq(done),
            roster_imports::total.eq(total),
        ))
        .execute(c)
        .await
        .map(drop))
}

/// The outcome: the report replaces the preview and the file is dropped.
pub async fn finish_roster_import(
    conn: &mut DbConn<'_>,
    id: i64,
    state: crate::domain::ImportState,
    report: &str,
    now: NaiveDateTime,
) -> DbResult<()> {
    use crate::db::schema::roster_imports;
    with_conn!(conn, |c| diesel::update(roster_imports::table.find(id))
        .set((
            roster_imports::state.eq(state),
            roster_imports::report.eq(report),
            roster_imports::content.eq(""),
            roster_imports::updated_at.eq(now),
        ))
        .execute(c)
        .await
        .map(drop))
}

/// Drops files previewed before `before` and never imported.
pub async fn forget_roster_previews(conn: &mut DbConn<'_>, before: NaiveDateTime) -> DbResult<()> {
    use crate::db::schema::roster_imports;
    with_conn!(conn, |c| diesel::delete(
        roster_imports::table
            .filter(roster_imports::state.eq(crate::domain::ImportState::Previewed))
            .filter(roster_imports::created_at.lt(before))
    )
    .execute(c)
    .await
    .map(drop))
}
