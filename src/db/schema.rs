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
        moved_to_account_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    account_stats (account_id) {
        account_id -> BigInt,
        statuses_count -> BigInt,
        last_status_at -> Nullable<Timestamp>,
        followers_count -> BigInt,
        following_count -> BigInt,
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

diesel::table! {
    statuses (id) {
        id -> BigInt,
        account_id -> BigInt,
        uri -> Nullable<Text>,
        url -> Nullable<Text>,
        text -> Text,
        content -> Text,
        spoiler_text -> Text,
        visibility -> Text,
        sensitive -> Bool,
        language -> Nullable<Text>,
        in_reply_to_id -> Nullable<BigInt>,
        in_reply_to_account_id -> Nullable<BigInt>,
        reblog_of_id -> Nullable<BigInt>,
        application_id -> Nullable<BigInt>,
        local -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
        audience_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    status_edits (id) {
        id -> BigInt,
        status_id -> BigInt,
        text -> Text,
        content -> Text,
        spoiler_text -> Text,
        sensitive -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mentions (status_id, account_id) {
        status_id -> BigInt,
        account_id -> BigInt,
    }
}

diesel::table! {
    tags (id) {
        id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    status_tags (status_id, tag_id) {
        status_id -> BigInt,
        tag_id -> BigInt,
    }
}

diesel::table! {
    follows (id) {
        id -> BigInt,
        account_id -> BigInt,
        target_account_id -> BigInt,
        show_reblogs -> Bool,
        notify -> Bool,
        pending -> Bool,
        created_at -> Timestamp,
        uri -> Nullable<Text>,
    }
}

diesel::table! {
    favourites (id) {
        id -> BigInt,
        account_id -> BigInt,
        status_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    bookmarks (id) {
        id -> BigInt,
        account_id -> BigInt,
        status_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    dislikes (id) {
        id -> BigInt,
        account_id -> BigInt,
        status_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    web_sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        account_id -> BigInt,
        stage -> Text,
        user_agent -> Text,
        ip -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
    }
}

diesel::table! {
    email_notifications (account_id) {
        account_id -> BigInt,
        kinds -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    oidc_identities (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        account_id -> BigInt,
        email -> Text,
        created_at -> Timestamp,
        last_used_at -> Timestamp,
    }
}

diesel::table! {
    oidc_logins (token_hash) {
        token_hash -> Text,
        state -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        next -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    two_factor (account_id) {
        account_id -> BigInt,
        secret -> Text,
        enabled_at -> Nullable<Timestamp>,
        last_step -> BigInt,
        failures -> Integer,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    account_tokens (token_hash) {
        token_hash -> Text,
        account_id -> BigInt,
        purpose -> Text,
        new_email -> Nullable<Text>,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    recovery_codes (account_id, code_hash) {
        account_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    peer_software (host) {
        host -> Text,
        software -> Text,
        version -> Text,
        checked_at -> Timestamp,
    }
}

diesel::table! {
    thread_locks (status_id) {
        status_id -> BigInt,
        locked_at -> Timestamp,
    }
}

diesel::table! {
    community_bans (group_id, account_id) {
        group_id -> BigInt,
        account_id -> BigInt,
        reason -> Text,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    status_pins (id) {
        id -> BigInt,
        account_id -> BigInt,
        status_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        account_id -> BigInt,
        from_account_id -> BigInt,
        kind -> Text,
        status_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (account_id, key) {
        account_id -> BigInt,
        key -> Text,
        status_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    media_attachments (id) {
        id -> BigInt,
        account_id -> BigInt,
        status_id -> Nullable<BigInt>,
        kind -> Text,
        file -> Nullable<Text>,
        preview_file -> Nullable<Text>,
        remote_url -> Nullable<Text>,
        description -> Text,
        focus_x -> Double,
        focus_y -> Double,
        meta -> Text,
        blurhash -> Nullable<Text>,
        state -> Text,
        error -> Nullable<Text>,
        position -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    lists (id) {
        id -> BigInt,
        account_id -> BigInt,
        title -> Text,
        replies_policy -> Text,
        exclusive -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    list_accounts (list_id, account_id) {
        list_id -> BigInt,
        account_id -> BigInt,
    }
}

diesel::table! {
    filters (id) {
        id -> BigInt,
        account_id -> BigInt,
        title -> Text,
        contexts -> Text,
        action -> Text,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    filter_keywords (id) {
        id -> BigInt,
        filter_id -> BigInt,
        keyword -> Text,
        whole_word -> Bool,
    }
}

diesel::table! {
    markers (account_id, timeline) {
        account_id -> BigInt,
        timeline -> Text,
        last_read_id -> BigInt,
        version -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    blocks (id) {
        id -> BigInt,
        account_id -> BigInt,
        target_account_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mutes (id) {
        id -> BigInt,
        account_id -> BigInt,
        target_account_id -> BigInt,
        hide_notifications -> Bool,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    featured_tags (id) {
        id -> BigInt,
        account_id -> BigInt,
        tag_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    conversations (id) {
        id -> BigInt,
        account_id -> BigInt,
        root_status_id -> BigInt,
        last_status_id -> BigInt,
        unread -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    announcements (id) {
        id -> BigInt,
        text -> Text,
        content -> Text,
        starts_at -> Nullable<Timestamp>,
        ends_at -> Nullable<Timestamp>,
        all_day -> Bool,
        published -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    announcement_reads (account_id, announcement_id) {
        account_id -> BigInt,
        announcement_id -> BigInt,
    }
}

diesel::table! {
    org_announcement_reads (account_id, status_id) {
        account_id -> BigInt,
        status_id -> BigInt,
    }
}

diesel::table! {
    polls (id) {
        id -> BigInt,
        status_id -> BigInt,
        options -> Text,
        multiple -> Bool,
        hide_totals -> Bool,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        ended_notified -> Bool,
        remote_counts -> Nullable<Text>,
        remote_voters -> Nullable<BigInt>,
    }
}

diesel::table! {
    poll_votes (id) {
        id -> BigInt,
        poll_id -> BigInt,
        account_id -> BigInt,
        choice -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    instance_actor (id) {
        id -> Integer,
        private_key_pem -> Text,
        public_key_pem -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    inbox_activities (id) {
        id -> BigInt,
        ap_id -> Text,
        actor_uri -> Text,
        kind -> Text,
        body -> Text,
        received_at -> Timestamp,
        processed_at -> Nullable<Timestamp>,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    outbound_activities (id) {
        id -> BigInt,
        ap_id -> Text,
        actor_id -> BigInt,
        body -> Text,
        created_at -> Timestamp,
        signed_by_instance -> Bool,
    }
}

diesel::table! {
    orgs (account_id) {
        account_id -> BigInt,
        kind -> Text,
        parent_id -> Nullable<BigInt>,
        created_by -> Nullable<BigInt>,
        archived_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    reports (id) {
        id -> BigInt,
        account_id -> BigInt,
        target_account_id -> BigInt,
        status_ids -> Text,
        comment -> Text,
        category -> Text,
        rule_ids -> Text,
        forwarded -> Bool,
        uri -> Nullable<Text>,
        created_at -> Timestamp,
        action_taken_at -> Nullable<Timestamp>,
        action_taken_by_account_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    domain_blocks (id) {
        id -> BigInt,
        domain -> Text,
        severity -> Text,
        public_comment -> Text,
        private_comment -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    silenced_accounts (account_id) {
        account_id -> BigInt,
        silenced_at -> Timestamp,
    }
}

diesel::table! {
    domain_block_accounts (domain_block_id, account_id) {
        domain_block_id -> BigInt,
        account_id -> BigInt,
    }
}

diesel::table! {
    domain_allows (id) {
        id -> BigInt,
        domain -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    instance_settings (id) {
        id -> Integer,
        title -> Nullable<Text>,
        description -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        rules -> Nullable<Text>,
        registration_mode -> Nullable<Text>,
        federation_access -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    outbound_targets (host, activity_id) {
        activity_id -> BigInt,
        host -> Text,
        inboxes -> Text,
    }
}

diesel::table! {
    delivery_hosts (host) {
        host -> Text,
        head -> BigInt,
        done_upto -> BigInt,
        failures -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        last_success_at -> Nullable<Timestamp>,
        delivered -> BigInt,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    memberships (id) {
        id -> BigInt,
        org_id -> BigInt,
        account_id -> BigInt,
        role -> Text,
        state -> Text,
        via -> Text,
        tenure_from -> Nullable<Text>,
        tenure_to -> Nullable<Text>,
        divisions -> Text,
        message -> Text,
        left_on -> Nullable<Text>,
        graduation_requested_on -> Nullable<Text>,
        join_ap_id -> Nullable<Text>,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    org_invites (id) {
        id -> BigInt,
        org_id -> BigInt,
        code -> Text,
        role -> Text,
        max_uses -> Nullable<Integer>,
        uses -> Integer,
        expires_at -> Nullable<Timestamp>,
        created_by -> Nullable<BigInt>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    roster_entries (id) {
        id -> BigInt,
        org_id -> BigInt,
        email_key -> Text,
        name -> Text,
        tenure_from -> Nullable<Text>,
        tenure_to -> Nullable<Text>,
        divisions -> Text,
        role -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    consents (id) {
        id -> BigInt,
        org_id -> BigInt,
        account_id -> BigInt,
        purpose -> Text,
        granted -> Bool,
        wording_version -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    org_recognitions (org_id, club_id) {
        org_id -> BigInt,
        club_id -> BigInt,
        recognised_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    org_blocks (id) {
        id -> BigInt,
        org_id -> BigInt,
        account_id -> Nullable<BigInt>,
        domain -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    membership_changes (id) {
        id -> BigInt,
        org_id -> BigInt,
        account_id -> BigInt,
        role_before -> Nullable<Text>,
        role_after -> Nullable<Text>,
        day -> BigInt,
    }
}

diesel::table! {
    sign_in_days (account_id, day) {
        account_id -> BigInt,
        day -> BigInt,
    }
}

diesel::table! {
    roster_imports (id) {
        id -> BigInt,
        org_id -> BigInt,
        created_by -> Nullable<BigInt>,
        file_name -> Text,
        encoding -> Text,
        content -> Text,
        state -> Text,
        total -> BigInt,
        done -> BigInt,
        report -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    alumni_profiles (account_id) {
        account_id -> BigInt,
        current_org -> Text,
        title -> Text,
        industry -> Nullable<Text>,
        city -> Text,
        region -> Text,
        country -> Nullable<Text>,
        now_text -> Text,
        now_on -> Nullable<Text>,
        updated_at -> Timestamp,
        reminded_at -> Nullable<Timestamp>,
        public_fields -> Text,
    }
}

diesel::table! {
    alumni_tags (account_id, field, tag) {
        account_id -> BigInt,
        field -> Text,
        tag -> Text,
        label -> Text,
        position -> Integer,
    }
}

diesel::table! {
    alumni_tenures (id) {
        id -> BigInt,
        account_id -> BigInt,
        org_id -> BigInt,
        year_from -> Integer,
        year_to -> Nullable<Integer>,
        division -> Text,
        title -> Text,
        verified_by -> Nullable<BigInt>,
        verified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    alumni_audiences (account_id, field, audience) {
        account_id -> BigInt,
        field -> Text,
        audience -> Text,
    }
}

diesel::joinable!(outbound_targets -> outbound_activities (activity_id));
diesel::joinable!(users -> accounts (account_id));
diesel::joinable!(web_sessions -> accounts (account_id));
diesel::joinable!(oidc_identities -> accounts (account_id));
diesel::joinable!(orgs -> accounts (account_id));
diesel::joinable!(org_invites -> orgs (org_id));
diesel::joinable!(roster_entries -> orgs (org_id));
diesel::joinable!(oauth_tokens -> oauth_apps (app_id));
diesel::joinable!(oauth_tokens -> accounts (account_id));
diesel::joinable!(oauth_codes -> oauth_apps (app_id));
diesel::joinable!(oauth_codes -> accounts (account_id));
diesel::joinable!(status_tags -> tags (tag_id));
diesel::joinable!(status_tags -> statuses (status_id));
diesel::joinable!(mentions -> statuses (status_id));
diesel::joinable!(filter_keywords -> filters (filter_id));
diesel::joinable!(featured_tags -> tags (tag_id));
diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    domain_blocks,
    domain_block_accounts,
    silenced_accounts,
    domain_allows,
    instance_settings,
    membership_changes,
    roster_imports,
    sign_in_days,
    oidc_identities,
    account_stats,
    inbox_activities,
    outbound_activities,
    outbound_targets,
    delivery_hosts,
    users,
    oauth_apps,
    oauth_tokens,
    oauth_codes,
    invites,
    statuses,
    status_edits,
    mentions,
    tags,
    status_tags,
    follows,
    favourites,
    dislikes,
    thread_locks,
    community_bans,
    peer_software,
    web_sessions,
    two_factor,
    recovery_codes,
    account_tokens,
    bookmarks,
    status_pins,
    notifications,
    idempotency_keys,
    media_attachments,
    lists,
    list_accounts,
    filters,
    filter_keywords,
    markers,
    blocks,
    mutes,
    featured_tags,
    conversations,
    announcements,
    announcement_reads,
    org_announcement_reads,
    polls,
    poll_votes,
    reports,
    orgs,
    memberships,
    org_invites,
    roster_entries,
    consents,
    org_recognitions,
    org_blocks,
    alumni_profiles,
    alumni_tags,
    alumni_tenures,
    alumni_audiences,
);
