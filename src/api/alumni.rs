//! `/api/v1/alumni/*` and `/api/v1/orgs/:id/directory`: alumni profiles with
//! per-field audiences, and the org's directory (docs/api.md).
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Auth;
use super::entities;
use super::error::ApiResult;
use super::params::{self, Params, de};
use super::statuses::parse_id;
use crate::app::AppState;
use crate::services::alumni::{self, ProfilePatch, ProfileView, directory};

fn profile_json(v: &ProfileView) -> Json<Value> {
    Json(serde_json::to_value(v).unwrap_or_default())
}

/// `GET /api/v1/alumni/profile`: one's own profile, with its audiences.
pub async fn mine(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:accounts")?;
    Ok(profile_json(&alumni::mine(&s.ctx, me).await?))
}

/// `PATCH /api/v1/alumni/profile`: the fields given replace the stored ones.
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Params { value, .. }: Params<Value>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    let patch: ProfilePatch = params::typed(params::with_sequences(value))?;
    Ok(profile_json(&alumni::update(&s.ctx, me, patch).await?))
}

/// `GET /api/v1/alumni/profile/:account_id`: what the caller may see.
pub async fn show(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = auth.optional_user("read:accounts")?;
    Ok(profile_json(&alumni::of(&s.ctx, me, parse_id(&id)?).await?))
}

#[derive(Deserialize)]
pub struct NowParams {
    #[serde(default)]
    text: String,
    #[serde(default, deserialize_with = "de::seq_opt")]
    audience: Option<Vec<String>>,
}

/// `PUT /api/v1/alumni/now`: the one-call "now" (近況) update.
pub async fn now(
    State(s): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<NowParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    Ok(profile_json(
        &alumni::set_now_line(&s.ctx, me, &p.text, p.audience).await?,
    ))
}

#[derive(Deserialize)]
pub struct VerifyParams {
    #[serde(default, deserialize_with = "de::bool_opt")]
    verified: Option<bool>,
}

/// `POST /api/v1/orgs/:id/tenures/:tenure_id/verify` (office): confirms a
/// period at the org (`verified=false` withdraws the confirmation).
pub async fn verify_tenure(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, tenure_id)): Path<(String, String)>,
    Params { value: p, .. }: Params<VerifyParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("write:accounts")?;
    let verified = alumni::verify_tenure(
        &s.ctx,
        me,
        parse_id(&id)?,
        parse_id(&tenure_id)?,
        p.verified.unwrap_or(true),
    )
    .await?;
    Ok(Json(json!({"id": tenure_id, "verified": verified})))
}

#[derive(Deserialize, Default)]
pub struct DirectoryParams {
    #[serde(default, deserialize_with = "de::seq_opt")]
    role: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::seq_opt")]
    division: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::string_opt")]
    tenure_from: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    tenure_to: Option<String>,
    #[serde(default, deserialize_with = "de::seq_opt")]
    industry: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::seq_opt")]
    country: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::seq_opt")]
    skills: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::seq_opt")]
    interests: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::seq_opt")]
    languages: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::seq_opt")]
    open_to: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::string_opt")]
    q: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    order: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    offset: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    limit: Option<String>,
    #[serde(default, deserialize_with = "de::bool_opt")]
    facets: Option<bool>,
}

/// `GET /api/v1/orgs/:id/directory`: members with filters, order, paging by
/// `offset`/`limit` and, with `facets=true`, counts per value.
pub async fn org_directory(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<DirectoryParams>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:accounts")?;
    let search = directory::Search {
        roles: p.role.unwrap_or_default(),
        divisions: p.division.unwrap_or_default(),
        tenure_from: params::number("tenure_from", p.tenure_from)?,
        tenure_to: params::number("tenure_to", p.tenure_to)?,
        industries: p.industry.unwrap_or_default(),
        countries: p.country.unwrap_or_default(),
        skills: p.skills.unwrap_or_default(),
        interests: p.interests.unwrap_or_default(),
        languages: p.languages.unwrap_or_default(),
        open_to: p.open_to.unwrap_or_default(),
        text: p.q,
        order: p.order,
        offset: params::number("offset", p.offset)?,
        limit: params::number("limit", p.limit)?,
        facets: p.facets.unwrap_or(false),
    };
    let page = directory::search(&s.ctx, me, parse_id(&id)?, &search).await?;
    let members: Vec<Value> = page
        .members
        .iter()
        .map(|e| {
            json!({
                "account": entities::account(&s.ctx, &e.account),
                "role": e.role,
                "profile": e.profile,
            })
        })
        .collect();
    let mut out = json!({
        "total": page.total,
        "offset": page.offset,
        "limit": page.limit,
        "members": members,
    });
    if let Some(f) = &page.facets {
        out["facets"] = serde_json::to_value(f).unwrap_or_default();
    }
    Ok(Json(out))
}

/// `GET /api/v1/orgs/:id/directory/export` (office): the directory as CSV,
/// people who chose to be listed, fields released to the office.
pub async fn export(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    let (_, me) = auth.user("read:accounts")?;
    let org_id = parse_id(&id)?;
    let body = directory::export_csv(&s.ctx, me, org_id).await?;
    Ok(crate::web::office::csv_download(
        &format!("directory-{org_id}.csv"),
        body,
    ))
}

/// `GET /api/v1/orgs/:id/directory/stats` (office): members by role and by
/// how complete their profiles are.
pub async fn stats(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, me) = auth.user("read:accounts")?;
    let st = directory::stats(&s.ctx, me, parse_id(&id)?).await?;
    Ok(Json(serde_json::to_value(st).unwrap_or_default()))
}
