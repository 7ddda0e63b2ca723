//! Single sign-on through the company's OpenID Connect provider (the
//! `[oidc]` section): the authorisation code flow with PKCE, a nonce and a
//! state bound to the browser by a cookie, and the ID token checked by
//! `openidconnect` (signature against the provider's keys, issuer, audience,
//! expiry, nonce). The provider's metadata and keys are fetched by a
//! background loop, never because of a visitor; a visit only redeems the code
//! of a sign-in it started here, once.
use std::sync::RwLock;
use std::time::Duration;

use chrono::Duration as Age;
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType, CoreUserInfoClaims};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest,
    HttpResponse, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};

use super::sessions::{self, Device, SignIn};
use super::{Ctx, ServiceError, ServiceResult, accounts};
use crate::db::models::{LocalUser, OidcIdentity, OidcLogin};
use crate::domain::{MembershipState, OrgKind, Via};
use crate::{crypto, db, ids};

/// How long the provider may take to send the person back.
pub const LOGIN_MINUTES: i64 = 10;
/// Answers from the provider are small JSON documents.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Keys rotate: the metadata and keys are fetched again this often.
const REFRESH_EVERY: Duration = Duration::from_secs(3600);
/// After a token that did not check out, the keys are read again at most this often
/// (the provider may have rotated them).
const REREAD_AFTER_FAILURE: Duration = Duration::from_secs(60);
/// Sign-ins under way at once, across all visitors: past this, new ones wait.
const MAX_PENDING: i64 = 10_000;

/// The provider as last discovered, and the HTTP client that talks to it.
pub struct Provider {
    http: reqwest::Client,
    metadata: RwLock<Option<CoreProviderMetadata>>,
    /// When the metadata was last read (or tried).
    read_at: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Provider {
    pub fn new() -> anyhow::Result<Provider> {
        crate::federation::http::install_tls_provider();
        let http = reqwest::Client::builder()
            // Following redirects would let a response steer our requests.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("tsunagu/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Provider {
            http,
            metadata: RwLock::new(None),
            read_at: std::sync::Mutex::new(None),
        })
    }

    /// Whether the provider's metadata and keys are known.
    pub fn ready(&self) -> bool {
        self.metadata().is_some()
    }

    fn metadata(&self) -> Option<CoreProviderMetadata> {
        self.metadata
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// One request to the provider, its answer's body capped.
async fn call(client: reqwest::Client, req: HttpRequest) -> Result<HttpResponse, std::io::Error> {
    let err = std::io::Error::other;
    let req = reqwest::Request::try_from(req).map_err(err)?;
    let mut resp = client.execute(req).await.map_err(err)?;
    let mut out = empty_response(resp.status(), resp.headers());
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(err)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(std::io::Error::other("the provider's answer is too large"));
        }
        body.extend_from_slice(&chunk);
    }
    *out.body_mut() = body;
    Ok(out)
}

fn empty_response(
    status: openidconnect::http::StatusCode,
    headers: &openidconnect::http::HeaderMap,
) -> HttpResponse {
    let mut out = HttpResponse::new(Vec::new());
    *out.status_mut() = status;
    *out.headers_mut() = headers.clone();
    out
}

/// Fetches the provider's metadata and keys.
pub async fn discover(ctx: &Ctx) -> anyhow::Result<()> {
    *ctx.oidc.read_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(std::time::Instant::now());
    let issuer = IssuerUrl::new(ctx.config.oidc.issuer.clone())?;
    let client = ctx.oidc.http.clone();
    let http = move |req| call(client.clone(), req);
    let found = CoreProviderMetadata::discover_async(issuer, &http).await?;
    *ctx.oidc.metadata.write().unwrap_or_else(|e| e.into_inner()) = Some(found);
    Ok(())
}

/// Keeps the provider's metadata fresh (every node runs this while single
/// sign-on is configured): hourly, and after a failure again within minutes.
pub async fn keep_discovered(ctx: Ctx) {
    let mut retry = Duration::from_secs(2);
    loop {
        match discover(&ctx).await {
            Ok(()) => {
                retry = Duration::from_secs(2);
                tokio::time::sleep(REFRESH_EVERY).await;
            }
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), issuer = %ctx.config.oidc.issuer,
                    "could not read the single sign-on provider's metadata; will retry");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(Duration::from_secs(300));
            }
        }
    }
}

/// Why a single sign-on did not sign anyone in (each has its words on the page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not configured, or the provider's metadata is not known yet.
    Unavailable,
    /// The browser came back without a sign-in it started, too late, twice,
    /// or with another sign-in's state.
    Expired,
    /// The person cancelled at the provider, or it refused.
    Cancelled,
    /// The code, the token or the ID token did not check out.
    Failed,
    /// The provider gave no verified e-mail address to link or create with.
    NoVerifiedEmail,
    /// An account has this address but has not confirmed it: it must sign
    /// in with its password first (linking would hand it to the provider's person).
    UnconfirmedAccount,
    /// An account has this address but is not linked automatically: it is
    /// an administrator's, it is linked to another subject of this provider
    /// (the address was given to someone else), or linking is off.
    CannotLink,
    /// No account is linked and new ones are not made this way.
    NoAccount,
}

#[derive(Debug)]
pub enum SsoError {
    Refused(Refusal),
    Service(ServiceError),
}

impl From<ServiceError> for SsoError {
    fn from(e: ServiceError) -> Self {
        SsoError::Service(e)
    }
}

impl From<crate::db::DbError> for SsoError {
    fn from(e: crate::db::DbError) -> Self {
        SsoError::Service(e.into())
    }
}

fn client(ctx: &Ctx, metadata: CoreProviderMetadata) -> ServiceResult<OidcClient> {
    let cfg = &ctx.config.oidc;
    let secret = Some(cfg.client_secret.clone())
        .filter(|s| !s.is_empty())
        .map(ClientSecret::new);
    let redirect = RedirectUrl::new(callback_url(ctx)).map_err(anyhow::Error::from)?;
    Ok(
        CoreClient::from_provider_metadata(metadata, ClientId::new(cfg.client_id.clone()), secret)
            .set_redirect_uri(redirect),
    )
}

type OidcClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// Where the provider sends the person back.
pub fn callback_url(ctx: &Ctx) -> String {
    format!("{}/auth/oidc/callback", ctx.base_url())
}

/// A sign-in sent to the provider: where to send the browser, and the token
/// its cookie keeps until it returns.
pub struct Started {
    pub url: String,
    pub token: String,
}

/// Starts a sign-in at the provider; `next` is where to go after it.
pub async fn begin(ctx: &Ctx, next: &str) -> Result<Started, SsoError> {
    let Some(metadata) = ctx
        .config
        .oidc
        .enabled()
        .then(|| ctx.oidc.metadata())
        .flatten()
    else {
        return Err(SsoError::Refused(Refusal::Unavailable));
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client(ctx, metadata)?
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let token = crypto::random_token();
    let login = OidcLogin {
        token_hash: crypto::token_hash(&token),
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        next: next.chars().take(500).collect(),
        created_at: ids::now(),
    };
    let mut conn = ctx.conn().await?;
    let since = ids::now() - Age::minutes(LOGIN_MINUTES);
    if db::oidc::count_logins_since(&mut conn, since).await? >= MAX_PENDING {
        tracing::warn!("too many single sign-ons under way; refusing new ones for now");
        return Err(SsoError::Refused(Refusal::Unavailable));
    }
    db::oidc::insert_login(&mut conn, &login).await?;
    Ok(Started {
        url: url.to_string(),
        token,
    })
}

/// What the provider said when it sent the browser back.
pub struct Returned {
    pub state: String,
    pub code: Option<String>,
    /// Set when the person cancelled or the provider refused.
    pub error: Option<String>,
    /// Who answered (RFC 9207), when the provider says: it must be ours.
    pub iss: Option<String>,
}

/// A finished single sign-on: the session (or the half one that still owes a
/// one-time code), and where the person wanted to go.
pub struct Finished {
    pub sign_in: SignIn,
    pub next: String,
}

/// Who the provider says the person is.
struct Claimed {
    subject: String,
    email: Option<String>,
    name: Option<String>,
    username: Option<String>,
    locale: Option<String>,
}

/// Completes a sign-in the browser started (`token` from its cookie).
pub async fn finish(
    ctx: &Ctx,
    token: &str,
    back: Returned,
    device: &Device,
) -> Result<Finished, SsoError> {
    let expired = SsoError::Refused(Refusal::Expired);
    let login = {
        let mut conn = ctx.conn().await?;
        db::oidc::take_login(&mut conn, &crypto::token_hash(token)).await?
    };
    let Some(login) = login.filter(|l| l.created_at > ids::now() - Age::minutes(LOGIN_MINUTES))
    else {
        return Err(expired);
    };
    // Compared as hashes: equal time whatever the prefix in common.
    if crypto::token_hash(&back.state) != crypto::token_hash(&login.state) {
        return Err(expired);
    }
    if back
        .iss
        .as_deref()
        .is_some_and(|iss| iss != ctx.config.oidc.issuer)
    {
        tracing::warn!("single sign-on answered by another issuer");
        return Err(SsoError::Refused(Refusal::Failed));
    }
    if let Some(e) = back.error {
        tracing::info!(error = %e.chars().take(100).collect::<String>(), "single sign-on cancelled at the provider");
        return Err(SsoError::Refused(Refusal::Cancelled));
    }
    let Some(metadata) = ctx.oidc.metadata() else {
        return Err(SsoError::Refused(Refusal::Unavailable));
    };
    let claimed = redeem(ctx, metadata, back.code.unwrap_or_default(), &login)
        .await
        .map_err(|e| {
            tracing::warn!(error = %format!("{e:#}"), "single sign-on failed");
            reread_soon(ctx);
            SsoError::Refused(Refusal::Failed)
        })?;
    let me = account_for(ctx, claimed).await?;
    if let Some(why) = accounts::login_refusal(ctx, &me) {
        return Err(SsoError::Service(ServiceError::Forbidden(why.into())));
    }
    join_org(ctx, &me).await?;
    let sign_in = sessions::proven_elsewhere(ctx, &me, device).await?;
    Ok(Finished {
        sign_in,
        next: login.next,
    })
}

/// Reads the provider's keys again in the background, unless that was done
/// within the last minute: a token signed with a new key fails until then.
fn reread_soon(ctx: &Ctx) {
    let recent = ctx
        .oidc
        .read_at
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .is_some_and(|t| t.elapsed() < REREAD_AFTER_FAILURE);
    if !recent {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            if let Err(e) = discover(&ctx).await {
                tracing::warn!(error = %format!("{e:#}"), "reading the provider's keys again failed");
            }
        });
    }
}

/// Redeems the code (with the PKCE verifier) and checks the ID token; asks
/// the user-info endpoint for what the ID token left out.
async fn redeem(
    ctx: &Ctx,
    metadata: CoreProviderMetadata,
    code: String,
    login: &OidcLogin,
) -> anyhow::Result<Claimed> {
    let client = client(ctx, metadata).map_err(|e| anyhow::anyhow!(e.detail()))?;
    let http_client = ctx.oidc.http.clone();
    let http = move |req| call(http_client.clone(), req);
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))?
        .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier.clone()))
        .request_async(&http)
        .await?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| anyhow::anyhow!("the provider sent no ID token"))?;
    let claims = id_token.claims(
        &client.id_token_verifier(),
        &Nonce::new(login.nonce.clone()),
    )?;
    let verified_email = |email: Option<&openidconnect::EndUserEmail>, verified: Option<bool>| {
        email
            .filter(|_| verified == Some(true))
            .map(|e| e.as_str().to_owned())
    };
    let mut claimed = Claimed {
        subject: claims.subject().as_str().to_owned(),
        email: verified_email(claims.email(), claims.email_verified()),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned()),
        username: claims.preferred_username().map(|u| u.as_str().to_owned()),
        locale: claims.locale().map(|l| l.as_str().to_owned()),
    };
    if claimed.email.is_none() {
        // Many providers put profile claims only in the user info (OIDC Core 5.4).
        let info: CoreUserInfoClaims = client
            .user_info(
                tokens.access_token().clone(),
                Some(claims.subject().clone()),
            )?
            .request_async(&http)
            .await?;
        claimed.email = verified_email(info.email(), info.email_verified());
        claimed.name = claimed.name.or_else(|| {
            info.name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned())
        });
        claimed.username = claimed
            .username
            .or_else(|| info.preferred_username().map(|u| u.as_str().to_owned()));
        claimed.locale = claimed
            .locale
            .or_else(|| info.locale().map(|l| l.as_str().to_owned()));
    }
    Ok(claimed)
}

/// The account the provider's person is here: linked before, linked now by
/// the verified address, or new.
async fn account_for(ctx: &Ctx, claimed: Claimed) -> Result<LocalUser, SsoError> {
    let cfg = &ctx.config.oidc;
    let issuer = cfg.issuer.as_str();
    let now = ids::now();
    let mut conn = ctx.conn().await?;
    let email = claimed.email.clone().unwrap_or_default();
    if let Some(known) = db::oidc::find_identity(&mut conn, issuer, &claimed.subject).await? {
        db::oidc::touch_identity(&mut conn, issuer, &claimed.subject, &email, now).await?;
        return Ok(accounts::reload(&mut conn, known.account_id).await?);
    }
    if email.is_empty() {
        return Err(SsoError::Refused(Refusal::NoVerifiedEmail));
    }
    if !domain_allowed(&cfg.email_domains, &email) {
        return Err(SsoError::Refused(Refusal::NoAccount));
    }
    let holder = db::accounts::find_local_by_email(&mut conn, &email.to_lowercase()).await?;
    let linked = match holder {
        Some(me) if me.user.email_confirmed_at.is_none() => {
            return Err(SsoError::Refused(Refusal::UnconfirmedAccount));
        }
        // An address given again to someone new at the company must not
        // open the old holder's account; administrators link only by hand.
        Some(me)
            if !cfg.link_by_email
                || me.user.is_admin
                || db::oidc::identities_of(&mut conn, me.account.id)
                    .await?
                    .iter()
                    .any(|i| i.issuer == issuer) =>
        {
            return Err(SsoError::Refused(Refusal::CannotLink));
        }
        Some(me) => Some(me),
        None if cfg.create_accounts => None,
        None => return Err(SsoError::Refused(Refusal::NoAccount)),
    };
    // One connection at a time: account creation takes its own.
    drop(conn);
    let me = match linked {
        Some(me) => me,
        None => create_account(ctx, &claimed, &email).await?,
    };
    let link = OidcIdentity {
        issuer: issuer.to_owned(),
        subject: claimed.subject,
        account_id: me.account.id,
        email,
        created_at: now,
        last_used_at: now,
    };
    let mut conn = ctx.conn().await?;
    db::oidc::insert_identity(&mut conn, &link).await?;
    tracing::info!(
        account = me.account.id,
        "single sign-on linked to an account"
    );
    Ok(me)
}

/// Whether the address is in one of the allowed domains (any, when none are listed).
fn domain_allowed(domains: &[String], email: &str) -> bool {
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    domains.is_empty() || domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
}

/// A username from the provider's hint (or the address): letters, digits
/// and underscores, made unique with a number.
async fn free_username(ctx: &Ctx, hint: &str) -> ServiceResult<String> {
    let mut base: String = hint
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(24)
        .collect();
    if base.is_empty() {
        base = "member".into();
    }
    let mut conn = ctx.conn().await?;
    for n in 0..1000 {
        let candidate = if n == 0 {
            base.clone()
        } else {
            format!("{base}{n}")
        };
        if accounts::validate_username(&candidate, false).is_none()
            && !db::accounts::acct_key_taken(&mut conn, &candidate).await?
        {
            return Ok(candidate);
        }
    }
    Err(ServiceError::Internal(anyhow::anyhow!(
        "no free username for {base:?}"
    )))
}

async fn create_account(ctx: &Ctx, claimed: &Claimed, email: &str) -> ServiceResult<LocalUser> {
    let hint = claimed
        .username
        .clone()
        .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
    let locale = claimed
        .locale
        .as_deref()
        .map(|l| {
            l.split(['-', '_'])
                .next()
                .unwrap_or_default()
                .to_lowercase()
        })
        .filter(|l| matches!(l.as_str(), "ja" | "en"));
    let new = accounts::NewAccount {
        username: free_username(ctx, &hint).await?,
        email: email.to_owned(),
        // Never told to anyone: the person signs in through the provider,
        // or sets a password of their own by the reset link.
        password: crypto::random_token(),
        locale,
        approved: true,
        email_confirmed: true,
        ..Default::default()
    };
    let me = accounts::signed_up(ctx, new, None).await?;
    if let Some(name) = claimed.name.clone().filter(|n| !n.trim().is_empty()) {
        let up = accounts::ProfileUpdate {
            display_name: Some(name.chars().take(30).collect()),
            ..Default::default()
        };
        accounts::update_profile(ctx, &me, up).await?;
    }
    Ok(me)
}

/// With `oidc.org` set, someone the provider knows belongs to that org:
/// verified in the configured role unless they already have a membership
/// there (the office's decisions stand).
async fn join_org(ctx: &Ctx, me: &LocalUser) -> ServiceResult<()> {
    let cfg = &ctx.config.oidc;
    if cfg.org.is_empty() {
        return Ok(());
    }
    let mut conn = ctx.conn().await?;
    let Some((account, _)) =
        db::accounts::find_by_acct_key(&mut conn, &cfg.org.to_lowercase()).await?
    else {
        tracing::warn!(org = %cfg.org, "oidc.org names no account here");
        return Ok(());
    };
    // Only the company's own network: anyone may found a club under a free
    // name, and must not receive everyone the provider signs in.
    let official = db::orgs::find(&mut conn, account.id)
        .await?
        .is_some_and(|(o, _)| o.kind == OrgKind::Official && o.archived_at.is_none());
    if !official {
        tracing::warn!(org = %cfg.org, "oidc.org is not an active official org; nobody joins it");
        return Ok(());
    }
    if db::memberships::blocked(&mut conn, account.id, &me.account).await? {
        return Ok(());
    }
    let m = super::memberships::new_membership(
        account.id,
        me.account.id,
        cfg.role,
        MembershipState::Verified,
        Via::Oidc,
    );
    // Never over an existing membership: the office's decisions stand.
    db::memberships::insert_new(&mut conn, &m).await?;
    Ok(())
}

/// The providers linked to an account (shown in its security settings).
pub async fn identities(ctx: &Ctx, me: &LocalUser) -> ServiceResult<Vec<OidcIdentity>> {
    let mut conn = ctx.conn().await?;
    Ok(db::oidc::identities_of(&mut conn, me.account.id).await?)
}

/// Forgets sign-ins that never came back (background upkeep).
pub async fn forget_stale(ctx: &Ctx) -> ServiceResult<usize> {
    let mut conn = ctx.conn().await?;
    let before = ids::now() - Age::minutes(LOGIN_MINUTES);
    Ok(db::oidc::delete_stale_logins(&mut conn, before).await?)
}
