//! Diesel schema shared by SQLite and PostgreSQL: only portable column types.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        email -> Text,
        password_hash -> Text,
        is_admin -> Bool,
        disabled -> Bool,
        display_name -> Text,
        job_title -> Text,
        department -> Text,
        site -> Text,
        location -> Text,
        work_email -> Text,
        phone -> Text,
        bio -> Text,
        bio_html -> Text,
        languages -> Text,
        locale -> Nullable<Text>,
        photo_version -> BigInt,
        created_at -> Timestamp,
        domain -> Nullable<Text>,
        ap_id -> Nullable<Text>,
        inbox -> Text,
        shared_inbox -> Text,
        profile_url -> Text,
        key_id -> Nullable<Text>,
        public_key -> Text,
        private_key -> Text,
        fetched_at -> Nullable<Timestamp>,
        icon_url -> Text,
        deleted_at -> Nullable<Timestamp>,
        actor_type -> Text,
    }
}

diesel::table! {
    remote_totals (actor_id) {
        actor_id -> BigInt,
        followers -> Nullable<BigInt>,
        following -> Nullable<BigInt>,
    }
}

diesel::table! {
    onboarding (user_id) {
        user_id -> BigInt,
        step -> Text,
        finished_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    photos (user_id) {
        user_id -> BigInt,
        content_type -> Text,
        data -> Binary,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    skills (id) {
        id -> BigInt,
        name -> Text,
    }
}

diesel::table! {
    user_skills (user_id, skill_id) {
        user_id -> BigInt,
        skill_id -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> BigInt,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        sso_provider -> Nullable<Text>,
        id_token -> Nullable<Text>,
    }
}

diesel::table! {
    /// Who a person is at an identity provider (`accounts::sso`).
    sso_identities (id) {
        id -> BigInt,
        user_id -> BigInt,
        provider -> Text,
        subject -> Text,
        created_at -> Timestamp,
        last_login_at -> Timestamp,
    }
}

diesel::table! {
    /// A sign-in through an identity provider under way (`accounts::sso`).
    sso_pending (id) {
        id -> Text,
        provider -> Text,
        kind -> Text,
        nonce -> Text,
        verifier -> Text,
        next -> Text,
        user_id -> Nullable<BigInt>,
        claims -> Text,
        created_at -> Timestamp,
        ip -> Text,
    }
}

diesel::table! {
    /// Who may provision accounts with SCIM (`accounts::provisioning`).
    scim_clients (id) {
        id -> BigInt,
        name -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// The accounts a SCIM client manages.
    scim_users (user_id) {
        user_id -> BigInt,
        client_id -> BigInt,
        user_name -> Text,
        user_key -> Text,
        external_id -> Text,
        given_name -> Text,
        family_name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        disabled_by_scim -> Bool,
        manager_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Two-step sign-in (`accounts::second_factor`).
    second_factors (user_id) {
        user_id -> BigInt,
        secret -> Text,
        enabled_at -> Nullable<Timestamp>,
        last_step -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Passkeys (`accounts::passkey`).
    passkeys (id) {
        id -> BigInt,
        user_id -> BigInt,
        user_handle -> Text,
        credential_id -> Text,
        name -> Text,
        passkey -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Passkey ceremonies under way (`accounts::passkey`).
    passkey_ceremonies (id) {
        id -> Text,
        purpose -> Text,
        user_id -> Nullable<BigInt>,
        state -> Text,
        ip -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Groups pushed over SCIM (`communities::provisioned`).
    scim_groups (community_id) {
        community_id -> BigInt,
        client_id -> BigInt,
        display_name -> Text,
        display_key -> Text,
        external_id -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Who a SCIM group made a member of its community.
    scim_group_members (community_id, user_id) {
        community_id -> BigInt,
        user_id -> BigInt,
        gave -> Bool,
    }
}

diesel::table! {
    /// People of other instances who are guests there (`accounts::remote`).
    remote_guests (user_id) {
        user_id -> BigInt,
    }
}

diesel::table! {
    login_steps (id) {
        id -> Text,
        user_id -> BigInt,
        next -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Accounts the company's directory manages (`accounts::directory`).
    directory_users (user_id) {
        user_id -> BigInt,
        login_key -> Text,
        dn -> Text,
        disabled_by_sync -> Bool,
        synced_at -> Timestamp,
        manager_dn -> Text,
        dn_key -> Text,
        entry_id -> Text,
        photo_digest -> Text,
    }
}

diesel::table! {
    leavers (user_id) {
        user_id -> BigInt,
        left_at -> Timestamp,
        anonymised_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    guests (user_id) {
        user_id -> BigInt,
        invited_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        expired -> Bool,
        reminded -> Bool,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invitations (id) {
        id -> BigInt,
        code_hash -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_by -> Nullable<BigInt>,
        used_at -> Nullable<Timestamp>,
        community_id -> Nullable<BigInt>,
        guest -> Bool,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        username -> Text,
        ip -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    follows (follower_id, followee_id) {
        follower_id -> BigInt,
        followee_id -> BigInt,
        created_at -> Timestamp,
        accepted -> Bool,
        ap_id -> Nullable<Text>,
    }
}

diesel::table! {
    content (id) {
        id -> BigInt,
        ap_id -> Nullable<Text>,
        kind -> Text,
        author_id -> BigInt,
        reply_to_id -> Nullable<BigInt>,
        root_id -> Nullable<BigInt>,
        visibility -> Text,
        body -> Text,
        body_html -> Text,
        created_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        community_id -> Nullable<BigInt>,
        pinned_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    content_revisions (id) {
        id -> BigInt,
        content_id -> BigInt,
        body -> Text,
        body_html -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    content_tags (content_id, tag) {
        content_id -> BigInt,
        tag -> Text,
    }
}

diesel::table! {
    mentions (content_id, user_id) {
        content_id -> BigInt,
        user_id -> BigInt,
    }
}

diesel::table! {
    reactions (content_id, user_id, kind) {
        content_id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mail_queue (id) {
        id -> BigInt,
        kind -> Text,
        user_id -> Nullable<BigInt>,
        address -> Text,
        locale -> Text,
        detail -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Text,
        created_at -> Timestamp,
        done_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_addresses (address) {
        address -> Text,
        unsubscribe_token -> Text,
        unsubscribed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        bounce_token -> Nullable<Text>,
        bounces -> Integer,
        failing_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    password_resets (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_preferences (user_id, kind) {
        user_id -> BigInt,
        kind -> Text,
        mode -> Text,
    }
}

diesel::table! {
    mail_locales (user_id) {
        user_id -> BigInt,
        locale -> Text,
    }
}

diesel::table! {
    mail_digests (user_id) {
        user_id -> BigInt,
        frequency -> Text,
        utc_offset_minutes -> Integer,
        content_mark -> BigInt,
        notification_mark -> BigInt,
        next_at -> Timestamp,
        time_zone -> Text,
    }
}

diesel::table! {
    mail_actions (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        notification_id -> BigInt,
        action -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_received (message_id) {
        message_id -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    /// The search index of posts, comments and documents: `rowid` is the
    /// content's id (an FTS5 table on SQLite, a table with a generated
    /// tsvector on PostgreSQL; see `index`).
    content_search (rowid) {
        rowid -> BigInt,
        at -> BigInt,
        folded -> Text,
        head -> Text,
        terms -> Text,
        meta -> Text,
    }
}

diesel::table! {
    /// Every word of five letters or more in `content_search`, for
    /// completing a word being typed (SQLite only; see `index`).
    content_words (word) {
        word -> Text,
    }
}

diesel::table! {
    /// The search index of people and communities: `rowid` is the actor's
    /// `users.id`.
    actor_search (rowid) {
        rowid -> BigInt,
        folded -> Text,
        head -> Text,
        terms -> Text,
    }
}

diesel::table! {
    /// The words read from a document version's file, for search
    /// (`documents::text`).
    document_texts (version_id) {
        version_id -> BigInt,
        text -> Text,
    }
}

diesel::table! {
    /// Versions uploaded elsewhere whose words are still to be read
    /// (`documents::words`).
    document_words_due (version_id) {
        version_id -> BigInt,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
    }
}

diesel::table! {
    /// People who chose not to appear in "Who knows about …?"
    /// (`search::experts`).
    finder_optouts (user_id) {
        user_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// A colleague (`endorser_id`) vouches for a skill `user_id` declared
    /// (`people::endorse`).
    endorsements (user_id, skill_id, endorser_id) {
        user_id -> BigInt,
        skill_id -> BigInt,
        endorser_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// How many people endorse a skill of a person of another site, as
    /// their site publishes it (`people::endorse`).
    remote_endorsements (user_id, skill_id) {
        user_id -> BigInt,
        skill_id -> BigInt,
        count -> BigInt,
    }
}

diesel::table! {
    /// Local people who chose not to be listed to the organisation's other
    /// sites (`people::directory_share`).
    directory_optouts (user_id) {
        user_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// People of other sites whose site no longer lists them in its shared
    /// directory: kept, but not found by search.
    directory_hidden (actor_id) {
        actor_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::joinable!(photos -> users (user_id));
diesel::joinable!(remote_totals -> users (actor_id));
diesel::joinable!(onboarding -> users (user_id));
diesel::joinable!(mail_queue -> users (user_id));
diesel::joinable!(password_resets -> users (user_id));
diesel::joinable!(mail_preferences -> users (user_id));
diesel::joinable!(mail_locales -> users (user_id));
diesel::joinable!(mail_digests -> users (user_id));
diesel::joinable!(mail_actions -> users (user_id));
diesel::joinable!(mail_actions -> notifications (notification_id));
diesel::joinable!(media -> content (content_id));
diesel::joinable!(user_skills -> users (user_id));
diesel::joinable!(user_skills -> skills (skill_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(sso_identities -> users (user_id));
diesel::joinable!(scim_users -> users (user_id));
diesel::joinable!(directory_users -> users (user_id));
diesel::joinable!(scim_users -> scim_clients (client_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(content -> users (author_id));
diesel::joinable!(content_revisions -> content (content_id));
diesel::joinable!(content_tags -> content (content_id));
diesel::joinable!(reactions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    community_apps,
    polls,
    poll_options,
    poll_votes,
    ideas,
    questions,
    event_details,
    event_rsvps,
    calendar_feeds,
    must_reads,
    must_read_confirmations,
    surveys,
    survey_questions,
    survey_choices,
    survey_responses,
    survey_answers,
    content_search,
    content_words,
    actor_search,
    document_texts,
    finder_optouts,
    endorsements,
    remote_endorsements,
    document_words_due,
    directory_optouts,
    directory_hidden,
    email_checks,
    community_watches,
    photos,
    skills,
    user_skills,
    sessions,
    sso_identities,
    sso_pending,
    scim_clients,
    scim_users,
    second_factors,
    recovery_codes,
    login_steps,
    remote_guests,
    scim_groups,
    scim_group_members,
    passkeys,
    passkey_ceremonies,
    directory_users,
    guests,
    leavers,
    api_tokens,
    invitations,
    login_failures,
    follows,
    content,
    content_revisions,
    content_tags,
    mentions,
    reactions,
    instances,
    trust_audit,
    settings,
    fed_events,
    deliveries,
    peers,
    inbox_seen,
    notifications,
    communities,
    community_members,
    moderation_log,
    documents,
    document_versions,
    remote_totals,
    media,
    onboarding,
    mail_queue,
    mail_addresses,
    password_resets,
    mail_preferences,
    mail_locales,
    mail_digests,
    mail_actions,
    mail_received,
);

diesel::table! {
    instances (domain) {
        domain -> Text,
        level -> Text,
        reason -> Text,
        expires_at -> Nullable<Timestamp>,
        allow_private -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    trust_audit (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        domain -> Text,
        level -> Nullable<Text>,
        reason -> Text,
        expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    settings (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    fed_events (id) {
        id -> BigInt,
        kind -> Text,
        actor_id -> BigInt,
        object_id -> Nullable<BigInt>,
        extra -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    deliveries (id) {
        id -> BigInt,
        actor_id -> Nullable<BigInt>,
        domain -> Text,
        inbox -> Text,
        activity -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Text,
        created_at -> Timestamp,
        done_at -> Nullable<Timestamp>,
        community_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    peers (domain) {
        domain -> Text,
        last_success_at -> Nullable<Timestamp>,
        last_failure_at -> Nullable<Timestamp>,
        consecutive_failures -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_error -> Text,
        signatures -> Text,
    }
}

diesel::table! {
    inbox_seen (activity_id) {
        activity_id -> Text,
        received_at -> Timestamp,
        repeats -> Integer,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        actor_id -> BigInt,
        content_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        community_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    communities (actor_id) {
        actor_id -> BigInt,
        visibility -> Text,
        join_policy -> Text,
        partners -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        backfilled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    community_members (community_id, user_id) {
        community_id -> BigInt,
        user_id -> BigInt,
        role -> Text,
        status -> Text,
        follow_ap_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    moderation_log (id) {
        id -> BigInt,
        community_id -> BigInt,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        target_user_id -> Nullable<BigInt>,
        target_content_id -> Nullable<BigInt>,
        detail -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    documents (id) {
        id -> BigInt,
        community_id -> BigInt,
        ap_id -> Nullable<Text>,
        name -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    document_versions (id) {
        id -> BigInt,
        document_id -> BigInt,
        version -> BigInt,
        filename -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        storage_key -> Text,
        remote_url -> Text,
        content_id -> Nullable<BigInt>,
        uploaded_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        note_html -> Text,
    }
}

diesel::table! {
    media (id) {
        id -> BigInt,
        owner_id -> BigInt,
        content_id -> Nullable<BigInt>,
        position -> BigInt,
        kind -> Text,
        filename -> Text,
        content_type -> Text,
        size -> BigInt,
        width -> BigInt,
        height -> BigInt,
        alt -> Text,
        secret -> Text,
        storage_key -> Text,
        thumb_key -> Text,
        remote_url -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    email_checks (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        email -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    community_watches (community_id, user_id) {
        community_id -> BigInt,
        user_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    community_apps (community_id, app) {
        community_id -> BigInt,
        app -> Text,
        enabled -> Bool,
    }
}

diesel::table! {
    polls (content_id) {
        content_id -> BigInt,
        multiple -> Bool,
        closes_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        results -> Text,
        anonymous -> Bool,
        voters -> BigInt,
    }
}

diesel::table! {
    poll_options (id) {
        id -> BigInt,
        content_id -> BigInt,
        position -> Integer,
        name -> Text,
        votes -> BigInt,
    }
}

diesel::table! {
    poll_votes (option_id, user_id) {
        option_id -> BigInt,
        content_id -> BigInt,
        user_id -> BigInt,
        ap_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ideas (content_id) {
        content_id -> BigInt,
        title -> Text,
        status -> Text,
        reason -> Text,
        status_at -> Timestamp,
    }
}

diesel::table! {
    questions (content_id) {
        content_id -> BigInt,
        title -> Text,
        accepted_id -> Nullable<BigInt>,
        accepted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    event_details (content_id) {
        content_id -> BigInt,
        title -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        time_zone -> Text,
        place -> Text,
        online_url -> Text,
        capacity -> Nullable<BigInt>,
        waiting_list -> Bool,
        going -> BigInt,
        maybe -> BigInt,
        waiting -> BigInt,
        reminded_at -> Nullable<Timestamp>,
        joins -> Bool,
    }
}

diesel::table! {
    event_rsvps (content_id, user_id) {
        content_id -> BigInt,
        user_id -> BigInt,
        answer -> Text,
        waiting -> Bool,
        ap_id -> Nullable<Text>,
        answered_at -> Timestamp,
    }
}

diesel::table! {
    calendar_feeds (user_id) {
        user_id -> BigInt,
        digest -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    must_reads (content_id) {
        content_id -> BigInt,
        author_id -> BigInt,
        community_id -> Nullable<BigInt>,
        scope -> Text,
        marked_by -> Nullable<BigInt>,
        marked_at -> Timestamp,
        reminded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    must_read_confirmations (content_id, user_id) {
        content_id -> BigInt,
        user_id -> BigInt,
        read_at -> Timestamp,
        ap_id -> Nullable<Text>,
    }
}

diesel::table! {
    surveys (content_id) {
        content_id -> BigInt,
        title -> Text,
        quiz -> Bool,
        leaderboard -> Bool,
        anonymous -> Bool,
        closes_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        respondents -> BigInt,
    }
}

diesel::table! {
    survey_questions (id) {
        id -> BigInt,
        content_id -> BigInt,
        position -> Integer,
        kind -> Text,
        prompt -> Text,
        optional -> Bool,
        explanation -> Text,
    }
}

diesel::table! {
    survey_choices (id) {
        id -> BigInt,
        question_id -> BigInt,
        position -> Integer,
        label -> Text,
        correct -> Bool,
    }
}

diesel::table! {
    survey_responses (id) {
        id -> BigInt,
        content_id -> BigInt,
        user_id -> BigInt,
        score -> Nullable<Integer>,
        ap_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    survey_answers (id) {
        id -> BigInt,
        response_id -> BigInt,
        question_id -> BigInt,
        choice_id -> Nullable<BigInt>,
        scale -> Nullable<Integer>,
        text -> Nullable<Text>,
    }
}

diesel::joinable!(surveys -> content (content_id));
diesel::joinable!(survey_responses -> users (user_id));
diesel::joinable!(survey_answers -> survey_responses (response_id));
diesel::joinable!(survey_choices -> survey_questions (question_id));

diesel::joinable!(must_reads -> content (content_id));
diesel::joinable!(must_read_confirmations -> users (user_id));
diesel::joinable!(event_details -> content (content_id));
diesel::joinable!(event_rsvps -> users (user_id));
diesel::joinable!(calendar_feeds -> users (user_id));
diesel::joinable!(ideas -> content (content_id));
diesel::joinable!(polls -> content (content_id));
diesel::joinable!(poll_options -> polls (content_id));
diesel::joinable!(poll_votes -> poll_options (option_id));
diesel::joinable!(poll_votes -> users (user_id));
