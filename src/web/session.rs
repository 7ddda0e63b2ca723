//! What every page knows of its visitor: the language, the CSRF token for
//! its forms and, when signed in, the person. Cookies: the session
//! (`HttpOnly`, `SameSite=Lax`, `Secure` unless the instance runs on plain
//! http for development), the CSRF token (the same flags) and the chosen
//! language.
use axum::extract::FromRequestParts;
use axum::http::header::{LOCATION, SET_COOKIE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::{Value as TplValue, context};

use super::{CSRF_COOKIE, cookie, i18n};
use crate::api::ratelimit::{PeerAddr, client_ip};
use crate::app::AppState;
use crate::crypto;
use crate::services::sessions::{self, Current, Device};

pub const SESSION_COOKIE: &str = "tsunagu_session";
pub const LANG_COOKIE: &str = "tsunagu_lang";

pub struct Visit {
    pub lang: &'static str,
    pub csrf: String,
    pub me: Option<Current>,
    /// The page's own path and query (where to come back to after signing in).
    pub here: String,
    pub headers: HeaderMap,
    pub device: Device,
    cookies: Vec<HeaderValue>,
}

fn cookie_header(s: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let secure = if s.ctx.config.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    let age = max_age
        .map(|a| format!("; Max-Age={a}"))
        .unwrap_or_default();
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{age}"
    ))
    .expect("cookie from token characters")
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Response> {
        let headers = parts.headers.clone();
        let query = parts.uri.query().unwrap_or("");
        let chosen = form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| i18n::LOCALES.iter().map(|(c, _)| *c).find(|c| *c == v))
            .map(str::to_owned);
        let mut cookies = Vec::new();
        let me = match cookie(&headers, SESSION_COOKIE) {
            Some(token) => match sessions::current(&s.ctx, &token).await {
                Ok(found) => found,
                Err(e) => {
                    let lang = i18n::negotiate(None, None, None);
                    return Err(super::oauth_error_page(s, lang, e));
                }
            },
            None => None,
        };
        let remembered = cookie(&headers, LANG_COOKIE);
        let explicit = chosen.clone().or(remembered.clone());
        let lang = i18n::negotiate(
            explicit.as_deref(),
            headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
            me.as_ref().and_then(|c| c.me.user.locale.as_deref()),
        );
        if let Some(l) = chosen.filter(|l| remembered.as_ref() != Some(l)) {
            cookies.push(cookie_header(s, LANG_COOKIE, &l, Some(365 * 86400)));
        }
        let csrf = match cookie(&headers, CSRF_COOKIE).filter(|t| t.len() >= 32) {
            Some(t) => t,
            None => {
                let t = crypto::random_token();
                cookies.push(cookie_header(s, CSRF_COOKIE, &t, None));
                t
            }
        };
        let peer = parts
            .extensions
            .get::<PeerAddr>()
            .and_then(|p| p.0)
            .or_else(|| {
                parts
                    .extensions
                    .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                    .map(|c| c.0)
            });
        let device = Device {
            user_agent: headers
                .get(USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned(),
            ip: client_ip(&headers, peer, s.ctx.config.server.trust_forwarded_for),
        };
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        Ok(Visit {
            lang,
            csrf,
            me,
            here,
            headers,
            device,
            cookies,
        })
    }
}

impl Visit {
    /// Whether a form's token matches this browser's.
    pub fn csrf_ok(&self, submitted: &str) -> bool {
        super::csrf_ok(&self.headers, submitted)
    }

    /// Starts a session: its cookie, and a new CSRF token (nothing known
    /// before signing in stays valid after).
    pub fn signed_in(&mut self, s: &AppState, token: &str) {
        self.cookies.push(cookie_header(
            s,
            SESSION_COOKIE,
            token,
            Some(sessions::IDLE_DAYS * 86400),
        ));
        let t = crypto::random_token();
        self.cookies.push(cookie_header(s, CSRF_COOKIE, &t, None));
        self.csrf = t;
    }

    /// Ends the session cookie and rotates the CSRF token.
    pub fn signed_out(&mut self, s: &AppState) {
        self.cookies
            .push(cookie_header(s, SESSION_COOKIE, "", Some(0)));
        let t = crypto::random_token();
        self.cookies.push(cookie_header(s, CSRF_COOKIE, &t, None));
        self.csrf = t;
        self.me = None;
    }

    /// Forgets a language picked with the switcher (the account's setting
    /// decides again).
    pub fn forget_language(&mut self, s: &AppState) {
        self.cookies
            .push(cookie_header(s, LANG_COOKIE, "", Some(0)));
    }

    fn finish(&self, mut resp: Response) -> Response {
        for c in &self.cookies {
            resp.headers_mut().append(SET_COOKIE, c.clone());
        }
        resp
    }

    /// A page in the visitor's language, with the signed-in person's bar.
    pub fn render(&self, s: &AppState, status: StatusCode, name: &str, page: TplValue) -> Response {
        let me = self.me.as_ref().map(|c| {
            let a = &c.me.account;
            let (avatar, initial) = super::avatar(s, a);
            context! {
                name => a.shown_name(),
                username => a.username.clone(),
                avatar => avatar,
                initial => initial,
                office => c.office,
                admin => c.me.user.is_admin,
            }
        });
        // A completed action's toast (`?done=`), from a fixed list.
        let done = form_urlencoded::parse(
            self.here
                .split_once('?')
                .map(|(_, q)| q)
                .unwrap_or("")
                .as_bytes(),
        )
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v.into_owned())
        .filter(|d| {
            [
                "followed",
                "requested",
                "approved",
                "rejected",
                "role-changed",
                "graduated",
                "removed",
                "announced",
                "resolved",
                "reopened",
                "silenced",
                "suspended",
                "blocked",
                "unblocked",
                "allowed",
                "disallowed",
                "saved",
                "account-approved",
                "account-rejected",
                "invitations-sent",
                "invitation-created",
                "invitation-revoked",
                "club-recognised",
                "club-withdrawn",
                "org-blocked",
                "org-unblocked",
                "profile-saved",
                "alumni-saved",
                "now-saved",
            ]
            .contains(&d.as_str())
        });
        let ctx = context! {
            me => me,
            done => done,
            csrf => self.csrf.clone(),
            here => self.here.clone(),
            ..page
        };
        self.finish(s.web.render(s, status, name, self.lang, ctx))
    }

    pub fn message(
        &self,
        s: &AppState,
        status: StatusCode,
        heading_id: &str,
        message: String,
    ) -> Response {
        let heading = s.web.i18n.t(self.lang, heading_id, &[]);
        let is_error = status.is_client_error() || status.is_server_error();
        self.render(
            s,
            status,
            "message.html",
            context! { heading, message, is_error },
        )
    }

    /// Sets a cookie of ours (`HttpOnly`, `SameSite=Lax`, `Secure` on https).
    pub fn set_cookie(&mut self, s: &AppState, name: &str, value: &str, max_age: Option<i64>) {
        self.cookies.push(cookie_header(s, name, value, max_age));
    }

    /// 303 to another site (only for addresses the server itself made, such
    /// as the single sign-on provider's, never one from a request).
    pub fn redirect_away(&self, url: &str) -> Response {
        match HeaderValue::from_str(url) {
            Ok(v) => self.finish((StatusCode::SEE_OTHER, [(LOCATION, v)]).into_response()),
            Err(_) => self.redirect("/auth/sign_in"),
        }
    }

    /// 303 to a page of ours.
    pub fn redirect(&self, to: &str) -> Response {
        let to = local_path(to);
        self.finish(
            (
                StatusCode::SEE_OTHER,
                [(
                    LOCATION,
                    HeaderValue::from_str(&to).unwrap_or(HeaderValue::from_static("/")),
                )],
            )
                .into_response(),
        )
    }

    /// The signed-in person, or a redirect to sign in and come back here.
    #[allow(clippy::result_large_err)]
    pub fn member(&self) -> Result<&Current, Response> {
        match &self.me {
            Some(c) => Ok(c),
            None => {
                let mut q = form_urlencoded::Serializer::new(String::new());
                q.append_pair("next", &self.here);
                Err(self.redirect(&format!("/auth/sign_in?{}", q.finish())))
            }
        }
    }
}

/// Only a path on this server (never `//elsewhere` or a scheme): where a
/// `next` parameter may send someone.
pub fn local_path(to: &str) -> String {
    let ok = to.starts_with('/')
        && !to.starts_with("//")
        && !to.starts_with("/\\")
        && !to.chars().any(|c| c.is_control() || c == '\\');
    if ok { to.to_owned() } else { "/home".into() }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(local_path("/home?x=1"), "/home?x=1");
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/a\nb",
        ] {
            assert_eq!(local_path(bad), "/home", "{bad}");
        }
    }
}
