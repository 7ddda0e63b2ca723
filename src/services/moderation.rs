//! The instance admin's moderation: reports and what is done about them
//! (suspend or silence an account), domain blocks and the allow-list, and
//! the instance settings. The admin API, the admin's web pages and the CLI
//! all call these.
use std::collections::HashMap;

use super::views::{self, AccountView, StatusView};
use super::{Ctx, ServiceError, ServiceResult};
use crate::db::models::{Account, DomainAllow, DomainBlock, LocalUser, Report, Status};
use crate::db::{self};
use crate::domain::{AccountAction, DomainBlockSeverity, FederationAccess, RegistrationMode};
use crate::ids;

/// Longest comment on a domain block, and longest instance text fields.
const MAX_COMMENT: usize = 1000;
const MAX_DESCRIPTION: usize = 5000;
const MAX_RULES: usize = 50;

/// Who moderates: an admin (`Some`), or the operator at the shell (`None`).
pub type Moderator<'a> = Option<&'a LocalUser>;

fn only_admins(me: Moderator<'_>) -> ServiceResult<()> {
    match me {
        Some(me) if !me.user.is_admin => {
            Err(ServiceError::Forbidden("This action is not allowed".into()))
        }
        _ => Ok(()),
    }
}

/// For the log: who did it.
fn who(me: Moderator<'_>) -> &str {
    me.map_or("the shell", |m| m.account.username.as_str())
}

/// A domain as an admin typed it ("Example.COM", "https://example.com/@a",
/// "münchen.example"): its lower-case (punycode) host name without port.
pub fn domain_name(ctx: &Ctx, input: &str) -> ServiceResult<String> {
    let bad = |why: &str| ServiceError::invalid("domain", "ERR_INVALID", why.to_owned());
    let t = input.trim();
    if t.is_empty() {
        return Err(bad("is required"));
    }
    let with_scheme = if t.contains("://") {
        t.to_owned()
    } else {
        format!("https://{t}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|_| bad("is not a domain name"))?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty() && !h.contains('*'))
        .ok_or_else(|| bad("is not a domain name"))?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let own = ctx.config.server.domain.to_ascii_lowercase();
    let own = own.split(':').next().unwrap_or_default();
    if host == own {
        return Err(bad("is this server"));
    }
    Ok(host)
}

pub struct NewDomainBlock {
    /// Changing an existing block is allowed (else: 422 for a blocked domain).
    pub update: bool,
    pub domain: String,
    pub severity: DomainBlockSeverity,
    pub public_comment: String,
    pub private_comment: String,
}

fn comment(field: &'static str, text: String) -> ServiceResult<String> {
    if text.chars().count() > MAX_COMMENT {
        return Err(ServiceError::invalid(
            field,
            "ERR_TOO_LONG",
            format!("is too long (maximum is {MAX_COMMENT} characters)"),
        ));
    }
    Ok(text)
}

/// Blocks a domain (or changes its block): its accounts are suspended or
/// silenced now; with suspend, its deliveries are refused and nothing is
/// sent to or fetched from it from this moment on every node that reloads.
pub async fn block_domain(
    ctx: &Ctx,
    me: Moderator<'_>,
    new: NewDomainBlock,
) -> ServiceResult<DomainBlock> {
    only_admins(me)?;
    let domain = domain_name(ctx, &new.domain)?;
    let public_comment = comment("public_comment", new.public_comment)?;
    let private_comment = comment("private_comment", new.private_comment)?;
    let mut conn = ctx.conn().await?;
    let block = conn
        .transaction(async |tx| {
            let before = db::moderation::domain_block_of(tx, &domain).await?;
            if before.is_some() && !new.update {
                return Err(ServiceError::invalid(
                    "domain",
                    "ERR_BLOCKED",
                    "is already blocked: change its block instead",
                ));
            }
            // Only a change of severity touches the accounts (an edit of the
            // comments leaves individual decisions alone).
            let resweep = before.as_ref().is_none_or(|b| b.severity != new.severity);
            if let Some(b) = before.as_ref().filter(|_| resweep) {
                db::moderation::lift_domain(tx, b).await?;
            }
            let block = DomainBlock {
                id: before.as_ref().map_or_else(ids::next_id, |b| b.id),
                created_at: before.as_ref().map_or_else(ids::now, |b| b.created_at),
                domain: domain.clone(),
                severity: new.severity,
                public_comment,
                private_comment,
            };
            db::moderation::put_domain_block(tx, &block).await?;
            if resweep {
                db::moderation::restrict_domain(tx, &block).await?;
                reapply_others(tx, &block).await?;
            }
            Ok::<_, ServiceError>(block)
        })
        .await?;
    drop(conn);
    ctx.live.reload(&ctx.db).await?;
    tracing::info!(domain = %block.domain, severity = %block.severity, by = who(me), "domain blocked");
    Ok(block)
}

/// Lifts a block: the accounts it suspended or silenced are restored.
pub async fn unblock_domain(ctx: &Ctx, me: Moderator<'_>, id: i64) -> ServiceResult<DomainBlock> {
    only_admins(me)?;
    let mut conn = ctx.conn().await?;
    let block = conn
        .transaction(async |tx| {
            let block = db::moderation::domain_block(tx, id)
                .await?
                .ok_or_else(|| ServiceError::NotFound("Record not found".into()))?;
            db::moderation::lift_domain(tx, &block).await?;
            db::moderation::delete_domain_block(tx, id).await?;
            reapply_others(tx, &block).await?;
            Ok::<_, ServiceError>(block)
        })
        .await?;
    drop(conn);
    ctx.live.reload(&ctx.db).await?;
    tracing::info!(domain = %block.domain, by = who(me), "domain unblocked");
    Ok(block)
}

/// After lifting `changed`, the other blocks take back the accounts they
/// cover (overlapping blocks: example.com and sub.example.com).
async fn reapply_others(tx: &mut db::DbConn<'_>, changed: &DomainBlock) -> ServiceResult<()> {
    for other in db::moderation::domain_blocks(tx).await? {
        if other.id != changed.id {
            db::moderation::restrict_domain(tx, &other).await?;
        }
    }
    Ok(())
}

pub async fn domain_blocks(ctx: &Ctx) -> ServiceResult<Vec<DomainBlock>> {
    let mut conn = ctx.conn().await?;
    Ok(db::moderation::domain_blocks(&mut conn).await?)
}

pub async fn domain_block(ctx: &Ctx, id: i64) -> ServiceResult<DomainBlock> {
    let mut conn = ctx.conn().await?;
    db::moderation::domain_block(&mut conn, id)
        .await?
        .ok_or_else(|| ServiceError::NotFound("Record not found".into()))
}

pub async fn domain_allows(ctx: &Ctx) -> ServiceResult<Vec<DomainAllow>> {
    let mut conn = ctx.conn().await?;
    Ok(db::moderation::domain_allows(&mut conn).await?)
}

/// The blocked servers and the allow-list, for the admin's page.
pub async fn domain_lists(ctx: &Ctx) -> ServiceResult<(Vec<DomainBlock>, Vec<DomainAllow>)> {
    let mut conn = ctx.conn().await?;
    Ok((
        db::moderation::domain_blocks(&mut conn).await?,
        db::moderation::domain_allows(&mut conn).await?,
    ))
}

/// Puts a domain on the allow-list (used in allow-list mode).
pub async fn allow_domain(
    ctx: &Ctx,
    me: Moderator<'_>,
    domain: &str,
) -> ServiceResult<DomainAllow> {
    only_admins(me)?;
    let domain = domain_name(ctx, domain)?;
    let mut conn = ctx.conn().await?;
    let allow = db::moderation::put_domain_allow(
        &mut conn,
        &DomainAllow {
            id: ids::next_id(),
            domain,
            created_at: ids::now(),
        },
    )
    .await?;
    drop(conn);
    ctx.live.reload(&ctx.db).await?;
    Ok(allow)
}

pub async fn disallow_domain(ctx: &Ctx, me: Moderator<'_>, id: i64) -> ServiceResult<()> {
    only_admins(me)?;
    let mut conn = ctx.conn().await?;
    if !db::moderation::delete_domain_allow(&mut conn, id).await? {
        return Err(ServiceError::NotFound("Record not found".into()));
    }
    drop(conn);
    ctx.live.reload(&ctx.db).await
}

/// A moderator's action on an account, optionally closing the report that
/// prompted it. Suspension signs a local person out everywhere (sessions and
/// tokens are refused while suspended) and hides the account; silence keeps
/// its posts out of public timelines and its notifications from strangers.
pub async fn act(
    ctx: &Ctx,
    me: Moderator<'_>,
    account_id: i64,
    action: AccountAction,
    report_id: Option<i64>,
) -> ServiceResult<()> {
    only_admins(me)?;
    if me.is_some_and(|m| m.account.id == account_id) && action != AccountAction::None {
        return Err(ServiceError::invalid(
            "account",
            "ERR_INVALID",
            "cannot be yourself",
        ));
    }
    let mut conn = ctx.conn().await?;
    let Some((target, user)) = db::accounts::find(&mut conn, account_id).await? else {
        return Err(ServiceError::NotFound("Record not found".into()));
    };
    // Administrators are dealt with from the shell, not by each other.
    if me.is_some() && action != AccountAction::None && user.is_some_and(|u| u.is_admin) {
        return Err(ServiceError::invalid(
            "account",
            "ERR_INVALID",
            "is an administrator",
        ));
    }
    if let Some(id) = report_id {
        let report = db::reports::find(&mut conn, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("Record not found".into()))?;
        if report.target_account_id != target.id {
            return Err(ServiceError::invalid(
                "report_id",
                "ERR_INVALID",
                "is a report about another account",
            ));
        }
    }
    let now = ids::now();
    conn.transaction(async |tx| {
        match action {
            AccountAction::None => {}
            // A moderator's own decision: no domain block lifts it later.
            AccountAction::Silence => {
                db::moderation::unmark(tx, target.id).await?;
                db::moderation::set_silenced(tx, target.id, Some(now)).await?;
            }
            AccountAction::Suspend => {
                db::moderation::unmark(tx, target.id).await?;
                db::moderation::set_suspended(tx, target.id, true).await?;
            }
        }
        if let Some(id) = report_id {
            db::moderation::resolve_report(tx, id, me.map(|m| m.account.id), now).await?;
        }
        Ok::<_, ServiceError>(())
    })
    .await?;
    tracing::info!(account = target.id, %action, by = who(me), "moderation action");
    Ok(())
}

/// An account as a moderator sees it: its public view and whether it is silenced.
#[derive(Clone)]
pub struct Moderated {
    pub view: AccountView,
    pub silenced: bool,
}

async fn moderated(ctx: &Ctx, list: Vec<Account>) -> ServiceResult<Vec<Moderated>> {
    let ids: Vec<i64> = list.iter().map(|a| a.id).collect();
    let mut conn = ctx.conn().await?;
    let silenced = db::moderation::silenced(&mut conn, &ids).await?;
    drop(conn);
    Ok(views::accounts(ctx, list)
        .await?
        .into_iter()
        .map(|view| Moderated {
            silenced: silenced.contains(&view.account.id),
            view,
        })
        .collect())
}

async fn one_moderated(ctx: &Ctx, id: i64) -> ServiceResult<Moderated> {
    let mut conn = ctx.conn().await?;
    let a = found(&mut conn, id).await?;
    drop(conn);
    moderated(ctx, vec![a])
        .await?
        .pop()
        .ok_or_else(ServiceError::not_found)
}

/// Reinstates a suspended account.
pub async fn unsuspend(ctx: &Ctx, me: Moderator<'_>, account_id: i64) -> ServiceResult<Moderated> {
    only_admins(me)?;
    let mut conn = ctx.conn().await?;
    let Some((target, user)) = db::accounts::find(&mut conn, account_id).await? else {
        return Err(ServiceError::NotFound("Record not found".into()));
    };
    // A deleted account stays suspended: its name is reserved, its Delete sent.
    if target.local && user.is_none() {
        return Err(ServiceError::invalid(
            "account",
            "ERR_INVALID",
            "was deleted and cannot come back",
        ));
    }
    db::moderation::unmark(&mut conn, target.id).await?;
    db::moderation::set_suspended(&mut conn, target.id, false).await?;
    drop(conn);
    one_moderated(ctx, account_id).await
}

pub async fn unsilence(ctx: &Ctx, me: Moderator<'_>, account_id: i64) -> ServiceResult<Moderated> {
    only_admins(me)?;
    let mut conn = ctx.conn().await?;
    let target = found(&mut conn, account_id).await?;
    db::moderation::unmark(&mut conn, target.id).await?;
    db::moderation::set_silenced(&mut conn, target.id, None).await?;
    drop(conn);
    one_moderated(ctx, account_id).await
}

async fn found(conn: &mut db::DbConn<'_>, id: i64) -> ServiceResult<Account> {
    db::accounts::find(conn, id)
        .await?
        .map(|(a, _)| a)
        .ok_or_else(|| ServiceError::NotFound("Record not found".into()))
}

/// A report with what a moderator needs: who, about whom, which posts.
pub struct ReportDetail {
    pub report: Report,
    pub reporter: Account,
    pub target: Account,
    /// The reported posts still stored (deleted ones are gone).
    pub statuses: Vec<Status>,
    pub action_taken_by: Option<Account>,
}

/// How many reports a list shows at most.
const REPORTS_SHOWN: i64 = 200;

/// Open reports (or handled ones), newest first.
pub async fn reports(ctx: &Ctx, resolved: bool) -> ServiceResult<Vec<ReportDetail>> {
    let mut conn = ctx.conn().await?;
    let list = db::moderation::reports(&mut conn, resolved, REPORTS_SHOWN).await?;
    details(&mut conn, list).await
}

pub async fn report(ctx: &Ctx, id: i64) -> ServiceResult<ReportDetail> {
    let mut conn = ctx.conn().await?;
    let report = db::reports::find(&mut conn, id).await?;
    details(&mut conn, report.into_iter().collect())
        .await?
        .pop()
        .ok_or_else(|| ServiceError::NotFound("Record not found".into()))
}

/// Reports with their people and posts, read in two queries whatever their
/// number; a report whose reporter or target is gone is left out.
async fn details(conn: &mut db::DbConn<'_>, list: Vec<Report>) -> ServiceResult<Vec<ReportDetail>> {
    let posts_of = |r: &Report| serde_json::from_str::<Vec<i64>>(&r.status_ids).unwrap_or_default();
    let mut people: Vec<i64> = list
        .iter()
        .flat_map(|r| {
            [
                Some(r.account_id),
                Some(r.target_account_id),
                r.action_taken_by_account_id,
            ]
        })
        .flatten()
        .collect();
    people.sort_unstable();
    people.dedup();
    let post_ids: Vec<i64> = list.iter().flat_map(posts_of).collect();
    let accounts: HashMap<i64, Account> = db::accounts::find_many(conn, &people)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let posts: HashMap<i64, Status> = db::statuses::find_many(conn, &post_ids)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    Ok(list
        .into_iter()
        .filter_map(|report| {
            let reporter = accounts.get(&report.account_id)?.clone();
            let target = accounts.get(&report.target_account_id)?.clone();
            let statuses = posts_of(&report)
                .iter()
                .filter_map(|id| posts.get(id).cloned())
                .collect();
            let action_taken_by = report
                .action_taken_by_account_id
                .and_then(|id| accounts.get(&id).cloned());
            Some(ReportDetail {
                report,
                reporter,
                target,
                statuses,
                action_taken_by,
            })
        })
        .collect())
}

/// A report with its people and posts as the admin API shows them.
pub struct AdminReport {
    pub detail: ReportDetail,
    pub reporter: Moderated,
    pub target: Moderated,
    pub action_taken_by: Option<Moderated>,
    pub statuses: Vec<StatusView>,
}

/// The admin API's views of reports: everyone's moderation state and every
/// post's view computed once for the whole list.
async fn admin_views(
    ctx: &Ctx,
    me: &LocalUser,
    list: Vec<ReportDetail>,
) -> ServiceResult<Vec<AdminReport>> {
    let mut people: Vec<Account> = Vec::new();
    for d in &list {
        for a in [
            Some(&d.reporter),
            Some(&d.target),
            d.action_taken_by.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            if people.iter().all(|p| p.id != a.id) {
                people.push(a.clone());
            }
        }
    }
    let people: HashMap<i64, Moderated> = moderated(ctx, people)
        .await?
        .into_iter()
        .map(|m| (m.view.account.id, m))
        .collect();
    let posts: Vec<Status> = list.iter().flat_map(|d| d.statuses.clone()).collect();
    let views: HashMap<i64, StatusView> = views::statuses(ctx, Some(me.account.id), posts)
        .await?
        .into_iter()
        .map(|v| (v.status.id, v))
        .collect();
    list.into_iter()
        .map(|detail| {
            let person = |id: i64| {
                people.get(&id).cloned().ok_or_else(|| {
                    ServiceError::Internal(anyhow::anyhow!("report's accounts vanished"))
                })
            };
            Ok(AdminReport {
                reporter: person(detail.reporter.id)?,
                target: person(detail.target.id)?,
                action_taken_by: detail
                    .action_taken_by
                    .as_ref()
                    .and_then(|a| people.get(&a.id).cloned()),
                statuses: detail
                    .statuses
                    .iter()
                    .filter_map(|s| views.get(&s.id).cloned())
                    .collect(),
                detail,
            })
        })
        .collect()
}

/// Reports for the admin API (open ones, or handled ones).
pub async fn admin_reports(
    ctx: &Ctx,
    me: &LocalUser,
    resolved: bool,
) -> ServiceResult<Vec<AdminReport>> {
    only_admins(Some(me))?;
    admin_views(ctx, me, reports(ctx, resolved).await?).await
}

pub async fn admin_report(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<AdminReport> {
    only_admins(Some(me))?;
    admin_views(ctx, me, vec![report(ctx, id).await?])
        .await?
        .pop()
        .ok_or_else(ServiceError::not_found)
}

/// Marks a report handled (`me` is None from the shell).
pub async fn resolve_report(ctx: &Ctx, me: Moderator<'_>, id: i64) -> ServiceResult<()> {
    only_admins(me)?;
    let mut conn = ctx.conn().await?;
    if db::reports::find(&mut conn, id).await?.is_none() {
        return Err(ServiceError::NotFound(format!("no report with id {id}")));
    }
    let by = me.map(|m| m.account.id);
    if !db::moderation::resolve_report(&mut conn, id, by, ids::now()).await? {
        return Err(ServiceError::BadRequest(format!(
            "report {id} was already resolved"
        )));
    }
    Ok(())
}

pub async fn reopen_report(ctx: &Ctx, me: Moderator<'_>, id: i64) -> ServiceResult<()> {
    only_admins(me)?;
    let mut conn = ctx.conn().await?;
    if db::reports::find(&mut conn, id).await?.is_none() {
        return Err(ServiceError::NotFound("Record not found".into()));
    }
    Ok(db::moderation::reopen_report(&mut conn, id).await?)
}

/// The instance settings an admin edits.
pub struct SettingsChange {
    pub title: String,
    pub description: String,
    pub contact_email: String,
    pub rules: Vec<String>,
    pub registration_mode: RegistrationMode,
    pub federation_access: FederationAccess,
}

/// Stores the settings; they apply at once here and within seconds on other nodes.
pub async fn update_settings(ctx: &Ctx, me: Moderator<'_>, c: SettingsChange) -> ServiceResult<()> {
    only_admins(me)?;
    let title = c.title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        return Err(ServiceError::invalid(
            "title",
            "ERR_INVALID",
            "is required (at most 100 characters)",
        ));
    }
    if c.description.chars().count() > MAX_DESCRIPTION {
        return Err(ServiceError::invalid(
            "description",
            "ERR_TOO_LONG",
            format!("is too long (maximum is {MAX_DESCRIPTION} characters)"),
        ));
    }
    let email = c.contact_email.trim();
    if !email.is_empty() && (!email.contains('@') || email.len() > 254) {
        return Err(ServiceError::invalid(
            "contact_email",
            "ERR_INVALID",
            "is not an e-mail address",
        ));
    }
    let rules: Vec<String> = c
        .rules
        .iter()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    if rules.len() > MAX_RULES || rules.iter().any(|r| r.chars().count() > MAX_COMMENT) {
        return Err(ServiceError::invalid(
            "rules",
            "ERR_TOO_LONG",
            format!("at most {MAX_RULES} rules of {MAX_COMMENT} characters each"),
        ));
    }
    let stored = db::models::StoredSettings {
        title: Some(title.to_owned()),
        description: Some(c.description.trim().to_owned()),
        contact_email: Some(email.to_owned()),
        rules: Some(serde_json::to_string(&rules).unwrap_or_else(|_| "[]".into())),
        registration_mode: Some(c.registration_mode),
        federation_access: Some(c.federation_access),
        updated_at: ids::now(),
    };
    let mut conn = ctx.conn().await?;
    db::moderation::put_settings(&mut conn, &stored).await?;
    drop(conn);
    ctx.live.reload(&ctx.db).await
}

/// A stored account by `user` or `user@host`, suspended ones included (for
/// the shell, where a moderator names whom to act on).
pub async fn account_by_acct(ctx: &Ctx, acct: &str) -> ServiceResult<Account> {
    let acct = acct.trim().trim_start_matches('@').to_lowercase();
    let key = match acct.split_once('@') {
        Some((user, host)) if host == ctx.config.server.domain.to_lowercase() => user.to_owned(),
        _ => acct,
    };
    let mut conn = ctx.conn().await?;
    db::accounts::find_by_acct_key(&mut conn, &key)
        .await?
        .map(|(a, _)| a)
        .ok_or_else(|| ServiceError::NotFound(format!("no stored account {key:?}")))
}
