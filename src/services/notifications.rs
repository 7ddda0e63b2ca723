//! Notifications as their recipient reads them.
use std::collections::HashMap;

use super::views::{self, AccountView, StatusView};
use super::{Ctx, ServiceError, ServiceResult};
use crate::db::models::{LocalUser, Notification};
use crate::db::statuses::Page;
use crate::db::{self};
use crate::domain::NotificationKind;
use crate::ids;

pub struct NotificationView {
    pub notification: Notification,
    pub account: AccountView,
    pub status: Option<StatusView>,
}

async fn views_of(
    ctx: &Ctx,
    viewer: i64,
    list: Vec<Notification>,
) -> ServiceResult<Vec<NotificationView>> {
    let mut conn = ctx.conn().await?;
    let account_ids: Vec<i64> = list.iter().map(|n| n.from_account_id).collect();
    let status_ids: Vec<i64> = list.iter().filter_map(|n| n.status_id).collect();
    let accounts = db::accounts::find_many(&mut conn, &account_ids).await?;
    let statuses = db::statuses::find_many(&mut conn, &status_ids).await?;
    let visible = db::statuses::filter_visible(&mut conn, &status_ids, Some(viewer)).await?;
    drop(conn);
    let accounts: HashMap<i64, AccountView> = views::accounts(ctx, accounts)
        .await?
        .into_iter()
        .map(|v| (v.account.id, v))
        .collect();
    let statuses: HashMap<i64, StatusView> = views::statuses(
        ctx,
        Some(viewer),
        statuses
            .into_iter()
            .filter(|s| visible.contains(&s.id))
            .collect(),
    )
    .await?
    .into_iter()
    .map(|v| (v.status.id, v))
    .collect();
    Ok(list
        .into_iter()
        .filter_map(|n| {
            let account = accounts
                .get(&n.from_account_id)
                .filter(|v| !v.account.suspended)?
                .clone();
            let status = match n.status_id {
                Some(sid) => Some(statuses.get(&sid)?.clone()),
                None => None,
            };
            Some(NotificationView {
                notification: n,
                account,
                status,
            })
        })
        .collect())
}

pub async fn list(
    ctx: &Ctx,
    me: &LocalUser,
    include: Vec<String>,
    exclude: Vec<String>,
    page: Page,
) -> ServiceResult<Vec<NotificationView>> {
    let mut conn = ctx.conn().await?;
    let rows = db::notifications::list(&mut conn, me.account.id, &include, &exclude, page).await?;
    drop(conn);
    views_of(ctx, me.account.id, super::timelines::in_order(rows, page)).await
}

pub async fn get(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<NotificationView> {
    let mut conn = ctx.conn().await?;
    let n = db::notifications::find(&mut conn, me.account.id, id)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    drop(conn);
    views_of(ctx, me.account.id, vec![n])
        .await?
        .pop()
        .ok_or_else(ServiceError::not_found)
}

pub async fn dismiss(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    if db::notifications::dismiss(&mut conn, me.account.id, id).await? == 0 {
        return Err(ServiceError::not_found());
    }
    Ok(())
}

pub async fn clear(ctx: &Ctx, me: &LocalUser) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    db::notifications::clear(&mut conn, me.account.id).await?;
    Ok(())
}

// ---- By e-mail --------------------------------------------------------------

/// What a person may also get by e-mail, in the order the settings show them.
pub const MAILABLE: &[NotificationKind] = &[
    NotificationKind::Mention,
    NotificationKind::FollowRequest,
    NotificationKind::Follow,
    NotificationKind::Favourite,
    NotificationKind::Reblog,
    NotificationKind::MembershipRequest,
    NotificationKind::ProfileReminder,
    NotificationKind::AdminSignUp,
];

/// Mailed until the person chooses: what asks them to act or answer.
const MAILED_BY_DEFAULT: &[NotificationKind] = &[
    NotificationKind::Mention,
    NotificationKind::FollowRequest,
    NotificationKind::MembershipRequest,
    NotificationKind::ProfileReminder,
    NotificationKind::AdminSignUp,
];

/// At most this many notification mails per person per hour (a flood of
/// mentions from elsewhere must not become a flood of mail).
const MAILS_PER_HOUR: u32 = 20;

/// The notification types the person gets by e-mail.
pub async fn mailed_kinds(ctx: &Ctx, account_id: i64) -> ServiceResult<Vec<NotificationKind>> {
    let mut conn = ctx.conn().await?;
    Ok(
        match db::notifications::mailed_kinds(&mut conn, account_id).await? {
            Some(list) => list
                .split(',')
                .filter_map(NotificationKind::parse)
                .filter(|k| MAILABLE.contains(k))
                .collect(),
            None => MAILED_BY_DEFAULT.to_vec(),
        },
    )
}

/// Chooses which notifications also come by e-mail (any others are ignored).
pub async fn set_mailed_kinds(
    ctx: &Ctx,
    me: &LocalUser,
    kinds: &[NotificationKind],
) -> ServiceResult<()> {
    let list: Vec<&str> = MAILABLE
        .iter()
        .filter(|k| kinds.contains(k))
        .map(|k| k.as_str())
        .collect();
    let mut conn = ctx.conn().await?;
    db::notifications::set_mailed_kinds(&mut conn, me.account.id, &list.join(","), ids::now())
        .await?;
    Ok(())
}

/// Mails, beside the request, the notifications their recipients chose to
/// get by e-mail (called wherever notifications are announced).
pub fn mail_later(ctx: &Ctx, list: &[Notification]) {
    if !ctx.config.mail_enabled() || list.is_empty() {
        return;
    }
    let ctx = ctx.clone();
    let list = list.to_vec();
    tokio::spawn(async move {
        for n in list {
            if let Err(e) = mail_one(&ctx, &n).await {
                tracing::warn!(notification = n.id, error = %e.detail(), "could not mail a notification");
            }
        }
    });
}

/// Whether another mail to this person fits in this hour's budget (per
/// process, as the request rate limits are).
fn within_budget(account_id: i64) -> bool {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};
    static SENT: Mutex<Option<HashMap<i64, (Instant, u32)>>> = Mutex::new(None);
    let mut guard = SENT.lock().unwrap_or_else(|e| e.into_inner());
    let sent = guard.get_or_insert_with(HashMap::new);
    let now = Instant::now();
    sent.retain(|_, (since, _)| now.duration_since(*since) < Duration::from_secs(3600));
    let entry = sent.entry(account_id).or_insert((now, 0));
    entry.1 += 1;
    entry.1 <= MAILS_PER_HOUR
}

async fn mail_one(ctx: &Ctx, n: &Notification) -> ServiceResult<()> {
    if !MAILABLE.contains(&n.kind) {
        return Ok(());
    }
    let mut conn = ctx.conn().await?;
    let Some(me) = db::accounts::find_local_user(&mut conn, n.account_id).await? else {
        return Ok(());
    };
    // Only to an address the person proved, of an account in use.
    if me.user.email_confirmed_at.is_none() || super::accounts::login_refusal(ctx, &me).is_some() {
        return Ok(());
    }
    drop(conn);
    if !mailed_kinds(ctx, me.account.id).await?.contains(&n.kind) || !within_budget(me.account.id) {
        return Ok(());
    }
    let mut conn = ctx.conn().await?;
    let Some((from, _)) = db::accounts::find(&mut conn, n.from_account_id).await? else {
        return Ok(());
    };
    // As the notifications page shows them: nothing from someone suspended,
    // blocked either way, muted with their notifications, or silenced and
    // not followed.
    let (me_id, from_id) = (me.account.id, from.id);
    let blocked = !db::social::blocking::blocks_between(&mut conn, me_id, &[from_id])
        .await?
        .is_empty();
    let muted = db::social::blocking::mutes_of(&mut conn, me_id, &[from_id])
        .await?
        .iter()
        .any(|(_, hide)| *hide);
    let silenced = !db::moderation::silenced(&mut conn, &[from_id])
        .await?
        .is_empty()
        && db::social::find_follow(&mut conn, me_id, from_id)
            .await?
            .is_none_or(|f| f.pending);
    if from.suspended || blocked || muted || silenced {
        return Ok(());
    }
    // The post only if the person may read it, and never what a content
    // warning hides.
    let readable = match n.status_id {
        Some(id) => db::statuses::filter_visible(&mut conn, &[id], Some(me_id)).await?,
        None => Vec::new(),
    };
    if n.status_id.is_some() && readable.is_empty() {
        return Ok(());
    }
    let excerpt = match n.status_id {
        Some(id) => db::statuses::find_many(&mut conn, &[id])
            .await?
            .first()
            .filter(|s| s.spoiler_text.is_empty())
            .map(|s| {
                let text = super::text::strip_html(&s.content);
                let mut short: String = text.chars().take(200).collect();
                if text.chars().count() > 200 {
                    short.push('…');
                }
                short
            }),
        None => None,
    };
    drop(conn);
    let base = ctx.base_url();
    let who = match from.domain.as_deref() {
        Some(d) if !from.local => format!("{} (@{}@{d})", from.shown_name(), from.username),
        _ => format!("{} (@{})", from.shown_name(), from.username),
    };
    let mail = super::mail::NotificationMail {
        kind: n.kind,
        who,
        excerpt,
        link: match n.status_id {
            Some(id) => format!("{base}/posts/{id}"),
            None => format!("{base}/notifications"),
        },
        settings: format!("{base}/settings#email-notifications"),
    };
    ctx.mailer
        .send_notification(ctx, &me, &mail)
        .await
        .map_err(ServiceError::Internal)
}
