//! Reports: a person tells the moderators about an account (and some of its
//! posts); other servers' reports arrive as Flags (federation/inbox.rs).
use super::{Ctx, ServiceError, ServiceResult, accounts, views};
use crate::db::models::{Account, LocalUser, Report};
use crate::db::{self};
use crate::domain::ReportCategory;
use crate::ids;
use crate::services::remote::Outgoing;

/// Mastodon's limit for the comment.
pub const MAX_COMMENT_CHARS: usize = 1000;
const MAX_STATUSES: usize = 100;

pub struct NewReport {
    pub account_id: i64,
    pub status_ids: Vec<i64>,
    pub comment: String,
    pub forward: bool,
    pub category: Option<String>,
    pub rule_ids: Vec<String>,
}

pub struct ReportView {
    pub report: Report,
    pub target: views::AccountView,
}

/// Files a report; with `forward`, a remote account's server gets a Flag
/// from our instance actor (the reporter stays anonymous there).
pub async fn create(ctx: &Ctx, me: &LocalUser, r: NewReport) -> ServiceResult<ReportView> {
    if r.account_id == me.account.id {
        return Err(ServiceError::invalid(
            "account_id",
            "ERR_INVALID",
            "cannot be yourself",
        ));
    }
    let target = accounts::get(ctx, r.account_id).await?;
    if r.comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(ServiceError::invalid(
            "comment",
            "ERR_TOO_LONG",
            format!("is too long (maximum is {MAX_COMMENT_CHARS} characters)"),
        ));
    }
    let rules = ctx.settings().rules.len();
    for id in &r.rule_ids {
        if !id.parse::<usize>().is_ok_and(|n| (1..=rules).contains(&n)) {
            return Err(ServiceError::invalid(
                "rule_ids",
                "ERR_INVALID",
                format!("{id:?} is not a rule of this server"),
            ));
        }
    }
    let category = match r.category.as_deref() {
        None | Some("") if !r.rule_ids.is_empty() => ReportCategory::Violation,
        None | Some("") => ReportCategory::Other,
        Some(c) => ServiceError::choice("category", c)?,
    };
    if r.status_ids.len() > MAX_STATUSES {
        return Err(ServiceError::invalid(
            "status_ids",
            "ERR_TOO_LONG",
            format!("at most {MAX_STATUSES} statuses per report"),
        ));
    }
    let mut conn = ctx.conn().await?;
    let mut statuses = Vec::new();
    for id in &r.status_ids {
        match db::statuses::find_visible(&mut conn, *id, Some(me.account.id)).await? {
            Some(s) if s.account_id == target.id => statuses.push(s),
            _ => {
                return Err(ServiceError::invalid(
                    "status_ids",
                    "ERR_INVALID",
                    format!("{id} is not a status of the reported account"),
                ));
            }
        }
    }
    let forward = r.forward && !target.local;
    if forward {
        // The Flag is signed with the instance key: make sure it exists.
        drop(conn);
        ctx.fed.prepare_instance_key(ctx).await?;
        conn = ctx.conn().await?;
    }
    let report = Report {
        id: ids::next_id(),
        account_id: me.account.id,
        target_account_id: target.id,
        status_ids: serde_json::to_string(&r.status_ids).unwrap_or_else(|_| "[]".into()),
        comment: r.comment,
        category,
        rule_ids: serde_json::to_string(&r.rule_ids).unwrap_or_else(|_| "[]".into()),
        forwarded: forward,
        uri: None,
        created_at: ids::now(),
        action_taken_at: None,
        action_taken_by_account_id: None,
    };
    let report = conn
        .transaction(async |tx| {
            let mut report = report;
            if forward {
                report.uri = ctx
                    .federate(
                        tx,
                        Outgoing::ReportForwarded {
                            report: &report,
                            target: &target,
                            statuses: &statuses,
                        },
                    )
                    .await?;
            }
            db::reports::insert(tx, &report).await?;
            Ok::<_, ServiceError>(report)
        })
        .await?;
    drop(conn);
    if forward {
        ctx.wake_delivery();
    }
    Ok(ReportView {
        target: views::account(ctx, target).await?,
        report,
    })
}

/// Stores a report another server sent (a Flag); false for a repeated one.
pub async fn received(
    ctx: &Ctx,
    reporter: &Account,
    target: &Account,
    status_ids: &[i64],
    comment: &str,
    uri: &str,
) -> ServiceResult<bool> {
    let report = Report {
        id: ids::next_id(),
        account_id: reporter.id,
        target_account_id: target.id,
        status_ids: serde_json::to_string(status_ids).unwrap_or_else(|_| "[]".into()),
        comment: comment.chars().take(MAX_COMMENT_CHARS * 5).collect(),
        category: ReportCategory::Other,
        rule_ids: "[]".into(),
        forwarded: false,
        uri: Some(uri.to_owned()),
        created_at: ids::now(),
        action_taken_at: None,
        action_taken_by_account_id: None,
    };
    let mut conn = ctx.conn().await?;
    Ok(db::reports::insert(&mut conn, &report).await?)
}
