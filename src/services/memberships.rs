//! Membership of orgs, separate from following: roles (office, employee,
//! alumnus), states (pending, verified, rejected, left), the ways in (invite,
//! roster, request), graduation, leaving, consent per purpose, and the
//! office's powers. Visibility of members-only posts reads these rows
//! directly, so a change (leaving, removal) takes effect at once.
use crate::services::remote::Outgoing;
use chrono::NaiveDate;

use super::alumni;
use super::views::{self, AccountView};
use super::{Ctx, ServiceError, ServiceResult};
use crate::db::models::{Account, Consent, LocalUser, Membership, Org, OrgBlock, OrgInvite};
use crate::db::statuses::Page;
use crate::db::{self, DbConn};
use crate::domain::{AccountId, ConsentPurpose, MembershipState, OrgId, OrgKind, Role, Via};
use crate::{crypto, ids};

/// The consent wording shown by our clients; a client showing other wording
/// sends its own version, which is stored with each choice.
pub const CONSENT_WORDING_VERSION: &str = "2026-11";
const MAX_TEXT: usize = 1000;
const MAX_DIVISIONS: usize = 20;

pub struct MembershipView {
    pub membership: Membership,
    pub account: AccountView,
    /// The current choice per purpose (absent: never asked).
    pub consents: Vec<(ConsentPurpose, bool)>,
    /// For the office, on a pending request: the roster entry whose e-mail
    /// is the person's, and whether they proved that address. An unproven
    /// address verifies nothing by itself (anyone can type any address);
    /// the office decides, with the match in front of it.
    pub roster_match: Option<RosterMatch>,
}

#[derive(Debug, Clone)]
pub struct RosterMatch {
    pub entry: crate::db::models::RosterEntry,
    pub email_proven: bool,
}

/// What a person says when asking to join (all optional), and the consent
/// choices made on joining.
#[derive(Default, Clone)]
pub struct JoinRequest {
    pub role: Option<String>,
    pub tenure_from: Option<String>,
    pub tenure_to: Option<String>,
    pub divisions: Vec<String>,
    pub message: Option<String>,
    pub invite_code: Option<String>,
    pub consents: Vec<(String, bool)>,
    pub wording_version: Option<String>,
}

pub struct NewInvite {
    pub role: Option<String>,
    pub max_uses: Option<i32>,
    pub expires_in: Option<i64>,
}

fn forbidden() -> ServiceError {
    ServiceError::Forbidden("Only the org's office may do this".into())
}

pub fn check_role(field: &'static str, role: &str) -> ServiceResult<Role> {
    ServiceError::choice(field, role)
}

/// Tenure and leaving dates: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
pub fn check_date(field: &'static str, v: Option<String>) -> ServiceResult<Option<String>> {
    let Some(v) = v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let ok = match v.len() {
        4 => v.parse::<u16>().is_ok_and(|y| y >= 1900),
        7 => NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d").is_ok(),
        10 => NaiveDate::parse_from_str(&v, "%Y-%m-%d").is_ok(),
        _ => false,
    };
    if ok {
        Ok(Some(v))
    } else {
        Err(ServiceError::invalid(
            field,
            "ERR_INVALID",
            "must be a date as YYYY, YYYY-MM or YYYY-MM-DD",
        ))
    }
}

pub fn check_divisions(divisions: &[String]) -> ServiceResult<String> {
    let list: Vec<&str> = divisions
        .iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
        .collect();
    if list.len() > MAX_DIVISIONS || list.iter().any(|d| d.chars().count() > 100) {
        return Err(ServiceError::invalid(
            "divisions",
            "ERR_TOO_LONG",
            format!("at most {MAX_DIVISIONS} divisions of 100 characters"),
        ));
    }
    Ok(list.join("\n"))
}

pub fn divisions_of(m: &Membership) -> Vec<&str> {
    m.divisions.lines().filter(|d| !d.is_empty()).collect()
}

fn check_consents(consents: &[(String, bool)]) -> ServiceResult<Vec<(ConsentPurpose, bool)>> {
    consents
        .iter()
        .map(|(p, g)| Ok((ServiceError::choice("consents", p)?, *g)))
        .collect()
}

fn consent_rows(
    org_id: i64,
    account_id: i64,
    choices: &[(String, bool)],
    version: Option<&str>,
) -> ServiceResult<Vec<Consent>> {
    let now = ids::now();
    let version = version
        .filter(|v| !v.is_empty())
        .unwrap_or(CONSENT_WORDING_VERSION);
    Ok(check_consents(choices)?
        .into_iter()
        .map(|(purpose, granted)| Consent {
            id: ids::next_id(),
            org_id,
            account_id,
            purpose,
            granted,
            wording_version: version.to_owned(),
            created_at: now,
        })
        .collect())
}

/// The local org, refusing archived ones for anything that changes membership.
async fn active_org(ctx: &Ctx, org_id: i64) -> ServiceResult<Org> {
    let mut conn = ctx.conn().await?;
    let (org, _) = db::orgs::find(&mut conn, org_id)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    if org.archived_at.is_some() {
        return Err(ServiceError::invalid(
            "org",
            "ERR_INVALID",
            "this org is archived",
        ));
    }
    Ok(org)
}

/// Whether `me` may act as the org's office: a verified `office` member, or an
/// administrator of this instance.
pub async fn is_office(conn: &mut DbConn<'_>, org_id: i64, me: &LocalUser) -> ServiceResult<bool> {
    if me.user.is_admin {
        return Ok(true);
    }
    Ok(
        db::memberships::find(conn, OrgId(org_id), AccountId(me.account.id))
            .await?
            .is_some_and(|m| m.state == MembershipState::Verified && m.role == Role::Office),
    )
}

pub(crate) async fn require_office(ctx: &Ctx, org_id: i64, me: &LocalUser) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    // Administrators are office everywhere, but only of orgs that exist.
    if db::orgs::find(&mut conn, org_id).await?.is_none() {
        return Err(ServiceError::not_found());
    }
    if is_office(&mut conn, org_id, me).await? {
        Ok(())
    } else {
        Err(forbidden())
    }
}

/// Whether the account is a verified member of the org.
pub async fn is_member(ctx: &Ctx, org: OrgId, account: AccountId) -> ServiceResult<bool> {
    let mut conn = ctx.conn().await?;
    Ok(db::memberships::find(&mut conn, org, account)
        .await?
        .is_some_and(|m| m.state == MembershipState::Verified))
}

pub fn new_membership(
    org_id: i64,
    account_id: i64,
    role: Role,
    state: MembershipState,
    via: Via,
) -> Membership {
    let now = ids::now();
    Membership {
        id: ids::next_id(),
        org_id,
        account_id,
        role,
        state,
        via,
        tenure_from: None,
        tenure_to: None,
        divisions: String::new(),
        message: String::new(),
        left_on: None,
        graduation_requested_on: None,
        join_ap_id: None,
        decided_by: None,
        decided_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// The founder of an org becomes its first office member (in the caller's
/// transaction, with the org itself).
pub async fn add_founder(conn: &mut DbConn<'_>, org_id: i64, account_id: i64) -> ServiceResult<()> {
    let m = new_membership(
        org_id,
        account_id,
        Role::Office,
        MembershipState::Verified,
        Via::Founder,
    );
    db::memberships::save(conn, &m).await?;
    Ok(())
}

async fn view(ctx: &Ctx, m: Membership) -> ServiceResult<MembershipView> {
    let mut conn = ctx.conn().await?;
    let account = db::accounts::find(&mut conn, m.account_id)
        .await?
        .ok_or_else(ServiceError::not_found)?
        .0;
    let rows = db::memberships::consents(&mut conn, OrgId(m.org_id), &[m.account_id]).await?;
    let consents = current_consents(&rows, m.account_id);
    drop(conn);
    Ok(MembershipView {
        membership: m,
        account: views::account(ctx, account).await?,
        consents,
        roster_match: None,
    })
}

/// One person's current choice per purpose, from consent records in order.
fn current_consents(rows: &[Consent], account_id: i64) -> Vec<(ConsentPurpose, bool)> {
    ConsentPurpose::ALL
        .iter()
        .filter_map(|p| {
            rows.iter()
                .rev()
                .find(|r| r.account_id == account_id && r.purpose == *p)
                .map(|r| (r.purpose, r.granted))
        })
        .collect()
}

/// Asks to join an org: with a valid invite code the person is verified at
/// once with the invite's role; a roster entry matching their e-mail
/// verifies them too when they proved the address (answered our mail);
/// otherwise the request waits for the office, which sees any roster match.
/// For an org on another server, the request goes there as a `Join`.
pub async fn request(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    r: JoinRequest,
) -> ServiceResult<MembershipView> {
    let org_account = group_account(ctx, org_id).await?;
    if !org_account.local {
        return request_remote(ctx, me, &org_account, r).await;
    }
    let email = me
        .user
        .email_confirmed_at
        .is_some()
        .then_some(me.user.email_key.as_str());
    let saved = request_as(ctx, org_id, &me.account, email, None, r).await?;
    view(ctx, saved).await
}

/// The account of an org here or a group elsewhere.
async fn group_account(ctx: &Ctx, org_id: i64) -> ServiceResult<Account> {
    let mut conn = ctx.conn().await?;
    db::accounts::find(&mut conn, org_id)
        .await?
        .map(|(a, _)| a)
        .filter(|a| a.actor_type == crate::domain::ActorType::Group && !a.suspended)
        .ok_or_else(ServiceError::not_found)
}

/// An org someone may ask to join: one here that is not archived, or a
/// group elsewhere (the request then goes there).
pub async fn joinable(ctx: &Ctx, org_id: i64) -> ServiceResult<Account> {
    let account = group_account(ctx, org_id).await?;
    if account.local {
        active_org(ctx, org_id).await?;
    }
    Ok(account)
}

/// An org's invitation link, as its page shows it before anyone signs up.
pub struct InvitePreview {
    pub org: Account,
    pub role: Role,
}

/// The org and role an invitation code stands for, while it can be used.
pub async fn invite_preview(ctx: &Ctx, code: &str) -> ServiceResult<InvitePreview> {
    let mut conn = ctx.conn().await?;
    let now = ids::now();
    let invite = db::memberships::find_invite(&mut conn, code)
        .await?
        .filter(|i| {
            i.revoked_at.is_none()
                && i.expires_at.is_none_or(|e| e > now)
                && i.max_uses.is_none_or(|m| i.uses < m)
        })
        .ok_or_else(ServiceError::not_found)?;
    let (_, account) = db::orgs::find(&mut conn, invite.org_id)
        .await?
        .filter(|(o, _)| o.archived_at.is_none())
        .ok_or_else(ServiceError::not_found)?;
    Ok(InvitePreview {
        org: account,
        role: invite.role,
    })
}

/// Signs up through an org's invitation link: the account (let in whatever
/// the registration mode, as any invitation is), then the membership request
/// carrying the invite, the claimed tenure and divisions, and the consents.
/// The claim is checked before the account is made.
pub async fn sign_up_with_invite(
    ctx: &Ctx,
    reg: super::accounts::Registration,
    r: JoinRequest,
) -> ServiceResult<(LocalUser, MembershipView)> {
    let code = r.invite_code.clone().unwrap_or_default();
    let preview = invite_preview(ctx, &code).await.map_err(|e| match e {
        ServiceError::NotFound(_) => ServiceError::invalid(
            "invite_code",
            "ERR_INVALID",
            "this invite has expired, was revoked or is used up",
        ),
        other => other,
    })?;
    claimed(preview.org.id, 0, &r)?;
    if !reg.agreement {
        return Err(ServiceError::invalid(
            "agreement",
            "ERR_ACCEPTED",
            "must be accepted",
        ));
    }
    // The account waits for approval until the invite's place is taken, so
    // that racing sign-ups on a used-up invite leave no usable account.
    let new = super::accounts::NewAccount {
        username: reg.username,
        email: reg.email,
        password: reg.password,
        locale: reg.locale,
        approved: false,
        ..Default::default()
    };
    let me = super::accounts::signed_up(ctx, new, None).await?;
    match request(ctx, &me, preview.org.id, r).await {
        Ok(membership) => {
            let me = super::accounts::approve(ctx, me.account.id).await?;
            Ok((me, membership))
        }
        Err(e) => {
            super::accounts::delete_local_account(ctx, &me.account.username).await?;
            Err(e)
        }
    }
}

/// The checked claim of a join request, as a pending membership.
fn claimed(org_id: i64, account_id: i64, r: &JoinRequest) -> ServiceResult<Membership> {
    let role = match r.role.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => Some(check_role("role", r)?),
        None => None,
    };
    if role == Some(Role::Office) {
        return Err(ServiceError::invalid(
            "role",
            "ERR_INVALID",
            "the office role is given by the office, not requested",
        ));
    }
    let message = r.message.clone().unwrap_or_default();
    if message.chars().count() > MAX_TEXT {
        return Err(ServiceError::invalid(
            "message",
            "ERR_TOO_LONG",
            format!("is too long (maximum is {MAX_TEXT} characters)"),
        ));
    }
    check_consents(&r.consents)?;
    let mut m = new_membership(
        org_id,
        account_id,
        role.unwrap_or(Role::Alumnus),
        MembershipState::Pending,
        Via::Request,
    );
    m.tenure_from = check_date("tenure_from", r.tenure_from.clone())?;
    m.tenure_to = check_date("tenure_to", r.tenure_to.clone())?;
    m.divisions = check_divisions(&r.divisions)?;
    m.message = message;
    Ok(m)
}

/// A join request of a local org by a person here or elsewhere (`join_ap_id`
/// names the remote `Join`; the answer goes back as Accept or Reject).
pub async fn request_as(
    ctx: &Ctx,
    org_id: i64,
    person: &Account,
    confirmed_email: Option<&str>,
    join_ap_id: Option<String>,
    r: JoinRequest,
) -> ServiceResult<Membership> {
    active_org(ctx, org_id).await?;
    let mut m = claimed(org_id, person.id, &r)?;
    m.join_ap_id = join_ap_id;
    let mut conn = ctx.conn().await?;
    if db::memberships::blocked(&mut conn, org_id, person).await? {
        return Err(ServiceError::Forbidden("This org has blocked you".into()));
    }
    if let Some(existing) =
        db::memberships::find(&mut conn, OrgId(org_id), AccountId(person.id)).await?
        && matches!(
            existing.state,
            MembershipState::Verified | MembershipState::Pending
        )
        && r.invite_code.is_none()
    {
        if !person.local {
            // A repeated remote Join: answer again (the first answer may be
            // lost); it may carry changed consents.
            let rows = consent_rows(org_id, person.id, &r.consents, r.wording_version.as_deref())?;
            db::memberships::insert_consents(&mut conn, &rows).await?;
            return Ok(existing);
        }
        return Err(ServiceError::invalid(
            "org",
            "ERR_TAKEN",
            if existing.state == MembershipState::Verified {
                "you are already a member"
            } else {
                "your request is already waiting for the office"
            },
        ));
    }
    let invite = match r.invite_code.as_deref().filter(|c| !c.is_empty()) {
        Some(code) => Some(
            db::memberships::find_invite(&mut conn, code)
                .await?
                .filter(|i| i.org_id == org_id)
                .ok_or_else(|| {
                    ServiceError::invalid(
                        "invite_code",
                        "ERR_INVALID",
                        "is not an invite of this org",
                    )
                })?,
        ),
        None => None,
    };
    let roster = match confirmed_email {
        Some(e) => db::memberships::roster_entry(&mut conn, org_id, e).await?,
        None => None,
    };
    let now = ids::now();
    if let Some(e) = &roster {
        // A proven address on the roster: verified at once.
        apply_roster(&mut m, e);
        m.state = MembershipState::Verified;
        m.decided_at = Some(now);
    }
    let consents = consent_rows(org_id, person.id, &r.consents, r.wording_version.as_deref())?;
    let from = person.id;
    let mut told = Vec::new();
    let saved = conn
        .transaction(async |tx| {
            if let Some(i) = &invite {
                if !db::memberships::use_invite(tx, i.id, now).await? {
                    return Err(ServiceError::invalid(
                        "invite_code",
                        "ERR_INVALID",
                        "this invite has expired, was revoked or is used up",
                    ));
                }
                m.role = i.role;
                m.state = MembershipState::Verified;
                m.via = Via::Invite;
                m.decided_by = i.created_by;
                m.decided_at = Some(now);
            }
            let saved = db::memberships::save(tx, &m).await?;
            db::memberships::insert_consents(tx, &consents).await?;
            // Confirmed only when the years are the roster's own.
            let from_roster = roster.as_ref().is_some_and(|e| e.tenure_from.is_some());
            alumni::tenures_from_claim(tx, &saved, from_roster).await?;
            if saved.state == MembershipState::Pending {
                told = notify_office(tx, org_id, from).await?;
            } else {
                ctx.federate(tx, Outgoing::MembershipChanged { membership: &saved })
                    .await?;
            }
            Ok::<_, ServiceError>(saved)
        })
        .await?;
    drop(conn);
    super::streaming::notifications(ctx, &told);
    ctx.wake_delivery();
    Ok(saved)
}

/// The roster knows better than the claim: its role, tenure and divisions.
fn apply_roster(m: &mut Membership, e: &crate::db::models::RosterEntry) {
    m.role = e.role;
    m.tenure_from = e.tenure_from.clone().or(m.tenure_from.take());
    m.tenure_to = e.tenure_to.clone().or(m.tenure_to.take());
    if !e.divisions.is_empty() {
        m.divisions = e.divisions.clone();
    }
    m.via = Via::Roster;
}

/// Asks a group on another server: a pending membership here, and a `Join`
/// there; its Accept or Reject settles the state.
async fn request_remote(
    ctx: &Ctx,
    me: &LocalUser,
    org: &Account,
    r: JoinRequest,
) -> ServiceResult<MembershipView> {
    let mut m = claimed(org.id, me.account.id, &r)?;
    m.via = Via::Remote;
    let consents = consent_rows(
        org.id,
        me.account.id,
        &r.consents,
        r.wording_version.as_deref(),
    )?;
    let mut conn = ctx.conn().await?;
    if let Some(existing) =
        db::memberships::find(&mut conn, OrgId(org.id), AccountId(me.account.id)).await?
    {
        let why = match existing.state {
            MembershipState::Verified => Some("you are already a member"),
            // One Join at a time: asking again would only repeat it there.
            MembershipState::Pending => Some("your request is waiting for the office"),
            _ => None,
        };
        if let Some(why) = why {
            return Err(ServiceError::invalid("org", "ERR_TAKEN", why));
        }
    }
    let saved = conn
        .transaction(async |tx| {
            let join = ctx
                .federate(
                    tx,
                    Outgoing::JoinRequested {
                        person: &me.account,
                        org,
                        membership: &m,
                        invite_code: r.invite_code.as_deref(),
                        consents: &consents,
                    },
                )
                .await?;
            m.join_ap_id = join;
            let saved = db::memberships::save(tx, &m).await?;
            db::memberships::insert_consents(tx, &consents).await?;
            Ok::<_, ServiceError>(saved)
        })
        .await?;
    drop(conn);
    ctx.wake_delivery();
    view(ctx, saved).await
}

/// A remote group answered our person's Join (Accept: verified with the role
/// it names; Reject), or removed them (`left`).
pub async fn remote_answer(
    ctx: &Ctx,
    org: &Account,
    person_id: i64,
    state: MembershipState,
    role: Option<Role>,
    left_on: Option<String>,
) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    let Some(mut m) = db::memberships::find(&mut conn, OrgId(org.id), AccountId(person_id)).await?
    else {
        return Err(ServiceError::BadRequest(
            "an answer to a Join we did not send".into(),
        ));
    };
    if matches!(m.state, MembershipState::Left | MembershipState::Rejected) {
        // Ended here: only a new Join (which makes it pending) reopens it;
        // a late or replayed answer changes nothing.
        tracing::info!(
            org = org.id,
            person = person_id,
            "answer to an ended membership; dropped"
        );
        return Ok(());
    }
    let was_verified = m.state == MembershipState::Verified;
    m.state = state;
    if let Some(r) = role {
        m.role = r;
    }
    if let Ok(Some(d)) = check_date("left_on", left_on) {
        m.left_on = Some(d);
    }
    m.decided_at = Some(ids::now());
    m.updated_at = ids::now();
    let Some((person, _)) = db::accounts::find(&mut conn, person_id).await? else {
        return Err(ServiceError::not_found());
    };
    conn.transaction(async |tx| {
        db::memberships::save(tx, &m).await?;
        match state {
            // Newly a member: the org's server gets what its people may see
            // of the person's profile.
            MembershipState::Verified if !was_verified => {
                alumni::tenures_from_claim(tx, &m, false).await?;
                let release = alumni::federated::release_to(tx, person_id, org.id, None).await?;
                if !release.is_empty() {
                    ctx.federate(
                        tx,
                        Outgoing::AlumniReleased {
                            person: &person,
                            org,
                        },
                    )
                    .await?;
                }
            }
            MembershipState::Verified | MembershipState::Pending => {}
            MembershipState::Rejected | MembershipState::Left => {
                alumni::federated::org_left(tx, person_id, org.id).await?;
                ctx.federate(
                    tx,
                    Outgoing::AlumniWithdrawn {
                        person: &person,
                        org,
                    },
                )
                .await?;
            }
        }
        Ok::<_, ServiceError>(())
    })
    .await?;
    drop(conn);
    ctx.wake_delivery();
    Ok(())
}

/// A remote member left one of our orgs (`Leave`).
pub async fn remote_left(ctx: &Ctx, org_id: i64, person_id: i64) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    if let Some(mut m) =
        db::memberships::find(&mut conn, OrgId(org_id), AccountId(person_id)).await?
    {
        m.state = MembershipState::Left;
        m.decided_by = Some(person_id);
        m.decided_at = Some(ids::now());
        m.updated_at = ids::now();
        conn.transaction(async |tx| {
            db::memberships::save(tx, &m).await?;
            alumni::federated::org_left(tx, person_id, org_id).await?;
            Ok::<_, ServiceError>(())
        })
        .await?;
    }
    Ok(())
}

/// Tells the org's local office members that a request waits.
/// Tells the org's office of a new request (in the caller's transaction);
/// returns the notifications to announce once it commits.
async fn notify_office(
    conn: &mut DbConn<'_>,
    org_id: i64,
    from: i64,
) -> ServiceResult<Vec<crate::db::models::Notification>> {
    let page = Page {
        limit: 100,
        ..Page::default()
    };
    let mut told = Vec::new();
    for (office, account) in db::memberships::list(
        conn,
        org_id,
        MembershipState::Verified,
        Some(Role::Office),
        None,
        None,
        page,
    )
    .await?
    {
        if account.local {
            let n = crate::db::models::Notification {
                id: ids::next_id(),
                account_id: office.account_id,
                from_account_id: from,
                kind: crate::domain::NotificationKind::MembershipRequest,
                status_id: None,
                created_at: ids::now(),
            };
            db::notifications::insert(conn, &n).await?;
            told.push(n);
        }
    }
    Ok(told)
}

/// The org's memberships in one state (the office sees any state; verified
/// members see the directory: members who consented to be listed).
pub async fn list(
    ctx: &Ctx,
    viewer: Option<&LocalUser>,
    org_id: i64,
    state: Option<&str>,
    role: Option<&str>,
    page: Page,
) -> ServiceResult<Vec<MembershipView>> {
    list_matching(ctx, viewer, org_id, state, role, None, page).await
}

/// As [`list`], only people whose name or address contains `text`.
pub async fn list_matching(
    ctx: &Ctx,
    viewer: Option<&LocalUser>,
    org_id: i64,
    state: Option<&str>,
    role: Option<&str>,
    text: Option<&str>,
    page: Page,
) -> ServiceResult<Vec<MembershipView>> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    super::orgs::get(ctx, org_id).await?;
    let state = match state.filter(|s| !s.is_empty()) {
        None => MembershipState::Verified,
        Some(s) => s.parse().map_err(|_| {
            ServiceError::invalid(
                "state",
                "ERR_INCLUSION",
                format!("must be {}", MembershipState::allowed()),
            )
        })?,
    };
    let role = match role {
        Some(r) => Some(check_role("role", r)?),
        None => None,
    };
    let Some(me) = viewer else {
        return Err(ServiceError::NotFound(
            "The member directory is for members".into(),
        ));
    };
    let mut conn = ctx.conn().await?;
    let office = is_office(&mut conn, org_id, me).await?;
    let member = db::memberships::find(&mut conn, OrgId(org_id), AccountId(me.account.id))
        .await?
        .is_some_and(|m| m.state == MembershipState::Verified);
    let may_read = office || (member && state == MembershipState::Verified);
    if !may_read {
        return Err(ServiceError::Forbidden(
            "The member directory is for verified members".into(),
        ));
    }
    // Private by default: members see only those who consented to be listed.
    let listed_for = (!office).then_some(me.account.id);
    let rows =
        db::memberships::list(&mut conn, org_id, state, role, listed_for, text, page).await?;
    let mut out = Vec::with_capacity(rows.len());
    let (ms, accounts): (Vec<_>, Vec<Account>) = rows.into_iter().unzip();
    let ids: Vec<i64> = ms.iter().map(|m| m.account_id).collect();
    let records = db::memberships::consents(&mut conn, OrgId(org_id), &ids).await?;
    let consents: Vec<_> = ids
        .iter()
        .map(|id| current_consents(&records, *id))
        .collect();
    // What the directory shows: each person's periods as they released them.
    let reader = alumni::audience::Reader::load(&mut conn, Some(me))
        .await?
        .in_directory(org_id, office);
    let profiles = alumni::Loaded::of(&mut conn, &ids).await?;
    drop(conn);
    let accounts = views::accounts(ctx, accounts).await?;
    for ((mut m, account), consents) in ms.into_iter().zip(accounts).zip(consents) {
        let granted = |purpose: ConsentPurpose| consents.iter().any(|(p, g)| *p == purpose && *g);
        let own = m.account_id == me.account.id;
        // Fellow members see the claim (years, divisions, message) when the
        // member shared their profile on joining; otherwise the claim stays
        // the office's (it may come from the office's roster) and they see
        // the periods here the member released to them in the alumni
        // profile, as the directory shows them.
        if !office && !own && !granted(ConsentPurpose::ShareProfile) {
            let org = org_id.to_string();
            let here: Vec<alumni::TenureView> = profiles
                .view(&reader, m.account_id)
                .tenures
                .unwrap_or_default()
                .into_iter()
                .filter(|t| t.org_id == org)
                .collect();
            m.tenure_from = here.iter().map(|t| t.from).min().map(|y| y.to_string());
            m.tenure_to = if here.iter().any(|t| t.to.is_none()) {
                None
            } else {
                here.iter()
                    .filter_map(|t| t.to)
                    .max()
                    .map(|y| y.to_string())
            };
            let mut divisions: Vec<&str> = Vec::new();
            for t in &here {
                if !t.division.is_empty() && !divisions.contains(&t.division.as_str()) {
                    divisions.push(&t.division);
                }
            }
            m.divisions = divisions.join("\n");
            m.message = String::new();
        }
        out.push(MembershipView {
            membership: m,
            account,
            consents,
            roster_match: None,
        });
    }
    Ok(out)
}

/// Requests waiting for the office.
pub async fn requests(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    page: Page,
) -> ServiceResult<Vec<MembershipView>> {
    require_office(ctx, org_id, me).await?;
    let mut out = list(
        ctx,
        Some(me),
        org_id,
        Some(MembershipState::Pending.as_str()),
        None,
        page,
    )
    .await?;
    let ids: Vec<i64> = out.iter().map(|v| v.membership.account_id).collect();
    let mut conn = ctx.conn().await?;
    let matches = db::memberships::roster_matches(&mut conn, org_id, &ids).await?;
    for v in &mut out {
        v.roster_match = matches
            .iter()
            .find(|(a, _, _)| *a == v.membership.account_id)
            .map(|(_, entry, proven)| RosterMatch {
                entry: entry.clone(),
                email_proven: *proven,
            });
    }
    Ok(out)
}

/// The signed-in person's own membership of an org.
pub async fn mine(ctx: &Ctx, me: &LocalUser, org_id: i64) -> ServiceResult<MembershipView> {
    let mut conn = ctx.conn().await?;
    let m = db::memberships::find(&mut conn, OrgId(org_id), AccountId(me.account.id))
        .await?
        .ok_or_else(ServiceError::not_found)?;
    drop(conn);
    view(ctx, m).await
}

async fn membership(ctx: &Ctx, org_id: i64, id: i64) -> ServiceResult<Membership> {
    let mut conn = ctx.conn().await?;
    db::memberships::find_by_id(&mut conn, id)
        .await?
        .filter(|m| m.org_id == org_id)
        .ok_or_else(ServiceError::not_found)
}

async fn member(ctx: &Ctx, org_id: i64, account_id: i64) -> ServiceResult<Membership> {
    let mut conn = ctx.conn().await?;
    db::memberships::find(&mut conn, OrgId(org_id), AccountId(account_id))
        .await?
        .filter(|m| m.state == MembershipState::Verified)
        .ok_or_else(ServiceError::not_found)
}

/// Stores a changed membership and tells a remote member's instance.
async fn store(ctx: &Ctx, m: Membership) -> ServiceResult<MembershipView> {
    let mut conn = ctx.conn().await?;
    let saved = conn
        .transaction(async |tx| {
            let before = db::memberships::find(tx, OrgId(m.org_id), AccountId(m.account_id))
                .await?
                .map(|b| b.state);
            let saved = db::memberships::save(tx, &m).await?;
            // Only on becoming a member: a period removed since stays removed.
            if before != Some(MembershipState::Verified) {
                alumni::tenures_from_claim(tx, &saved, false).await?;
            }
            if saved.state == MembershipState::Left {
                alumni::federated::org_left(tx, saved.account_id, saved.org_id).await?;
            }
            ctx.federate(tx, Outgoing::MembershipChanged { membership: &saved })
                .await?;
            Ok::<_, ServiceError>(saved)
        })
        .await?;
    drop(conn);
    ctx.wake_delivery();
    view(ctx, saved).await
}

/// The office approves or rejects a pending request.
pub async fn decide(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    request_id: i64,
    approve: bool,
    reason: Option<String>,
) -> ServiceResult<MembershipView> {
    require_office(ctx, org_id, me).await?;
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REASON)
    {
        return Err(ServiceError::invalid(
            "reason",
            "ERR_TOO_LONG",
            format!("is too long (maximum is {MAX_REASON} characters)"),
        ));
    }
    let mut m = membership(ctx, org_id, request_id).await?;
    if m.state != MembershipState::Pending {
        return Err(ServiceError::invalid(
            "request",
            "ERR_INVALID",
            format!("this request is already {}", m.state),
        ));
    }
    if approve {
        // The office approves with the roster match in front of it: the
        // roster's facts replace the claim, as for a proven address.
        let mut conn = ctx.conn().await?;
        if let Some((_, e, _)) = db::memberships::roster_matches(&mut conn, org_id, &[m.account_id])
            .await?
            .pop()
        {
            apply_roster(&mut m, &e);
        }
    }
    m.state = if approve {
        MembershipState::Verified
    } else {
        MembershipState::Rejected
    };
    m.decided_by = Some(me.account.id);
    m.decided_at = Some(ids::now());
    m.updated_at = ids::now();
    let person = m.account_id;
    let view = store(ctx, m).await?;
    if !approve && let Some(reason) = reason {
        tell_rejected(ctx, org_id, person, reason).await?;
    }
    Ok(view)
}

/// Longest reason an office gives for turning a request down.
pub const MAX_REASON: usize = 1000;

/// The office's reason for a rejection, by e-mail to a person here with a
/// confirmed address (beside the answer). Others hear only the rejection.
async fn tell_rejected(ctx: &Ctx, org_id: i64, person: i64, reason: String) -> ServiceResult<()> {
    if !ctx.config.mail_enabled() {
        return Ok(());
    }
    let mut conn = ctx.conn().await?;
    let Some(to) = db::accounts::find_local_user(&mut conn, person).await? else {
        return Ok(());
    };
    drop(conn);
    if to.user.email_confirmed_at.is_none() {
        return Ok(());
    }
    let org = super::orgs::get(ctx, org_id).await?;
    let (ctx, org_name) = (ctx.clone(), org.account.account.shown_name().to_owned());
    tokio::spawn(async move {
        if let Err(e) = ctx
            .mailer
            .send_membership_rejected(&ctx, &to, &org_name, &reason)
            .await
        {
            tracing::error!(account = to.account.id, error = %e, "could not send a rejection e-mail");
        }
    });
    Ok(())
}

/// Changes a verified member's role. The last office member keeps the role so
/// the org is never left without an office.
pub async fn set_role(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    account_id: i64,
    role: &str,
) -> ServiceResult<MembershipView> {
    let role = check_role("role", role)?;
    require_office(ctx, org_id, me).await?;
    let mut m = member(ctx, org_id, account_id).await?;
    if m.role == Role::Office && role != Role::Office {
        let mut conn = ctx.conn().await?;
        let offices = db::memberships::role_counts(&mut conn, org_id)
            .await?
            .into_iter()
            .find(|(r, _)| *r == Role::Office)
            .map_or(0, |(_, n)| n);
        if offices <= 1 {
            return Err(ServiceError::invalid(
                "role",
                "ERR_INVALID",
                "the org needs at least one office member",
            ));
        }
    }
    m.role = role;
    m.updated_at = ids::now();
    store(ctx, m).await
}

/// Graduation: an employee becomes an alumnus with a leaving date. The office
/// does it directly; the person asks and the office confirms. Consent is asked
/// again, since what an alumnus shares differs from an employee.
pub async fn graduate(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    account_id: i64,
    left_on: Option<String>,
    consents: Vec<(String, bool)>,
    wording_version: Option<String>,
) -> ServiceResult<MembershipView> {
    let left_on = check_date("left_on", left_on)?;
    check_consents(&consents)?;
    let mut m = member(ctx, org_id, account_id).await?;
    let office = {
        let mut conn = ctx.conn().await?;
        is_office(&mut conn, org_id, me).await?
    };
    if !office && me.account.id != account_id {
        return Err(forbidden());
    }
    if m.role != Role::Employee && m.graduation_requested_on.is_none() {
        return Err(ServiceError::invalid(
            "role",
            "ERR_INVALID",
            format!("only employees graduate (this member is {})", m.role),
        ));
    }
    let now = ids::now();
    if office {
        m.role = Role::Alumnus;
        m.left_on = left_on
            .or(m.graduation_requested_on.take())
            .or_else(|| Some(now.date().to_string()));
        m.graduation_requested_on = None;
        m.decided_by = Some(me.account.id);
        m.decided_at = Some(now);
    } else {
        m.graduation_requested_on = left_on.or_else(|| Some(now.date().to_string()));
    }
    m.updated_at = now;
    if me.account.id == account_id && !consents.is_empty() {
        let rows = consent_rows(org_id, account_id, &consents, wording_version.as_deref())?;
        let mut conn = ctx.conn().await?;
        db::memberships::insert_consents(&mut conn, &rows).await?;
    }
    store(ctx, m).await
}

/// The office removes a member (recorded as having left, decided by the office).
pub async fn remove(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    account_id: i64,
) -> ServiceResult<MembershipView> {
    require_office(ctx, org_id, me).await?;
    let mut m = member(ctx, org_id, account_id).await?;
    m.state = MembershipState::Left;
    m.decided_by = Some(me.account.id);
    m.decided_at = Some(ids::now());
    m.updated_at = ids::now();
    store(ctx, m).await
}

/// Leaving is one action, always allowed (a pending request is withdrawn).
pub async fn leave(ctx: &Ctx, me: &LocalUser, org_id: i64) -> ServiceResult<MembershipView> {
    let mut conn = ctx.conn().await?;
    let mut m = db::memberships::find(&mut conn, OrgId(org_id), AccountId(me.account.id))
        .await?
        .filter(|m| {
            matches!(
                m.state,
                MembershipState::Verified | MembershipState::Pending
            )
        })
        .ok_or_else(ServiceError::not_found)?;
    drop(conn);
    m.state = MembershipState::Left;
    m.updated_at = ids::now();
    m.decided_by = Some(me.account.id);
    m.decided_at = Some(ids::now());
    let org = db::accounts::find(&mut ctx.conn().await?, org_id)
        .await?
        .ok_or_else(ServiceError::not_found)?
        .0;
    if !org.local {
        let mut conn = ctx.conn().await?;
        conn.transaction(async |tx| {
            ctx.federate(
                tx,
                Outgoing::LeftOrg {
                    person: &me.account,
                    org: &org,
                },
            )
            .await?;
            Ok::<_, ServiceError>(())
        })
        .await?;
        ctx.wake_delivery();
    }
    store(ctx, m).await
}

/// Records consent choices (grant or withdraw), appended with time and
/// wording version.
pub async fn set_consents(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    choices: Vec<(String, bool)>,
    wording_version: Option<String>,
) -> ServiceResult<MembershipView> {
    check_consents(&choices)?;
    if choices.is_empty() {
        return Err(ServiceError::invalid(
            "consents",
            "ERR_BLANK",
            "name at least one purpose",
        ));
    }
    let mut conn = ctx.conn().await?;
    let m = db::memberships::find(&mut conn, OrgId(org_id), AccountId(me.account.id))
        .await?
        // Someone who left or was turned down has nothing to consent to.
        .filter(|m| {
            matches!(
                m.state,
                MembershipState::Verified | MembershipState::Pending
            )
        })
        .ok_or_else(ServiceError::not_found)?;
    let rows = consent_rows(org_id, me.account.id, &choices, wording_version.as_deref())?;
    let org = db::accounts::find(&mut conn, org_id).await?.map(|(a, _)| a);
    conn.transaction(async |tx| {
        db::memberships::insert_consents(tx, &rows).await?;
        // An org elsewhere hears the change (a Join again, with the consents).
        if let Some(org) = org.as_ref().filter(|o| !o.local)
            && matches!(
                m.state,
                MembershipState::Verified | MembershipState::Pending
            )
        {
            ctx.federate(
                tx,
                Outgoing::JoinRequested {
                    person: &me.account,
                    org,
                    membership: &m,
                    invite_code: None,
                    consents: &rows,
                },
            )
            .await?;
        }
        Ok::<_, ServiceError>(())
    })
    .await?;
    drop(conn);
    ctx.wake_delivery();
    view(ctx, m).await
}

/// Every consent record of the signed-in person in an org (the audit trail).
pub async fn consent_history(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
) -> ServiceResult<Vec<Consent>> {
    let mut conn = ctx.conn().await?;
    Ok(db::memberships::consents(&mut conn, OrgId(org_id), &[me.account.id]).await?)
}

/// Creates an invite link's code (office only).
pub async fn create_invite(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    n: NewInvite,
) -> ServiceResult<OrgInvite> {
    active_org(ctx, org_id).await?;
    require_office(ctx, org_id, me).await?;
    let role = match n.role.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => check_role("role", r)?,
        None => Role::Alumnus,
    };
    if let Some(m) = n.max_uses
        && m < 1
    {
        return Err(ServiceError::invalid(
            "max_uses",
            "ERR_INVALID",
            "must be at least 1 (leave it out for no limit)",
        ));
    }
    let expires_at = super::expiry_after("expires_in", n.expires_in.unwrap_or(0))?;
    let invite = OrgInvite {
        id: ids::next_id(),
        org_id,
        code: crypto::random_token()[..16].to_owned(),
        role,
        max_uses: n.max_uses,
        uses: 0,
        expires_at,
        created_by: Some(me.account.id),
        revoked_at: None,
        created_at: ids::now(),
    };
    let mut conn = ctx.conn().await?;
    db::memberships::insert_invite(&mut conn, &invite).await?;
    Ok(invite)
}

/// At most this many addresses in one sending of invitations.
pub const MAX_INVITE_EMAILS: usize = 50;

/// Invitations by e-mail: one single-use link per address, valid for
/// `expires_in` seconds, each sent through the configured mail transport
/// (beside the answer, so a slow server does not hold the office's page).
pub async fn invite_by_email(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    role: Option<String>,
    addresses: &[String],
    expires_in: i64,
) -> ServiceResult<usize> {
    // A code without a generic wording: the page shows the description.
    let bad = |why: String| ServiceError::invalid("emails", "ERR_EMAIL_LIST", why);
    if !ctx.config.mail_enabled() {
        return Err(bad(
            "cannot be sent: this server has no mail transport configured".into(),
        ));
    }
    let mut to: Vec<String> = Vec::new();
    for a in addresses.iter().map(|a| a.trim()).filter(|a| !a.is_empty()) {
        if a.parse::<lettre::message::Mailbox>().is_err() || !a.contains('@') || a.contains('<') {
            return Err(bad(format!("{a:?} is not an e-mail address")));
        }
        if !to.iter().any(|t| t.eq_ignore_ascii_case(a)) {
            to.push(a.to_owned());
        }
    }
    if to.is_empty() || to.len() > MAX_INVITE_EMAILS {
        return Err(bad(format!(
            "give from 1 to {MAX_INVITE_EMAILS} addresses, one per line"
        )));
    }
    let org = super::orgs::get(ctx, org_id).await?;
    let mut sent = Vec::new();
    for address in to {
        let invite = create_invite(
            ctx,
            me,
            org_id,
            NewInvite {
                role: role.clone(),
                max_uses: Some(1),
                expires_in: Some(expires_in),
            },
        )
        .await?;
        sent.push((address, invite));
    }
    let n = sent.len();
    let (ctx, org_name, office) = (
        ctx.clone(),
        org.account.account.shown_name().to_owned(),
        me.account.shown_name().to_owned(),
    );
    tokio::spawn(async move {
        for (address, invite) in sent {
            let link = format!("{}/join/{}", ctx.base_url(), invite.code);
            let expires = invite
                .expires_at
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            let mail = super::mail::Invitation {
                org: &org_name,
                office: &office,
                link: &link,
                expires: &expires,
            };
            if let Err(e) = ctx.mailer.send_invitation(&ctx, &address, &mail).await {
                tracing::error!(invite = invite.id, error = %e, "could not send an invitation e-mail");
            }
        }
    });
    Ok(n)
}

pub async fn invites(ctx: &Ctx, me: &LocalUser, org_id: i64) -> ServiceResult<Vec<OrgInvite>> {
    require_office(ctx, org_id, me).await?;
    let mut conn = ctx.conn().await?;
    Ok(db::memberships::list_invites(&mut conn, org_id).await?)
}

pub async fn revoke_invite(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    invite_id: i64,
) -> ServiceResult<()> {
    require_office(ctx, org_id, me).await?;
    let mut conn = ctx.conn().await?;
    if db::memberships::revoke_invite(&mut conn, org_id, invite_id, ids::now()).await? == 0 {
        return Err(ServiceError::not_found());
    }
    Ok(())
}

/// An official org's office recognises a club (or withdraws it); the club's
/// actor and the org's `recognized` collection both show it.
pub async fn recognise(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    club_id: i64,
    recognised: bool,
) -> ServiceResult<Vec<Account>> {
    let org = active_org(ctx, org_id).await?;
    if org.kind != OrgKind::Official {
        return Err(ServiceError::invalid(
            "org",
            "ERR_INVALID",
            "only an official org recognises clubs",
        ));
    }
    require_office(ctx, org_id, me).await?;
    let mut conn = ctx.conn().await?;
    let club = db::accounts::find(&mut conn, club_id)
        .await?
        .map(|(a, _)| a)
        .filter(|a| a.actor_type == crate::domain::ActorType::Group && a.id != org_id)
        .ok_or_else(ServiceError::not_found)?;
    if club.local {
        let is_club = db::orgs::find(&mut conn, club_id)
            .await?
            .is_some_and(|(o, _)| o.kind == OrgKind::Club);
        if !is_club {
            return Err(ServiceError::invalid(
                "club",
                "ERR_INVALID",
                "is not a club",
            ));
        }
    }
    let now = ids::now();
    conn.transaction(async |tx| {
        if recognised {
            db::memberships::recognise(
                tx,
                OrgId(org_id),
                OrgId(club_id),
                AccountId(me.account.id),
                now,
            )
            .await?;
        } else {
            db::memberships::withdraw_recognition(tx, OrgId(org_id), OrgId(club_id)).await?;
        }
        // Followers of both learn of it through the profiles' Update.
        for id in [org_id, club_id] {
            if let Some((a, _)) = db::accounts::find(tx, id).await?
                && a.local
            {
                ctx.federate(tx, Outgoing::ProfileUpdated { account: &a })
                    .await?;
            }
        }
        Ok::<_, ServiceError>(())
    })
    .await?;
    ctx.wake_delivery();
    Ok(db::memberships::recognised_clubs(&mut conn, org_id).await?)
}

/// (orgs recognising this club, clubs this org recognises). For a club on
/// another server, its claims are checked against each official org's own
/// collection (answers kept for an hour); checking fetches, so it is for
/// signed-in people only.
pub async fn recognitions(
    ctx: &Ctx,
    org_id: i64,
    signed_in: bool,
) -> ServiceResult<(Vec<Account>, Vec<Account>)> {
    let mut conn = ctx.conn().await?;
    let org = db::accounts::find(&mut conn, org_id)
        .await?
        .map(|(a, _)| a)
        .filter(|a| a.actor_type == crate::domain::ActorType::Group)
        .ok_or_else(ServiceError::not_found)?;
    if !org.local {
        drop(conn);
        if !signed_in {
            return Err(ServiceError::Unauthorized(
                "Sign in to check the recognitions of a club on another server".into(),
            ));
        }
        return Ok((ctx.fed.recognitions(ctx, &org).await?, vec![]));
    }
    Ok((
        db::memberships::recognised_by(&mut conn, org_id).await?,
        db::memberships::recognised_clubs(&mut conn, org_id).await?,
    ))
}

/// The office blocks an account or a whole domain for the org: a blocked
/// member's membership ends, and they can no longer join, follow the org or
/// post into it.
pub async fn block(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    account_id: Option<i64>,
    domain: Option<String>,
) -> ServiceResult<OrgBlock> {
    require_office(ctx, org_id, me).await?;
    let domain = domain
        .map(|d| d.trim().trim_start_matches('@').to_lowercase())
        .filter(|d| !d.is_empty());
    let valid_domain = |d: &str| {
        d.len() <= 253
            && d.contains('.')
            && d.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
    };
    match (&account_id, &domain) {
        (Some(_), None) => {}
        (None, Some(d)) if valid_domain(d) => {}
        (None, Some(_)) => {
            return Err(ServiceError::invalid(
                "domain",
                "ERR_INVALID",
                "is not a domain name",
            ));
        }
        _ => {
            return Err(ServiceError::invalid(
                "account_id",
                "ERR_BLANK",
                "give either account_id or domain",
            ));
        }
    }
    let mut conn = ctx.conn().await?;
    let target = match account_id {
        Some(id) => Some(
            db::accounts::find(&mut conn, id)
                .await?
                .map(|(a, _)| a)
                .filter(|a| a.id != org_id)
                .ok_or_else(ServiceError::not_found)?,
        ),
        None => None,
    };
    if let Some(t) = &target
        && db::memberships::find(&mut conn, OrgId(org_id), AccountId(t.id))
            .await?
            .is_some_and(|m| m.state == MembershipState::Verified && m.role == Role::Office)
    {
        return Err(ServiceError::invalid(
            "account_id",
            "ERR_INVALID",
            "is in the org's office (take them out of the office first)",
        ));
    }
    if domain.as_deref() == Some(ctx.config.server.domain.to_lowercase().as_str()) {
        return Err(ServiceError::invalid(
            "domain",
            "ERR_INVALID",
            "is this server's own domain",
        ));
    }
    let now = ids::now();
    let b = OrgBlock {
        id: ids::next_id(),
        org_id,
        account_id,
        domain: domain.clone(),
        created_by: Some(me.account.id),
        created_at: now,
    };
    let (b, ended) = conn
        .transaction(async |tx| {
            if !db::memberships::insert_block(tx, &b).await? {
                // Already blocked: answer the block there is.
                let existing = db::memberships::blocks(tx, org_id)
                    .await?
                    .into_iter()
                    .find(|e| e.account_id == b.account_id && e.domain == b.domain)
                    .ok_or_else(ServiceError::not_found)?;
                return Ok((existing, None));
            }
            let mut ended = None;
            if let Some(t) = &target {
                if let Some(mut m) =
                    db::memberships::find(tx, OrgId(org_id), AccountId(t.id)).await?
                    && matches!(
                        m.state,
                        MembershipState::Verified | MembershipState::Pending
                    )
                {
                    m.state = MembershipState::Left;
                    m.decided_by = Some(me.account.id);
                    m.decided_at = Some(now);
                    m.updated_at = now;
                    ended = Some(db::memberships::save(tx, &m).await?);
                    alumni::federated::org_left(tx, t.id, org_id).await?;
                    ctx.federate(
                        tx,
                        Outgoing::MembershipChanged {
                            membership: ended.as_ref().unwrap(),
                        },
                    )
                    .await?;
                }
                db::social::delete_follow(tx, t.id, org_id).await?;
            }
            if let Some(d) = &domain {
                for person in db::memberships::remove_domain_members(tx, org_id, d, now).await? {
                    alumni::federated::org_left(tx, person, org_id).await?;
                }
            }
            Ok::<_, ServiceError>((b, ended))
        })
        .await?;
    drop(conn);
    if ended.is_some() {
        ctx.wake_delivery();
    }
    Ok(b)
}

pub async fn unblock(ctx: &Ctx, me: &LocalUser, org_id: i64, block_id: i64) -> ServiceResult<()> {
    require_office(ctx, org_id, me).await?;
    let mut conn = ctx.conn().await?;
    if db::memberships::delete_block(&mut conn, org_id, block_id).await? == 0 {
        return Err(ServiceError::not_found());
    }
    Ok(())
}

/// The org's blocks with the accounts they name, for the office's page.
pub async fn blocks_named(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
) -> ServiceResult<Vec<(OrgBlock, Option<Account>)>> {
    let list = blocks(ctx, me, org_id).await?;
    let ids: Vec<i64> = list.iter().filter_map(|b| b.account_id).collect();
    let mut conn = ctx.conn().await?;
    let accounts = db::accounts::find_many(&mut conn, &ids).await?;
    Ok(list
        .into_iter()
        .map(|b| {
            let a = accounts
                .iter()
                .find(|a| Some(a.id) == b.account_id)
                .cloned();
            (b, a)
        })
        .collect())
}

/// Blocks the account with this handle (`name` here, `name@host` elsewhere:
/// asked of its server if unknown) or, with an empty handle, a domain.
pub async fn block_by_handle(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    handle: &str,
    domain: Option<String>,
) -> ServiceResult<OrgBlock> {
    // The office alone may make the server look anyone up.
    require_office(ctx, org_id, me).await?;
    let account_id = match handle.trim() {
        "" => None,
        h => Some(account_named(ctx, h, "account").await?.id),
    };
    block(ctx, me, org_id, account_id, domain).await
}

/// Recognises the club with this handle (see `block_by_handle`).
pub async fn recognise_by_handle(
    ctx: &Ctx,
    me: &LocalUser,
    org_id: i64,
    handle: &str,
) -> ServiceResult<Vec<Account>> {
    require_office(ctx, org_id, me).await?;
    let club = account_named(ctx, handle, "club").await?;
    recognise(ctx, me, org_id, club.id, true).await
}

async fn account_named(ctx: &Ctx, handle: &str, field: &'static str) -> ServiceResult<Account> {
    match super::accounts::lookup(ctx, handle, true).await {
        Ok(v) => Ok(v.account),
        Err(ServiceError::NotFound(_)) => Err(ServiceError::invalid(
            field,
            "ERR_UNKNOWN_ACCOUNT",
            "is not an account here or on its server",
        )),
        Err(e) => Err(e),
    }
}

pub async fn blocks(ctx: &Ctx, me: &LocalUser, org_id: i64) -> ServiceResult<Vec<OrgBlock>> {
    require_office(ctx, org_id, me).await?;
    let mut conn = ctx.conn().await?;
    Ok(db::memberships::blocks(&mut conn, org_id).await?)
}
