//! Pages for a signed-in member: the home and local timelines with the
//! compose form, notifications, actions on posts, and profile settings.
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::{Value as TplValue, context};
use serde::Deserialize;

use super::session::Visit;
use super::{oauth_error_page, post_context};
use crate::app::AppState;
use crate::db::models::LocalUser;
use crate::db::statuses::Page;
use crate::domain::Visibility;
use crate::services::statuses::{self, NewStatus};
use crate::services::views::StatusView;
use crate::services::{
    ServiceError, accounts, memberships, notifications, orgs, search, social, timelines, two_factor,
};

const PAGE_SIZE: i64 = 20;

pub fn routes(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/home", get(home))
        .route("/local", get(local))
        .route("/search", get(search_page))
        .route("/orgs/{id}/timeline", get(org_timeline))
        .route("/notifications", get(notifications_page))
        .route(
            "/post",
            post(compose).layer(axum::extract::DefaultBodyLimit::max(upload_limit)),
        )
        .route("/posts/{id}", get(thread))
        .route("/posts/{id}/{action}", post(act))
        .route(
            "/settings",
            get(settings)
                .post(settings_submit)
                .layer(axum::extract::DefaultBodyLimit::max(upload_limit)),
        )
        .route("/settings/consents/{org_id}", post(consents_submit))
        .route(
            "/settings/email_notifications",
            post(email_notifications_submit),
        )
        .route("/accounts/{id}/{action}", post(follow_action))
        .route("/follow", post(follow_by_address))
}

/// Images from the web count against the per-address media limit, keyed by
/// the person (each upload is stored and decoded).
pub(super) fn uploads_allowed(s: &AppState, me: &crate::db::models::LocalUser) -> bool {
    s.limits
        .media
        .check(&format!("upload:{}", me.account.id))
        .allowed
}

/// A text field of a multipart form: at most this long.
const MAX_TEXT_FIELD: usize = 64 * 1024;

async fn text_field(field: axum::extract::multipart::Field<'_>) -> Result<String, String> {
    let value = field.text().await.map_err(|e| e.to_string())?;
    if value.len() > MAX_TEXT_FIELD {
        return Err("a field of the form is too long".into());
    }
    Ok(value)
}

/// `back` (a page of ours) with `done=<what>` for its toast.
fn back_with(back: &str, done: &str) -> String {
    let back = super::session::local_path(if back.is_empty() { "/home" } else { back });
    let sep = if back.contains('?') { '&' } else { '?' };
    format!("{back}{sep}done={done}")
}

#[derive(Deserialize, Default)]
pub struct TimelineQuery {
    max_id: Option<i64>,
    #[serde(default)]
    posted: Option<String>,
    #[serde(default)]
    joined: Option<String>,
}

/// The signed-in person, unless the instance still wants a one-time code
/// set up first (then the way there) or nobody is signed in (sign in).
pub(super) async fn member_or_redirect<'v>(
    s: &AppState,
    v: &'v Visit,
) -> Result<&'v LocalUser, Response> {
    let current = v.member()?;
    match two_factor::required(&s.ctx, &current.me).await {
        Ok(false) => Ok(&current.me),
        Ok(true) => match two_factor::is_enabled(&s.ctx, current.me.account.id).await {
            Ok(true) => Ok(&current.me),
            Ok(false) => Err(v.redirect("/settings/security?required=1")),
            Err(e) => Err(oauth_error_page(s, v.lang, e)),
        },
        Err(e) => Err(oauth_error_page(s, v.lang, e)),
    }
}

/// The member behind a submitted form whose CSRF token matches.
pub(super) async fn form_member<'v>(
    s: &AppState,
    v: &'v Visit,
    token: &str,
) -> Result<&'v LocalUser, Response> {
    let me = member_or_redirect(s, v).await?;
    if !v.csrf_ok(token) {
        let msg = s.web.i18n.t(v.lang, "error-csrf", &[]);
        return Err(v.message(s, StatusCode::FORBIDDEN, "page-error", msg));
    }
    Ok(me)
}

fn older_link(base: &str, posts: &[StatusView]) -> Option<String> {
    (posts.len() as i64 >= PAGE_SIZE)
        .then(|| {
            posts
                .last()
                .map(|p| format!("{base}?max_id={}", p.status.id))
        })
        .flatten()
}

/// How a timeline page looks: which tab, its heading and address, a toast,
/// and whether it has the compose form (with an org chosen beforehand).
struct Shown {
    nav: &'static str,
    heading: String,
    base: String,
    toast: Option<String>,
    compose: bool,
    audience: Option<i64>,
    /// Pinned posts of the person's orgs (home only).
    announcements: Vec<StatusView>,
}

impl Shown {
    fn tab(s: &AppState, v: &Visit, nav: &'static str, heading_id: &str) -> Shown {
        Shown {
            nav,
            heading: s.web.i18n.t(v.lang, heading_id, &[]),
            base: format!("/{nav}"),
            toast: None,
            compose: false,
            audience: None,
            announcements: vec![],
        }
    }
}

async fn timeline_page(s: &AppState, v: &Visit, shown: Shown, posts: Vec<StatusView>) -> Response {
    let Some(current) = v.me.as_ref() else {
        return v.redirect("/auth/sign_in");
    };
    let my_orgs = if shown.compose {
        match orgs::memberships_of(&s.ctx, &current.me).await {
            Ok(list) => list,
            Err(e) => return oauth_error_page(s, v.lang, e),
        }
    } else {
        vec![]
    };
    let orgs: Vec<TplValue> = my_orgs
        .iter()
        .map(|o| {
            context! {
                id => o.id.to_string(),
                name => o.shown_name(),
                selected => shown.audience == Some(o.id),
            }
        })
        .collect();
    let older = older_link(&shown.base, &posts);
    let posts: Vec<TplValue> = posts.iter().map(|p| post_context(s, v.lang, p)).collect();
    let announcements: Vec<TplValue> = shown
        .announcements
        .iter()
        .map(|p| post_context(s, v.lang, p))
        .collect();
    v.render(
        s,
        StatusCode::OK,
        "timeline.html",
        context! {
            nav => shown.nav,
            heading => shown.heading,
            posts => posts,
            older => older,
            toast => shown.toast,
            base => shown.base,
            compose => shown.compose,
            orgs => orgs,
            announcements => announcements,
            default_visibility => current.me.user.default_privacy.as_str(),
        },
    )
}

fn page(q: &TimelineQuery) -> Page {
    Page {
        max_id: q.max_id,
        since_id: None,
        min_id: None,
        limit: PAGE_SIZE,
    }
}

async fn home(State(s): State<AppState>, v: Visit, Query(q): Query<TimelineQuery>) -> Response {
    let me = match member_or_redirect(&s, &v).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let posts = match timelines::home(&s.ctx, me.account.id, page(&q)).await {
        Ok(p) => p,
        Err(e) => return oauth_error_page(&s, v.lang, e),
    };
    let toast = if q.posted.is_some() {
        Some(s.web.i18n.t(v.lang, "toast-posted", &[]))
    } else if q.joined.is_some() {
        Some(s.web.i18n.t(v.lang, "toast-joined", &[]))
    } else {
        None
    };
    let announcements = match timelines::org_announcements(&s.ctx, me.account.id).await {
        Ok(a) => a,
        Err(e) => return oauth_error_page(&s, v.lang, e),
    };
    let shown = Shown {
        toast,
        compose: true,
        announcements,
        ..Shown::tab(&s, &v, "home", "nav-home")
    };
    timeline_page(&s, &v, shown, posts).await
}

async fn local(State(s): State<AppState>, v: Visit, Query(q): Query<TimelineQuery>) -> Response {
    let me = match member_or_redirect(&s, &v).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    match timelines::public(&s.ctx, Some(me.account.id), Some(true), false, page(&q)).await {
        Ok(posts) => timeline_page(&s, &v, Shown::tab(&s, &v, "local", "nav-local"), posts).await,
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

/// An org's timeline for a member: its posts and posts into it, members-only
/// ones included; the compose form posts into the org.
async fn org_timeline(
    State(s): State<AppState>,
    v: Visit,
    Path(id): Path<i64>,
    Query(q): Query<TimelineQuery>,
) -> Response {
    let me = match member_or_redirect(&s, &v).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let org = match memberships::joinable(&s.ctx, id).await {
        Ok(org) => org,
        Err(e) => return super::page_not_found(&s, v.lang, e),
    };
    let posts = match timelines::org(&s.ctx, Some(me.account.id), id, page(&q)).await {
        Ok(p) => p,
        Err(e) => return oauth_error_page(&s, v.lang, e),
    };
    let is_member = matches!(
        memberships::is_member(
            &s.ctx,
            crate::domain::OrgId(id),
            crate::domain::AccountId(me.account.id)
        )
        .await,
        Ok(true)
    );
    let shown = Shown {
        nav: "orgs",
        heading: org.shown_name().to_owned(),
        base: format!("/orgs/{id}/timeline"),
        toast: None,
        compose: is_member,
        audience: Some(id),
        announcements: vec![],
    };
    timeline_page(&s, &v, shown, posts).await
}

#[derive(Deserialize, Default)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
}

/// People (here, or elsewhere by `user@server`), hashtags and posts.
async fn search_page(
    State(s): State<AppState>,
    v: Visit,
    Query(q): Query<SearchParams>,
) -> Response {
    let me = match member_or_redirect(&s, &v).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let text = q.q.trim().chars().take(200).collect::<String>();
    // Counted as the client API counts a person's searches (each may look
    // someone up elsewhere and scans posts).
    if !text.is_empty()
        && !s
            .limits
            .api
            .check(&format!("web:{}", me.account.id))
            .allowed
    {
        let msg = s.web.i18n.t(v.lang, "error-rate-limited", &[]);
        return v.message(&s, StatusCode::TOO_MANY_REQUESTS, "page-error", msg);
    }
    let query = search::SearchQuery {
        q: text.clone(),
        limit: 20,
        // A signed-in person may look someone up on their server.
        resolve: true,
        ..Default::default()
    };
    let found = match search::search(&s.ctx, Some(me.account.id), query).await {
        Ok(found) => found,
        Err(e) => return oauth_error_page(&s, v.lang, e),
    };
    let people: Vec<TplValue> = found
        .accounts
        .iter()
        .map(|a| {
            let (avatar, initial) = super::avatar(&s, &a.account);
            context! {
                link => super::account_link(&s, &a.account),
                avatar => avatar,
                initial => initial,
                about => super::excerpt(&a.account.note, 140),
                id => a.account.id.to_string(),
            }
        })
        .collect();
    let posts: Vec<TplValue> = found
        .statuses
        .iter()
        .map(|p| post_context(&s, v.lang, p))
        .collect();
    v.render(
        &s,
        StatusCode::OK,
        "search.html",
        context! {
            nav => "search",
            q => text.clone(),
            searched => !text.is_empty(),
            people => people,
            tags => found.hashtags.iter().map(|tag| {
                let mut q = form_urlencoded::Serializer::new(String::new());
                q.append_pair("q", &format!("#{tag}"));
                context! { name => tag, href => format!("/search?{}", q.finish()) }
            }).collect::<Vec<_>>(),
            posts => posts,
        },
    )
}

async fn notifications_page(
    State(s): State<AppState>,
    v: Visit,
    Query(q): Query<TimelineQuery>,
) -> Response {
    let me = match member_or_redirect(&s, &v).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let list = match notifications::list(&s.ctx, me, vec![], vec![], page(&q)).await {
        Ok(l) => l,
        Err(e) => return oauth_error_page(&s, v.lang, e),
    };
    let older = (list.len() as i64 >= PAGE_SIZE)
        .then(|| {
            list.last()
                .map(|n| format!("/notifications?max_id={}", n.notification.id))
        })
        .flatten();
    let items: Vec<TplValue> = list
        .iter()
        .map(|n| {
            let who = n.account.account.shown_name().to_owned();
            let kind = n.notification.kind.as_str().replace(['.', '_'], "-");
            let text = s
                .web
                .i18n
                .t(v.lang, &format!("notification-{kind}"), &[("name", who)]);
            context! {
                text => text,
                at => super::date_text(v.lang, n.notification.created_at.and_utc()),
                post => n.status.as_ref().map(|p| post_context(&s, v.lang, p)),
            }
        })
        .collect();
    v.render(
        &s,
        StatusCode::OK,
        "notifications.html",
        context! { nav => "notifications", items => items, older => older },
    )
}

/// The compose form's fields (multipart: it may carry an image).
#[derive(Default)]
struct ComposeForm {
    text: String,
    spoiler_text: String,
    visibility: String,
    audience: String,
    in_reply_to_id: String,
    media_description: String,
    media: Vec<u8>,
    authenticity_token: String,
}

impl ComposeForm {
    async fn read(mut mp: axum::extract::Multipart) -> Result<ComposeForm, String> {
        let mut f = ComposeForm::default();
        while let Some(field) = mp.next_field().await.map_err(|e| e.to_string())? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "media" {
                f.media = field.bytes().await.map_err(|e| e.to_string())?.to_vec();
                continue;
            }
            let value = text_field(field).await?;
            match name.as_str() {
                "text" => f.text = value,
                "spoiler_text" => f.spoiler_text = value,
                "visibility" => f.visibility = value,
                "audience" => f.audience = value,
                "in_reply_to_id" => f.in_reply_to_id = value,
                "media_description" => f.media_description = value,
                "authenticity_token" => f.authenticity_token = value,
                _ => {}
            }
        }
        Ok(f)
    }
}

/// Posts from the compose form, with an image and its description if one
/// was chosen. "Members only" needs an org; an org with a public post makes
/// it a post into the org (as in the client API).
async fn compose(State(s): State<AppState>, v: Visit, mp: axum::extract::Multipart) -> Response {
    if let Err(r) = member_or_redirect(&s, &v).await {
        return r;
    }
    let f = match ComposeForm::read(mp).await {
        Ok(f) => f,
        Err(why) => return v.message(&s, StatusCode::BAD_REQUEST, "compose-failed", why),
    };
    let me = match form_member(&s, &v, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let mut media_ids = Vec::new();
    if !f.media.is_empty() && !uploads_allowed(&s, me) {
        let msg = s.web.i18n.t(v.lang, "error-upload-rate", &[]);
        return v.message(&s, StatusCode::TOO_MANY_REQUESTS, "compose-failed", msg);
    }
    if !f.media.is_empty() {
        let upload = crate::services::media::NewAttachment {
            bytes: f.media,
            description: Some(f.media_description.clone()).filter(|d| !d.trim().is_empty()),
            focus: None,
        };
        match crate::services::media::upload(&s.ctx, me, upload).await {
            Ok(m) => media_ids.push(m.id),
            Err(e) => return compose_failed(&s, &v, e),
        }
    }
    let in_reply_to_id = f.in_reply_to_id.parse().ok();
    let new = NewStatus {
        text: f.text.clone(),
        spoiler_text: Some(f.spoiler_text.clone()).filter(|t| !t.is_empty()),
        visibility: Some(f.visibility.clone()).filter(|v| !v.is_empty()),
        in_reply_to_id,
        audience_id: f.audience.parse::<i64>().ok(),
        media_ids,
        ..Default::default()
    };
    match statuses::create(&s.ctx, me, new).await {
        Ok(_) => match in_reply_to_id {
            Some(parent) => v.redirect(&format!("/posts/{parent}?posted=1")),
            None => v.redirect("/home?posted=1"),
        },
        Err(e) => compose_failed(&s, &v, e),
    }
}

fn compose_failed(s: &AppState, v: &Visit, e: ServiceError) -> Response {
    match e {
        ServiceError::Validation(errs) => {
            let msg = super::validation_text(s, v.lang, &errs);
            v.message(s, StatusCode::UNPROCESSABLE_ENTITY, "compose-failed", msg)
        }
        ServiceError::Forbidden(why) => v.message(s, StatusCode::FORBIDDEN, "compose-failed", why),
        other => oauth_error_page(s, v.lang, other),
    }
}

/// A post with its thread, as the signed-in person may see it, and a reply form.
async fn thread(
    State(s): State<AppState>,
    v: Visit,
    Path(id): Path<i64>,
    Query(q): Query<TimelineQuery>,
) -> Response {
    let viewer = match member_or_redirect(&s, &v).await {
        Ok(me) => me.account.id,
        Err(r) => return r,
    };
    let found = async {
        let post = statuses::get(&s.ctx, Some(viewer), id).await?;
        let (ancestors, descendants) = statuses::context(&s.ctx, Some(viewer), id).await?;
        Ok::<_, ServiceError>((post, ancestors, descendants))
    }
    .await;
    let (post, ancestors, descendants) = match found {
        Ok(x) => x,
        Err(e) => return super::page_not_found(&s, v.lang, e),
    };
    // A boost's page is its original's.
    if let Some(original) = &post.reblog {
        return v.redirect(&format!("/posts/{}", original.status.id));
    }
    let shown = |list: &[StatusView]| -> Vec<TplValue> {
        list.iter().map(|p| post_context(&s, v.lang, p)).collect()
    };
    let toast = q
        .posted
        .is_some()
        .then(|| s.web.i18n.t(v.lang, "toast-posted", &[]));
    v.render(
        &s,
        StatusCode::OK,
        "thread.html",
        context! {
            nav => "home",
            post => post_context(&s, v.lang, &post),
            ancestors => shown(&ancestors),
            descendants => shown(&descendants),
            toast => toast,
            reply_visibility => post.status.visibility.as_str(),
            reply_to => format!("@{}", post.account.account.acct_key),
        },
    )
}

#[derive(Deserialize, Default)]
pub struct ActionForm {
    #[serde(default)]
    back: String,
    #[serde(default)]
    authenticity_token: String,
}

/// Favourite, boost or bookmark a post (and undo), then back to the page.
async fn act(
    State(s): State<AppState>,
    v: Visit,
    Path((id, action)): Path<(i64, String)>,
    Form(f): Form<ActionForm>,
) -> Response {
    let me = match form_member(&s, &v, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    use statuses as i;
    let done = match action.as_str() {
        "favourite" => i::favourite(&s.ctx, me, id, true).await,
        "unfavourite" => i::favourite(&s.ctx, me, id, false).await,
        "bookmark" => i::bookmark(&s.ctx, me, id, true).await,
        "unbookmark" => i::bookmark(&s.ctx, me, id, false).await,
        "reblog" => i::reblog(&s.ctx, me, id, None).await,
        "unreblog" => i::unreblog(&s.ctx, me, id).await,
        _ => Err(ServiceError::not_found()),
    };
    match done {
        Ok(_) => v.redirect(if f.back.is_empty() { "/home" } else { &f.back }),
        Err(e) => super::page_not_found(&s, v.lang, e),
    }
}

// ---- Settings ---------------------------------------------------------------

/// The profile form's fields (multipart: avatar and header images).
#[derive(Default)]
pub(super) struct SettingsForm {
    pub(super) display_name: String,
    pub(super) note: String,
    locale: String,
    privacy: String,
    /// Profile fields by row: `field_name_N` and `field_value_N`.
    pub(super) fields: Vec<(String, String)>,
    pub(super) avatar: Vec<u8>,
    pub(super) header: Vec<u8>,
    pub(super) authenticity_token: String,
}

impl SettingsForm {
    pub(super) async fn read(mut mp: axum::extract::Multipart) -> Result<SettingsForm, String> {
        let mut f = SettingsForm::default();
        while let Some(field) = mp.next_field().await.map_err(|e| e.to_string())? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "avatar" || name == "header" {
                let bytes = field.bytes().await.map_err(|e| e.to_string())?.to_vec();
                if name == "avatar" {
                    f.avatar = bytes;
                } else {
                    f.header = bytes;
                }
                continue;
            }
            let value = text_field(field).await?;
            match name.as_str() {
                "display_name" => f.display_name = value,
                "note" => f.note = value,
                "locale" => f.locale = value,
                "privacy" => f.privacy = value,
                "authenticity_token" => f.authenticity_token = value,
                other => {
                    let row = |prefix: &str| {
                        other
                            .strip_prefix(prefix)
                            .and_then(|n| n.parse::<usize>().ok())
                            .filter(|n| *n < accounts::MAX_FIELDS)
                    };
                    if let Some(n) = row("field_name_") {
                        f.fields
                            .resize(f.fields.len().max(n + 1), Default::default());
                        f.fields[n].0 = value;
                    } else if let Some(n) = row("field_value_") {
                        f.fields
                            .resize(f.fields.len().max(n + 1), Default::default());
                        f.fields[n].1 = value;
                    }
                }
            }
        }
        Ok(f)
    }
}

async fn settings_page(
    s: &AppState,
    v: &Visit,
    status: StatusCode,
    notice: Option<String>,
    errors: Vec<String>,
) -> Response {
    let Some(current) = v.me.as_ref() else {
        return v.redirect("/auth/sign_in");
    };
    let me = &current.me;
    let visibilities: Vec<TplValue> = [
        Visibility::Public,
        Visibility::Unlisted,
        Visibility::Private,
    ]
    .iter()
    .map(|vis| {
        context! {
            value => vis.as_str(),
            label => s.web.i18n.t(v.lang, &format!("visibility-{}", vis.as_str()), &[]),
            selected => me.user.default_privacy == *vis,
        }
    })
    .collect();
    // Consents per org the person belongs to.
    let mut orgs_consents = Vec::new();
    match orgs::memberships_of(&s.ctx, me).await {
        Ok(list) => {
            for org in list.iter().filter(|o| o.local) {
                let Ok(m) = memberships::mine(&s.ctx, me, org.id).await else {
                    continue;
                };
                let purposes: Vec<TplValue> = crate::domain::ConsentPurpose::ALL
                    .iter()
                    .map(|p| {
                        context! {
                            value => p.as_str(),
                            label => s.web.i18n.t(v.lang, &format!("consent-{}", p.as_str()), &[]),
                            granted => m.consents.iter().any(|(q, g)| q == p && *g),
                        }
                    })
                    .collect();
                orgs_consents.push(context! {
                    id => org.id.to_string(),
                    name => org.shown_name(),
                    purposes => purposes,
                });
            }
        }
        Err(e) => return oauth_error_page(s, v.lang, e),
    }
    let mailed = match notifications::mailed_kinds(&s.ctx, me.account.id).await {
        Ok(kinds) => kinds,
        Err(e) => return oauth_error_page(s, v.lang, e),
    };
    let mail_kinds: Vec<TplValue> = notifications::MAILABLE
        .iter()
        .filter(|k| me.user.is_admin || **k != crate::domain::NotificationKind::AdminSignUp)
        .map(|k| {
            context! {
                value => k.as_str(),
                label => s.web.i18n.t(v.lang, &format!("mail-kind-{}", k.as_str().replace(['.', '_'], "-")), &[]),
                checked => mailed.contains(k),
            }
        })
        .collect();
    let (avatar, initial) = super::avatar(s, &me.account);
    v.render(
        s,
        status,
        "settings.html",
        context! {
            nav => "settings",
            fields => profile_field_rows(&me.account),
            display_name => me.account.display_name.clone(),
            mail_kinds => mail_kinds,
            mail_enabled => s.ctx.config.mail_enabled(),
            email => me.user.email.clone(),
            note => me.account.note_source.clone(),
            locale => me.user.locale.clone().unwrap_or_default(),
            visibilities => visibilities,
            avatar => avatar,
            initial => initial,
            orgs => orgs_consents,
            notice => notice,
            errors => errors,
        },
    )
}

/// A profile form's label–value rows (`profile_fields.html`): the account's
/// fields, then empty rows up to the most it may have.
pub(super) fn profile_field_rows(a: &crate::db::models::Account) -> Vec<TplValue> {
    let mut fields: Vec<(String, String)> = accounts::profile_fields(a)
        .into_iter()
        .map(|f| (f.name, f.value))
        .collect();
    fields.resize(accounts::MAX_FIELDS.max(fields.len()), Default::default());
    fields
        .into_iter()
        .enumerate()
        .map(
            |(i, (name, value))| context! { n => i, number => i + 1, name => name, value => value },
        )
        .collect()
}

async fn settings(State(s): State<AppState>, v: Visit) -> Response {
    if let Err(r) = member_or_redirect(&s, &v).await {
        return r;
    }
    settings_page(&s, &v, StatusCode::OK, None, vec![]).await
}

async fn settings_submit(
    State(s): State<AppState>,
    mut v: Visit,
    mp: axum::extract::Multipart,
) -> Response {
    if let Err(r) = member_or_redirect(&s, &v).await {
        return r;
    }
    let f = match SettingsForm::read(mp).await {
        Ok(f) => f,
        Err(why) => return settings_page(&s, &v, StatusCode::BAD_REQUEST, None, vec![why]).await,
    };
    if !v.csrf_ok(&f.authenticity_token) {
        let msg = s.web.i18n.t(v.lang, "error-csrf", &[]);
        return settings_page(&s, &v, StatusCode::FORBIDDEN, None, vec![msg]).await;
    }
    let me = v.me.as_ref().expect("checked").me.clone();
    if (!f.avatar.is_empty() || !f.header.is_empty()) && !uploads_allowed(&s, &me) {
        let msg = s.web.i18n.t(v.lang, "error-upload-rate", &[]);
        return settings_page(&s, &v, StatusCode::TOO_MANY_REQUESTS, None, vec![msg]).await;
    }
    let image = |bytes: Vec<u8>| (!bytes.is_empty()).then_some(accounts::Upload { bytes });
    let update = accounts::ProfileUpdate {
        display_name: Some(f.display_name.clone()),
        note: Some(f.note.clone()),
        fields: Some(f.fields.clone()),
        privacy: Some(f.privacy.clone()).filter(|p| !p.is_empty()),
        locale: Some(f.locale.clone()),
        avatar: image(f.avatar),
        header: image(f.header),
        ..Default::default()
    };
    match accounts::update_profile(&s.ctx, &me, update).await {
        Ok(_) => {
            // The page in the language just chosen, with what was saved.
            if let Some(current) = v.me.as_mut()
                && let Ok(fresh) =
                    accounts::find_local_by_username(&s.ctx, &me.account.username).await
            {
                current.me = fresh;
            }
            v.lang = super::i18n::negotiate(
                Some(&f.locale)
                    .filter(|l| !l.is_empty())
                    .map(|l| l.as_str()),
                v.headers
                    .get(axum::http::header::ACCEPT_LANGUAGE)
                    .and_then(|h| h.to_str().ok()),
                None,
            );
            v.forget_language(&s);
            let notice = s.web.i18n.t(v.lang, "settings-saved", &[]);
            settings_page(&s, &v, StatusCode::OK, Some(notice), vec![]).await
        }
        Err(ServiceError::Validation(errs)) => {
            let list = errs
                .iter()
                .map(|e| format!("{}: {}", e.field, e.description))
                .collect();
            settings_page(&s, &v, StatusCode::UNPROCESSABLE_ENTITY, None, list).await
        }
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

/// A submitted form's CSRF token (empty if absent).
pub(super) fn form_token(pairs: &[(String, String)]) -> &str {
    pairs
        .iter()
        .find(|(k, _)| k == "authenticity_token")
        .map(|(_, t)| t.as_str())
        .unwrap_or("")
}

/// The person behind a settings form of checkboxes, its CSRF token checked
/// (else the page to show instead).
async fn settings_form_member<'v>(
    s: &AppState,
    v: &'v Visit,
    pairs: &[(String, String)],
) -> Result<&'v LocalUser, Response> {
    let me = member_or_redirect(s, v).await?;
    if !v.csrf_ok(form_token(pairs)) {
        let msg = s.web.i18n.t(v.lang, "error-csrf", &[]);
        return Err(settings_page(s, v, StatusCode::FORBIDDEN, None, vec![msg]).await);
    }
    Ok(me)
}

/// One org's consents: every purpose, checked or not.
async fn consents_submit(
    State(s): State<AppState>,
    v: Visit,
    Path(org_id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let me = match settings_form_member(&s, &v, &pairs).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let choices = crate::domain::ConsentPurpose::ALL
        .iter()
        .map(|p| {
            let granted = pairs.iter().any(|(k, _)| k == p.as_str());
            (p.as_str().to_owned(), granted)
        })
        .collect();
    match memberships::set_consents(&s.ctx, me, org_id, choices, None).await {
        Ok(_) => {
            let notice = s.web.i18n.t(v.lang, "settings-consents-saved", &[]);
            settings_page(&s, &v, StatusCode::OK, Some(notice), vec![]).await
        }
        Err(e) => super::page_not_found(&s, v.lang, e),
    }
}

/// Which notifications also come by e-mail: every type offered, checked = yes.
async fn email_notifications_submit(
    State(s): State<AppState>,
    v: Visit,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let me = match settings_form_member(&s, &v, &pairs).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let chosen: Vec<crate::domain::NotificationKind> = notifications::MAILABLE
        .iter()
        .filter(|k| pairs.iter().any(|(name, _)| name == k.as_str()))
        .copied()
        .collect();
    match notifications::set_mailed_kinds(&s.ctx, me, &chosen).await {
        Ok(()) => {
            let notice = s.web.i18n.t(v.lang, "settings-mail-saved", &[]);
            settings_page(&s, &v, StatusCode::OK, Some(notice), vec![]).await
        }
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

// ---- Following and membership -------------------------------------------------

async fn follow_action(
    State(s): State<AppState>,
    v: Visit,
    Path((id, action)): Path<(i64, String)>,
    Form(f): Form<ActionForm>,
) -> Response {
    let me = match form_member(&s, &v, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let done = match action.as_str() {
        "follow" => social::follow(&s.ctx, me, id, None, None).await,
        "unfollow" => social::unfollow(&s.ctx, me, id).await,
        _ => Err(ServiceError::not_found()),
    };
    match done {
        Ok(_) => v.redirect(&back_with(&f.back, "followed")),
        Err(ServiceError::Forbidden(why)) => {
            v.message(&s, StatusCode::FORBIDDEN, "page-error", why)
        }
        Err(e) => super::page_not_found(&s, v.lang, e),
    }
}

#[derive(Deserialize, Default)]
pub struct AddressForm {
    #[serde(default)]
    acct: String,
    #[serde(default)]
    authenticity_token: String,
}

/// Follows `name@server` (looked up on their server: only for someone
/// signed in, never for an anonymous visitor).
async fn follow_by_address(
    State(s): State<AppState>,
    v: Visit,
    Form(f): Form<AddressForm>,
) -> Response {
    let me = match form_member(&s, &v, &f.authenticity_token).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let acct = f.acct.trim().trim_start_matches('@');
    let found = match accounts::lookup(&s.ctx, acct, true).await {
        Ok(found) => found,
        Err(ServiceError::NotFound(_))
        | Err(ServiceError::BadRequest(_))
        | Err(ServiceError::Validation(_)) => {
            let msg = s.web.i18n.t(v.lang, "follow-remote-not-found", &[]);
            return v.message(&s, StatusCode::NOT_FOUND, "page-error", msg);
        }
        Err(e) => return oauth_error_page(&s, v.lang, e),
    };
    match social::follow(&s.ctx, me, found.account.id, None, None).await {
        Ok(_) => v.redirect(&back_with("/home", "followed")),
        Err(ServiceError::Forbidden(why)) => {
            v.message(&s, StatusCode::FORBIDDEN, "page-error", why)
        }
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}
