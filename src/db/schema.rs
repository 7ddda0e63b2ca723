//! One schema for both backends: only SQL types PostgreSQL and SQLite share.
// @generated-style table definitions, kept by hand because two migration sets feed them.

diesel::table! {
    accounts (id) {
        id -> BigInt,
        username -> Text,
        domain -> Nullable<Text>,
        acct_key -> Text,
        actor_type -> Text,
        display_name -> Text,
        note -> Text,
        note_source -> Text,
        fields -> Text,
        locked -> Bool,
        bot -> Bool,
        discoverable -> Bool,
        indexable -> Bool,
        hide_collections -> Bool,
        suspended -> Bool,
        avatar_file -> Nullable<Text>,
        header_file -> Nullable<Text>,
        avatar_remote_url -> Nullable<Text>,
        header_remote_url -> Nullable<Text>,
        local -> Bool,
        ap_id -> Nullable<Text>,
        inbox_url -> Nullable<Text>,
        shared_inbox_url -> Nullable<Text>,
        outbox_url -> Nullable<Text>,
        followers_url -> Nullable<Text>,
        profile_url -> Nullable<Text>,
        public_key_pem -> Text,
        private_key_pem -> Nullable<Text>,
        fetched_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (account_id) {
        account_id -> BigInt,
        email -> Text,
        email_key -> Text,
        password_hash -> Text,
        is_admin -> Bool,
        approved -> Bool,
        disabled -> Bool,
        registration_reason -> Nullable<Text>,
        email_confirmed_at -> Nullable<Timestamp>,
        confirmation_token_hash -> Nullable<Text>,
        locale -> Nullable<Text>,
        default_privacy -> Text,
        default_sensitive -> Bool,
        default_language -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    oauth_apps (id) {
        id -> BigInt,
        name -> Text,
        website -> Nullable<Text>,
        redirect_uris -> Text,
        scopes -> Text,
        client_id -> Text,
        client_secret_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    oauth_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        refresh_token_hash -> Nullable<Text>,
        app_id -> BigInt,
        account_id -> Nullable<BigInt>,
        scopes -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oauth_codes (id) {
        id -> BigInt,
        code_hash -> Text,
        app_id -> BigInt,
        account_id -> BigInt,
        scopes -> Text,
        redirect_uri -> Text,
        code_challenge -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invites (id) {
        id -> BigInt,
        code -> Text,
        created_by -> Nullable<BigInt>,
        max_uses -> Nullable<Integer>,
        uses -> Integer,
        grants_admin -> Bool,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(users -> accounts (account_id));
diesel::joinable!(oauth_tokens -> oauth_apps (app_id));
diesel::joinable!(oauth_tokens -> accounts (account_id));
diesel::joinable!(oauth_codes -> oauth_apps (app_id));
diesel::joinable!(oauth_codes -> accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    users,
    oauth_apps,
    oauth_tokens,
    oauth_codes,
    invites
);
