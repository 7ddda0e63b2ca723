//! Facts about this instance that `/api/v1/instance` and `/api/v2/instance` report.
use super::{Ctx, ServiceResult};
use crate::db;
use crate::db::models::Account;

pub struct InstanceFacts {
    pub user_count: i64,
    pub status_count: i64,
    pub domain_count: i64,
    pub contact: Option<Account>,
}

pub async fn facts(ctx: &Ctx) -> ServiceResult<InstanceFacts> {
    let mut conn = ctx.conn().await?;
    Ok(InstanceFacts {
        user_count: db::accounts::count_active_local(&mut conn).await?,
        // Statuses arrive with the client-API issue.
        status_count: 0,
        domain_count: db::accounts::count_domains(&mut conn).await?,
        contact: db::accounts::first_admin(&mut conn).await?,
    })
}

/// `GET /health`: is the database reachable?
pub async fn health(ctx: &Ctx) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    Ok(conn.ping().await?)
}
