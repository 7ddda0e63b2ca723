//! Rows as stored. `check_for_backend` with both backends makes each derive
//! verify the column types against PostgreSQL and SQLite.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::{
    ActorType, ConsentPurpose, FilterAction, MediaKind, MediaState, MembershipState,
    NotificationKind, OrgKind, RepliesPolicy, ReportCategory, Role, Via, Visibility,
};

use super::schema::{
    accounts, announcements, bookmarks, conversations, dislikes, favourites, filter_keywords,
    filters, follows, invites, lists, markers, media_attachments, notifications, oauth_apps,
    oauth_codes, oauth_tokens, polls, status_edits, status_pins, statuses, users,
};

/// An actor: a local or remote person, later also an org (`Group`).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = accounts)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub domain: Option<String>,
    pub acct_key: String,
    pub actor_type: ActorType,
    pub display_name: String,
    pub note: String,
    pub note_source: String,
    pub fields: String,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub hide_collections: bool,
    pub suspended: bool,
    pub avatar_file: Option<String>,
    pub header_file: Option<String>,
    pub avatar_remote_url: Option<String>,
    pub header_remote_url: Option<String>,
    pub local: bool,
    pub ap_id: Option<String>,
    pub inbox_url: Option<String>,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub profile_url: Option<String>,
    pub public_key_pem: String,
    pub private_key_pem: Option<String>,
    pub fetched_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Where the account moved (a verified Move).
    pub moved_to_account_id: Option<i64>,
}

impl Account {
    /// The name people see: the display name, else the username.
    pub fn shown_name(&self) -> &str {
        if self.display_name.is_empty() {
            &self.username
        } else {
            &self.display_name
        }
    }
}

/// The sign-in data and settings of a local person.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = users, primary_key(account_id))]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct User {
    pub account_id: i64,
    pub email: String,
    pub email_key: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub approved: bool,
    pub disabled: bool,
    pub registration_reason: Option<String>,
    pub email_confirmed_at: Option<NaiveDateTime>,
    pub confirmation_token_hash: Option<String>,
    pub locale: Option<String>,
    pub default_privacy: Visibility,
    pub default_sensitive: bool,
    pub default_language: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A local person: the actor and the sign-in data.
#[derive(Debug, Clone)]
pub struct LocalUser {
    pub account: Account,
    pub user: User,
}

/// Profile fields a person edits through `update_credentials`.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = accounts)]
pub struct ProfileChanges {
    pub display_name: Option<String>,
    pub note: Option<String>,
    pub note_source: Option<String>,
    pub fields: Option<String>,
    pub locked: Option<bool>,
    pub bot: Option<bool>,
    pub discoverable: Option<bool>,
    pub indexable: Option<bool>,
    pub hide_collections: Option<bool>,
    pub avatar_file: Option<Option<String>>,
    pub header_file: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Posting defaults a person edits through `update_credentials` (`source[...]`).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct SettingsChanges {
    pub default_privacy: Option<Visibility>,
    pub default_sensitive: Option<bool>,
    pub default_language: Option<Option<String>>,
    pub locale: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = oauth_apps)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct OAuthApp {
    pub id: i64,
    pub name: String,
    pub website: Option<String>,
    pub redirect_uris: String,
    pub scopes: String,
    pub client_id: String,
    pub client_secret_hash: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = oauth_apps)]
pub struct NewOAuthApp<'a> {
    pub id: i64,
    pub name: &'a str,
    pub website: Option<&'a str>,
    pub redirect_uris: &'a str,
    pub scopes: &'a str,
    pub client_id: &'a str,
    pub client_secret_hash: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = oauth_tokens)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct OAuthToken {
    pub id: i64,
    pub token_hash: String,
    pub refresh_token_hash: Option<String>,
    pub app_id: i64,
    pub account_id: Option<i64>,
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = oauth_codes)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct OAuthCode {
    pub id: i64,
    pub code_hash: String,
    pub app_id: i64,
    pub account_id: i64,
    pub scopes: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = invites)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Invite {
    pub id: i64,
    pub code: String,
    pub created_by: Option<i64>,
    pub max_uses: Option<i32>,
    pub uses: i32,
    pub grants_admin: bool,
    pub expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = statuses)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Status {
    pub id: i64,
    pub account_id: i64,
    pub uri: Option<String>,
    pub url: Option<String>,
    pub text: String,
    pub content: String,
    pub spoiler_text: String,
    pub visibility: Visibility,
    pub sensitive: bool,
    pub language: Option<String>,
    pub in_reply_to_id: Option<i64>,
    pub in_reply_to_account_id: Option<i64>,
    pub reblog_of_id: Option<i64>,
    pub application_id: Option<i64>,
    pub local: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub edited_at: Option<NaiveDateTime>,
    /// The org a post is addressed to; with visibility `members`, only its
    /// verified members see it.
    pub audience_id: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = status_edits)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct StatusEdit {
    pub id: i64,
    pub status_id: i64,
    pub text: String,
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = follows)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Follow {
    pub id: i64,
    pub account_id: i64,
    pub target_account_id: i64,
    pub show_reblogs: bool,
    pub notify: bool,
    pub pending: bool,
    pub created_at: NaiveDateTime,
    /// The ActivityPub id of the Follow (remote follows and follows of remote accounts).
    pub uri: Option<String>,
}

/// A person's mark on a status: a favourite, bookmark or pin (same shape, own tables).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = favourites)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Favourite {
    pub id: i64,
    pub account_id: i64,
    pub status_id: i64,
    pub created_at: NaiveDateTime,
}

/// A negative vote (Lemmy's Dislike), of the same shape as a favourite.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dislikes)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Dislike {
    pub id: i64,
    pub account_id: i64,
    pub status_id: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bookmarks)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Bookmark {
    pub id: i64,
    pub account_id: i64,
    pub status_id: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = status_pins)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct StatusPin {
    pub id: i64,
    pub account_id: i64,
    pub status_id: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = notifications)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Notification {
    pub id: i64,
    pub account_id: i64,
    pub from_account_id: i64,
    pub kind: NotificationKind,
    pub status_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = media_attachments)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct MediaAttachment {
    pub id: i64,
    pub account_id: i64,
    pub status_id: Option<i64>,
    pub kind: MediaKind,
    pub file: Option<String>,
    pub preview_file: Option<String>,
    pub remote_url: Option<String>,
    pub description: String,
    pub focus_x: f64,
    pub focus_y: f64,
    pub meta: String,
    pub blurhash: Option<String>,
    pub state: MediaState,
    pub error: Option<String>,
    pub position: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = lists)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct List {
    pub id: i64,
    pub account_id: i64,
    pub title: String,
    pub replies_policy: RepliesPolicy,
    pub exclusive: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = filters)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Filter {
    pub id: i64,
    pub account_id: i64,
    pub title: String,
    pub contexts: String,
    pub action: FilterAction,
    pub expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = filter_keywords)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct FilterKeyword {
    pub id: i64,
    pub filter_id: i64,
    pub keyword: String,
    pub whole_word: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = markers)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Marker {
    pub account_id: i64,
    pub timeline: String,
    pub last_read_id: i64,
    pub version: i32,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = conversations)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Conversation {
    pub id: i64,
    pub account_id: i64,
    pub root_status_id: i64,
    pub last_status_id: i64,
    pub unread: bool,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = announcements)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Announcement {
    pub id: i64,
    pub text: String,
    pub content: String,
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
    pub all_day: bool,
    pub published: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = polls)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Poll {
    pub id: i64,
    pub status_id: i64,
    pub options: String,
    pub multiple: bool,
    pub hide_totals: bool,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub ended_notified: bool,
    /// A remote poll's tallies per option (JSON array), as its server reports them.
    pub remote_counts: Option<String>,
    pub remote_voters: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::inbox_activities)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct InboxActivity {
    pub id: i64,
    pub ap_id: String,
    pub actor_uri: String,
    pub kind: String,
    pub body: String,
    pub received_at: NaiveDateTime,
    pub processed_at: Option<NaiveDateTime>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::outbound_activities)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct OutboundActivity {
    pub id: i64,
    pub ap_id: String,
    pub actor_id: i64,
    pub body: String,
    pub created_at: NaiveDateTime,
    /// Signed with the instance actor's key (Flags), not the actor's.
    pub signed_by_instance: bool,
}

/// A report about an account (and some of its statuses).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::reports)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Report {
    pub id: i64,
    pub account_id: i64,
    pub target_account_id: i64,
    /// JSON array of status ids.
    pub status_ids: String,
    pub comment: String,
    pub category: ReportCategory,
    /// JSON array of rule ids.
    pub rule_ids: String,
    pub forwarded: bool,
    pub uri: Option<String>,
    pub created_at: NaiveDateTime,
    pub action_taken_at: Option<NaiveDateTime>,
    pub action_taken_by_account_id: Option<i64>,
}

/// A server whose people and deliveries this one refuses (suspend) or keeps
/// out of public view (silence).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::domain_blocks)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct DomainBlock {
    pub id: i64,
    pub domain: String,
    pub severity: crate::domain::DomainBlockSeverity,
    pub public_comment: String,
    pub private_comment: String,
    pub created_at: NaiveDateTime,
}

/// A server this one federates with in allow-list mode.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::domain_allows)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct DomainAllow {
    pub id: i64,
    pub domain: String,
    pub created_at: NaiveDateTime,
}

/// What an admin changed on the web; None keeps the configuration file's value.
#[derive(Debug, Clone, Default, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = crate::db::schema::instance_settings)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_null = true)]
pub struct StoredSettings {
    pub title: Option<String>,
    pub description: Option<String>,
    pub contact_email: Option<String>,
    /// JSON array of the rules' texts.
    pub rules: Option<String>,
    pub registration_mode: Option<crate::domain::RegistrationMode>,
    pub federation_access: Option<crate::domain::FederationAccess>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::db::schema::delivery_hosts)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct DeliveryHost {
    pub host: String,
    pub head: i64,
    pub done_upto: i64,
    pub failures: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub last_success_at: Option<NaiveDateTime>,
    pub delivered: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
}

/// What only orgs have; the org itself is its Group account (same id).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::orgs)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Org {
    pub account_id: i64,
    /// `official` or `club`.
    pub kind: OrgKind,
    pub parent_id: Option<i64>,
    pub created_by: Option<i64>,
    pub archived_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A person's membership of an org (local or remote Group), with its role and
/// state; a pending row is a membership request.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = crate::db::schema::memberships, treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Membership {
    pub id: i64,
    pub org_id: i64,
    pub account_id: i64,
    pub role: Role,
    pub state: MembershipState,
    pub via: Via,
    pub tenure_from: Option<String>,
    pub tenure_to: Option<String>,
    pub divisions: String,
    pub message: String,
    pub left_on: Option<String>,
    pub graduation_requested_on: Option<String>,
    pub join_ap_id: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::org_invites)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct OrgInvite {
    pub id: i64,
    pub org_id: i64,
    pub code: String,
    pub role: Role,
    pub max_uses: Option<i32>,
    pub uses: i32,
    pub expires_at: Option<NaiveDateTime>,
    pub created_by: Option<i64>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::roster_entries, treat_none_as_default_value = false)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct RosterEntry {
    pub id: i64,
    pub org_id: i64,
    pub email_key: String,
    pub name: String,
    pub tenure_from: Option<String>,
    pub tenure_to: Option<String>,
    pub divisions: String,
    pub role: Role,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A roster file from the office's web page (see `services::roster`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::roster_imports, treat_none_as_default_value = false)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct RosterImport {
    pub id: i64,
    pub org_id: i64,
    pub created_by: Option<i64>,
    pub file_name: String,
    pub encoding: String,
    pub content: String,
    pub state: crate::domain::ImportState,
    pub total: i64,
    pub done: i64,
    pub report: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::consents, treat_none_as_default_value = false)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct Consent {
    pub id: i64,
    pub org_id: i64,
    pub account_id: i64,
    pub purpose: ConsentPurpose,
    pub granted: bool,
    pub wording_version: String,
    pub created_at: NaiveDateTime,
}

/// An org's block of one account or of a whole domain.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::org_blocks)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct OrgBlock {
    pub id: i64,
    pub org_id: i64,
    pub account_id: Option<i64>,
    pub domain: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

/// A signed-in browser (only the token's hash is stored).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::web_sessions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct WebSession {
    pub id: i64,
    pub token_hash: String,
    pub account_id: i64,
    pub stage: crate::domain::SessionStage,
    pub user_agent: String,
    pub ip: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
}

/// Who a single sign-on provider's subject is here.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::oidc_identities)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct OidcIdentity {
    pub issuer: String,
    pub subject: String,
    pub account_id: i64,
    pub email: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
}

/// A single sign-on under way (the browser's cookie token is hashed).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::oidc_logins)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct OidcLogin {
    pub token_hash: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: String,
    pub created_at: NaiveDateTime,
}

/// A person's one-time-password secret; enabled once a code proved it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::two_factor)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct TwoFactor {
    pub account_id: i64,
    pub secret: String,
    pub enabled_at: Option<NaiveDateTime>,
    pub last_step: i64,
    pub failures: i32,
    pub locked_until: Option<NaiveDateTime>,
}

/// A single-use link sent by e-mail (only its hash is stored).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::account_tokens)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct AccountToken {
    pub token_hash: String,
    pub account_id: i64,
    pub purpose: crate::domain::TokenPurpose,
    pub new_email: Option<String>,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// A person's alumni profile beyond Mastodon's (the values; audiences apart).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = crate::db::schema::alumni_profiles)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_null = true)]
pub struct AlumniProfile {
    pub account_id: i64,
    pub current_org: String,
    pub title: String,
    pub industry: Option<crate::domain::Industry>,
    pub city: String,
    pub region: String,
    pub country: Option<String>,
    pub now_text: String,
    pub now_on: Option<String>,
    pub updated_at: NaiveDateTime,
    pub reminded_at: Option<NaiveDateTime>,
    pub public_fields: String,
}

/// One skill, interest, language or "open to" flag of a person.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::alumni_tags)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct AlumniTag {
    pub account_id: i64,
    pub field: crate::domain::TagField,
    pub tag: String,
    pub label: String,
    pub position: i32,
}

/// A period at an org, as its person states it (and its office confirmed).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::alumni_tenures)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct AlumniTenure {
    pub id: i64,
    pub account_id: i64,
    pub org_id: i64,
    pub year_from: i32,
    pub year_to: Option<i32>,
    pub division: String,
    pub title: String,
    pub verified_by: Option<i64>,
    pub verified_at: Option<NaiveDateTime>,
}
