//! The alumni profile editor (`/settings/alumni`, with its "now" line) and
//! an org's directory (`/orgs/:id/directory`): pages over `services::alumni`,
//! which alone decides who sees what.
use std::collections::BTreeMap;

use axum::Form;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use minijinja::{Value as TplValue, context};

use super::member::member_or_redirect;
use super::oauth_error_page;
use super::session::Visit;
use crate::db::models::{Account, LocalUser};
use crate::domain::{AlumniField, Audience, DirectoryOrder, Industry, OpenTo};
use crate::services::alumni::{
    self, Location, MAX_NOW, MAX_SHORT, MAX_TENURES, ProfilePatch, ProfileView, TenurePatch,
    directory,
};
use crate::services::{FieldError, ServiceError, orgs};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/alumni", get(editor).post(editor_submit))
        .route("/settings/alumni/now", post(now_submit))
        .route("/orgs/{id}/directory", get(directory_page))
}

use crate::app::AppState;

/// People per directory page.
const PAGE_SIZE: i64 = 20;

/// Languages offered as boxes to tick, each named in itself; any other is
/// typed as its code.
const LANGUAGES: [(&str, &str); 15] = [
    ("ja", "日本語"),
    ("en", "English"),
    ("zh", "中文"),
    ("ko", "한국어"),
    ("es", "Español"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("pt", "Português"),
    ("it", "Italiano"),
    ("ru", "Русский"),
    ("vi", "Tiếng Việt"),
    ("th", "ไทย"),
    ("id", "Bahasa Indonesia"),
    ("hi", "हिन्दी"),
    ("ar", "العربية"),
];

/// A language code as shown: its own name when we know it.
fn language_name(code: &str) -> String {
    LANGUAGES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, name)| (*name).to_owned())
        .unwrap_or_else(|| code.to_owned())
}

/// The editor's fields, as shown and as submitted (so a refused form comes
/// back as it was typed).
#[derive(Default)]
struct Values {
    current_org: String,
    title: String,
    industry: String,
    city: String,
    region: String,
    country: String,
    skills: String,
    interests: String,
    /// Codes ticked among [`LANGUAGES`], and any others typed.
    languages: Vec<String>,
    other_languages: String,
    open_to: Vec<String>,
    tenures: Vec<TenureRow>,
    audiences: BTreeMap<AlumniField, Vec<String>>,
}

#[derive(Default, Clone)]
struct TenureRow {
    id: String,
    org_id: String,
    from: String,
    to: String,
    division: String,
    title: String,
    verified: bool,
}

/// Tags typed into one box: commas in either script, or one per line.
fn split_tags(text: &str) -> Vec<String> {
    text.split([',', '、', '，', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Values {
    fn of(p: &ProfileView) -> Values {
        let location = p.location.clone().unwrap_or_default();
        Values {
            current_org: p.current_org.clone().unwrap_or_default(),
            title: p.title.clone().unwrap_or_default(),
            industry: p
                .industry
                .flatten()
                .map(|i| i.as_str().to_owned())
                .unwrap_or_default(),
            city: location.city,
            region: location.region,
            country: location.country.unwrap_or_default(),
            skills: p.skills.clone().unwrap_or_default().join(", "),
            interests: p.interests.clone().unwrap_or_default().join(", "),
            languages: p
                .languages
                .iter()
                .flatten()
                .filter(|l| LANGUAGES.iter().any(|(c, _)| c == l))
                .cloned()
                .collect(),
            other_languages: p
                .languages
                .iter()
                .flatten()
                .filter(|l| !LANGUAGES.iter().any(|(c, _)| c == l))
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            open_to: p
                .open_to
                .iter()
                .flatten()
                .map(|o| o.as_str().to_owned())
                .collect(),
            tenures: p
                .tenures
                .iter()
                .flatten()
                .map(|t| TenureRow {
                    id: t.id.clone(),
                    org_id: t.org_id.clone(),
                    from: t.from.to_string(),
                    to: t.to.map(|y| y.to_string()).unwrap_or_default(),
                    division: t.division.clone(),
                    title: t.title.clone(),
                    verified: t.verified,
                })
                .collect(),
            audiences: p
                .audiences
                .iter()
                .flatten()
                .map(|(f, list)| (*f, list.iter().map(|a| a.token()).collect()))
                .collect(),
        }
    }

    /// The submitted form; tenure rows are `tenure-N-*`, the last one blank
    /// for a new period, and a row marked `remove` is left out.
    fn read(pairs: &[(String, String)]) -> Values {
        let one = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let all = |name: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .collect()
        };
        let mut tenures = Vec::new();
        // One row more than may be kept, so that too many is an error.
        for n in 0..=MAX_TENURES {
            let cell = |c: &str| one(&format!("tenure-{n}-{c}"));
            let row = TenureRow {
                id: cell("id"),
                org_id: cell("org"),
                from: cell("from").trim().to_owned(),
                to: cell("to").trim().to_owned(),
                division: cell("division"),
                title: cell("title"),
                verified: false,
            };
            let blank = row.from.is_empty()
                && row.to.is_empty()
                && row.division.trim().is_empty()
                && row.title.trim().is_empty();
            if !blank && cell("remove").is_empty() {
                tenures.push(row);
            }
        }
        Values {
            current_org: one("current_org"),
            title: one("title"),
            industry: one("industry"),
            city: one("city"),
            region: one("region"),
            country: one("country"),
            skills: one("skills"),
            interests: one("interests"),
            languages: all("languages"),
            other_languages: one("other_languages"),
            open_to: all("open_to"),
            tenures,
            audiences: AlumniField::ALL
                .iter()
                .map(|f| (*f, all(&format!("audience-{}", f.as_str()))))
                .collect(),
        }
    }

    /// The whole profile as a change (the "now" line has its own form).
    fn patch(&self) -> Result<ProfilePatch, FieldError> {
        let year = |text: &str| -> Result<Option<i32>, FieldError> {
            if text.is_empty() {
                return Ok(None);
            }
            text.parse::<i32>().map(Some).map_err(|_| FieldError {
                field: "tenures",
                code: "ERR_INVALID",
                description: format!("{text:?} is not a year"),
            })
        };
        let mut tenures = Vec::new();
        for t in &self.tenures {
            let Some(from) = year(&t.from)? else {
                return Err(FieldError {
                    field: "tenures",
                    code: "ERR_BLANK",
                    description: "each period needs the year it began".into(),
                });
            };
            tenures.push(TenurePatch {
                id: Some(t.id.clone()).filter(|id| !id.is_empty()),
                org_id: t.org_id.clone(),
                from,
                to: year(&t.to)?,
                division: t.division.clone(),
                title: t.title.clone(),
            });
        }
        Ok(ProfilePatch {
            current_org: Some(self.current_org.clone()),
            title: Some(self.title.clone()),
            industry: Some(self.industry.clone()),
            location: Some(Location {
                city: self.city.clone(),
                region: self.region.clone(),
                country: Some(self.country.clone()).filter(|c| !c.trim().is_empty()),
            }),
            skills: Some(split_tags(&self.skills)),
            interests: Some(split_tags(&self.interests)),
            languages: Some(
                self.languages
                    .iter()
                    .cloned()
                    .chain(split_tags(&self.other_languages))
                    .collect(),
            ),
            open_to: Some(self.open_to.clone()),
            tenures: Some(tenures),
            audiences: Some(
                self.audiences
                    .iter()
                    .map(|(f, list)| (f.as_str().to_owned(), list.clone()))
                    .collect(),
            ),
            ..ProfilePatch::default()
        })
    }
}

/// A field's error in the page's language, with the field's own label.
fn error_text(s: &AppState, lang: &str, e: &FieldError) -> String {
    let label = s
        .web
        .i18n
        .t(lang, &format!("alumni-field-{}", e.field), &[]);
    super::field_error_named(s, lang, e, label)
}

/// Where an error's field sits on the page (its anchor).
fn anchor_of(field: &str) -> &'static str {
    match field {
        "tenures" => "tenures",
        "current_org" => "current_org",
        "title" => "title",
        "industry" => "industry",
        "city" => "city",
        "region" => "region",
        "country" => "country",
        "skills" => "skills",
        "interests" => "interests",
        "languages" => "languages",
        "open_to" => "open_to",
        "now" => "now",
        _ => "audiences",
    }
}

/// A day as each language writes it (no time: profiles change by the day).
fn day_text(lang: &str, day: chrono::NaiveDate) -> String {
    if lang == "ja" {
        day.format("%Y年%-m月%-d日").to_string()
    } else {
        day.format("%-d %b %Y").to_string()
    }
}

/// Who may see a field, in words: each audience chosen, or "only me".
fn audience_words(s: &AppState, lang: &str, list: &[Audience], orgs: &[Account]) -> String {
    if list.is_empty() {
        return s.web.i18n.t(lang, "alumni-audience-only-me", &[]);
    }
    list.iter()
        .map(|a| audience_label(s, lang, *a, orgs))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn audience_label(s: &AppState, lang: &str, a: Audience, orgs: &[Account]) -> String {
    let org_name = |id: i64| {
        orgs.iter()
            .find(|o| o.id == id)
            .map(|o| o.shown_name().to_owned())
            .unwrap_or_else(|| id.to_string())
    };
    match a {
        Audience::Public => s.web.i18n.t(lang, "alumni-audience-public", &[]),
        Audience::MyOrgs => s.web.i18n.t(lang, "alumni-audience-my_orgs", &[]),
        Audience::Members(id) => {
            s.web
                .i18n
                .t(lang, "alumni-audience-members", &[("org", org_name(id))])
        }
        Audience::Office(id) => {
            s.web
                .i18n
                .t(lang, "alumni-audience-office", &[("org", org_name(id))])
        }
    }
}

async fn editor(State(s): State<AppState>, v: Visit) -> Response {
    let me = match member_or_redirect(&s, &v).await {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    match alumni::mine(&s.ctx, &me).await {
        Ok(p) => editor_page(&s, &v, &me, StatusCode::OK, &Values::of(&p), &p, None).await,
        Err(e) => oauth_error_page(&s, v.lang, e),
    }
}

async fn editor_submit(
    State(s): State<AppState>,
    v: Visit,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let me = match form_member(&s, &v, &pairs).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let values = Values::read(&pairs);
    let result = match values.patch() {
        Ok(patch) => alumni::update(&s.ctx, &me, patch).await,
        Err(e) => Err(ServiceError::Validation(vec![e])),
    };
    saved_or_refused(
        &s,
        &v,
        &me,
        result,
        "alumni-saved",
        Typed::Profile(Box::new(values)),
    )
    .await
}

/// The "now" line alone: one box and one button, its audience kept.
async fn now_submit(
    State(s): State<AppState>,
    v: Visit,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let me = match form_member(&s, &v, &pairs).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let text = pairs
        .iter()
        .find(|(k, _)| k == "now")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let result = alumni::set_now_line(&s.ctx, &me, text, None).await;
    saved_or_refused(&s, &v, &me, result, "now-saved", Typed::Now(text)).await
}

/// What a refused form had typed, shown again.
enum Typed<'a> {
    Profile(Box<Values>),
    Now(&'a str),
}

/// After a change: the editor with a toast, or the editor again with the
/// error and what was typed.
async fn saved_or_refused(
    s: &AppState,
    v: &Visit,
    me: &LocalUser,
    result: Result<ProfileView, ServiceError>,
    done: &str,
    typed: Typed<'_>,
) -> Response {
    match result {
        Ok(_) => v.redirect(&format!("/settings/alumni?done={done}")),
        Err(ServiceError::Validation(errs)) => match alumni::mine(&s.ctx, me).await {
            Ok(mut stored) => {
                let values = match typed {
                    Typed::Profile(mut values) => {
                        // A period kept as it was keeps its confirmation mark.
                        for row in &mut values.tenures {
                            row.verified = stored.tenures.iter().flatten().any(|t| {
                                t.id == row.id
                                    && t.verified
                                    && t.from.to_string() == row.from
                                    && t.to.map(|y| y.to_string()).unwrap_or_default() == row.to
                                    && t.division == row.division.trim()
                            });
                        }
                        *values
                    }
                    Typed::Now(text) => {
                        stored.now.get_or_insert_with(Default::default).text = text.to_owned();
                        Values::of(&stored)
                    }
                };
                let status = StatusCode::UNPROCESSABLE_ENTITY;
                editor_page(s, v, me, status, &values, &stored, errs.first()).await
            }
            Err(e) => oauth_error_page(s, v.lang, e),
        },
        Err(e) => oauth_error_page(s, v.lang, e),
    }
}

/// The person behind a submitted form whose CSRF token matches.
async fn form_member(
    s: &AppState,
    v: &Visit,
    pairs: &[(String, String)],
) -> Result<LocalUser, Response> {
    super::member::form_member(s, v, super::member::form_token(pairs))
        .await
        .cloned()
}

async fn editor_page(
    s: &AppState,
    v: &Visit,
    me: &LocalUser,
    status: StatusCode,
    values: &Values,
    stored: &ProfileView,
    error: Option<&FieldError>,
) -> Response {
    let lang = v.lang;
    let t = |id: &str| s.web.i18n.t(lang, id, &[]);
    let member_orgs = match orgs::memberships_of(&s.ctx, me).await {
        Ok(list) => list,
        Err(e) => return oauth_error_page(s, lang, e),
    };
    let mut orgs = member_orgs.clone();
    // Periods at an org one has left still name it.
    for row in &values.tenures {
        if let Ok(id) = row.org_id.parse::<i64>()
            && !orgs.iter().any(|o| o.id == id)
            && let Ok(o) = orgs::get(&s.ctx, id).await
        {
            orgs.push(o.account.account);
        }
    }
    let field = |f: AlumniField| {
        let chosen = values.audiences.get(&f).cloned().unwrap_or_default();
        let mut options = vec![Audience::Public, Audience::MyOrgs];
        for o in &member_orgs {
            options.push(Audience::Members(o.id));
            options.push(Audience::Office(o.id));
        }
        let typed: Vec<Audience> = chosen.iter().filter_map(|c| Audience::parse(c)).collect();
        context! {
            name => f.as_str(),
            label => t(&format!("alumni-field-{}", f.as_str())),
            legend => s.web.i18n.t(lang, "alumni-audience-legend",
                &[("field", t(&format!("alumni-field-{}", f.as_str())))]),
            shown_to => audience_words(s, lang, &typed, &member_orgs),
            options => options.iter().map(|a| context! {
                token => a.token(),
                label => audience_label(s, lang, *a, &member_orgs),
                checked => chosen.contains(&a.token()),
            }).collect::<Vec<_>>(),
        }
    };
    let fields: BTreeMap<&str, TplValue> = AlumniField::ALL
        .iter()
        .map(|f| (f.as_str(), field(*f)))
        .collect();
    let org_options = |selected: &str| -> Vec<TplValue> {
        orgs.iter()
            .map(|o| {
                context! {
                    id => o.id.to_string(),
                    name => o.shown_name(),
                    selected => o.id.to_string() == selected,
                }
            })
            .collect()
    };
    let mut rows: Vec<TenureRow> = values.tenures.clone();
    if rows.len() < MAX_TENURES {
        rows.push(TenureRow::default());
    }
    let tenures: Vec<TplValue> = rows
        .iter()
        .enumerate()
        .map(|(n, r)| {
            context! {
                n => n,
                number => n + 1,
                id => r.id.clone(),
                orgs => org_options(&r.org_id),
                from => r.from.clone(),
                to => r.to.clone(),
                division => r.division.clone(),
                title => r.title.clone(),
                verified => r.verified,
                new => r.id.is_empty() && r.from.is_empty(),
            }
        })
        .collect();
    let industries: Vec<TplValue> = Industry::ALL
        .iter()
        .map(|i| {
            context! {
                value => i.as_str(),
                label => t(&format!("industry-{}", i.as_str())),
                selected => values.industry == i.as_str(),
            }
        })
        .collect();
    let open_to: Vec<TplValue> = OpenTo::ALL
        .iter()
        .map(|o| {
            context! {
                value => o.as_str(),
                label => t(&format!("open-to-{}", o.as_str())),
                checked => values.open_to.iter().any(|x| x == o.as_str()),
            }
        })
        .collect();
    let error = error.map(|e| {
        context! {
            field => e.field,
            anchor => anchor_of(e.field),
            text => error_text(s, lang, e),
        }
    });
    let now = stored.now.clone().unwrap_or_default();
    let now_date = now
        .date
        .as_deref()
        .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
        .map(|d| day_text(lang, d));
    let updated = stored.updated_at.map(|u| day_text(lang, u.date_naive()));
    v.render(
        s,
        status,
        "alumni_profile.html",
        context! {
            nav => "settings",
            error => error,
            fields => fields,
            current_org => values.current_org.clone(),
            title => values.title.clone(),
            industries => industries,
            city => values.city.clone(),
            region => values.region.clone(),
            country => values.country.clone(),
            skills => values.skills.clone(),
            interests => values.interests.clone(),
            language_choices => LANGUAGES.iter().map(|(code, name)| context! {
                code => code,
                name => name,
                checked => values.languages.iter().any(|l| l == code),
            }).collect::<Vec<_>>(),
            other_languages => values.other_languages.clone(),
            open_to => open_to,
            tenures => tenures,
            has_orgs => !orgs.is_empty(),
            now => now.text,
            now_date => now_date,
            updated => updated,
            max_short => MAX_SHORT,
            max_now => MAX_NOW,
            directories => member_orgs.iter().map(|o| context! {
                name => o.shown_name(),
                href => format!("/orgs/{}/directory", o.id),
            }).collect::<Vec<_>>(),
        },
    )
}

/// The directory's query string: repeated keys for several values.
/// A year that is not one is refused (not silently dropped: the list would
/// look filtered when it is not).
fn search_of(query: &str) -> (directory::Search, Vec<(String, String)>, Option<FieldError>) {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let all = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let one = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut bad_year = None;
    let mut year = |name: &'static str| {
        let text = one(name)?;
        let parsed = text.trim().parse::<i32>().ok();
        if parsed.is_none() {
            bad_year = Some(FieldError {
                field: name,
                code: "ERR_INVALID",
                description: format!("{text:?} is not a year"),
            });
        }
        parsed
    };
    let (tenure_from, tenure_to) = (year("tenure_from"), year("tenure_to"));
    let search = directory::Search {
        roles: all("role"),
        divisions: all("division"),
        tenure_from,
        tenure_to,
        industries: all("industry"),
        countries: all("country"),
        skills: all("skills"),
        interests: all("interests"),
        languages: all("languages"),
        open_to: all("open_to"),
        text: one("q"),
        order: one("order"),
        offset: one("offset").and_then(|o| o.parse().ok()),
        limit: Some(PAGE_SIZE),
        facets: true,
    };
    (search, pairs, bad_year)
}

/// The same search with one pair more, or less, or another offset.
fn link(
    org_id: i64,
    pairs: &[(String, String)],
    change: impl Fn(&mut Vec<(String, String)>),
) -> String {
    let mut pairs: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "offset" && k != "done" && k != "lang")
        .cloned()
        .collect();
    change(&mut pairs);
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        q.append_pair(k, v);
    }
    let q = q.finish();
    if q.is_empty() {
        format!("/orgs/{org_id}/directory")
    } else {
        format!("/orgs/{org_id}/directory?{q}")
    }
}

async fn directory_page(
    State(s): State<AppState>,
    v: Visit,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let me = match member_or_redirect(&s, &v).await {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    let lang = v.lang;
    let t = |id: &str| s.web.i18n.t(lang, id, &[]);
    let Ok(org_id) = id.parse::<i64>() else {
        return super::page_not_found(&s, lang, ServiceError::not_found());
    };
    let (search, pairs, bad_year) = search_of(query.as_deref().unwrap_or(""));
    let org = match orgs::get(&s.ctx, org_id).await {
        Ok(o) => o,
        Err(e) => return super::page_not_found(&s, lang, e),
    };
    let result = match bad_year {
        Some(e) => Err(ServiceError::Validation(vec![e])),
        None => directory::search(&s.ctx, &me, org_id, &search).await,
    };
    let (page, error) = match result {
        Ok(page) => (page, None),
        Err(ServiceError::Validation(errs)) => {
            // The filters refused, said in words; the unfiltered list below.
            let text = errs.first().map(|e| error_text(&s, lang, e));
            let plain = directory::Search {
                limit: Some(PAGE_SIZE),
                facets: true,
                ..Default::default()
            };
            match directory::search(&s.ctx, &me, org_id, &plain).await {
                Ok(page) => (page, text),
                Err(e) => return oauth_error_page(&s, lang, e),
            }
        }
        Err(ServiceError::Forbidden(_)) => {
            let msg = s.web.i18n.t(
                lang,
                "directory-forbidden",
                &[("org", org.account.account.shown_name().to_owned())],
            );
            return v.message(&s, StatusCode::FORBIDDEN, "page-error", msg);
        }
        Err(e) => return oauth_error_page(&s, lang, e),
    };
    let chosen = |k: &str, val: &str| {
        pairs
            .iter()
            .any(|(pk, pv)| pk == k && pv.eq_ignore_ascii_case(val))
    };
    let facet = |key: &'static str, counts: &[directory::Count]| -> TplValue {
        let values: Vec<TplValue> = counts
            .iter()
            .map(|c| {
                let label = match key {
                    "role" => t(&format!("directory-role-{}", c.value)),
                    "industry" => t(&format!("industry-{}", c.value)),
                    "open_to" => t(&format!("open-to-{}", c.value)),
                    "languages" if LANGUAGES.iter().any(|(code, _)| *code == c.value) => {
                        language_name(&c.value)
                    }
                    _ => c.label.clone(),
                };
                context! {
                    value => c.value.clone(),
                    label => label,
                    count => c.count,
                    checked => chosen(key, &c.value),
                }
            })
            .collect();
        context! {
            key => key,
            legend => t(&format!("directory-facet-{key}")),
            values => values,
        }
    };
    let facets: Vec<TplValue> = page
        .facets
        .as_ref()
        .map(|f| {
            [
                facet("role", &f.role),
                facet("division", &f.division),
                facet("industry", &f.industry),
                facet("open_to", &f.open_to),
                facet("skills", &f.skills),
                facet("languages", &f.languages),
                facet("interests", &f.interests),
                facet("country", &f.country),
            ]
            .into_iter()
            .collect()
        })
        .unwrap_or_default();
    let cards: Vec<TplValue> = page
        .members
        .iter()
        .map(|e| card(&s, lang, org_id, e))
        .collect();
    let order = search.order.clone().unwrap_or_default();
    let orders: Vec<TplValue> = DirectoryOrder::ALL
        .iter()
        .map(|o| {
            context! {
                value => o.as_str(),
                label => t(&format!("directory-order-{}", o.as_str())),
                selected => order == o.as_str(),
            }
        })
        .collect();
    let shown_to = page.offset + page.members.len() as i64;
    // After refused filters the page is the plain list: no paging by them.
    let paged = error.is_none();
    let older = (paged && shown_to < page.total).then(|| {
        link(org_id, &pairs, |p| {
            p.push(("offset".into(), shown_to.to_string()))
        })
    });
    let newer = (paged && page.offset > 0).then(|| {
        let back = (page.offset - PAGE_SIZE).max(0);
        link(org_id, &pairs, |p| {
            if back > 0 {
                p.push(("offset".into(), back.to_string()))
            }
        })
    });
    let filtered = pairs
        .iter()
        .any(|(k, _)| k != "order" && k != "offset" && k != "lang" && k != "done");
    let org_name = org.account.account.shown_name().to_owned();
    v.render(
        &s,
        StatusCode::OK,
        "directory.html",
        context! {
            nav => "directory",
            org_id => org_id.to_string(),
            org_name => org_name.clone(),
            heading => s.web.i18n.t(lang, "directory-title", &[("org", org_name.clone())]),
            intro => s.web.i18n.t(lang, "directory-intro", &[("org", org_name)]),
            error => error,
            q => search.text.clone().unwrap_or_default(),
            tenure_from => search.tenure_from.map(|y| y.to_string()).unwrap_or_default(),
            tenure_to => search.tenure_to.map(|y| y.to_string()).unwrap_or_default(),
            orders => orders,
            facets => facets,
            cards => cards,
            total => page.total,
            results => s.web.i18n.t(lang, "directory-results", &[("total", page.total.to_string())]),
            range => (!page.members.is_empty()).then(|| s.web.i18n.t(lang, "directory-range", &[
                ("from", (page.offset + 1).to_string()),
                ("to", shown_to.to_string()),
                ("total", page.total.to_string()),
            ])),
            older => older,
            newer => newer,
            filtered => filtered,
            clear => format!("/orgs/{org_id}/directory"),
        },
    )
}

/// A person's card: face, name, the role here, what they released to the
/// reader (each hidden field simply absent) and when they last updated.
fn card(s: &AppState, lang: &str, org_id: i64, e: &directory::Entry) -> TplValue {
    let t = |id: &str| s.web.i18n.t(lang, id, &[]);
    let a = &e.account.account;
    let (avatar, initial) = super::avatar(s, a);
    let p = &e.profile;
    let org = org_id.to_string();
    let years = |from: i32, to: Option<i32>| match to {
        Some(to) if to != from => format!("{from}–{to}"),
        Some(_) => from.to_string(),
        None => s
            .web
            .i18n
            .t(lang, "directory-since", &[("year", from.to_string())]),
    };
    let tenures: Vec<TplValue> = p
        .tenures
        .iter()
        .flatten()
        .filter(|t| t.org_id == org)
        .map(|t| {
            context! {
                years => years(t.from, t.to),
                division => t.division.clone(),
                title => t.title.clone(),
                verified => t.verified,
            }
        })
        .collect();
    let location = p.location.as_ref().map(|l| {
        [
            l.city.as_str(),
            l.region.as_str(),
            l.country.as_deref().unwrap_or(""),
        ]
        .into_iter()
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
    });
    let now = p.now.as_ref().filter(|n| !n.text.is_empty()).map(|n| {
        context! {
            text => n.text.clone(),
            date => n.date.as_deref().and_then(|d| d.parse::<chrono::NaiveDate>().ok()).map(|d| day_text(lang, d)),
        }
    });
    context! {
        link => super::account_link(s, a),
        avatar => avatar,
        initial => initial,
        role => t(&format!("directory-role-{}", e.role.as_str())),
        tenures => tenures,
        current_org => p.current_org.clone().filter(|c| !c.is_empty()),
        title => p.title.clone().filter(|c| !c.is_empty()),
        industry => p.industry.flatten().map(|i| t(&format!("industry-{}", i.as_str()))),
        location => location.filter(|l| !l.is_empty()),
        skills => p.skills.clone().unwrap_or_default(),
        languages => p.languages.iter().flatten().map(|l| language_name(l)).collect::<Vec<_>>(),
        open_to => p.open_to.iter().flatten().map(|o| t(&format!("open-to-{}", o.as_str()))).collect::<Vec<_>>(),
        now => now,
        updated => p.updated_at.map(|u| s.web.i18n.t(lang, "directory-updated", &[("date", day_text(lang, u.date_naive()))])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_split_on_commas_of_either_script_and_lines() {
        assert_eq!(
            split_tags("Rust, 電池、 品質管理，\nGo\n\n ,"),
            vec!["Rust", "電池", "品質管理", "Go"]
        );
    }

    #[test]
    fn a_blank_or_removed_tenure_row_is_left_out_and_a_bad_year_is_refused() {
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let v = Values::read(&pairs(&[
            ("tenure-0-org", "7"),
            ("tenure-0-from", "2001"),
            ("tenure-0-to", "2010"),
            ("tenure-1-org", "7"),
            ("tenure-1-from", "1999"),
            ("tenure-1-remove", "1"),
            ("tenure-2-org", "7"),
            ("audience-title", "public"),
            ("audience-title", "office:7"),
        ]));
        assert_eq!(v.tenures.len(), 1);
        let patch = v.patch().expect("valid");
        let t = &patch.tenures.as_ref().expect("given")[0];
        assert_eq!((t.from, t.to, t.org_id.as_str()), (2001, Some(2010), "7"));
        let audiences = patch.audiences.expect("all fields given");
        assert_eq!(audiences.len(), AlumniField::ALL.len());
        assert_eq!(audiences["title"], vec!["public", "office:7"]);
        assert!(audiences["now"].is_empty(), "unchecked: only me");
        let bad = Values::read(&pairs(&[
            ("tenure-0-org", "7"),
            ("tenure-0-from", "late 90s"),
        ]));
        assert_eq!(bad.patch().err().map(|e| e.code), Some("ERR_INVALID"));
        let no_start = Values::read(&pairs(&[
            ("tenure-0-org", "7"),
            ("tenure-0-division", "R&D"),
        ]));
        assert_eq!(no_start.patch().err().map(|e| e.code), Some("ERR_BLANK"));
    }
}
