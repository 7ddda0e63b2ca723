//! What the public web pages of people and orgs show: anyone's view (no
//! sign-in), so only public and unlisted posts, by local accounts.
use super::views::{AccountView, StatusView};
use super::{Ctx, ServiceError, ServiceResult, accounts, statuses, timelines};
use crate::db::statuses::Page;
use crate::db::timelines::AccountFilter;

/// What a person's or org's page shows.
pub struct ProfilePage {
    pub view: AccountView,
    /// Latest public posts and boosts (no replies).
    pub posts: Vec<StatusView>,
    /// An org's verified members.
    pub members: Option<i64>,
    /// The clubs an official org recognises, and the orgs that recognise a club.
    pub clubs: Vec<crate::db::models::Account>,
    pub recognised_by: Vec<crate::db::models::Account>,
    /// For a signed-in viewer (not the account itself): how they relate to
    /// it, and for an org whether they are a verified member.
    pub relationship: Option<super::social::Relationship>,
    pub member: bool,
}

/// The instance's landing page: its active top-level orgs.
pub async fn landing(ctx: &Ctx) -> ServiceResult<Vec<super::orgs::OrgView>> {
    super::orgs::list(ctx, None).await
}

/// A local account's page: the account and its latest posts (no replies).
pub async fn profile(ctx: &Ctx, username: &str, viewer: Option<i64>) -> ServiceResult<ProfilePage> {
    if username.contains('@') {
        return Err(ServiceError::not_found());
    }
    let view = accounts::lookup(ctx, username, false).await?;
    if !view.account.local {
        return Err(ServiceError::not_found());
    }
    let posts = timelines::account(
        ctx,
        None,
        view.account.id,
        AccountFilter {
            exclude_replies: true,
            ..Default::default()
        },
        Page {
            limit: 20,
            ..Default::default()
        },
    )
    .await?;
    let (mut members, mut clubs, mut recognised_by) = (None, Vec::new(), Vec::new());
    if view.account.actor_type == crate::domain::ActorType::Group {
        let id = view.account.id;
        let mut conn = ctx.conn().await?;
        let counts = crate::db::memberships::role_counts(&mut conn, id).await?;
        members = Some(counts.iter().map(|(_, n)| n).sum());
        clubs = crate::db::memberships::recognised_clubs(&mut conn, id).await?;
        recognised_by = crate::db::memberships::recognised_by(&mut conn, id).await?;
    }
    let (mut relationship, mut member) = (None, false);
    if let Some(me) = viewer.filter(|me| *me != view.account.id) {
        relationship = super::social::relationships(ctx, me, &[view.account.id])
            .await?
            .into_iter()
            .next();
        if members.is_some() {
            member = super::memberships::is_member(
                ctx,
                crate::domain::OrgId(view.account.id),
                crate::domain::AccountId(me),
            )
            .await?;
        }
    }
    Ok(ProfilePage {
        view,
        posts,
        members,
        clubs,
        recognised_by,
        relationship,
        member,
    })
}

/// One post of a local account, as anyone may see it (a boost is no page).
pub async fn post(ctx: &Ctx, username: &str, id: i64) -> ServiceResult<StatusView> {
    let view = statuses::get(ctx, None, id).await?;
    let author = &view.account.account;
    if !author.local
        || !author.username.eq_ignore_ascii_case(username)
        || view.status.reblog_of_id.is_some()
    {
        return Err(ServiceError::not_found());
    }
    Ok(view)
}

/// Where a visitor from another server follows one of our people or orgs:
/// their own server's interaction page for its address (Mastodon's
/// `authorize_interaction`). Nothing is fetched here: the visitor's browser
/// goes there, and their server looks the account up.
pub async fn follow_from_elsewhere(
    ctx: &Ctx,
    visitor: &str,
    username: &str,
) -> ServiceResult<String> {
    let view = accounts::lookup(ctx, username, false).await?;
    if !view.account.local {
        return Err(ServiceError::not_found());
    }
    let host = visitor
        .trim()
        .trim_start_matches('@')
        .split_once('@')
        .map(|(user, host)| (user, host.to_ascii_lowercase()))
        .filter(|(user, host)| {
            !user.is_empty()
                && !user.contains(['/', '?', '#', ' '])
                && host.len() <= 253
                && host.contains('.')
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':')
                && url::Host::parse(host.split(':').next().unwrap_or_default()).is_ok()
        })
        .map(|(_, host)| host)
        .ok_or_else(|| ServiceError::BadRequest("Enter your address as name@server".into()))?;
    let mut target = url::Url::parse(&format!("https://{host}/authorize_interaction"))
        .map_err(|_| ServiceError::BadRequest("Enter your address as name@server".into()))?;
    let actor = format!("{}/users/{}", ctx.base_url(), view.account.username);
    target.query_pairs_mut().append_pair("uri", &actor);
    Ok(target.into())
}
