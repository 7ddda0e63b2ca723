//! What proves a person: resetting a forgotten password by e-mail, changing
//! the e-mail address once the new one is proven, and the apps holding
//! tokens of the account (listed, revoked). Links are single-use, short-lived
//! and stored as hashes.
use chrono::Duration;

use super::{Ctx, ServiceError, ServiceResult, accounts};
use crate::db::models::{AccountToken, LocalUser, OAuthApp, OAuthToken};
use crate::domain::TokenPurpose;
use crate::{crypto, db, ids};

const RESET_MINUTES: i64 = 60;
const EMAIL_CHANGE_HOURS: i64 = 24;
/// A new reset mail only after this long (no flooding someone's inbox).
const RESEND_MINUTES: i64 = 2;

async fn issue(
    ctx: &Ctx,
    me: &LocalUser,
    purpose: TokenPurpose,
    new_email: Option<String>,
    valid: Duration,
) -> ServiceResult<String> {
    let token = crypto::random_token();
    let now = ids::now();
    let row = AccountToken {
        token_hash: crypto::token_hash(&token),
        account_id: me.account.id,
        purpose,
        new_email,
        expires_at: now + valid,
        created_at: now,
    };
    let mut conn = ctx.conn().await?;
    let account_id = me.account.id;
    // Only the newest link of a kind works.
    conn.transaction(async |tx| {
        db::sessions::drop_account_tokens(tx, account_id, Some(purpose)).await?;
        db::sessions::insert_account_token(tx, &row).await
    })
    .await
    .map_err(ServiceError::from)?;
    Ok(token)
}

/// Sends a password-reset link to the account with this address, if there
/// is one. The answer is the same either way (no one learns who has an
/// account here); without a mail transport nothing can be sent.
pub async fn request_password_reset(ctx: &Ctx, email: &str) -> ServiceResult<()> {
    let key = email.trim().to_lowercase();
    if key.is_empty() || !ctx.config.mail_enabled() {
        return Ok(());
    }
    let mut conn = ctx.conn().await?;
    let found = db::accounts::find_local_by_login(&mut conn, &key).await?;
    drop(conn);
    let Some(me) = found.filter(|me| me.user.email_key == key && !me.user.disabled) else {
        return Ok(());
    };
    // One mail per account every few minutes, however many addresses ask.
    let mut conn = ctx.conn().await?;
    let recent = db::sessions::account_token_since(
        &mut conn,
        me.account.id,
        TokenPurpose::PasswordReset,
        ids::now() - Duration::minutes(RESEND_MINUTES),
    )
    .await?;
    drop(conn);
    if recent {
        return Ok(());
    }
    let token = issue(
        ctx,
        &me,
        TokenPurpose::PasswordReset,
        None,
        Duration::minutes(RESET_MINUTES),
    )
    .await?;
    let link = format!("{}/auth/reset?token={token}", ctx.base_url());
    // Sent beside the answer, so its time does not tell who has an account.
    let ctx = ctx.clone();
    tokio::spawn(async move {
        if let Err(e) = ctx.mailer.send_password_reset(&ctx, &me, &link).await {
            tracing::error!(account = me.account.id, error = %e, "could not send the password-reset e-mail");
        }
    });
    Ok(())
}

fn invalid_link() -> ServiceError {
    ServiceError::NotFound("This link is invalid, was used already or has expired".into())
}

/// Whether a reset link is still good (to show its form).
pub async fn reset_link_valid(ctx: &Ctx, token: &str) -> ServiceResult<bool> {
    let mut conn = ctx.conn().await?;
    let found = db::sessions::find_account_token(
        &mut conn,
        &crypto::token_hash(token),
        TokenPurpose::PasswordReset,
    )
    .await?;
    Ok(found.is_some_and(|t| t.expires_at > ids::now()))
}

/// Sets a new password with a reset link. Every session and app token of the
/// account ends: whoever knew the old password is out.
pub async fn reset_password(ctx: &Ctx, token: &str, password: &str) -> ServiceResult<LocalUser> {
    let hash_of_token = crypto::token_hash(token);
    let now = ids::now();
    // The link first: no password is hashed for a made-up token.
    let mut conn = ctx.conn().await?;
    db::sessions::find_account_token(&mut conn, &hash_of_token, TokenPurpose::PasswordReset)
        .await?
        .filter(|t| t.expires_at > now)
        .ok_or_else(invalid_link)?;
    drop(conn);
    if let Some(e) =
        accounts::validate_password(password, ctx.config.registrations.min_password_length)
    {
        return Err(ServiceError::Validation(vec![e]));
    }
    let hash = crypto::hash_password(password.to_owned()).await?;
    let mut conn = ctx.conn().await?;
    let taken =
        db::sessions::take_account_token(&mut conn, &hash_of_token, TokenPurpose::PasswordReset)
            .await?
            .filter(|t| t.expires_at > now)
            .ok_or_else(invalid_link)?;
    let id = taken.account_id;
    conn.transaction(async |tx| {
        db::sessions::set_password_hash(tx, id, &hash, now).await?;
        db::sessions::delete_all(tx, id).await?;
        db::sessions::revoke_all_app_tokens(tx, id, now).await?;
        // Any other link (an address change under way) dies with the old password.
        db::sessions::drop_account_tokens(tx, id, None).await
    })
    .await
    .map_err(ServiceError::from)?;
    accounts::reload(&mut conn, id).await
}

/// Asks to move the account to `new_email`: the password confirms it is the
/// person; a link to the new address proves they read it.
pub async fn request_email_change(
    ctx: &Ctx,
    me: &LocalUser,
    new_email: &str,
    password: &str,
) -> ServiceResult<()> {
    if !crypto::verify_password(password.to_owned(), Some(me.user.password_hash.clone())).await {
        return Err(ServiceError::Unauthorized("The password is wrong".into()));
    }
    let new_email = new_email.trim();
    if let Some(e) = accounts::validate_email(new_email) {
        return Err(ServiceError::Validation(vec![e]));
    }
    if !ctx.config.mail_enabled() {
        return Err(ServiceError::Forbidden(
            "This server sends no e-mail, so a new address cannot be proven; ask an administrator"
                .into(),
        ));
    }
    // An address in use gets no mail, and the answer is the same: no one
    // learns who has an account here.
    let mut conn = ctx.conn().await?;
    let taken = db::accounts::email_taken(&mut conn, &new_email.to_lowercase()).await?;
    drop(conn);
    if taken {
        return Ok(());
    }
    let token = issue(
        ctx,
        me,
        TokenPurpose::EmailChange,
        Some(new_email.to_owned()),
        Duration::hours(EMAIL_CHANGE_HOURS),
    )
    .await?;
    let link = format!("{}/auth/confirm_email_change?token={token}", ctx.base_url());
    ctx.mailer
        .send_email_change(ctx, me, new_email, &link)
        .await
        .map_err(|e| ServiceError::Internal(e.context("sending the e-mail change link")))?;
    Ok(())
}

/// Where an address-change link would move the account: for its own
/// account only (the person signed in must be the one who asked).
pub async fn email_change_of(ctx: &Ctx, me: &LocalUser, token: &str) -> ServiceResult<String> {
    let mut conn = ctx.conn().await?;
    let found = db::sessions::find_account_token(
        &mut conn,
        &crypto::token_hash(token),
        TokenPurpose::EmailChange,
    )
    .await?
    .filter(|t| t.expires_at > ids::now())
    .ok_or_else(invalid_link)?;
    if found.account_id != me.account.id {
        return Err(ServiceError::Forbidden(
            "This link was sent for another account".into(),
        ));
    }
    Ok(found.new_email.unwrap_or_default())
}

/// Moves the signed-in person's account to the address the link was sent
/// to (a link fetched by a mail scanner, or opened by someone else, moves
/// nothing); the old address hears of it and older links die.
pub async fn confirm_email_change(
    ctx: &Ctx,
    me: &LocalUser,
    token: &str,
) -> ServiceResult<LocalUser> {
    let new_email = email_change_of(ctx, me, token).await?;
    let now = ids::now();
    let mut conn = ctx.conn().await?;
    if db::accounts::email_taken(&mut conn, &new_email.to_lowercase()).await? {
        return Err(ServiceError::Validation(vec![accounts::taken("email")]));
    }
    db::sessions::take_account_token(
        &mut conn,
        &crypto::token_hash(token),
        TokenPurpose::EmailChange,
    )
    .await?
    .ok_or_else(invalid_link)?;
    let id = me.account.id;
    conn.transaction(async |tx| {
        db::sessions::set_email(tx, id, &new_email, now).await?;
        db::sessions::drop_account_tokens(tx, id, None).await
    })
    .await
    .map_err(|e: crate::db::DbError| match e {
        // Someone else took the address a moment ago.
        e if crate::db::is_unique_violation(&e) => {
            ServiceError::Validation(vec![accounts::taken("email")])
        }
        e => ServiceError::from(e),
    })?;
    let after = accounts::reload(&mut conn, id).await?;
    drop(conn);
    if let Err(e) = ctx.mailer.send_email_changed(ctx, me, &new_email).await {
        tracing::warn!(account = id, error = %e, "could not tell the old address of the change");
    }
    Ok(after)
}

/// The apps that hold a live token of the person.
pub async fn authorised_apps(
    ctx: &Ctx,
    me: &LocalUser,
) -> ServiceResult<Vec<(OAuthToken, OAuthApp)>> {
    let mut conn = ctx.conn().await?;
    Ok(db::sessions::authorised_apps(&mut conn, me.account.id).await?)
}

/// Revokes one of the person's app tokens.
pub async fn revoke_app(ctx: &Ctx, me: &LocalUser, token_id: i64) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    if db::sessions::revoke_app_token(&mut conn, me.account.id, token_id, ids::now()).await? {
        Ok(())
    } else {
        Err(ServiceError::not_found())
    }
}
