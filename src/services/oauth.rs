//! OAuth 2 as Mastodon clients use it: app registration, the authorisation
//! code flow (with the out-of-band redirect, custom schemes and PKCE S256),
//! client credentials, refresh tokens, the optional password grant,
//! revocation, and bearer-token authentication with scopes.
use crate::domain::GrantType;
use chrono::Duration;

use super::scopes::Scopes;
use super::{Ctx, ServiceError, ServiceResult, accounts};
use crate::crypto;
use crate::db::models::{LocalUser, NewOAuthApp, OAuthApp, OAuthCode, OAuthToken};
use crate::db::{self, DbConn};
use crate::ids;

/// The out-of-band redirect: the code is shown on a page for the person to copy.
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
const CODE_LIFETIME_MINUTES: i64 = 10;
const MAX_REDIRECT_URIS: usize = 10;
const MAX_APP_NAME: usize = 60;

#[derive(Debug, Clone, Default)]
pub struct NewApp {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Option<String>,
    pub website: Option<String>,
}

pub struct CreatedApp {
    pub app: OAuthApp,
    /// Shown once; only its hash is stored.
    pub client_secret: String,
}

/// Redirect URIs may be the OOB marker, https/http URLs, or an app's custom
/// scheme (`tusky://oauth`); never script or data URLs.
fn validate_redirect_uri(uri: &str) -> Result<(), String> {
    if uri == OOB {
        return Ok(());
    }
    let u = url::Url::parse(uri).map_err(|_| format!("{uri:?} is not an absolute URI"))?;
    match u.scheme() {
        "javascript" | "data" | "vbscript" | "file" | "blob" | "about" => {
            Err(format!("{uri:?} uses a forbidden scheme"))
        }
        "http" | "https" if u.host_str().is_none() => Err(format!("{uri:?} has no host")),
        _ if u.fragment().is_some() => Err(format!("{uri:?} must not contain a fragment")),
        _ => Ok(()),
    }
}

pub async fn create_app(ctx: &Ctx, new: NewApp) -> ServiceResult<CreatedApp> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(ServiceError::invalid(
            "client_name",
            "ERR_BLANK",
            "can't be blank",
        ));
    }
    if name.chars().count() > MAX_APP_NAME {
        return Err(ServiceError::invalid(
            "client_name",
            "ERR_TOO_LONG",
            "is too long (maximum is 60 characters)",
        ));
    }
    let uris: Vec<String> = new
        .redirect_uris
        .iter()
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    if uris.is_empty() {
        return Err(ServiceError::invalid(
            "redirect_uris",
            "ERR_BLANK",
            "can't be blank",
        ));
    }
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(ServiceError::invalid(
            "redirect_uris",
            "ERR_TOO_LONG",
            "has too many entries (maximum is 10)",
        ));
    }
    for u in &uris {
        validate_redirect_uri(u)
            .map_err(|m| ServiceError::invalid("redirect_uris", "ERR_INVALID", m))?;
    }
    let scopes = match new
        .scopes
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => {
            Scopes::parse(s).map_err(|m| ServiceError::invalid("scopes", "ERR_INVALID", m))?
        }
        None => Scopes::default_read(),
    };
    let website = new
        .website
        .as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty());
    if let Some(w) = website
        && url::Url::parse(w)
            .map(|u| !matches!(u.scheme(), "http" | "https"))
            .unwrap_or(true)
    {
        return Err(ServiceError::invalid(
            "website",
            "ERR_INVALID",
            "must be an http(s) URL",
        ));
    }
    let client_id = crypto::random_token();
    let client_secret = crypto::random_token();
    let row = NewOAuthApp {
        id: ids::next_id(),
        name,
        website,
        redirect_uris: &uris.join("\n"),
        scopes: &scopes.to_string(),
        client_id: &client_id,
        client_secret_hash: &crypto::token_hash(&client_secret),
        created_at: ids::now(),
    };
    let mut conn = ctx.conn().await?;
    let app = db::oauth::insert_app(&mut conn, &row).await?;
    Ok(CreatedApp { app, client_secret })
}

pub fn redirect_uris(app: &OAuthApp) -> Vec<String> {
    app.redirect_uris.lines().map(str::to_owned).collect()
}

pub fn app_scopes(app: &OAuthApp) -> Scopes {
    Scopes::parse(&app.scopes).unwrap_or_else(|_| Scopes::default_read())
}

/// `GET /oauth/authorize` parameters.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// An authorisation request that passed every check; the consent page shows it.
#[derive(Debug, Clone)]
pub struct ValidAuthorization {
    pub app: OAuthApp,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
}

pub async fn check_authorize(
    ctx: &Ctx,
    req: &AuthorizeRequest,
) -> ServiceResult<ValidAuthorization> {
    let mut conn = ctx.conn().await?;
    let app = db::oauth::find_app_by_client_id(&mut conn, &req.client_id)
        .await?
        .ok_or_else(|| {
            ServiceError::oauth(
                "invalid_client",
                "Client authentication failed due to unknown client.",
            )
        })?;
    let registered = redirect_uris(&app);
    let redirect_uri = match req.redirect_uri.as_deref().filter(|r| !r.is_empty()) {
        Some(r) if registered.iter().any(|u| u == r) => r.to_owned(),
        Some(_) => {
            return Err(ServiceError::oauth(
                "invalid_redirect_uri",
                "The redirect uri included is not valid.",
            ));
        }
        None if registered.len() == 1 => registered[0].clone(),
        None => {
            return Err(ServiceError::oauth(
                "invalid_request",
                "The request is missing the redirect_uri parameter.",
            ));
        }
    };
    match req.response_type.as_deref() {
        Some("code") => {}
        None | Some("") => {
            return Err(ServiceError::oauth(
                "invalid_request",
                "The request is missing the response_type parameter.",
            ));
        }
        Some(_) => {
            return Err(ServiceError::oauth(
                "unsupported_response_type",
                "The authorization server does not support this response type.",
            ));
        }
    }
    let scopes = requested_scopes(req.scope.as_deref(), &app)?;
    let code_challenge = match (
        req.code_challenge.as_deref().filter(|c| !c.is_empty()),
        req.code_challenge_method.as_deref(),
    ) {
        (None, _) => None,
        (Some(c), Some("S256")) if (43..=128).contains(&c.len()) => Some(c.to_owned()),
        (Some(_), Some("S256")) => {
            return Err(ServiceError::oauth(
                "invalid_request",
                "The code_challenge is malformed.",
            ));
        }
        (Some(_), _) => {
            return Err(ServiceError::oauth(
                "invalid_request",
                "Only the S256 code_challenge_method is supported.",
            ));
        }
    };
    Ok(ValidAuthorization {
        app,
        redirect_uri,
        scopes,
        state: req.state.clone(),
        code_challenge,
    })
}

/// Requested scopes must lie within the app's registration; none means the app's own.
fn requested_scopes(scope: Option<&str>, app: &OAuthApp) -> ServiceResult<Scopes> {
    let app_scopes = app_scopes(app);
    match scope.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(app_scopes),
        Some(s) => {
            let req = Scopes::parse(s).map_err(|m| {
                ServiceError::oauth(
                    "invalid_scope",
                    format!("The requested scope is invalid: {m}."),
                )
            })?;
            if !req.within(&app_scopes) {
                return Err(ServiceError::oauth(
                    "invalid_scope",
                    "The requested scope is invalid, unknown, or malformed.",
                ));
            }
            Ok(req)
        }
    }
}

/// Issues a one-time code after the person signed in and consented.
pub async fn grant_code(
    ctx: &Ctx,
    v: &ValidAuthorization,
    me: &LocalUser,
) -> ServiceResult<String> {
    let code = crypto::random_token();
    let now = ids::now();
    let row = OAuthCode {
        id: ids::next_id(),
        code_hash: crypto::token_hash(&code),
        app_id: v.app.id,
        account_id: me.account.id,
        scopes: v.scopes.to_string(),
        redirect_uri: v.redirect_uri.clone(),
        code_challenge: v.code_challenge.clone(),
        created_at: now,
        expires_at: now + Duration::minutes(CODE_LIFETIME_MINUTES),
        used_at: None,
    };
    let mut conn = ctx.conn().await?;
    db::oauth::insert_code(&mut conn, &row).await?;
    Ok(code)
}

/// Where the browser goes after the consent page: the OOB page shows the code,
/// any other registered URI receives `code`/`error` and `state` as query parameters.
pub fn redirect_target(v: &ValidAuthorization, params: &[(&str, &str)]) -> Option<String> {
    if v.redirect_uri == OOB {
        return None;
    }
    let mut u = url::Url::parse(&v.redirect_uri).ok()?;
    {
        let mut q = u.query_pairs_mut();
        for (k, val) in params {
            q.append_pair(k, val);
        }
        if let Some(s) = &v.state {
            q.append_pair("state", s);
        }
    }
    Some(u.to_string())
}

/// `POST /oauth/token` parameters (client credentials may come from HTTP Basic).
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    pub grant_type: String,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// A freshly issued token; the plain secrets exist only here.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub scopes: Scopes,
    pub created_at: i64,
    pub expires_in: Option<i64>,
}

async fn client(
    conn: &mut DbConn<'_>,
    req: &TokenRequest,
    secret_required: bool,
) -> ServiceResult<OAuthApp> {
    let invalid = || {
        ServiceError::oauth(
            "invalid_client",
            "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
        )
    };
    let id = req
        .client_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(invalid)?;
    let app = db::oauth::find_app_by_client_id(conn, id)
        .await?
        .ok_or_else(invalid)?;
    match req.client_secret.as_deref().filter(|s| !s.is_empty()) {
        Some(s) if crypto::secrets_equal(&crypto::token_hash(s), &app.client_secret_hash) => {
            Ok(app)
        }
        None if !secret_required => Ok(app),
        _ => Err(invalid()),
    }
}

pub async fn token(ctx: &Ctx, req: TokenRequest) -> ServiceResult<IssuedToken> {
    let mut conn = ctx.conn().await?;
    let now = ids::now();
    if req.grant_type.is_empty() {
        return Err(ServiceError::oauth(
            "invalid_request",
            "The request is missing the grant_type parameter.",
        ));
    }
    let Some(grant) = GrantType::parse(&req.grant_type) else {
        return Err(ServiceError::oauth(
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        ));
    };
    match grant {
        GrantType::AuthorizationCode => {
            let code = req
                .code
                .as_deref()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    ServiceError::oauth(
                        "invalid_request",
                        "The request is missing the code parameter.",
                    )
                })?;
            // A public client (no secret) must prove possession with PKCE.
            let app = client(&mut conn, &req, req.code_verifier.is_none()).await?;
            let invalid_grant = || {
                ServiceError::oauth(
                    "invalid_grant",
                    "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
                )
            };
            let code = db::oauth::redeem_code(&mut conn, &crypto::token_hash(code), now)
                .await?
                .ok_or_else(invalid_grant)?;
            if code.app_id != app.id || code.expires_at <= now {
                return Err(invalid_grant());
            }
            if let Some(r) = req.redirect_uri.as_deref().filter(|r| !r.is_empty())
                && r != code.redirect_uri
            {
                return Err(invalid_grant());
            }
            match (&code.code_challenge, req.code_verifier.as_deref()) {
                (Some(challenge), Some(verifier))
                    if crypto::pkce_s256_matches(verifier, challenge) => {}
                (None, None) => {}
                _ => return Err(invalid_grant()),
            }
            let me = accounts::reload(&mut conn, code.account_id).await?;
            if let Some(why) = accounts::login_refusal(ctx, &me) {
                return Err(ServiceError::oauth("invalid_grant", why));
            }
            let scopes = Scopes::parse(&code.scopes).unwrap_or_else(|_| Scopes::default_read());
            issue(ctx, &mut conn, app.id, Some(me.account.id), scopes, true).await
        }
        GrantType::ClientCredentials => {
            let app = client(&mut conn, &req, true).await?;
            let scopes = match req
                .scope
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                None => Scopes::default_read(),
                some => requested_scopes(some, &app)?,
            };
            issue(ctx, &mut conn, app.id, None, scopes, false).await
        }
        GrantType::RefreshToken => {
            let app = client(&mut conn, &req, true).await?;
            let invalid_grant = || {
                ServiceError::oauth(
                    "invalid_grant",
                    "The refresh token is invalid, expired or revoked.",
                )
            };
            let presented = req
                .refresh_token
                .as_deref()
                .filter(|t| !t.is_empty())
                .ok_or_else(invalid_grant)?;
            let old = db::oauth::find_token_by_refresh(&mut conn, &crypto::token_hash(presented))
                .await?
                .ok_or_else(invalid_grant)?;
            if old.app_id != app.id || old.revoked_at.is_some() {
                return Err(invalid_grant());
            }
            let old_scopes = Scopes::parse(&old.scopes).unwrap_or_else(|_| Scopes::default_read());
            let scopes = match req
                .scope
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                None => old_scopes,
                Some(s) => {
                    let narrowed =
                        Scopes::parse(s).map_err(|m| ServiceError::oauth("invalid_scope", m))?;
                    if !narrowed.within(&old_scopes) {
                        return Err(ServiceError::oauth(
                            "invalid_scope",
                            "The requested scope exceeds the original grant.",
                        ));
                    }
                    narrowed
                }
            };
            // Rotation: the old pair stops working as the new one is issued.
            let (account_id, old_id) = (old.account_id, old.id);
            conn.transaction(async |tx| {
                if db::oauth::revoke_token_id(tx, old_id, now).await? == 0 {
                    return Err(invalid_grant());
                }
                issue(ctx, tx, app.id, account_id, scopes, true).await
            })
            .await
        }
        GrantType::Password => {
            if !ctx.config.oauth.password_grant {
                return Err(ServiceError::oauth(
                    "unsupported_grant_type",
                    "The password grant is disabled on this server.",
                ));
            }
            let app = client(&mut conn, &req, true).await?;
            let scopes = match req
                .scope
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                None => Scopes::default_read(),
                some => requested_scopes(some, &app)?,
            };
            drop(conn);
            let login = req.username.unwrap_or_default();
            let me = match accounts::authenticate(ctx, &login, &req.password.unwrap_or_default())
                .await
            {
                Ok(a) => a,
                Err(ServiceError::Forbidden(why)) => {
                    return Err(ServiceError::oauth("invalid_grant", why));
                }
                Err(ServiceError::Unauthorized(_)) => {
                    return Err(ServiceError::oauth(
                        "invalid_grant",
                        "The user credentials were incorrect.",
                    ));
                }
                Err(e) => return Err(e),
            };
            // A password alone must not open an account that needs a code.
            if !super::two_factor::password_suffices(ctx, &me).await? {
                return Err(ServiceError::oauth(
                    "invalid_grant",
                    "This account signs in with a one-time code: use the authorization page.",
                ));
            }
            let mut conn = ctx.conn().await?;
            issue(ctx, &mut conn, app.id, Some(me.account.id), scopes, true).await
        }
    }
}

async fn issue(
    ctx: &Ctx,
    conn: &mut DbConn<'_>,
    app_id: i64,
    account_id: Option<i64>,
    scopes: Scopes,
    with_refresh: bool,
) -> ServiceResult<IssuedToken> {
    let access = crypto::random_token();
    let refresh = (with_refresh && account_id.is_some()).then(crypto::random_token);
    let now = ids::now();
    let ttl = ctx.config.oauth.access_token_ttl_seconds;
    let row = OAuthToken {
        id: ids::next_id(),
        token_hash: crypto::token_hash(&access),
        refresh_token_hash: refresh.as_deref().map(crypto::token_hash),
        app_id,
        account_id,
        scopes: scopes.to_string(),
        created_at: now,
        expires_at: (ttl > 0).then(|| now + Duration::seconds(ttl as i64)),
        revoked_at: None,
        last_used_at: None,
    };
    db::oauth::insert_token(conn, &row).await?;
    Ok(IssuedToken {
        access_token: access,
        refresh_token: refresh,
        scopes,
        created_at: now.and_utc().timestamp(),
        expires_in: (ttl > 0).then_some(ttl as i64),
    })
}

/// A user token for a just-registered account (what `POST /api/v1/accounts` returns).
pub async fn issue_for_registration(
    ctx: &Ctx,
    app_id: i64,
    me: &LocalUser,
    scopes: Scopes,
) -> ServiceResult<IssuedToken> {
    let mut conn = ctx.conn().await?;
    issue(ctx, &mut conn, app_id, Some(me.account.id), scopes, true).await
}

/// Who is calling, as established by a bearer token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: OAuthToken,
    pub app: OAuthApp,
    /// The signed-in person; `None` for app tokens (client credentials).
    pub account: Option<LocalUser>,
    pub scopes: Scopes,
}

pub async fn authenticate(ctx: &Ctx, bearer: &str) -> ServiceResult<Caller> {
    let mut conn = ctx.conn().await?;
    let found = db::oauth::find_token(&mut conn, &crypto::token_hash(bearer)).await?;
    let Some((token, app, account, user)) = found else {
        return Err(ServiceError::Unauthorized(
            "The access token is invalid".into(),
        ));
    };
    if token.revoked_at.is_some() {
        return Err(ServiceError::Unauthorized(
            "The access token was revoked".into(),
        ));
    }
    if token.expires_at.is_some_and(|e| e <= ids::now()) {
        return Err(ServiceError::Unauthorized(
            "The access token expired".into(),
        ));
    }
    let account = match (account, user) {
        (Some(account), Some(user)) => Some(LocalUser { account, user }),
        (None, _) => None,
        // A token of an account that is no longer local cannot be used.
        (Some(_), None) => {
            return Err(ServiceError::Unauthorized(
                "The access token is invalid".into(),
            ));
        }
    };
    if let Some(why) = account
        .as_ref()
        .and_then(|me| accounts::login_refusal(ctx, me))
    {
        return Err(ServiceError::Forbidden(why.into()));
    }
    if let Some(me) = &account {
        ctx.seen.note(&mut conn, me.account.id).await;
    }
    let scopes = Scopes::parse(&token.scopes).unwrap_or_else(|_| Scopes::default_read());
    Ok(Caller {
        token,
        app,
        account,
        scopes,
    })
}

/// RFC 7009: revoking an unknown token succeeds; a wrong client does not.
pub async fn revoke(
    ctx: &Ctx,
    client_id: &str,
    client_secret: Option<&str>,
    token: &str,
) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    let req = TokenRequest {
        client_id: Some(client_id.to_owned()),
        client_secret: client_secret.map(str::to_owned),
        ..Default::default()
    };
    let app = client(&mut conn, &req, true).await.map_err(|_| {
        ServiceError::oauth(
            "unauthorized_client",
            "You are not authorized to revoke this token",
        )
    })?;
    db::oauth::revoke_token(&mut conn, app.id, &crypto::token_hash(token), ids::now()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris() {
        for ok in [
            OOB,
            "https://app.example/cb",
            "tusky://oauth",
            "com.example.app:/oauth",
            "http://localhost:4000/cb",
        ] {
            assert!(validate_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "/relative",
            "https://x.example/#frag",
            "not a uri",
        ] {
            assert!(validate_redirect_uri(bad).is_err(), "{bad}");
        }
    }
}
