//! Two-factor sign-in: a time-based one-time password (RFC 6238, the codes
//! of Google Authenticator, 1Password, Microsoft Authenticator...) and
//! single-use recovery codes for a lost phone. A code works once.
use totp_rs::{Algorithm, Builder, Secret, Totp};

use super::{Ctx, ServiceError, ServiceResult};
use crate::db::models::LocalUser;
use crate::domain::{AccountId, Role};
use crate::{crypto, db, ids};

const STEP_SECONDS: u64 = 30;
const RECOVERY_CODES: usize = 10;
/// Wrong codes in a row before code entry locks, and for how long: with
/// three steps accepted, a guess wins about 3 times in a million.
const MAX_FAILURES: i32 = 5;
const LOCK_MINUTES: i64 = 15;

/// What a person scans or types into their authenticator app.
pub struct Setup {
    /// The secret in base32, to type in by hand.
    pub secret: String,
    /// The `otpauth://` address the QR code holds.
    pub uri: String,
    /// The QR code as inline SVG.
    pub qr_svg: String,
}

pub struct Status {
    pub enabled: bool,
    pub recovery_codes_left: i64,
}

fn totp(secret_b32: &str) -> ServiceResult<Totp> {
    let secret = Secret::try_from_base32(secret_b32)
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!("stored TOTP secret: {e}")))?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(0)
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret)
        .build()
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!("TOTP: {e}")))
}

fn setup_of(ctx: &Ctx, me: &LocalUser, secret: &str) -> Setup {
    let issuer = ctx.settings().title.clone();
    let label = format!(
        "{issuer}:{}@{}",
        me.account.username, ctx.config.server.domain
    );
    let mut uri = url::Url::parse("otpauth://totp/").expect("static URL");
    uri.set_path(&label);
    uri.query_pairs_mut()
        .append_pair("secret", secret)
        .append_pair("issuer", &issuer)
        .append_pair("algorithm", "SHA1")
        .append_pair("digits", "6")
        .append_pair("period", &STEP_SECONDS.to_string());
    let uri = uri.to_string();
    let qr_svg = qrcode::QrCode::new(uri.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default();
    Setup {
        secret: secret.to_owned(),
        uri,
        qr_svg,
    }
}

pub async fn status(ctx: &Ctx, me: &LocalUser) -> ServiceResult<Status> {
    let mut conn = ctx.conn().await?;
    let tf = db::sessions::two_factor(&mut conn, me.account.id).await?;
    let left = db::sessions::recovery_codes_left(&mut conn, me.account.id).await?;
    Ok(Status {
        enabled: tf.is_some_and(|t| t.enabled_at.is_some()),
        recovery_codes_left: left,
    })
}

pub async fn is_enabled(ctx: &Ctx, account_id: i64) -> ServiceResult<bool> {
    let mut conn = ctx.conn().await?;
    Ok(db::sessions::two_factor(&mut conn, account_id)
        .await?
        .is_some_and(|t| t.enabled_at.is_some()))
}

/// Whether the instance requires this person to use a one-time code
/// (administrators and org offices, when `require_two_factor_for_staff`).
pub async fn required(ctx: &Ctx, me: &LocalUser) -> ServiceResult<bool> {
    if !ctx.config.registrations.require_two_factor_for_staff {
        return Ok(false);
    }
    if me.user.is_admin {
        return Ok(true);
    }
    let mut conn = ctx.conn().await?;
    Ok(db::memberships::holds_role(&mut conn, AccountId(me.account.id), Role::Office).await?)
}

/// The refusal for staff who must use two-factor sign-in but have not set it up.
pub fn setup_first() -> ServiceError {
    ServiceError::Forbidden(
        "This server requires two-factor sign-in for administrators and offices: sign in on the web and set it up first".into(),
    )
}

/// Whether a password alone may open this account (no two-factor sign-in
/// on it, nor required of it): the OAuth password grant asks this.
pub async fn password_suffices(ctx: &Ctx, me: &LocalUser) -> ServiceResult<bool> {
    Ok(!is_enabled(ctx, me.account.id).await? && !required(ctx, me).await?)
}

/// Starts set-up (a new secret each time until a code proves it); refused
/// while two-factor sign-in is on. The password is asked again: a stolen
/// session must not be able to tie the account to the thief's phone.
pub async fn begin(ctx: &Ctx, me: &LocalUser, password: &str) -> ServiceResult<Setup> {
    if !crypto::verify_password(password.to_owned(), Some(me.user.password_hash.clone())).await {
        return Err(ServiceError::Unauthorized("The password is wrong".into()));
    }
    let mut conn = ctx.conn().await?;
    if db::sessions::two_factor(&mut conn, me.account.id)
        .await?
        .is_some_and(|t| t.enabled_at.is_some())
    {
        return Err(ServiceError::invalid(
            "otp",
            "ERR_TAKEN",
            "two-factor sign-in is already on",
        ));
    }
    let raw: [u8; 20] = rand::random();
    let secret = Secret::from(raw).to_base32();
    db::sessions::begin_two_factor(&mut conn, me.account.id, &secret).await?;
    Ok(setup_of(ctx, me, &secret))
}

/// The set-up under way, to show again (after a wrong code).
pub async fn pending(ctx: &Ctx, me: &LocalUser) -> ServiceResult<Option<Setup>> {
    let mut conn = ctx.conn().await?;
    Ok(db::sessions::two_factor(&mut conn, me.account.id)
        .await?
        .filter(|t| t.enabled_at.is_none())
        .map(|t| setup_of(ctx, me, &t.secret)))
}

fn wrong_code() -> ServiceError {
    ServiceError::invalid(
        "otp",
        "ERR_INVALID",
        "the code is wrong or was used already",
    )
}

/// Turns two-factor sign-in on once `code` shows the app has the secret;
/// returns the recovery codes, shown once.
pub async fn enable(ctx: &Ctx, me: &LocalUser, code: &str) -> ServiceResult<Vec<String>> {
    let mut conn = ctx.conn().await?;
    let tf = db::sessions::two_factor(&mut conn, me.account.id)
        .await?
        .filter(|t| t.enabled_at.is_none())
        .ok_or_else(|| ServiceError::invalid("otp", "ERR_INVALID", "start the set-up first"))?;
    if !take_totp(&mut conn, me.account.id, &tf.secret, code).await? {
        return Err(wrong_code());
    }
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| crypto::token_hash(c)).collect();
    let account_id = me.account.id;
    conn.transaction(async |tx| {
        db::sessions::set_recovery_codes(tx, account_id, &hashes).await?;
        db::sessions::enable_two_factor(tx, account_id, ids::now()).await
    })
    .await
    .map_err(ServiceError::from)?;
    Ok(codes)
}

/// Turns it off; a current code (or a recovery code) is needed.
pub async fn disable(ctx: &Ctx, me: &LocalUser, code: &str) -> ServiceResult<()> {
    if !verify(ctx, me.account.id, code).await? {
        return Err(wrong_code());
    }
    let mut conn = ctx.conn().await?;
    db::sessions::disable_two_factor(&mut conn, me.account.id).await?;
    Ok(())
}

/// Checks a one-time code or an unused recovery code of an account with
/// two-factor sign-in on, using it up. Wrong codes are counted: after
/// `MAX_FAILURES` in a row, every code is refused (`RateLimited`) for a while,
/// from any address.
pub async fn verify(ctx: &Ctx, account_id: i64, code: &str) -> ServiceResult<bool> {
    let mut conn = ctx.conn().await?;
    let Some(tf) = db::sessions::two_factor(&mut conn, account_id)
        .await?
        .filter(|t| t.enabled_at.is_some())
    else {
        return Ok(false);
    };
    let now = ids::now();
    if tf.locked_until.is_some_and(|t| t > now) {
        return Err(ServiceError::RateLimited);
    }
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let ok = if code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()) {
        take_totp(&mut conn, account_id, &tf.secret, &code).await?
    } else {
        let normalised = code.to_ascii_lowercase().replace('-', "");
        db::sessions::use_recovery_code(
            &mut conn,
            account_id,
            &crypto::token_hash(&normalised),
            now,
        )
        .await?
    };
    if ok {
        if tf.failures > 0 {
            db::sessions::code_succeeded(&mut conn, account_id).await?;
        }
    } else if db::sessions::code_failed(
        &mut conn,
        account_id,
        MAX_FAILURES,
        now + chrono::Duration::minutes(LOCK_MINUTES),
    )
    .await?
    {
        return Err(ServiceError::RateLimited);
    }
    Ok(ok)
}

/// Whether `code` is the code of the current step or one step either side
/// (a clock a little off), taking that step so the code cannot be used again.
async fn take_totp(
    conn: &mut db::DbConn<'_>,
    account_id: i64,
    secret: &str,
    code: &str,
) -> ServiceResult<bool> {
    let t = totp(secret)?;
    let now = ids::now().and_utc().timestamp().max(0) as u64;
    let step = now / STEP_SECONDS;
    for s in [step.saturating_sub(1), step, step + 1] {
        if crypto::secrets_equal(&t.generate(s * STEP_SECONDS).to_string(), code) {
            return Ok(db::sessions::take_step(conn, account_id, s as i64).await?);
        }
    }
    Ok(false)
}

/// Ten characters from an alphabet without look-alikes, shown as xxxxx-xxxxx.
fn recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..10)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A recovery code as shown to the person.
pub fn shown(code: &str) -> String {
    format!("{}-{}", &code[..5], &code[5..])
}
