//! Conversations: a post's ancestors and descendants as the viewer may see them.
use super::*;

pub(super) const MAX_ANCESTORS: usize = 40;

pub(super) const MAX_DESCENDANTS: usize = 400;

/// Ancestors (oldest first) and descendants (thread order) the viewer may see,
/// both bounded so a hostile thread cannot make this unbounded work.
pub async fn context(
    ctx: &Ctx,
    viewer: Option<i64>,
    id: i64,
) -> ServiceResult<(Vec<StatusView>, Vec<StatusView>)> {
    let mut conn = ctx.conn().await?;
    let start = db::statuses::find_visible(&mut conn, id, viewer)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    let mut ancestors = Vec::new();
    let mut next = start.in_reply_to_id;
    while let Some(pid) = next {
        if ancestors.len() >= MAX_ANCESTORS {
            break;
        }
        match db::statuses::find_visible(&mut conn, pid, viewer).await? {
            Some(p) => {
                next = p.in_reply_to_id;
                ancestors.push(p);
            }
            None => break,
        }
    }
    ancestors.reverse();
    // Breadth-first by level, then arranged depth-first so replies follow their parent.
    let mut children: HashMap<i64, Vec<Status>> = HashMap::new();
    let mut frontier = vec![start.id];
    let mut total = 0;
    while !frontier.is_empty() && total < MAX_DESCENDANTS {
        let level = db::statuses::replies_to(&mut conn, &frontier).await?;
        frontier = level.iter().map(|s| s.id).collect();
        total += level.len();
        for s in level {
            if let Some(p) = s.in_reply_to_id {
                children.entry(p).or_default().push(s);
            }
        }
    }
    let mut ordered = Vec::new();
    let mut stack: Vec<Status> = children
        .remove(&start.id)
        .unwrap_or_default()
        .into_iter()
        .rev()
        .collect();
    while let Some(s) = stack.pop() {
        if let Some(kids) = children.remove(&s.id) {
            stack.extend(kids.into_iter().rev());
        }
        ordered.push(s);
    }
    let visible_ids: std::collections::HashSet<i64> = {
        let ids: Vec<i64> = ordered.iter().map(|s| s.id).collect();
        db::statuses::filter_visible(&mut conn, &ids, viewer)
            .await?
            .into_iter()
            .collect()
    };
    ordered.retain(|s| visible_ids.contains(&s.id));
    drop(conn);
    let (ancestors, descendants) = (
        views::statuses(ctx, viewer, ancestors).await?,
        views::statuses(ctx, viewer, ordered).await?,
    );
    match viewer {
        Some(v) => Ok((
            crate::services::organize::apply_filters(
                ctx,
                v,
                crate::domain::FilterContext::Thread,
                ancestors,
            )
            .await?,
            crate::services::organize::apply_filters(
                ctx,
                v,
                crate::domain::FilterContext::Thread,
                descendants,
            )
            .await?,
        )),
        None => Ok((ancestors, descendants)),
    }
}
