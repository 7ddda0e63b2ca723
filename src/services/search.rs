//! Search over accounts, hashtags and statuses.
use super::alumni::{self, audience::Reader};
use super::views::{self, AccountView, StatusView};
use super::{Ctx, ServiceError, ServiceResult, accounts};
use crate::db;

#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub q: String,
    /// accounts | hashtags | statuses; None for all three.
    pub kind: Option<String>,
    pub following: bool,
    pub account_id: Option<i64>,
    pub limit: i64,
    pub offset: i64,
    /// Look unknown `user@host` and URLs up on their servers.
    pub resolve: bool,
}

#[derive(Default)]
pub struct SearchResults {
    pub accounts: Vec<AccountView>,
    pub statuses: Vec<StatusView>,
    pub hashtags: Vec<String>,
}

pub async fn search(
    ctx: &Ctx,
    viewer: Option<i64>,
    q: SearchQuery,
) -> ServiceResult<SearchResults> {
    let text = q.q.trim();
    if text.is_empty() {
        return Ok(SearchResults::default());
    }
    if let Some(k) = &q.kind
        && !matches!(k.as_str(), "accounts" | "hashtags" | "statuses")
    {
        return Err(ServiceError::BadRequest(format!(
            "Invalid parameter type: {k:?} is not accounts, hashtags or statuses"
        )));
    }
    let wants = |k: &str| q.kind.as_deref().is_none_or(|w| w == k);
    let mut out = SearchResults::default();
    // Only signed-in people make the server fetch from others (as Mastodon).
    if q.resolve && viewer.is_some() && q.offset == 0 {
        let mut remote = None;
        if text.starts_with("https://") || text.starts_with("http://") {
            remote = ctx.fed.resolve(ctx, text).await.ok().flatten();
        } else if let Some((user, host)) = text.trim_start_matches('@').split_once('@')
            && !user.is_empty()
            && !host.is_empty()
            && !host.contains('@')
        {
            remote = ctx
                .fed
                .account_by_acct(ctx, user, host)
                .await
                .ok()
                .map(|a| crate::services::remote::Resolved::Account(Box::new(a)));
        }
        match remote {
            Some(crate::services::remote::Resolved::Account(a)) if wants("accounts") => {
                out.accounts = views::accounts(ctx, vec![*a]).await?;
                return Ok(out);
            }
            Some(crate::services::remote::Resolved::Status(s)) if wants("statuses") => {
                let mut conn = ctx.conn().await?;
                let visible = db::statuses::find_visible(&mut conn, s.id, viewer).await?;
                drop(conn);
                out.statuses = views::statuses(ctx, viewer, visible.into_iter().collect()).await?;
                return Ok(out);
            }
            _ => {}
        }
    }
    let mut conn = ctx.conn().await?;
    let following_of = if q.following { viewer } else { None };
    if wants("accounts") && !(q.following && viewer.is_none()) {
        let reader = match viewer {
            Some(id) => Reader::of_account(&mut conn, id).await?,
            None => Reader::anonymous(),
        };
        let reach = reader.search_reach();
        let found =
            db::search::accounts(&mut conn, text, following_of, &reach, q.limit, q.offset).await?;
        // Found by a profile field: checked once more where every output
        // is decided.
        let needle = text.trim_start_matches('@').to_lowercase();
        let by_name = |a: &crate::db::models::Account| {
            a.acct_key.starts_with(&needle) || a.display_name.to_lowercase().contains(&needle)
        };
        let others: Vec<i64> = found
            .iter()
            .filter(|(a, _)| !by_name(a))
            .map(|(a, _)| a.id)
            .collect();
        let loaded = alumni::Loaded::of(&mut conn, &others).await?;
        drop(conn);
        let found: Vec<_> = found
            .into_iter()
            .filter(|(a, _)| by_name(a) || loaded.found_by(&reader, a.id, &needle))
            .collect();
        // Pending or disabled local people are not found.
        let shown: Vec<_> = found
            .into_iter()
            .filter_map(|f| accounts::visible(ctx, f))
            .collect();
        out.accounts = views::accounts(ctx, shown).await?;
        conn = ctx.conn().await?;
    }
    if wants("hashtags") {
        out.hashtags = db::search::tags(&mut conn, text, q.limit, q.offset).await?;
    }
    if wants("statuses") {
        let found =
            db::search::statuses(&mut conn, text, viewer, q.account_id, q.limit, q.offset).await?;
        drop(conn);
        out.statuses = views::statuses(ctx, viewer, found).await?;
    }
    Ok(out)
}
