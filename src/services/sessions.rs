//! Signing in on the web: a session per browser, behind a random cookie
//! token of which only the hash is stored. A person with two-factor sign-in
//! gets a half session after the password and a new, full one after the
//! code (the token changes at each step, so one seen before sign-in is
//! worthless after). Sessions can be listed and ended from the settings.
use chrono::Duration;

use super::{Ctx, ServiceError, ServiceResult, accounts, two_factor};
use crate::db::models::{LocalUser, WebSession};
use crate::domain::SessionStage;
use crate::{crypto, db, ids};

/// A session unused this long is over.
pub const IDLE_DAYS: i64 = 30;
/// The one-time code must follow the password within this time.
const SECOND_FACTOR_MINUTES: i64 = 10;
/// `last_used_at` is written at most this often.
const TOUCH_MINUTES: i64 = 5;

/// Who is signing in from where (shown in the list of sessions).
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub user_agent: String,
    pub ip: String,
}

pub enum SignIn {
    /// Signed in: the new session's cookie token.
    Done { token: String },
    /// The password was right; the one-time code is owed under this token.
    SecondFactor { token: String },
}

/// The signed-in person of a request.
pub struct Current {
    pub session: WebSession,
    pub me: LocalUser,
    /// Runs an org's office here (or administers the instance): the pages
    /// show the way to the office's dashboard.
    pub office: bool,
}

async fn start(
    ctx: &Ctx,
    account_id: i64,
    stage: SessionStage,
    device: &Device,
) -> ServiceResult<String> {
    let token = crypto::random_token();
    let now = ids::now();
    let row = WebSession {
        id: ids::next_id(),
        token_hash: crypto::token_hash(&token),
        account_id,
        stage,
        user_agent: device.user_agent.chars().take(300).collect(),
        ip: device.ip.chars().take(64).collect(),
        created_at: now,
        last_used_at: now,
    };
    let mut conn = ctx.conn().await?;
    db::sessions::insert(&mut conn, &row).await?;
    Ok(token)
}

/// Checks the password (the same refusals as the API's sign-in) and opens a
/// session, or a half one when a one-time code must follow.
pub async fn sign_in(
    ctx: &Ctx,
    login: &str,
    password: &str,
    device: &Device,
) -> ServiceResult<SignIn> {
    let me = accounts::authenticate(ctx, login, password).await?;
    proven_elsewhere(ctx, &me, device).await
}

/// What a password (and, with two-factor sign-in on, a code) proved.
pub enum Credentials {
    Valid(Box<LocalUser>),
    /// Right password; the account needs a one-time code too.
    CodeNeeded,
}

/// Checks a password and, for an account with two-factor sign-in, the
/// one-time code given with it (the OAuth consent page signs in this way).
/// Staff who must use two-factor sign-in and have not set it up are refused.
pub async fn check_credentials(
    ctx: &Ctx,
    login: &str,
    password: &str,
    code: &str,
) -> ServiceResult<Credentials> {
    let me = accounts::authenticate(ctx, login, password).await?;
    if !two_factor::is_enabled(ctx, me.account.id).await? {
        if two_factor::required(ctx, &me).await? {
            return Err(two_factor::setup_first());
        }
        return Ok(Credentials::Valid(Box::new(me)));
    }
    if code.trim().is_empty() {
        return Ok(Credentials::CodeNeeded);
    }
    if !two_factor::verify(ctx, me.account.id, code).await? {
        return Err(ServiceError::Unauthorized(
            "The code is wrong or was used already".into(),
        ));
    }
    Ok(Credentials::Valid(Box::new(me)))
}

/// Opens a session for someone just created or proven another way (sign-up).
pub async fn open(ctx: &Ctx, me: &LocalUser, device: &Device) -> ServiceResult<String> {
    start(ctx, me.account.id, SessionStage::SignedIn, device).await
}

/// Opens a session for someone another party proved (single sign-on): a
/// half one when their own one-time code must still follow.
pub async fn proven_elsewhere(ctx: &Ctx, me: &LocalUser, device: &Device) -> ServiceResult<SignIn> {
    if two_factor::is_enabled(ctx, me.account.id).await? {
        let token = start(ctx, me.account.id, SessionStage::SecondFactor, device).await?;
        return Ok(SignIn::SecondFactor { token });
    }
    let token = start(ctx, me.account.id, SessionStage::SignedIn, device).await?;
    Ok(SignIn::Done { token })
}

/// The half session's person, if it is still waiting for a code.
async fn pending(ctx: &Ctx, token: &str) -> ServiceResult<Option<(WebSession, LocalUser)>> {
    let mut conn = ctx.conn().await?;
    let found = db::sessions::find(&mut conn, &crypto::token_hash(token)).await?;
    Ok(found
        .filter(|(s, _, _)| {
            s.stage == SessionStage::SecondFactor
                && s.created_at > ids::now() - Duration::minutes(SECOND_FACTOR_MINUTES)
        })
        .map(|(s, account, user)| (s, LocalUser { account, user })))
}

/// Whether `token` is a sign-in waiting for its one-time code.
pub async fn awaits_code(ctx: &Ctx, token: &str) -> ServiceResult<bool> {
    Ok(pending(ctx, token).await?.is_some())
}

/// Completes a sign-in with the one-time (or a recovery) code: the half
/// session ends and a new full one starts.
pub async fn second_factor(
    ctx: &Ctx,
    token: &str,
    code: &str,
    device: &Device,
) -> ServiceResult<(String, LocalUser)> {
    let Some((half, me)) = pending(ctx, token).await? else {
        return Err(ServiceError::Unauthorized(
            "The sign-in expired; enter your password again".into(),
        ));
    };
    if let Some(why) = accounts::login_refusal(ctx, &me) {
        return Err(ServiceError::Forbidden(why.into()));
    }
    let checked = two_factor::verify(ctx, me.account.id, code).await;
    if matches!(checked, Err(ServiceError::RateLimited)) {
        // Locked: this half sign-in is over too.
        let mut conn = ctx.conn().await?;
        db::sessions::delete(&mut conn, half.id).await?;
    }
    if !checked? {
        return Err(ServiceError::Unauthorized(
            "The code is wrong or was used already".into(),
        ));
    }
    let mut conn = ctx.conn().await?;
    db::sessions::delete(&mut conn, half.id).await?;
    drop(conn);
    let token = start(ctx, me.account.id, SessionStage::SignedIn, device).await?;
    Ok((token, me))
}

/// The person signed in with `token`, if the session is whole, not idle too
/// long, and the account may still sign in.
pub async fn current(ctx: &Ctx, token: &str) -> ServiceResult<Option<Current>> {
    let mut conn = ctx.conn().await?;
    let Some((session, account, user)) =
        db::sessions::find(&mut conn, &crypto::token_hash(token)).await?
    else {
        return Ok(None);
    };
    let now = ids::now();
    if session.stage != SessionStage::SignedIn
        || session.last_used_at < now - Duration::days(IDLE_DAYS)
    {
        return Ok(None);
    }
    let me = LocalUser { account, user };
    if accounts::login_refusal(ctx, &me).is_some() {
        return Ok(None);
    }
    if session.last_used_at < now - Duration::minutes(TOUCH_MINUTES) {
        db::sessions::touch(&mut conn, session.id, now).await?;
    }
    ctx.seen.note(&mut conn, me.account.id).await;
    let office = me.user.is_admin
        || db::memberships::holds_role(
            &mut conn,
            crate::domain::AccountId(me.account.id),
            crate::domain::Role::Office,
        )
        .await?;
    Ok(Some(Current {
        session,
        me,
        office,
    }))
}

/// Ends the session behind `token` (whatever its stage).
pub async fn sign_out(ctx: &Ctx, token: &str) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    if let Some((s, _, _)) = db::sessions::find(&mut conn, &crypto::token_hash(token)).await? {
        db::sessions::delete(&mut conn, s.id).await?;
    }
    Ok(())
}

pub async fn list(ctx: &Ctx, me: &LocalUser) -> ServiceResult<Vec<WebSession>> {
    let mut conn = ctx.conn().await?;
    Ok(db::sessions::of_account(&mut conn, me.account.id).await?)
}

/// Ends one of the person's own sessions.
pub async fn revoke(ctx: &Ctx, me: &LocalUser, id: i64) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    if db::sessions::delete_of_account(&mut conn, me.account.id, id).await? {
        Ok(())
    } else {
        Err(ServiceError::not_found())
    }
}

/// Ends every session of the person but the current one.
pub async fn revoke_others(ctx: &Ctx, current: &Current) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    db::sessions::delete_others(&mut conn, current.me.account.id, current.session.id).await?;
    Ok(())
}

/// Forgets idle sessions and abandoned half sign-ins (background upkeep).
pub async fn forget_stale(ctx: &Ctx) -> ServiceResult<usize> {
    let now = ids::now();
    let mut conn = ctx.conn().await?;
    Ok(db::sessions::delete_stale(
        &mut conn,
        now - Duration::days(IDLE_DAYS),
        now - Duration::minutes(SECOND_FACTOR_MINUTES),
    )
    .await?)
}
