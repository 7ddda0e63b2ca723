//! Keeping profiles fresh: members whose alumni profile is older than
//! `alumni.reminder_months` get a notification from one of their orgs (and
//! a mail, if they chose to get those by mail), once per such period.
use crate::db::{self, models::Notification};
use crate::domain::NotificationKind;
use crate::ids;
use crate::services::{Ctx, ServiceError, ServiceResult, streaming};

/// People reminded per pass (the next pass takes the rest).
const BATCH: i64 = 200;

/// Reminds the people due; returns how many.
pub async fn remind_due(ctx: &Ctx) -> ServiceResult<usize> {
    let months = ctx.config.alumni.reminder_months;
    if months == 0 {
        return Ok(0);
    }
    let now = ids::now();
    let before = now - chrono::Duration::days(30 * i64::from(months));
    let mut conn = ctx.conn().await?;
    let due = db::alumni::stale(&mut conn, before, BATCH).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = due.iter().map(|(id, _)| *id).collect();
    let orgs = db::alumni::verified_orgs_of(&mut conn, &ids).await?;
    let told = conn
        .transaction(async |tx| {
            let mut told = Vec::new();
            for (id, signed_up) in &due {
                // The org that asks: the one they joined first.
                let Some(org) = orgs.iter().filter(|(a, _)| a == id).map(|(_, o)| *o).min() else {
                    continue;
                };
                if !db::alumni::claim_reminder(tx, *id, now, before, *signed_up).await? {
                    continue;
                }
                let n = Notification {
                    id: ids::next_id(),
                    account_id: *id,
                    from_account_id: org,
                    kind: NotificationKind::ProfileReminder,
                    status_id: None,
                    created_at: now,
                };
                db::notifications::insert(tx, &n).await?;
                told.push(n);
            }
            Ok::<_, ServiceError>(told)
        })
        .await?;
    drop(conn);
    streaming::notifications(ctx, &told);
    Ok(told.len())
}

/// Hourly, on nodes with workers.
pub async fn keep_reminding(ctx: Ctx) {
    loop {
        match remind_due(&ctx).await {
            // A full batch: more may be due.
            Ok(n) if n as i64 >= BATCH => continue,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e.detail(), "reminding of stale alumni profiles failed")
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
}
