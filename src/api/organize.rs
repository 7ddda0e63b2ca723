//! Lists, filters, markers, blocks and mutes, featured tags, conversations,
//! announcements and trends.
use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Auth;
use super::entities;
use super::error::{ApiError, ApiResult};
use super::pagination::{Pager, accounts_page, paged};
use super::params::{Params, de};
use super::statuses::parse_id;
use crate::app::AppState;
use crate::services::organize::{self, FilterInput};
use crate::services::social;

fn ids(list: Option<Vec<String>>) -> ApiResult<Vec<i64>> {
    list.unwrap_or_default()
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| ApiError::not_found()))
        .collect()
}

// ---- lists ----

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    title: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    replies_policy: Option<String>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    exclusive: Option<bool>,
    #[serde(default, deserialize_with = "de::seq_opt")]
    account_ids: Option<Vec<String>>,
}

pub async fn lists(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:lists")?;
    let l = organize::lists(&s.ctx, me).await?;
    Ok(Json(Value::Array(l.iter().map(entities::list).collect())))
}

pub async fn create_list(
    State(s): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<ListParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:lists")?;
    let l = organize::save_list(
        &s.ctx,
        me,
        None,
        Some(p.title.unwrap_or_default()),
        p.replies_policy,
        p.exclusive,
    )
    .await?;
    Ok(Json(entities::list(&l)))
}

pub async fn show_list(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:lists")?;
    Ok(Json(entities::list(
        &organize::list(&s.ctx, me, parse_id(&id)?).await?,
    )))
}

pub async fn update_list(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<ListParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:lists")?;
    let l = organize::save_list(
        &s.ctx,
        me,
        Some(parse_id(&id)?),
        p.title,
        p.replies_policy,
        p.exclusive,
    )
    .await?;
    Ok(Json(entities::list(&l)))
}

pub async fn delete_list(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:lists")?;
    organize::delete_list(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

pub async fn list_accounts(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (_, me) = auth.user("read:lists")?;
    let rows = organize::list_members(&s.ctx, me, parse_id(&id)?, paging.page).await?;
    Ok(accounts_page(&s.ctx, &paging, &rows))
}

pub async fn add_list_accounts(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<ListParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:lists")?;
    organize::add_to_list(&s.ctx, me, parse_id(&id)?, &ids(p.account_ids)?).await?;
    Ok(Json(json!({})))
}

pub async fn remove_list_accounts(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<ListParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:lists")?;
    organize::remove_from_list(&s.ctx, me, parse_id(&id)?, &ids(p.account_ids)?).await?;
    Ok(Json(json!({})))
}

pub async fn list_timeline(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (_, me) = auth.user("read:lists")?;
    let views = organize::list_timeline(&s.ctx, me, parse_id(&id)?, paging.page).await?;
    Ok(super::pagination::timeline_page(&s.ctx, &paging, &views))
}

pub async fn account_lists(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:lists")?;
    let l = organize::lists_with(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(Value::Array(l.iter().map(entities::list).collect())))
}

// ---- filters ----

#[derive(Deserialize)]
pub struct KeywordParam {
    #[serde(default, deserialize_with = "de::string_opt")]
    keyword: Option<String>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    whole_word: Option<bool>,
    #[serde(default, deserialize_with = "de::string_opt")]
    id: Option<String>,
    #[serde(default, rename = "_destroy", deserialize_with = "de::bool_opt")]
    destroy: Option<bool>,
}

#[derive(Deserialize)]
pub struct FilterParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    title: Option<String>,
    #[serde(default, deserialize_with = "de::seq_opt")]
    context: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::string_opt")]
    filter_action: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    expires_in: Option<String>,
    #[serde(default, deserialize_with = "de::seq_opt")]
    keywords_attributes: Option<Vec<KeywordParam>>,
}

/// A change to an existing keyword: (id, new keyword, new whole_word, destroy).
type KeywordChange = (i64, Option<String>, Option<bool>, bool);

fn filter_input(p: FilterParams) -> ApiResult<(FilterInput, Vec<KeywordChange>)> {
    let expires_in = match p.expires_in.as_deref().filter(|e| !e.is_empty()) {
        Some(e) => Some(
            e.parse::<i64>()
                .map_err(|_| ApiError::invalid_param("expires_in", "not a number of seconds"))?,
        ),
        None => None,
    };
    let mut add = Vec::new();
    let mut changes = Vec::new();
    for k in p.keywords_attributes.unwrap_or_default() {
        match k.id.as_deref().filter(|i| !i.is_empty()) {
            Some(id) => changes.push((
                parse_id(id)?,
                k.keyword,
                k.whole_word,
                k.destroy.unwrap_or(false),
            )),
            None => add.push((k.keyword.unwrap_or_default(), k.whole_word.unwrap_or(true))),
        }
    }
    Ok((
        FilterInput {
            title: p.title,
            context: p.context,
            action: p.filter_action,
            expires_in,
            keywords: add,
        },
        changes,
    ))
}

pub async fn filters(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:filters")?;
    let list = organize::filters(&s.ctx, me).await?;
    Ok(Json(Value::Array(
        list.iter().map(entities::filter).collect(),
    )))
}

pub async fn filters_v1(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:filters")?;
    Ok(Json(entities::filters_v1(
        &organize::filters(&s.ctx, me).await?,
    )))
}

pub async fn create_filter(
    State(s): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<FilterParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:filters")?;
    let (input, _) = filter_input(p)?;
    Ok(Json(entities::filter(
        &organize::save_filter(&s.ctx, me, None, input).await?,
    )))
}

pub async fn show_filter(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:filters")?;
    Ok(Json(entities::filter(
        &organize::filter(&s.ctx, me, parse_id(&id)?).await?,
    )))
}

pub async fn update_filter(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<FilterParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:filters")?;
    let id = parse_id(&id)?;
    let (input, changes) = filter_input(p)?;
    organize::filter(&s.ctx, me, id).await?;
    for (kid, word, whole, destroy) in changes {
        if destroy {
            organize::delete_keyword(&s.ctx, me, kid).await?;
        } else {
            organize::update_keyword(&s.ctx, me, kid, word, whole).await?;
        }
    }
    Ok(Json(entities::filter(
        &organize::save_filter(&s.ctx, me, Some(id), input).await?,
    )))
}

pub async fn delete_filter(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:filters")?;
    organize::delete_filter(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

pub async fn filter_keywords(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:filters")?;
    let f = organize::filter(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(Value::Array(
        f.keywords.iter().map(entities::filter_keyword).collect(),
    )))
}

pub async fn add_filter_keyword(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<KeywordParam>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:filters")?;
    let k = organize::add_keyword(
        &s.ctx,
        me,
        parse_id(&id)?,
        p.keyword.unwrap_or_default(),
        p.whole_word.unwrap_or(true),
    )
    .await?;
    Ok(Json(entities::filter_keyword(&k)))
}

pub async fn show_filter_keyword(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:filters")?;
    let (_, k) = organize::keyword(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(entities::filter_keyword(&k)))
}

pub async fn update_filter_keyword(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<KeywordParam>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:filters")?;
    let k = organize::update_keyword(&s.ctx, me, parse_id(&id)?, p.keyword, p.whole_word).await?;
    Ok(Json(entities::filter_keyword(&k)))
}

pub async fn delete_filter_keyword(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:filters")?;
    organize::delete_keyword(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

// ---- markers ----

pub async fn markers(State(s): State<AppState>, auth: Auth, uri: Uri) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:statuses")?;
    let wanted: Vec<String> = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "timeline[]" || k == "timeline")
        .map(|(_, v)| v.into_owned())
        .collect();
    let list: Vec<_> = organize::markers(&s.ctx, me)
        .await?
        .into_iter()
        .filter(|m| wanted.is_empty() || wanted.contains(&m.timeline))
        .collect();
    Ok(Json(entities::markers(&list)))
}

#[derive(Deserialize, Default)]
pub struct MarkerParam {
    #[serde(default, deserialize_with = "de::string_opt")]
    last_read_id: Option<String>,
}

#[derive(Deserialize)]
pub struct MarkerParams {
    home: Option<MarkerParam>,
    notifications: Option<MarkerParam>,
}

pub async fn set_markers(
    State(s): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<MarkerParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:statuses")?;
    let mut updates = Vec::new();
    for (name, m) in [("home", p.home), ("notifications", p.notifications)] {
        if let Some(id) = m.and_then(|m| m.last_read_id).filter(|i| !i.is_empty()) {
            let id = id.parse().map_err(|_| {
                ApiError::invalid_param(&format!("{name}[last_read_id]"), "not an ID")
            })?;
            updates.push((name.to_owned(), id));
        }
    }
    if updates.is_empty() {
        return Err(ApiError::bad_request(
            "Missing parameter: home[last_read_id] or notifications[last_read_id]",
        ));
    }
    Ok(Json(entities::markers(
        &organize::set_markers(&s.ctx, me, updates).await?,
    )))
}

// ---- blocks and mutes ----

#[derive(Deserialize)]
pub struct MuteParams {
    #[serde(default, deserialize_with = "de::bool_opt")]
    notifications: Option<bool>,
    #[serde(default, deserialize_with = "de::string_opt")]
    duration: Option<String>,
}

pub async fn block_action(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, action)): Path<(String, String)>,
    Params { value: p, .. }: Params<MuteParams>,
) -> ApiResult<Json<Value>> {
    let target = parse_id(&id)?;
    let me = match action.as_str() {
        "block" | "unblock" => auth.user("write:blocks")?.1,
        "mute" | "unmute" => auth.user("write:mutes")?.1,
        _ => return Err(ApiError::not_found()),
    };
    match action.as_str() {
        "block" => organize::block(&s.ctx, me, target, true).await?,
        "unblock" => organize::block(&s.ctx, me, target, false).await?,
        "mute" => {
            let duration = p
                .duration
                .as_deref()
                .filter(|d| !d.is_empty())
                .map(str::parse::<i64>)
                .transpose()
                .map_err(|_| ApiError::invalid_param("duration", "not a number of seconds"))?;
            organize::mute(
                &s.ctx,
                me,
                target,
                true,
                p.notifications.unwrap_or(true),
                duration,
            )
            .await?
        }
        _ => organize::mute(&s.ctx, me, target, false, false, None).await?,
    }
    let r = social::relationships(&s.ctx, me.account.id, &[target]).await?;
    Ok(Json(entities::relationship(&r[0])))
}

async fn blocked_list(
    s: AppState,
    auth: Auth,
    paging: super::pagination::Paging,
    muted: bool,
) -> ApiResult<Response> {
    let (_, me) = auth.user(if muted { "read:mutes" } else { "read:blocks" })?;
    let rows = organize::blocked_or_muted(&s.ctx, me, muted, paging.page).await?;
    Ok(accounts_page(&s.ctx, &paging, &rows))
}

pub async fn blocks(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
) -> ApiResult<Response> {
    blocked_list(s, auth, paging, false).await
}

pub async fn mutes(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
) -> ApiResult<Response> {
    blocked_list(s, auth, paging, true).await
}

// ---- featured tags ----

#[derive(Deserialize)]
pub struct TagParams {
    #[serde(default, deserialize_with = "de::string_opt")]
    name: Option<String>,
}

pub async fn featured_tags(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:accounts")?;
    let list = organize::featured_tags(&s.ctx, me.account.id).await?;
    Ok(Json(Value::Array(
        list.iter()
            .map(|(id, n)| entities::featured_tag(&s.ctx, *id, n))
            .collect(),
    )))
}

pub async fn account_featured_tags(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = parse_id(&id)?;
    crate::services::accounts::get(&s.ctx, id).await?;
    let list = organize::featured_tags(&s.ctx, id).await?;
    Ok(Json(Value::Array(
        list.iter()
            .map(|(id, n)| entities::featured_tag(&s.ctx, *id, n))
            .collect(),
    )))
}

pub async fn feature_tag(
    State(s): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<TagParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    let (id, name) = organize::feature_tag(&s.ctx, me, &p.name.unwrap_or_default()).await?;
    Ok(Json(entities::featured_tag(&s.ctx, id, &name)))
}

pub async fn unfeature_tag(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    organize::unfeature_tag(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

// ---- conversations ----

pub async fn conversations(
    State(s): State<AppState>,
    auth: Auth,
    Pager(paging): Pager,
) -> ApiResult<Response> {
    let (_, me) = auth.user("read:statuses")?;
    let list = organize::conversations(&s.ctx, me, paging.page).await?;
    let keys: Vec<i64> = list.iter().map(|c| c.conversation.last_status_id).collect();
    Ok(paged(
        &paging,
        &keys,
        list.iter()
            .map(|c| entities::conversation(&s.ctx, c))
            .collect::<Vec<_>>(),
    ))
}

pub async fn read_conversation(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:conversations")?;
    let c = organize::read_conversation(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(entities::conversation(&s.ctx, &c)))
}

pub async fn remove_conversation(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:conversations")?;
    organize::remove_conversation(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

// ---- announcements and trends ----

pub async fn announcements(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let viewer = match &auth.0 {
        Some(_) => Some(auth.user("read")?.1.account.id),
        None => None,
    };
    let list = organize::announcements(&s.ctx, viewer).await?;
    Ok(Json(Value::Array(
        list.iter()
            .map(|(a, read)| entities::announcement(a, *read))
            .collect(),
    )))
}

pub async fn dismiss_announcement(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    organize::dismiss_announcement(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

/// Trends are not computed yet: an honest empty list.
pub async fn trends() -> Json<Value> {
    Json(json!([]))
}
