//! The alumni office's pages (事務局): per org a dashboard of network
//! activity (charts beside tables, CSV), membership requests, members (roles,
//! graduation, removal), roster import with preview and a report of bad rows,
//! and announcements. Each page calls the same service as the client API.
use axum::Form;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::{Value as TplValue, context};
use serde::Deserialize;

use super::session::Visit;
use super::{member::member_or_redirect, post_context};
use crate::app::AppState;
use crate::db::models::{LocalUser, RosterImport};
use crate::db::statuses::Page;
use crate::domain::{ImportState, MembershipState, OrgKind, Role};
use crate::services::memberships::MembershipView;
use crate::services::roster::{self, ImportReport};
use crate::services::stats::{self, Count, NetworkActivity, Period};
use crate::services::statuses::NewStatus;
use crate::services::{ServiceError, ServiceResult, memberships, orgs, timelines};

const PAGE_SIZE: i64 = 50;

pub fn routes(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/office", get(index))
        .route("/office/orgs/{id}", get(dashboard))
        .route("/office/orgs/{id}/activity.csv", get(activity_csv))
        .route("/office/orgs/{id}/reach.csv", get(reach_csv))
        .route("/office/orgs/{id}/requests", get(requests))
        .route("/office/orgs/{id}/requests/{mid}/{decision}", post(decide))
        .route("/office/orgs/{id}/members", get(members))
        .route(
            "/office/orgs/{id}/members/{account_id}/{action}",
            post(member_action),
        )
        .route(
            "/office/orgs/{id}/roster",
            get(roster_page)
                .post(roster_upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    roster::MAX_WEB_FILE + 64 * 1024,
                )),
        )
        .route("/office/orgs/{id}/roster/{import_id}", get(roster_import))
        .route(
            "/office/orgs/{id}/roster/{import_id}/start",
            post(roster_start),
        )
        .route(
            "/office/orgs/{id}/roster/{import_id}/bad_rows.csv",
            get(bad_rows_csv),
        )
        .route(
            "/office/orgs/{id}/announcements",
            get(announcements).post(announce),
        )
        .route(
            "/office/orgs/{id}/invitations",
            get(invitations).post(invite),
        )
        .route(
            "/office/orgs/{id}/invitations/{invite_id}/revoke",
            post(revoke_invitation),
        )
        .route("/office/orgs/{id}/clubs", get(clubs).post(recognise_club))
        .route(
            "/office/orgs/{id}/clubs/{club_id}/{action}",
            post(club_action),
        )
        .route("/office/orgs/{id}/blocks", get(blocks).post(block))
        .route("/office/orgs/{id}/blocks/{block_id}/remove", post(unblock))
        .route(
            "/office/orgs/{id}/profile",
            get(profile)
                .post(save_profile)
                .layer(axum::extract::DefaultBodyLimit::max(upload_limit)),
        )
}

/// A service's refusal as a page with the right status.
fn failed(s: &AppState, v: &Visit, e: ServiceError) -> Response {
    super::refused_page(s, v, e, "office-forbidden")
}

/// The signed-in office member of org `id` (with the org's name), or the
/// page to show instead.
async fn office<'v>(
    s: &AppState,
    v: &'v Visit,
    id: i64,
) -> Result<(&'v LocalUser, TplValue), Response> {
    let me = member_or_redirect(s, v).await?;
    let org = orgs::get(&s.ctx, id).await.map_err(|e| failed(s, v, e))?;
    let allowed = async {
        let mut conn = s.ctx.conn().await?;
        memberships::is_office(&mut conn, id, me).await
    }
    .await
    .map_err(|e| failed(s, v, e))?;
    if !allowed || !org.account.account.local {
        return Err(failed(s, v, ServiceError::Forbidden(String::new())));
    }
    let org = context! {
        id => id.to_string(),
        name => org.account.account.shown_name(),
        username => org.account.account.username.clone(),
        official => org.org.kind == OrgKind::Official,
    };
    Ok((me, org))
}

/// Back to the office's page `to` (with its toast) once an action is done,
/// or the page saying why it was refused.
fn done_or_refused<T>(s: &AppState, v: &Visit, done: ServiceResult<T>, to: &str) -> Response {
    match done {
        Ok(_) => v.redirect(to),
        Err(e) => failed(s, v, e),
    }
}

/// The office member behind a submitted form whose CSRF token matches the
/// browser's.
async fn office_form<'v>(
    s: &AppState,
    v: &'v Visit,
    id: i64,
    token: &str,
) -> Result<&'v LocalUser, Response> {
    let (me, _) = office(s, v, id).await?;
    if v.csrf_ok(token) {
        Ok(me)
    } else {
        let msg = s.web.i18n.t(v.lang, "error-csrf", &[]);
        Err(v.message(s, StatusCode::FORBIDDEN, "page-error", msg))
    }
}

async fn index(State(s): State<AppState>, v: Visit) -> Response {
    let me = match member_or_redirect(&s, &v).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let list = match orgs::offices_of(&s.ctx, me).await {
        Ok(l) => l,
        Err(e) => return failed(&s, &v, e),
    };
    let orgs: Vec<TplValue> = list
        .iter()
        .map(|a| context! { id => a.id.to_string(), name => a.shown_name() })
        .collect();
    v.render(
        &s,
        StatusCode::OK,
        "office_index.html",
        context! { nav => "office", orgs },
    )
}

#[derive(Deserialize, Default)]
pub struct PeriodQuery {
    #[serde(default)]
    period: Option<String>,
}

fn period_of(q: &PeriodQuery) -> Period {
    q.period
        .as_deref()
        .and_then(Period::parse)
        .unwrap_or(Period::Month)
}

/// A bucket's label on a chart's axis and in the table.
fn bucket_label(lang: &str, b: &stats::Bucket, width: i64) -> String {
    let day = |d: chrono::NaiveDate| {
        if lang == "ja" {
            d.format("%-m/%-d").to_string()
        } else {
            d.format("%-d %b").to_string()
        }
    };
    if width == 1 {
        day(b.span.first)
    } else {
        format!("{}–{}", day(b.span.first), day(b.span.last))
    }
}

/// One chart with its table: rows are buckets, columns the series.
fn figure(
    title: String,
    svg: String,
    columns: Vec<String>,
    rows: Vec<(String, Vec<Count>)>,
) -> TplValue {
    let rows: Vec<TplValue> = rows
        .into_iter()
        .map(|(label, cells)| {
            let cells: Vec<String> = cells.iter().map(Count::to_string).collect();
            context! { label, cells }
        })
        .collect();
    context! {
        title,
        svg => TplValue::from_safe_string(svg),
        columns,
        rows,
    }
}

fn figures(s: &AppState, lang: &str, a: &NetworkActivity) -> Vec<TplValue> {
    let t = |id: &str| s.web.i18n.t(lang, id, &[]);
    let width = a.period.bucket_days();
    let labels: Vec<String> = a
        .buckets
        .iter()
        .map(|b| bucket_label(lang, b, width))
        .collect();
    let role_name = |r: Role| t(&format!("office-role-{r}"));
    let mut out = Vec::new();

    // Members by role over time: a line per role, and the total.
    let series: Vec<(String, Vec<Count>)> = Role::ALL
        .iter()
        .map(|r| {
            (
                role_name(*r),
                a.buckets.iter().map(|b| b.members[r]).collect(),
            )
        })
        .chain([(
            t("office-total"),
            a.buckets.iter().map(|b| b.members_total).collect(),
        )])
        .collect();
    let svg = super::charts::lines(
        &t("office-chart-members"),
        &labels,
        &series
            .iter()
            .map(|(name, values)| super::charts::Series {
                name,
                values: values.iter().map(|c| c.plotted()).collect(),
            })
            .collect::<Vec<_>>(),
    );
    out.push(figure(
        t("office-chart-members"),
        svg,
        series.iter().map(|(n, _)| n.clone()).collect(),
        labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.clone(), series.iter().map(|(_, v)| v[i]).collect()))
            .collect(),
    ));

    // One bar chart per figure.
    type Pick = fn(&stats::Bucket) -> Count;
    let bars: [(&str, Pick); 4] = [
        ("office-chart-new", |b| b.new_members),
        ("office-chart-active", |b| b.active_members),
        ("office-chart-posts", |b| b.posts),
        ("office-chart-reactions", |b| b.reactions),
    ];
    for (id, pick) in bars {
        let values: Vec<Count> = a.buckets.iter().map(pick).collect();
        let plotted: Vec<Option<i64>> = values.iter().map(|c| c.plotted()).collect();
        let svg = super::charts::bars(&t(id), &labels, &plotted);
        out.push(figure(
            t(id),
            svg,
            vec![t(id)],
            labels
                .iter()
                .cloned()
                .zip(values.into_iter().map(|c| vec![c]))
                .collect(),
        ));
    }

    // Reach: the org's followers by server.
    let here = s.ctx.config.server.domain.clone();
    let mut servers: Vec<(String, Count)> = a
        .reach
        .iter()
        .map(|r| {
            (
                r.server.clone().unwrap_or_else(|| here.clone()),
                r.followers,
            )
        })
        .collect();
    if a.reach_others != Count::Exact(0) {
        servers.push((t("office-others"), a.reach_others));
    }
    let names: Vec<String> = servers.iter().map(|(n, _)| n.clone()).collect();
    let svg = super::charts::bars(
        &t("office-chart-reach"),
        &names,
        &servers.iter().map(|(_, c)| c.plotted()).collect::<Vec<_>>(),
    );
    out.push(figure(
        t("office-chart-reach"),
        svg,
        vec![t("office-followers")],
        servers.into_iter().map(|(n, c)| (n, vec![c])).collect(),
    ));
    out
}

async fn dashboard(
    State(s): State<AppState>,
    v: Visit,
    Path(id): Path<i64>,
    Query(q): Query<PeriodQuery>,
) -> Response {
    let (me, org) = match office(&s, &v, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let period = period_of(&q);
    let a = match stats::network_activity(&s.ctx, me, id, period).await {
        Ok(a) => a,
        Err(e) => return failed(&s, &v, e),
    };
    let waiting = match memberships::requests(&s.ctx, me, id, Page::default()).await {
        Ok(r) => r.len(),
        Err(e) => return failed(&s, &v, e),
    };
    let t = |id: &str| s.web.i18n.t(v.lang, id, &[]);
    let totals = &a.totals;
    let summary: Vec<TplValue> = Role::ALL
        .iter()
        .map(|r| (t(&format!("office-role-{r}")), totals.members[r]))
        .chain([
            (t("office-total"), totals.members_total),
            (t("office-chart-new"), totals.new_members),
            (t("office-chart-active"), totals.active_members),
            (t("office-posting"), totals.posting_members),
            (t("office-reacting"), totals.reacting_members),
            (t("office-signed-in"), totals.signed_in_members),
            (t("office-chart-posts"), totals.posts),
            (t("office-chart-reactions"), totals.reactions),
        ])
        .map(|(name, c)| context! { name, value => c.to_string() })
        .collect();
    let periods: Vec<TplValue> = Period::ALL
        .iter()
        .map(|p| {
            context! {
                value => p.as_str(),
                name => s.web.i18n.t(v.lang, "office-period", &[("days", p.as_str().to_owned())]),
                current => *p == period,
            }
        })
        .collect();
    v.render(
        &s,
        StatusCode::OK,
        "office.html",
        context! {
            nav => "office",
            tab => "overview",
            org,
            waiting,
            periods,
            period => period.as_str(),
            first_day => a.span.first.to_string(),
            last_day => a.span.last.to_string(),
            summary,
            figures => figures(&s, v.lang, &a),
        },
    )
}

pub(crate) fn csv_download(name: &str, body: String) -> Response {
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        // A byte-order mark, so Excel reads the UTF-8 (Japanese names) right.
        format!("\u{feff}{body}"),
    )
        .into_response()
}

async fn activity_csv(
    State(s): State<AppState>,
    v: Visit,
    Path(id): Path<i64>,
    Query(q): Query<PeriodQuery>,
) -> Response {
    let (me, _) = match office(&s, &v, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let period = period_of(&q);
    match stats::network_activity(&s.ctx, me, id, period).await {
        Ok(a) => csv_download(
            &format!("activity-{id}-{}d.csv", period.as_str()),
            stats::activity_csv(&a),
        ),
        Err(e) => failed(&s, &v, e),
    }
}

async fn reach_csv(State(s): State<AppState>, v: Visit, Path(id): Path<i64>) -> Response {
    let (me, _) = match office(&s, &v, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    match stats::reach(&s.ctx, me, id).await {
        Ok((reach, others)) => csv_download(
            &format!("reach-{id}.csv"),
            stats::reach_csv(&reach, others, &s.ctx.config.server.domain),
        ),
        Err(e) => failed(&s, &v, e),
    }
}

/// A membership for the office's lists.
fn membership_context(s: &AppState, v: &MembershipView) -> TplValue {
    let m = &v.membership;
    let a = &v.account.account;
    let (avatar, initial) = super::avatar(s, a);
    let roster = v.roster_match.as_ref().map(|r| {
        context! {
            name => r.entry.name.clone(),
            tenure_from => r.entry.tenure_from.clone(),
            tenure_to => r.entry.tenure_to.clone(),
            divisions => r.entry.divisions.replace(';', ", "),
            role => r.entry.role.as_str(),
            proven => r.email_proven,
        }
    });
    context! {
        id => m.id.to_string(),
        account_id => a.id.to_string(),
        link => super::account_link(s, a),
        avatar,
        initial,
        role => m.role.as_str(),
        via => m.via.as_str(),
        tenure_from => m.tenure_from.clone(),
        tenure_to => m.tenure_to.clone(),
        divisions => memberships::divisions_of(m).join(", "),
        message => m.message.clone(),
        left_on => m.left_on.clone(),
        graduation_requested_on => m.graduation_requested_on.clone(),
        roster,
    }
}

async fn requests(State(s): State<AppState>, v: Visit, Path(id): Path<i64>) -> Response {
    let (me, org) = match office(&s, &v, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let page = Page {
        limit: PAGE_SIZE,
        ..Page::default()
    };
    let list = match memberships::requests(&s.ctx, me, id, page).await {
        Ok(l) => l,
        Err(e) => return failed(&s, &v, e),
    };
    let requests: Vec<TplValue> = list.iter().map(|m| membership_context(&s, m)).collect();
    v.render(
        &s,
        StatusCode::OK,
        "office_requests.html",
        context! { nav => "office", tab => "requests", org, requests },
    )
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    authenticity_token: String,
}

#[derive(Deserialize, Default)]
pub struct DecideForm {
    #[serde(default)]
    authenticity_token: String,
    #[serde(default)]
    reason: String,
}

async fn decide(
    State(s): State<AppState>,
    v: Visit,
    Path((id, mid, decision)): Path<(i64, i64, String)>,
    Form(f): Form<DecideForm>,
) -> Response {
    let me = match office_form(&s, &v, id, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return failed(&s, &v, ServiceError::not_found()),
    };
    let reason = (!approve).then_some(f.reason);
    match memberships::decide(&s.ctx, me, id, mid, approve, reason).await {
        Ok(_) => {
            let done = if approve { "approved" } else { "rejected" };
            v.redirect(&format!("/office/orgs/{id}/requests?done={done}"))
        }
        Err(e) => failed(&s, &v, e),
    }
}

#[derive(Deserialize, Default)]
pub struct MembersQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    max_id: Option<i64>,
}

async fn members(
    State(s): State<AppState>,
    v: Visit,
    Path(id): Path<i64>,
    Query(q): Query<MembersQuery>,
) -> Response {
    let (me, org) = match office(&s, &v, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let role = Role::parse(&q.role);
    let text: String = q.q.trim().chars().take(100).collect();
    let page = Page {
        max_id: q.max_id,
        limit: PAGE_SIZE,
        ..Page::default()
    };
    let list = match memberships::list_matching(
        &s.ctx,
        Some(me),
        id,
        Some(MembershipState::Verified.as_str()),
        role.map(Role::as_str),
        Some(&text),
        page,
    )
    .await
    {
        Ok(l) => l,
        Err(e) => return failed(&s, &v, e),
    };
    let older = (list.len() as i64 >= PAGE_SIZE)
        .then(|| list.last())
        .flatten()
        .map(|m| {
            let mut q2 = form_urlencoded::Serializer::new(String::new());
            q2.append_pair("q", &text);
            q2.append_pair("role", role.map_or("", Role::as_str));
            q2.append_pair("max_id", &m.membership.id.to_string());
            format!("/office/orgs/{id}/members?{}", q2.finish())
        });
    let members: Vec<TplValue> = list.iter().map(|m| membership_context(&s, m)).collect();
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    v.render(
        &s,
        StatusCode::OK,
        "office_members.html",
        context! {
            nav => "office",
            tab => "members",
            org,
            members,
            roles,
            q => text,
            role => role.map(Role::as_str),
            older,
            today => crate::ids::now().date().to_string(),
        },
    )
}

#[derive(Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    authenticity_token: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    left_on: String,
}

async fn member_action(
    State(s): State<AppState>,
    v: Visit,
    Path((id, account_id, action)): Path<(i64, i64, String)>,
    Form(f): Form<MemberForm>,
) -> Response {
    let me = match office_form(&s, &v, id, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let (outcome, done) = match action.as_str() {
        "role" => (
            memberships::set_role(&s.ctx, me, id, account_id, &f.role).await,
            "role-changed",
        ),
        "graduate" => (
            memberships::graduate(
                &s.ctx,
                me,
                id,
                account_id,
                Some(f.left_on.clone()).filter(|d| !d.is_empty()),
                vec![],
                None,
            )
            .await,
            "graduated",
        ),
        "remove" => (
            memberships::remove(&s.ctx, me, id, account_id).await,
            "removed",
        ),
        _ => return failed(&s, &v, ServiceError::not_found()),
    };
    match outcome {
        Ok(_) => v.redirect(&format!("/office/orgs/{id}/members?done={done}")),
        Err(e) => failed(&s, &v, e),
    }
}

async fn roster_page(State(s): State<AppState>, v: Visit, Path(id): Path<i64>) -> Response {
    let (_, org) = match office(&s, &v, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    v.render(
        &s,
        StatusCode::OK,
        "office_roster.html",
        context! {
            nav => "office",
            tab => "roster",
            org,
            max_mb => roster::MAX_WEB_FILE / 1024 / 1024,
        },
    )
}

/// The uploaded roster: its file name and bytes, and the form's token.
async fn read_upload(mut mp: Multipart) -> Result<(String, Vec<u8>, String), String> {
    let (mut name, mut bytes, mut token) = (String::new(), Vec::new(), String::new());
    while let Some(field) = mp.next_field().await.map_err(|e| e.to_string())? {
        match field.name() {
            Some("authenticity_token") => {
                token = field.text().await.map_err(|e| e.to_string())?;
            }
            Some("file") => {
                name = field.file_name().unwrap_or("roster.csv").to_owned();
                bytes = field.bytes().await.map_err(|e| e.to_string())?.to_vec();
            }
            _ => {}
        }
    }
    Ok((name, bytes, token))
}

async fn roster_upload(
    State(s): State<AppState>,
    v: Visit,
    Path(id): Path<i64>,
    mp: Multipart,
) -> Response {
    // The office first: nobody else gets a large body read.
    let (me, _) = match office(&s, &v, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let (name, bytes, token) = match read_upload(mp).await {
        Ok(u) => u,
        Err(why) => return v.message(&s, StatusCode::BAD_REQUEST, "page-error", why),
    };
    if !v.csrf_ok(&token) {
        let msg = s.web.i18n.t(v.lang, "error-csrf", &[]);
        return v.message(&s, StatusCode::FORBIDDEN, "page-error", msg);
    }
    if bytes.is_empty() {
        let msg = s.web.i18n.t(v.lang, "office-roster-empty", &[]);
        return v.message(&s, StatusCode::UNPROCESSABLE_ENTITY, "page-error", msg);
    }
    match roster::preview(&s.ctx, me, id, &name, &bytes).await {
        Ok(job) => v.redirect(&format!("/office/orgs/{id}/roster/{}", job.id)),
        Err(e) => failed(&s, &v, e),
    }
}

fn report_of(job: &RosterImport) -> ImportReport {
    serde_json::from_str(&job.report).unwrap_or_default()
}

/// A previewed file (with the button that imports it), an import under way
/// (the page reloads itself to show progress) or its outcome.
async fn roster_import(
    State(s): State<AppState>,
    v: Visit,
    Path((id, import_id)): Path<(i64, i64)>,
) -> Response {
    let (me, org) = match office(&s, &v, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let job = match roster::find(&s.ctx, me, id, import_id).await {
        Ok(j) => j,
        Err(e) => return failed(&s, &v, e),
    };
    let r = report_of(&job);
    let bad_rows: Vec<TplValue> = r
        .bad_rows
        .iter()
        .take(100)
        .map(|(line, why)| context! { line, why })
        .collect();
    v.render(
        &s,
        StatusCode::OK,
        "office_roster.html",
        context! {
            nav => "office",
            tab => "roster",
            org,
            max_mb => roster::MAX_WEB_FILE / 1024 / 1024,
            job => context! {
                id => job.id.to_string(),
                file_name => job.file_name.clone(),
                encoding => job.encoding.clone(),
                state => job.state.as_str(),
                running => job.state == ImportState::Running,
                total => job.total,
                done => job.done,
                rows => r.rows,
                added => r.added,
                updated => r.updated,
                unchanged => r.unchanged,
                verified => r.verified,
                bad => r.bad_rows.len() as u64 + r.bad_rows_omitted,
                bad_rows,
            },
        },
    )
}

async fn roster_start(
    State(s): State<AppState>,
    v: Visit,
    Path((id, import_id)): Path<(i64, i64)>,
    Form(f): Form<TokenForm>,
) -> Response {
    let me = match office_form(&s, &v, id, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    match roster::start(&s.ctx, me, id, import_id).await {
        Ok(()) => v.redirect(&format!("/office/orgs/{id}/roster/{import_id}")),
        Err(e) => failed(&s, &v, e),
    }
}

async fn bad_rows_csv(
    State(s): State<AppState>,
    v: Visit,
    Path((id, import_id)): Path<(i64, i64)>,
) -> Response {
    let (me, _) = match office(&s, &v, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    match roster::find(&s.ctx, me, id, import_id).await {
        Ok(job) => csv_download(
            &format!("roster-{import_id}-bad-rows.csv"),
            roster::bad_rows_csv(&report_of(&job)),
        ),
        Err(e) => failed(&s, &v, e),
    }
}

async fn announcements(State(s): State<AppState>, v: Visit, Path(id): Path<i64>) -> Response {
    let (me, org) = match office(&s, &v, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let pinned = match timelines::pinned(&s.ctx, Some(me.account.id), id).await {
        Ok(p) => p,
        Err(e) => return failed(&s, &v, e),
    };
    let posts: Vec<TplValue> = pinned.iter().map(|p| post_context(&s, v.lang, p)).collect();
    v.render(
        &s,
        StatusCode::OK,
        "office_announcements.html",
        context! { nav => "office", tab => "announcements", org, posts },
    )
}

#[derive(Deserialize)]
pub struct AnnounceForm {
    #[serde(default)]
    authenticity_token: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    spoiler_text: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    pinned: Option<String>,
}

async fn announce(
    State(s): State<AppState>,
    v: Visit,
    Path(id): Path<i64>,
    Form(f): Form<AnnounceForm>,
) -> Response {
    let me = match office_form(&s, &v, id, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let new = NewStatus {
        text: f.text.clone(),
        spoiler_text: Some(f.spoiler_text.clone()).filter(|t| !t.is_empty()),
        visibility: Some(f.visibility.clone()).filter(|v| !v.is_empty()),
        ..Default::default()
    };
    let done = orgs::post(&s.ctx, me, id, new, f.pinned.is_some()).await;
    done_or_refused(
        &s,
        &v,
        done,
        &format!("/office/orgs/{id}/announcements?done=announced"),
    )
}

/// How long a new invitation lasts, as the form offers it (days).
const INVITE_DAYS: [i64; 3] = [7, 30, 90];

async fn invitations(State(s): State<AppState>, v: Visit, Path(id): Path<i64>) -> Response {
    let (me, org) = match office(&s, &v, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let list = match memberships::invites(&s.ctx, me, id).await {
        Ok(l) => l,
        Err(e) => return failed(&s, &v, e),
    };
    let now = crate::ids::now();
    let base = s.ctx.base_url();
    let invites: Vec<TplValue> = list
        .iter()
        .filter(|i| {
            i.revoked_at.is_none()
                && i.expires_at.is_none_or(|t| t > now)
                && i.max_uses.is_none_or(|m| i.uses < m)
        })
        .map(|i| {
            context! {
                id => i.id.to_string(),
                link => format!("{base}/join/{}", i.code),
                role => i.role.as_str(),
                uses => i.uses,
                max_uses => i.max_uses,
                expires => i.expires_at.map(|t| super::date_text(v.lang, t.and_utc())),
            }
        })
        .collect();
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    v.render(
        &s,
        StatusCode::OK,
        "office_invitations.html",
        context! {
            nav => "office",
            tab => "invitations",
            org,
            invites,
            roles,
            days => INVITE_DAYS,
            mail => s.ctx.config.mail_enabled(),
        },
    )
}

#[derive(Deserialize, Default)]
pub struct InviteForm {
    #[serde(default)]
    authenticity_token: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    days: i64,
    /// One address per line; empty: a shareable link.
    #[serde(default)]
    emails: String,
    #[serde(default)]
    max_uses: String,
}

/// A shareable link, or single-use links sent to each address given.
async fn invite(
    State(s): State<AppState>,
    v: Visit,
    Path(id): Path<i64>,
    Form(f): Form<InviteForm>,
) -> Response {
    let me = match office_form(&s, &v, id, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let days = if INVITE_DAYS.contains(&f.days) {
        f.days
    } else {
        30
    };
    let expires_in = days * 86_400;
    let role = Some(f.role).filter(|r| !r.is_empty());
    let addresses: Vec<String> = f.emails.lines().map(str::to_owned).collect();
    let done = if addresses.iter().any(|a| !a.trim().is_empty()) {
        memberships::invite_by_email(&s.ctx, me, id, role, &addresses, expires_in)
            .await
            .map(|_| "invitations-sent")
    } else {
        let max_uses = match f.max_uses.trim() {
            "" => Ok(None),
            n => n
                .parse::<i32>()
                .map(Some)
                .map_err(|_| ServiceError::invalid("max_uses", "ERR_INVALID", "is not a number")),
        };
        match max_uses {
            Ok(max_uses) => memberships::create_invite(
                &s.ctx,
                me,
                id,
                memberships::NewInvite {
                    role,
                    max_uses,
                    expires_in: Some(expires_in),
                },
            )
            .await
            .map(|_| "invitation-created"),
            Err(e) => Err(e),
        }
    };
    match done {
        Ok(done) => v.redirect(&format!("/office/orgs/{id}/invitations?done={done}")),
        Err(e) => failed(&s, &v, e),
    }
}

async fn revoke_invitation(
    State(s): State<AppState>,
    v: Visit,
    Path((id, invite_id)): Path<(i64, i64)>,
    Form(f): Form<TokenForm>,
) -> Response {
    let me = match office_form(&s, &v, id, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    match memberships::revoke_invite(&s.ctx, me, id, invite_id).await {
        Ok(()) => v.redirect(&format!(
            "/office/orgs/{id}/invitations?done=invitation-revoked"
        )),
        Err(e) => failed(&s, &v, e),
    }
}

/// A club or a blocked account as the office's lists show it.
fn account_context(a: &crate::db::models::Account) -> TplValue {
    context! {
        id => a.id.to_string(),
        name => a.shown_name(),
        handle => a.acct_key.clone(),
    }
}

/// Clubs: which this (official) org recognises, the clubs here it could,
/// and a form for one elsewhere; for a club, who recognises it.
async fn clubs(State(s): State<AppState>, v: Visit, Path(id): Path<i64>) -> Response {
    let (_, org) = match office(&s, &v, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let ((by, recognised), all) = match async {
        Ok::<_, ServiceError>((
            memberships::recognitions(&s.ctx, id, true).await?,
            orgs::list(&s.ctx, None).await?,
        ))
    }
    .await
    {
        Ok(found) => found,
        Err(e) => return failed(&s, &v, e),
    };
    let candidates: Vec<TplValue> = all
        .iter()
        .filter(|o| {
            o.org.kind == OrgKind::Club && recognised.iter().all(|c| c.id != o.org.account_id)
        })
        .map(|o| account_context(&o.account.account))
        .collect();
    v.render(
        &s,
        StatusCode::OK,
        "office_clubs.html",
        context! {
            nav => "office",
            tab => "clubs",
            org,
            recognised => recognised.iter().map(account_context).collect::<Vec<_>>(),
            recognised_by => by.iter().map(account_context).collect::<Vec<_>>(),
            candidates,
        },
    )
}

#[derive(Deserialize)]
pub struct HandleForm {
    #[serde(default)]
    authenticity_token: String,
    #[serde(default)]
    handle: String,
    #[serde(default)]
    domain: String,
}

async fn recognise_club(
    State(s): State<AppState>,
    v: Visit,
    Path(id): Path<i64>,
    Form(f): Form<HandleForm>,
) -> Response {
    let me = match office_form(&s, &v, id, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let done = memberships::recognise_by_handle(&s.ctx, me, id, &f.handle).await;
    done_or_refused(
        &s,
        &v,
        done,
        &format!("/office/orgs/{id}/clubs?done=club-recognised"),
    )
}

/// `recognise` or `withdraw` one club.
async fn club_action(
    State(s): State<AppState>,
    v: Visit,
    Path((id, club_id, action)): Path<(i64, i64, String)>,
    Form(f): Form<TokenForm>,
) -> Response {
    let me = match office_form(&s, &v, id, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let (on, done) = match action.as_str() {
        "recognise" => (true, "club-recognised"),
        "withdraw" => (false, "club-withdrawn"),
        _ => return failed(&s, &v, ServiceError::not_found()),
    };
    let result = memberships::recognise(&s.ctx, me, id, club_id, on).await;
    done_or_refused(
        &s,
        &v,
        result,
        &format!("/office/orgs/{id}/clubs?done={done}"),
    )
}

/// Blocks: accounts and servers kept out of the org (they cannot join,
/// follow it or post into it).
async fn blocks(State(s): State<AppState>, v: Visit, Path(id): Path<i64>) -> Response {
    let (me, org) = match office(&s, &v, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let list = match memberships::blocks_named(&s.ctx, me, id).await {
        Ok(l) => l,
        Err(e) => return failed(&s, &v, e),
    };
    let blocks: Vec<TplValue> = list
        .iter()
        .map(|(b, a)| {
            context! {
                id => b.id.to_string(),
                account => a.as_ref().map(account_context),
                domain => b.domain.clone(),
                since => super::date_text(v.lang, b.created_at.and_utc()),
            }
        })
        .collect();
    v.render(
        &s,
        StatusCode::OK,
        "office_blocks.html",
        context! { nav => "office", tab => "blocks", org, blocks },
    )
}

async fn block(
    State(s): State<AppState>,
    v: Visit,
    Path(id): Path<i64>,
    Form(f): Form<HandleForm>,
) -> Response {
    let me = match office_form(&s, &v, id, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let domain = Some(f.domain).filter(|d| !d.trim().is_empty());
    let done = memberships::block_by_handle(&s.ctx, me, id, &f.handle, domain).await;
    done_or_refused(
        &s,
        &v,
        done,
        &format!("/office/orgs/{id}/blocks?done=org-blocked"),
    )
}

async fn unblock(
    State(s): State<AppState>,
    v: Visit,
    Path((id, block_id)): Path<(i64, i64)>,
    Form(f): Form<TokenForm>,
) -> Response {
    let me = match office_form(&s, &v, id, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let done = memberships::unblock(&s.ctx, me, id, block_id).await;
    done_or_refused(
        &s,
        &v,
        done,
        &format!("/office/orgs/{id}/blocks?done=org-unblocked"),
    )
}

/// The org's public profile: name, description, fields, avatar and header.
async fn profile(State(s): State<AppState>, v: Visit, Path(id): Path<i64>) -> Response {
    profile_page(&s, &v, id, StatusCode::OK, vec![]).await
}

async fn profile_page(
    s: &AppState,
    v: &Visit,
    id: i64,
    status: StatusCode,
    errors: Vec<String>,
) -> Response {
    let (_, org) = match office(s, v, id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let current = match orgs::get(&s.ctx, id).await {
        Ok(o) => o,
        Err(e) => return failed(s, v, e),
    };
    let a = &current.account.account;
    let (avatar, initial) = super::avatar(s, a);
    v.render(
        s,
        status,
        "office_profile.html",
        context! {
            nav => "office",
            tab => "profile",
            org,
            display_name => a.display_name.clone(),
            note => a.note_source.clone(),
            max_name => orgs::MAX_DISPLAY_NAME,
            max_note => orgs::MAX_NOTE,
            avatar,
            initial,
            fields => super::member::profile_field_rows(a),
            errors,
        },
    )
}

async fn save_profile(
    State(s): State<AppState>,
    v: Visit,
    Path(id): Path<i64>,
    mp: Multipart,
) -> Response {
    let f = match super::member::SettingsForm::read(mp).await {
        Ok(f) => f,
        Err(why) => return profile_page(&s, &v, id, StatusCode::BAD_REQUEST, vec![why]).await,
    };
    let me = match office_form(&s, &v, id, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    if (!f.avatar.is_empty() || !f.header.is_empty()) && !super::member::uploads_allowed(&s, me) {
        let msg = s.web.i18n.t(v.lang, "error-upload-rate", &[]);
        return profile_page(&s, &v, id, StatusCode::TOO_MANY_REQUESTS, vec![msg]).await;
    }
    let image =
        |bytes: Vec<u8>| (!bytes.is_empty()).then_some(crate::services::accounts::Upload { bytes });
    let update = orgs::OrgUpdate {
        display_name: Some(f.display_name),
        note: Some(f.note),
        fields: Some(f.fields),
        avatar: image(f.avatar),
        header: image(f.header),
        ..Default::default()
    };
    match orgs::update(&s.ctx, me, id, update).await {
        Ok(_) => v.redirect(&format!("/office/orgs/{id}/profile?done=profile-saved")),
        Err(ServiceError::Validation(errs)) => {
            let list = errs
                .iter()
                .map(|e| super::field_error_text(&s, v.lang, e))
                .collect();
            profile_page(&s, &v, id, StatusCode::UNPROCESSABLE_ENTITY, list).await
        }
        Err(e) => failed(&s, &v, e),
    }
}
