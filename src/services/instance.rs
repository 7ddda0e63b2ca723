//! Facts about this instance that `/api/v1/instance` and `/api/v2/instance` report.
use super::views::{self, AccountView};
use super::{Ctx, ServiceResult};
use crate::db;

pub struct InstanceFacts {
    pub user_count: i64,
    pub status_count: i64,
    pub domain_count: i64,
    pub contact: Option<AccountView>,
}

pub async fn facts(ctx: &Ctx) -> ServiceResult<InstanceFacts> {
    let mut conn = ctx.conn().await?;
    let contact = db::accounts::first_admin(&mut conn).await?;
    let facts = InstanceFacts {
        user_count: db::accounts::count_active_local(&mut conn).await?,
        status_count: db::statuses::count_local(&mut conn).await?,
        domain_count: db::accounts::count_domains(&mut conn).await?,
        contact: None,
    };
    drop(conn);
    Ok(InstanceFacts {
        contact: match contact {
            Some(a) => Some(views::account(ctx, a).await?),
            None => None,
        },
        ..facts
    })
}

/// `GET /health`: is the database reachable?
pub async fn health(ctx: &Ctx) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    Ok(conn.ping().await?)
}
