//! Local accounts: creation (shell, registration, first-run), sign-in,
//! approval, e-mail confirmation and profile updates.
use crate::domain::Visibility;
use chrono::Duration;

use super::remote::Outgoing;
use super::views::{self, AccountView, CredentialView};
use super::{Ctx, FieldError, ServiceError, ServiceResult, media, text};
use crate::config::RegistrationMode;
use crate::crypto;
use crate::db::models::{Account, Invite, LocalUser, ProfileChanges, SettingsChanges, User};
use crate::db::{self, DbConn, is_unique_violation};
use crate::ids;

pub const MAX_USERNAME: usize = 30;
pub const MAX_DISPLAY_NAME: usize = 30;
pub const MAX_NOTE: usize = 500;
pub const MAX_FIELDS: usize = 4;
/// A sign-up's reason, as Mastodon caps it.
const MAX_REASON: usize = 1000;
pub const MAX_FIELD_TEXT: usize = 255;
const MAX_PASSWORD: usize = 72 * 4;

/// Names that would shadow instance paths or mislead people; the shell may still use them.
const RESERVED: &[&str] = &[
    "admin",
    "administrator",
    "root",
    "support",
    "help",
    "security",
    "abuse",
    "postmaster",
    "webmaster",
    "hostmaster",
    "noreply",
    "no_reply",
    "instance",
    "actor",
    "inbox",
    "outbox",
    "api",
    "oauth",
    "media",
    "setup",
    "settings",
    "about",
    "health",
    "tsunagu",
    "office",
    "staff",
    "moderator",
    "system",
];

/// A new local account, before validation.
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    pub username: String,
    pub email: String,
    pub password: String,
    pub locale: Option<String>,
    pub reason: Option<String>,
    pub is_admin: bool,
    pub approved: bool,
    pub email_confirmed: bool,
    /// Reserved names are refused except from the shell.
    pub allow_reserved: bool,
}

/// A self-service sign-up through the client API.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub username: String,
    pub email: String,
    pub password: String,
    pub agreement: bool,
    pub locale: Option<String>,
    pub reason: Option<String>,
    pub invite_code: Option<String>,
}

pub(crate) fn validate_username(name: &str, allow_reserved: bool) -> Option<FieldError> {
    let err = |code, d: &str| {
        Some(FieldError {
            field: "username",
            code,
            description: d.into(),
        })
    };
    if name.is_empty() {
        return err("ERR_BLANK", "can't be blank");
    }
    if name.chars().count() > MAX_USERNAME {
        return err("ERR_TOO_LONG", "is too long (maximum is 30 characters)");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return err(
            "ERR_INVALID",
            "must contain only letters, numbers and underscores",
        );
    }
    if !allow_reserved && RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
        return err("ERR_RESERVED", "is reserved");
    }
    None
}

pub(crate) fn validate_email(email: &str) -> Option<FieldError> {
    if email.is_empty() {
        return Some(FieldError {
            field: "email",
            code: "ERR_BLANK",
            description: "can't be blank".into(),
        });
    }
    if email.parse::<lettre::Address>().is_err() {
        return Some(FieldError {
            field: "email",
            code: "ERR_INVALID",
            description: "is invalid".into(),
        });
    }
    None
}

pub(crate) fn validate_password(pw: &str, min: usize) -> Option<FieldError> {
    let n = pw.chars().count();
    if n == 0 {
        return Some(FieldError {
            field: "password",
            code: "ERR_BLANK",
            description: "can't be blank".into(),
        });
    }
    if n < min {
        return Some(FieldError {
            field: "password",
            code: "ERR_TOO_SHORT",
            description: format!("is too short (minimum is {min} characters)"),
        });
    }
    if pw.len() > MAX_PASSWORD {
        return Some(FieldError {
            field: "password",
            code: "ERR_TOO_LONG",
            description: "is too long".into(),
        });
    }
    None
}

fn validate_locale(locale: &Option<String>) -> Option<FieldError> {
    match locale {
        Some(l) if !is_language_code(l) => Some(FieldError {
            field: "locale",
            code: "ERR_INVALID",
            description: "is not a language code".into(),
        }),
        _ => None,
    }
}

/// ISO 639 codes, optionally with a region: `ja`, `en`, `en-GB`, `zh-TW`.
pub fn is_language_code(s: &str) -> bool {
    let mut parts = s.splitn(2, ['-', '_']);
    let lang = parts.next().unwrap_or_default();
    let lang_ok = (2..=3).contains(&lang.len()) && lang.chars().all(|c| c.is_ascii_lowercase());
    let region_ok = parts
        .next()
        .is_none_or(|r| (2..=4).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric()));
    lang_ok && region_ok
}

/// Creates a local account, optionally consuming an invite in the same transaction.
/// Returns the account and, when e-mail confirmation is pending, the plain token.
async fn create(
    ctx: &Ctx,
    new: NewAccount,
    invite_code: Option<&str>,
) -> ServiceResult<(LocalUser, Option<String>)> {
    let mut errors: Vec<FieldError> = [
        validate_username(&new.username, new.allow_reserved),
        validate_email(&new.email),
        validate_password(&new.password, ctx.config.registrations.min_password_length),
        validate_locale(&new.locale),
    ]
    .into_iter()
    .flatten()
    .collect();
    let acct_key = new.username.to_lowercase();
    let email_key = new.email.trim().to_lowercase();
    let mut conn = ctx.conn().await?;
    if errors.iter().all(|e| e.field != "username")
        && db::accounts::acct_key_taken(&mut conn, &acct_key).await?
    {
        errors.push(taken("username"));
    }
    if errors.iter().all(|e| e.field != "email")
        && db::accounts::email_taken(&mut conn, &email_key).await?
    {
        errors.push(taken("email"));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }

    // The two slow steps run side by side on the blocking pool.
    let (hash, keys) = tokio::join!(
        crypto::hash_password(new.password.clone()),
        crypto::generate_keypair()
    );
    let (hash, keys) = (hash?, keys?);
    let now = ids::now();
    // A confirmation is asked for only when a mail can carry it.
    let confirmation =
        (!new.email_confirmed && ctx.config.mail_enabled()).then(crypto::random_token);
    let id = ids::next_id();
    let account = local_actor(
        id,
        &new.username,
        crate::domain::ActorType::Person,
        keys.public_pem,
        keys.private_pem,
        now,
    );
    let user = User {
        account_id: id,
        email: new.email.trim().to_owned(),
        email_key,
        password_hash: hash,
        is_admin: new.is_admin,
        approved: new.approved,
        disabled: false,
        registration_reason: new.reason.filter(|r| !r.trim().is_empty()),
        email_confirmed_at: new.email_confirmed.then_some(now),
        confirmation_token_hash: confirmation.as_deref().map(crypto::token_hash),
        locale: new.locale,
        default_privacy: Visibility::Public,
        default_sensitive: false,
        default_language: None,
        created_at: now,
        updated_at: now,
    };
    let result = conn
        .transaction(async |tx| {
            if let Some(code) = invite_code {
                let taken = db::invites::take_use(tx, code, now).await?;
                if taken.is_none() {
                    return Err(ServiceError::invalid(
                        "invite_code",
                        "ERR_INVALID",
                        "is invalid or has expired",
                    ));
                }
                // The first-run link makes the first administrator only.
                if taken.is_some_and(|i| i.grants_admin)
                    && db::accounts::count_local_admins(tx).await? > 0
                {
                    return Err(ServiceError::Forbidden(
                        "This setup link is invalid or was already used".into(),
                    ));
                }
            }
            if new.is_admin {
                // An administrator exists now: no first-run link may make another.
                db::invites::retire_admin_invites(tx, now).await?;
            }
            Ok(db::accounts::insert_local(tx, &account, &user).await?)
        })
        .await;
    match result {
        Ok(created) => Ok((created, confirmation)),
        // Lost a race with another sign-up for the same name or address.
        Err(ServiceError::Internal(e))
            if e.downcast_ref::<db::DbError>()
                .is_some_and(is_unique_violation) =>
        {
            Err(ServiceError::Validation(vec![taken("username")]))
        }
        Err(e) => Err(e),
    }
}

/// A new local actor row (a person, or an org's Group) with its key pair.
pub fn local_actor(
    id: i64,
    username: &str,
    actor_type: crate::domain::ActorType,
    public_pem: String,
    private_pem: String,
    now: chrono::NaiveDateTime,
) -> Account {
    Account {
        id,
        username: username.to_owned(),
        domain: None,
        acct_key: username.to_lowercase(),
        actor_type,
        display_name: String::new(),
        note: String::new(),
        note_source: String::new(),
        fields: "[]".into(),
        locked: false,
        bot: false,
        discoverable: false,
        indexable: false,
        hide_collections: false,
        suspended: false,
        avatar_file: None,
        header_file: None,
        avatar_remote_url: None,
        header_remote_url: None,
        local: true,
        ap_id: None,
        inbox_url: None,
        shared_inbox_url: None,
        outbox_url: None,
        followers_url: None,
        profile_url: None,
        public_key_pem: public_pem,
        private_key_pem: Some(private_pem),
        fetched_at: None,
        created_at: now,
        updated_at: now,
        moved_to_account_id: None,
    }
}

pub fn taken(field: &'static str) -> FieldError {
    FieldError {
        field,
        code: "ERR_TAKEN",
        description: "has already been taken".into(),
    }
}

/// `tsunagu admin create-user`: approved and confirmed at once.
pub async fn create_from_shell(
    ctx: &Ctx,
    username: &str,
    email: &str,
    password: &str,
    admin: bool,
) -> ServiceResult<LocalUser> {
    let new = NewAccount {
        username: username.into(),
        email: email.into(),
        password: password.into(),
        is_admin: admin,
        approved: true,
        email_confirmed: true,
        allow_reserved: true,
        ..Default::default()
    };
    Ok(create(ctx, new, None).await?.0)
}

/// Self-service sign-up, obeying `registrations.mode`. A valid invite lets a
/// person in whatever the mode and skips approval, as on Mastodon.
pub async fn register(ctx: &Ctx, reg: Registration) -> ServiceResult<LocalUser> {
    let mode = ctx.settings().registration_mode;
    let invite = match reg.invite_code.as_deref().filter(|c| !c.is_empty()) {
        Some(code) => Some(valid_invite(ctx, code).await?),
        None => None,
    };
    if invite.as_ref().is_some_and(|i| i.grants_admin) {
        return Err(ServiceError::invalid(
            "invite_code",
            "ERR_INVALID",
            "is for the first-run setup page",
        ));
    }
    match (mode, &invite) {
        (RegistrationMode::Closed, None) => {
            return Err(ServiceError::Forbidden(
                "Registrations are closed on this server".into(),
            ));
        }
        (RegistrationMode::Invite, None) => {
            return Err(ServiceError::Forbidden(
                "An invitation is required to sign up on this server".into(),
            ));
        }
        _ => {}
    }
    if !reg.agreement {
        return Err(ServiceError::invalid(
            "agreement",
            "ERR_ACCEPTED",
            "must be accepted",
        ));
    }
    if reg
        .reason
        .as_deref()
        .is_some_and(|r| r.chars().count() > MAX_REASON)
    {
        return Err(ServiceError::invalid(
            "reason",
            "ERR_TOO_LONG",
            format!("is too long (maximum is {MAX_REASON} characters)"),
        ));
    }
    let new = NewAccount {
        username: reg.username,
        email: reg.email,
        password: reg.password,
        locale: reg.locale,
        reason: reg.reason,
        is_admin: false,
        approved: mode == RegistrationMode::Open || invite.is_some(),
        // Confirmed means proven: without a mail transport nothing proves the
        // address, so it stays unconfirmed (sign-in is not held up for it).
        email_confirmed: false,
        allow_reserved: false,
    };
    signed_up(ctx, new, invite.as_ref().map(|i| i.code.as_str())).await
}

/// Creates a signed-up account, tells the administrators and sends the
/// confirmation mail.
pub(crate) async fn signed_up(
    ctx: &Ctx,
    new: NewAccount,
    invite_code: Option<&str>,
) -> ServiceResult<LocalUser> {
    let (created, confirmation) = create(ctx, new, invite_code).await?;
    // Admins hear of every sign-up (Mastodon's admin.sign_up), approved or pending.
    let mut conn = ctx.conn().await?;
    let mut notes = Vec::new();
    for admin in db::accounts::admin_ids(&mut conn).await? {
        let n = crate::db::models::Notification {
            id: ids::next_id(),
            account_id: admin,
            from_account_id: created.account.id,
            kind: crate::domain::NotificationKind::AdminSignUp,
            status_id: None,
            created_at: ids::now(),
        };
        db::notifications::insert(&mut conn, &n).await?;
        notes.push(n);
    }
    drop(conn);
    super::streaming::notifications(ctx, &notes);
    if let Some(token) = confirmation {
        let link = format!("{}/auth/confirm?token={token}", ctx.base_url());
        if let Err(e) = ctx.mailer.send_confirmation(ctx, &created, &link).await {
            // The account stays; the person can ask for the mail again once the transport works.
            tracing::error!(account = created.account.id, error = %e, "could not send the confirmation e-mail");
        }
    }
    Ok(created)
}

async fn valid_invite(ctx: &Ctx, code: &str) -> ServiceResult<Invite> {
    let mut conn = ctx.conn().await?;
    let invite = db::invites::find_by_code(&mut conn, code).await?;
    let now = ids::now();
    match invite {
        Some(i)
            if i.expires_at.is_none_or(|e| e > now) && i.max_uses.is_none_or(|m| i.uses < m) =>
        {
            Ok(i)
        }
        _ => Err(ServiceError::invalid(
            "invite_code",
            "ERR_INVALID",
            "is invalid or has expired",
        )),
    }
}

/// Why an account may not sign in or use a token, in Mastodon's words; `None` when it may.
pub fn login_refusal(ctx: &Ctx, me: &LocalUser) -> Option<&'static str> {
    if me.user.disabled || me.account.suspended {
        Some("Your login is currently disabled")
    } else if me.user.email_confirmed_at.is_none()
        && me.user.confirmation_token_hash.is_some()
        && ctx.config.mail_enabled()
    {
        Some("Your login is missing a confirmed e-mail address")
    } else if !me.user.approved {
        Some("Your login is currently pending approval")
    } else {
        None
    }
}

/// Checks a username-or-e-mail and password. Unknown names cost the same time as
/// wrong passwords, so sign-in does not reveal which accounts exist.
pub async fn authenticate(ctx: &Ctx, login: &str, password: &str) -> ServiceResult<LocalUser> {
    let key = login.trim().trim_start_matches('@').to_lowercase();
    let mut conn = ctx.conn().await?;
    let account = db::accounts::find_local_by_login(&mut conn, &key).await?;
    drop(conn);
    let hash = account.as_ref().map(|a| a.user.password_hash.clone());
    let ok = crypto::verify_password(password.to_owned(), hash).await;
    match account {
        Some(a) if ok => {
            if let Some(why) = login_refusal(ctx, &a) {
                return Err(ServiceError::Forbidden(why.into()));
            }
            Ok(a)
        }
        _ => Err(ServiceError::Unauthorized(
            "Invalid username/e-mail or password".into(),
        )),
    }
}

/// Visible to others: not suspended and, for local people, able to sign in
/// (approved, enabled, confirmed where confirmation applies).
pub fn visible(ctx: &Ctx, found: (Account, Option<User>)) -> Option<Account> {
    match found {
        (a, _) if a.suspended => None,
        (account, Some(user)) => {
            let me = LocalUser { account, user };
            login_refusal(ctx, &me).is_none().then_some(me.account)
        }
        (a, None) => Some(a),
    }
}

pub async fn get(ctx: &Ctx, id: i64) -> ServiceResult<Account> {
    let mut conn = ctx.conn().await?;
    db::accounts::find(&mut conn, id)
        .await?
        .and_then(|f| visible(ctx, f))
        .ok_or_else(ServiceError::not_found)
}

/// A visible account with its counters.
pub async fn show(ctx: &Ctx, id: i64) -> ServiceResult<AccountView> {
    views::account(ctx, get(ctx, id).await?).await
}

/// `user`, `@user`, `user@our.domain`; remote `user@host` once known locally,
/// or asked of its server when `may_fetch` (a signed-in person asks: an
/// anonymous request never makes this server fetch).
pub async fn lookup(ctx: &Ctx, acct: &str, may_fetch: bool) -> ServiceResult<AccountView> {
    let acct = acct.trim().trim_start_matches('@').to_lowercase();
    let key = match acct.split_once('@') {
        Some((user, host)) if host == ctx.config.server.domain => user.to_owned(),
        _ => acct,
    };
    let mut conn = ctx.conn().await?;
    let found = db::accounts::find_by_acct_key(&mut conn, &key).await?;
    drop(conn);
    let account = match (found, key.split_once('@')) {
        (Some(f), _) => visible(ctx, f),
        // Unknown user@host: ask its server (WebFinger, then the actor).
        (None, Some((user, host))) if may_fetch => ctx
            .fed
            .account_by_acct(ctx, user, host)
            .await
            .ok()
            .filter(|a| !a.suspended),
        (None, _) => None,
    }
    .ok_or_else(ServiceError::not_found)?;
    views::account(ctx, account).await
}

/// One uploaded image, as received; its declared type and name are not trusted.
#[derive(Debug, Clone)]
pub struct Upload {
    pub bytes: Vec<u8>,
}

/// What `update_credentials` may change; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub display_name: Option<String>,
    pub note: Option<String>,
    pub locked: Option<bool>,
    pub bot: Option<bool>,
    pub discoverable: Option<bool>,
    pub indexable: Option<bool>,
    pub hide_collections: Option<bool>,
    pub fields: Option<Vec<(String, String)>>,
    pub privacy: Option<String>,
    pub sensitive: Option<bool>,
    pub language: Option<String>,
    /// The language of the web pages and e-mails (ours; empty: the browser's).
    pub locale: Option<String>,
    pub avatar: Option<Upload>,
    pub header: Option<Upload>,
}

/// A profile field as stored (JSON): the value is kept as typed and rendered on output.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ProfileField {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub verified_at: Option<String>,
}

pub fn profile_fields(a: &Account) -> Vec<ProfileField> {
    serde_json::from_str(&a.fields).unwrap_or_default()
}

pub fn field_value_html(value: &str) -> String {
    text::linkify_line(value)
}

/// Checks a profile change and stores its images; returns the row changes
/// and the new image files. Shared by people and orgs (their Group account).
pub(crate) async fn profile_changes(
    ctx: &Ctx,
    account: &Account,
    up: ProfileUpdate,
) -> ServiceResult<(ProfileChanges, Option<String>, Option<String>)> {
    let mut errors = Vec::new();
    let too_long = |field: &'static str, max: usize| FieldError {
        field,
        code: "ERR_TOO_LONG",
        description: format!("is too long (maximum is {max} characters)"),
    };
    if up
        .display_name
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DISPLAY_NAME)
    {
        errors.push(too_long("display_name", MAX_DISPLAY_NAME));
    }
    if up
        .note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE)
    {
        errors.push(too_long("note", MAX_NOTE));
    }
    let fields = up.fields.map(|fs| {
        // Mastodon drops rows whose name and value are both blank.
        fs.into_iter()
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .filter(|(n, v)| !n.is_empty() || !v.is_empty())
            .collect::<Vec<_>>()
    });
    if let Some(fs) = &fields {
        if fs.len() > MAX_FIELDS {
            errors.push(FieldError {
                field: "fields",
                code: "ERR_TOO_LONG",
                description: format!("is too long (maximum is {MAX_FIELDS} entries)"),
            });
        }
        if fs
            .iter()
            .any(|(n, v)| n.chars().count() > MAX_FIELD_TEXT || v.chars().count() > MAX_FIELD_TEXT)
        {
            errors.push(too_long("fields", MAX_FIELD_TEXT));
        }
    }
    if let Some(p) = &up.privacy
        && !matches!(
            p.parse(),
            Ok(Visibility::Public | Visibility::Unlisted | Visibility::Private)
        )
    {
        errors.push(FieldError {
            field: "source_privacy",
            code: "ERR_INCLUSION",
            description: "must be public, unlisted or private".into(),
        });
    }
    if let Some(l) = up.language.as_ref().filter(|l| !l.is_empty())
        && !is_language_code(l)
    {
        errors.push(FieldError {
            field: "source_language",
            code: "ERR_INVALID",
            description: "is not a language code".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }

    // Images are decoded and re-encoded (which also drops EXIF) before anything is written.
    let avatar = match up.avatar {
        Some(u) => Some(
            media::store_profile_image(ctx, account.id, media::ProfileImage::Avatar, u.bytes)
                .await?,
        ),
        None => None,
    };
    let header = match up.header {
        Some(u) => Some(
            media::store_profile_image(ctx, account.id, media::ProfileImage::Header, u.bytes)
                .await?,
        ),
        None => None,
    };
    let fields_json = fields.map(|fs| {
        let stored: Vec<ProfileField> = fs
            .into_iter()
            .map(|(name, value)| ProfileField {
                name,
                value,
                verified_at: None,
            })
            .collect();
        serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into())
    });
    let now = ids::now();
    let changes = ProfileChanges {
        display_name: up.display_name.map(|d| d.trim().to_owned()),
        note: up.note.as_deref().map(text::plain_to_html),
        note_source: up.note,
        fields: fields_json,
        locked: up.locked,
        bot: up.bot,
        discoverable: up.discoverable,
        indexable: up.indexable,
        hide_collections: up.hide_collections,
        avatar_file: avatar.clone().map(Some),
        header_file: header.clone().map(Some),
        updated_at: Some(now),
    };
    Ok((changes, avatar, header))
}

pub async fn update_profile(
    ctx: &Ctx,
    me: &LocalUser,
    up: ProfileUpdate,
) -> ServiceResult<CredentialView> {
    let account = &me.account;
    let (privacy, sensitive, language) = (up.privacy.clone(), up.sensitive, up.language.clone());
    let locale = up.locale.clone().map(|l| Some(l).filter(|l| !l.is_empty()));
    if let Some(e) = validate_locale(&locale.clone().flatten()) {
        return Err(ServiceError::Validation(vec![e]));
    }
    let (changes, avatar, header) = profile_changes(ctx, account, up).await?;
    let now = changes.updated_at.unwrap_or_else(ids::now);
    let settings = SettingsChanges {
        default_privacy: privacy.and_then(|p| p.parse().ok()),
        default_sensitive: sensitive,
        default_language: language.map(|l| Some(l).filter(|l| !l.is_empty())),
        locale,
        updated_at: Some(now),
    };
    let mut conn = ctx.conn().await?;
    let id = account.id;
    let updated = conn
        .transaction(async |tx| {
            let account = db::accounts::update_profile(tx, id, &changes).await?;
            let user = db::accounts::update_settings(tx, id, &settings).await?;
            ctx.federate(tx, Outgoing::ProfileUpdated { account: &account })
                .await?;
            Ok::<_, ServiceError>(LocalUser { account, user })
        })
        .await?;
    ctx.wake_delivery();
    // The old files are unreferenced now.
    for (old, new) in [
        (&account.avatar_file, &avatar),
        (&account.header_file, &header),
    ] {
        if let (Some(old), Some(new)) = (old, new)
            && old != new
        {
            media::remove(ctx, old).await;
        }
    }
    drop(conn);
    views::credentials(ctx, updated).await
}

pub async fn approve(ctx: &Ctx, id: i64) -> ServiceResult<LocalUser> {
    let mut conn = ctx.conn().await?;
    if db::accounts::approve(&mut conn, id, ids::now()).await? == 0 {
        return Err(ServiceError::not_found());
    }
    reload(&mut conn, id).await
}

pub async fn find_local_by_username(ctx: &Ctx, username: &str) -> ServiceResult<LocalUser> {
    let mut conn = ctx.conn().await?;
    match db::accounts::find_by_acct_key(
        &mut conn,
        &username.trim_start_matches('@').to_lowercase(),
    )
    .await?
    {
        Some((account, Some(user))) => Ok(LocalUser { account, user }),
        _ => Err(ServiceError::NotFound(format!(
            "no local account named {username:?}"
        ))),
    }
}

pub async fn list_pending(ctx: &Ctx) -> ServiceResult<Vec<LocalUser>> {
    let mut conn = ctx.conn().await?;
    Ok(db::accounts::list_pending(&mut conn).await?)
}

/// A local person as the admin API shows them: sign-in data and the public view.
pub struct AdminView {
    pub me: LocalUser,
    pub view: AccountView,
    pub silenced: bool,
}

pub async fn admin_views(ctx: &Ctx, list: Vec<LocalUser>) -> ServiceResult<Vec<AdminView>> {
    let ids: Vec<i64> = list.iter().map(|m| m.account.id).collect();
    let mut conn = ctx.conn().await?;
    let silenced = db::moderation::silenced(&mut conn, &ids).await?;
    drop(conn);
    let views = views::accounts(ctx, list.iter().map(|m| m.account.clone()).collect()).await?;
    Ok(list
        .into_iter()
        .zip(views)
        .map(|(me, view)| AdminView {
            silenced: silenced.contains(&me.account.id),
            me,
            view,
        })
        .collect())
}

pub async fn pending_for_admin(ctx: &Ctx) -> ServiceResult<Vec<AdminView>> {
    admin_views(ctx, list_pending(ctx).await?).await
}

pub async fn approve_for_admin(ctx: &Ctx, id: i64) -> ServiceResult<AdminView> {
    let me = approve(ctx, id).await?;
    Ok(admin_views(ctx, vec![me]).await?.remove(0))
}

pub async fn confirm_email(ctx: &Ctx, token: &str) -> ServiceResult<LocalUser> {
    let mut conn = ctx.conn().await?;
    let id = db::accounts::confirm_email(&mut conn, &crypto::token_hash(token), ids::now())
        .await?
        .ok_or_else(|| {
            ServiceError::NotFound("This confirmation link is invalid or was already used".into())
        })?;
    reload(&mut conn, id).await
}

/// An invitation link to sign up (`/auth/sign_up?invite=...` for people, usable as
/// `invite_code` in the API).
pub async fn create_invite(
    ctx: &Ctx,
    created_by: Option<i64>,
    max_uses: Option<i32>,
    expires_in: Option<Duration>,
) -> ServiceResult<Invite> {
    let now = ids::now();
    let invite = Invite {
        id: ids::next_id(),
        code: crypto::random_token()[..12].to_owned(),
        created_by,
        max_uses,
        uses: 0,
        grants_admin: false,
        expires_at: expires_in.map(|d| now + d),
        created_at: now,
    };
    let mut conn = ctx.conn().await?;
    db::invites::insert(&mut conn, &invite).await?;
    Ok(invite)
}

/// First run: while no local admin exists, a one-time link to the page that
/// creates the first admin. The same link is shown until it is used or expires.
pub async fn setup_link(ctx: &Ctx) -> ServiceResult<Option<String>> {
    let mut conn = ctx.conn().await?;
    if db::accounts::count_local_admins(&mut conn).await? > 0 {
        return Ok(None);
    }
    let now = ids::now();
    let invite = match db::invites::find_open_admin_invite(&mut conn, now).await? {
        Some(i) => i,
        None => {
            let i = Invite {
                id: ids::next_id(),
                code: crypto::random_token(),
                created_by: None,
                max_uses: Some(1),
                uses: 0,
                grants_admin: true,
                expires_at: Some(now + Duration::days(7)),
                created_at: now,
            };
            db::invites::insert(&mut conn, &i).await?;
            i
        }
    };
    Ok(Some(format!(
        "{}/setup?code={}",
        ctx.base_url(),
        invite.code
    )))
}

/// Is this a usable first-run code? (The page checks before showing its form.)
/// Only while no administrator exists, however one was made.
pub async fn setup_code_valid(ctx: &Ctx, code: &str) -> ServiceResult<bool> {
    let mut conn = ctx.conn().await?;
    let now = ids::now();
    let open = matches!(
        db::invites::find_by_code(&mut conn, code).await?,
        Some(i) if i.grants_admin && i.uses == 0 && i.expires_at.is_none_or(|e| e > now)
    );
    Ok(open && db::accounts::count_local_admins(&mut conn).await? == 0)
}

/// Creates the first admin through the one-time setup link.
pub async fn complete_setup(
    ctx: &Ctx,
    code: &str,
    username: &str,
    email: &str,
    password: &str,
) -> ServiceResult<LocalUser> {
    if !setup_code_valid(ctx, code).await? {
        return Err(ServiceError::Forbidden(
            "This setup link is invalid or was already used".into(),
        ));
    }
    let new = NewAccount {
        username: username.into(),
        email: email.into(),
        password: password.into(),
        is_admin: true,
        approved: true,
        email_confirmed: true,
        allow_reserved: true,
        ..Default::default()
    };
    Ok(create(ctx, new, Some(code)).await?.0)
}

/// A fresh copy of a local person.
pub async fn reload(conn: &mut DbConn<'_>, id: i64) -> ServiceResult<LocalUser> {
    db::accounts::find_local_user(conn, id)
        .await?
        .ok_or_else(ServiceError::not_found)
}

/// Deletes a local account: its posts, follows and sign-in go, every known
/// instance is told (`Delete` of the actor), and the emptied row stays
/// suspended so the name is never reused for someone else.
pub async fn delete_local_account(ctx: &Ctx, username: &str) -> ServiceResult<()> {
    let account = {
        let mut conn = ctx.conn().await?;
        db::accounts::find_by_acct_key(&mut conn, &username.to_lowercase())
            .await?
            .map(|(a, _)| a)
            .filter(|a| a.local && !a.suspended)
            .ok_or_else(ServiceError::not_found)?
    };
    let mut conn = ctx.conn().await?;
    let attachments = db::media::of_account(&mut conn, account.id).await?;
    conn.transaction(async |tx| {
        ctx.federate(tx, Outgoing::AccountDeleted { account: &account })
            .await?;
        db::federation::erase_local_account(tx, account.id).await?;
        Ok::<_, ServiceError>(())
    })
    .await?;
    drop(conn);
    super::media::account_erased(ctx, attachments).await;
    ctx.wake_delivery();
    Ok(())
}

/// Turns down an account waiting for approval: it is deleted (it never
/// federated) and its name stays reserved, as after any deletion.
pub async fn reject_pending(ctx: &Ctx, id: i64) -> ServiceResult<()> {
    let mut conn = ctx.conn().await?;
    let me = db::accounts::find_local_user(&mut conn, id)
        .await?
        .ok_or_else(ServiceError::not_found)?;
    drop(conn);
    if me.user.approved {
        return Err(ServiceError::BadRequest(
            "Only accounts waiting for approval can be rejected".into(),
        ));
    }
    delete_local_account(ctx, &me.account.username).await
}

/// `GET /api/v1/directory`: discoverable people, `active` (latest post
/// first) or `new`; `local` for this server's only.
pub async fn directory(
    ctx: &Ctx,
    order: Option<&str>,
    local_only: bool,
    offset: i64,
    limit: i64,
) -> ServiceResult<Vec<AccountView>> {
    let newest = match order.unwrap_or("active") {
        "active" | "" => false,
        "new" => true,
        _ => {
            return Err(ServiceError::invalid(
                "order",
                "ERR_INCLUSION",
                "must be active or new",
            ));
        }
    };
    let mut conn = ctx.conn().await?;
    let list = db::accounts::directory(
        &mut conn,
        local_only,
        newest,
        offset.clamp(0, 10_000),
        limit.clamp(1, 80),
    )
    .await?;
    drop(conn);
    views::accounts(ctx, list).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(validate_username("taro_yamada", false).is_none());
        assert_eq!(validate_username("", false).unwrap().code, "ERR_BLANK");
        assert_eq!(validate_username("a-b", false).unwrap().code, "ERR_INVALID");
        assert_eq!(
            validate_username(&"a".repeat(31), false).unwrap().code,
            "ERR_TOO_LONG"
        );
        assert_eq!(
            validate_username("Admin", false).unwrap().code,
            "ERR_RESERVED"
        );
        assert!(validate_username("admin", true).is_none());
    }

    #[test]
    fn language_codes() {
        for ok in ["ja", "en", "en-GB", "zh_TW", "fil"] {
            assert!(is_language_code(ok), "{ok}");
        }
        for bad in ["", "J", "japanese", "EN", "en-", "../x"] {
            assert!(!is_language_code(bad), "{bad}");
        }
    }
}
