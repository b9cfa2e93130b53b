//! diesel's view of the tables. Both migration trees must produce exactly these tables and
//! columns; a test compares the two backends.

diesel::table! {
    institution (id) {
        id -> Integer,
        name -> Text,
        node_id -> Text,
        jurisdiction -> Text,
        crisis_resources -> Text,
        updated_at -> Timestamp,
        on_call_email -> Nullable<Text>,
    }
}

diesel::table! {
    people (id) {
        id -> crate::db::UuidText,
        staff_id -> Nullable<Text>,
        display_name -> Text,
        email -> Nullable<Text>,
        profession -> Text,
        specialty -> Nullable<Text>,
        department -> Nullable<Text>,
        experience_band -> Text,
        languages -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        locale -> Nullable<Text>,
        phone -> Nullable<Text>,
        text_messages -> Bool,
        active -> Bool,
        pager -> Nullable<Text>,
    }
}

diesel::table! {
    pending_involvements (id) {
        id -> crate::db::UuidText,
        event_id -> crate::db::UuidText,
        staff_id -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    handoffs (id) {
        id -> crate::db::UuidText,
        request_id -> crate::db::UuidText,
        program_id -> crate::db::UuidText,
        code_hash -> Text,
        shared_name -> Nullable<Text>,
        shared_contact -> Nullable<Text>,
        created_at -> Timestamp,
        acknowledged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    outreach_opt_outs (event_id, person_id) {
        event_id -> crate::db::UuidText,
        person_id -> crate::db::UuidText,
        created_at -> Timestamp,
    }
}

diesel::table! {
    scim_users (person_id) {
        person_id -> crate::db::UuidText,
        user_name -> Text,
        user_name_key -> Text,
        external_id -> Nullable<Text>,
        resource -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    accounts (id) {
        id -> crate::db::UuidText,
        person_id -> crate::db::UuidText,
        password_hash -> Nullable<Text>,
        external_subject -> Nullable<Text>,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        access_version -> Integer,
    }
}

diesel::table! {
    account_roles (account_id, role) {
        account_id -> crate::db::UuidText,
        role -> Text,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> crate::db::UuidText,
        account_id -> crate::db::UuidText,
        family_id -> crate::db::UuidText,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    oauth_clients (id) {
        id -> crate::db::UuidText,
        client_id -> Text,
        name -> Text,
        secret_hash -> Text,
        scopes -> Text,
        disabled -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    peer_supporters (id) {
        id -> crate::db::UuidText,
        person_id -> crate::db::UuidText,
        trained_on -> Nullable<Date>,
        training_expires_on -> Nullable<Date>,
        lived_experience -> Bool,
        time_zone -> Text,
        availability -> Text,
        caseload_cap -> Integer,
        outside_matching_opt_in -> Bool,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        monthly_hours_cap -> Integer,
        last_assigned_at -> Nullable<Timestamp>,
        training_reminder_for -> Nullable<Date>,
    }
}

diesel::table! {
    programs (id) {
        id -> crate::db::UuidText,
        name -> Text,
        kind -> Text,
        tier -> Integer,
        audience -> Text,
        hours -> Text,
        contact -> Text,
        privileged -> Bool,
        follow_up_days -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        ack_target_minutes -> Integer,
        first_contact_target_hours -> Integer,
        urgent_outreach_hours -> Integer,
        urgent_categories -> Text,
        recontact_days -> Text,
        intake_email -> Nullable<Text>,
        intake_phone -> Nullable<Text>,
        intake_webhook_id -> Nullable<crate::db::UuidText>,
    }
}

diesel::table! {
    events (id) {
        id -> crate::db::UuidText,
        category -> Text,
        month -> Text,
        department -> Nullable<Text>,
        severity_band -> Text,
        disclosure_in_progress -> Bool,
        external_ref -> Nullable<Text>,
        source -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        ceiling_reminded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    involvements (id) {
        id -> crate::db::UuidText,
        event_id -> crate::db::UuidText,
        person_id -> crate::db::UuidText,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    milestones (id) {
        id -> crate::db::UuidText,
        event_id -> crate::db::UuidText,
        kind -> Text,
        month -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outreach (id) {
        id -> crate::db::UuidText,
        event_id -> crate::db::UuidText,
        person_id -> crate::db::UuidText,
        milestone_id -> Nullable<crate::db::UuidText>,
        urgent -> Bool,
        state -> Text,
        request_id -> Nullable<crate::db::UuidText>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        contact_due_at -> Nullable<Timestamp>,
        breached_at -> Nullable<Timestamp>,
        recontacts -> Integer,
        from_colleague -> Bool,
        referrer_name -> Nullable<Text>,
    }
}

diesel::table! {
    support_requests (id) {
        id -> crate::db::UuidText,
        requester_id -> Nullable<crate::db::UuidText>,
        origin -> Text,
        outreach_id -> Nullable<crate::db::UuidText>,
        event_id -> Nullable<crate::db::UuidText>,
        referred_by -> Nullable<Text>,
        program_id -> Nullable<crate::db::UuidText>,
        urgency -> Text,
        peer_profession -> Nullable<Text>,
        specialty_preference -> Text,
        language -> Nullable<Text>,
        language_required -> Bool,
        modality -> Text,
        peer_origin -> Text,
        coordinator_access -> Text,
        preferred_name -> Nullable<Text>,
        state -> Text,
        supporter_id -> Nullable<crate::db::UuidText>,
        offered_to -> Nullable<crate::db::UuidText>,
        offer_expires_at -> Nullable<Timestamp>,
        ack_due_at -> Timestamp,
        contact_due_at -> Timestamp,
        ack_breached_at -> Nullable<Timestamp>,
        contact_breached_at -> Nullable<Timestamp>,
        acknowledged_at -> Nullable<Timestamp>,
        first_contact_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        escalated_to -> Nullable<crate::db::UuidText>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        requester_profession -> Nullable<Text>,
        event_category -> Nullable<Text>,
    }
}

diesel::table! {
    request_transitions (id) {
        id -> crate::db::UuidText,
        request_id -> crate::db::UuidText,
        from_state -> Text,
        to_state -> Text,
        actor -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    offer_declines (request_id, supporter_id) {
        request_id -> crate::db::UuidText,
        supporter_id -> crate::db::UuidText,
        reason -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    encounters (id) {
        id -> crate::db::UuidText,
        request_id -> crate::db::UuidText,
        supporter_id -> Nullable<crate::db::UuidText>,
        occurred_on -> Date,
        duration_band -> Text,
        modality -> Text,
        tier -> Integer,
        referral_program_id -> Nullable<crate::db::UuidText>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    supporter_minutes (supporter_id, month, stripe) {
        supporter_id -> crate::db::UuidText,
        month -> Date,
        minutes -> BigInt,
        stripe -> SmallInt,
    }
}

diesel::table! {
    /// Each supporter's cases held and offers waiting, in stripes kept by trigger (migration
    /// 000037): a supporter's count is the sum of their rows.
    supporter_cases (supporter_id, stripe) {
        supporter_id -> crate::db::UuidText,
        stripe -> Integer,
        cases -> BigInt,
    }
}

diesel::table! {
    follow_ups (id) {
        id -> crate::db::UuidText,
        request_id -> crate::db::UuidText,
        supporter_id -> Nullable<crate::db::UuidText>,
        due_at -> Timestamp,
        state -> Text,
        outcome -> Nullable<Text>,
        completed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        reminded_at -> Nullable<Timestamp>,
        with_requester -> Bool,
    }
}

diesel::table! {
    alerts (id) {
        id -> crate::db::UuidText,
        kind -> Text,
        request_id -> Nullable<crate::db::UuidText>,
        created_at -> Timestamp,
        step -> Integer,
        next_step_at -> Nullable<Timestamp>,
        acknowledged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    on_call_settings (id) {
        id -> Integer,
        time_zone -> Text,
        escalate_after_minutes -> Integer,
        lead_person_id -> Nullable<crate::db::UuidText>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    on_call_shifts (id) {
        id -> crate::db::UuidText,
        person_id -> crate::db::UuidText,
        weekday -> Text,
        start_time -> Text,
        end_time -> Text,
        position -> Integer,
    }
}

diesel::table! {
    on_call_overrides (id) {
        id -> crate::db::UuidText,
        person_id -> crate::db::UuidText,
        position -> Integer,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
    }
}

diesel::table! {
    alert_pages (id) {
        id -> crate::db::UuidText,
        alert_id -> crate::db::UuidText,
        step -> Integer,
        person_id -> Nullable<crate::db::UuidText>,
        code_hash -> Text,
        paged_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (scope, idem_key) {
        scope -> Text,
        idem_key -> Text,
        request_hash -> Text,
        resource_id -> crate::db::UuidText,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    case_audit (chain, lane, seq) {
        chain -> Text,
        lane -> Integer,
        seq -> BigInt,
        request_id -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    case_pseudonyms (request_id, actor) {
        request_id -> Text,
        actor -> Text,
        pseudonym -> Text,
    }
}

diesel::table! {
    case_chain (lane, seq) {
        lane -> Integer,
        seq -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        record_type -> Text,
        record_id -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    case_chain_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    audit_log (seq) {
        lane -> Integer,
        seq -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        record_type -> Text,
        record_id -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    request_stats (id) {
        id -> crate::db::UuidText,
        opened_month -> Text,
        closed_month -> Nullable<Text>,
        origin -> Text,
        urgency -> Text,
        requester_profession -> Nullable<Text>,
        event_category -> Nullable<Text>,
        final_state -> Text,
        escalated -> Bool,
        minutes_to_ack -> Nullable<Integer>,
        minutes_to_first_contact -> Nullable<Integer>,
        encounters -> Integer,
        ack_breached -> Bool,
        contact_breached -> Bool,
        program_id -> Nullable<crate::db::UuidText>,
    }
}

diesel::table! {
    outbox (id) {
        id -> crate::db::UuidText,
        channel -> Text,
        topic -> Text,
        idempotency_key -> Text,
        recipient -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        erase -> Text,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> crate::db::UuidText,
        url -> Text,
        secret -> Text,
        event_types -> Text,
        active -> Bool,
        disabled_reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> crate::db::UuidText,
        endpoint_id -> crate::db::UuidText,
        outbox_id -> crate::db::UuidText,
        attempt -> Integer,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    job_leases (name) {
        name -> Text,
        holder -> Text,
        expires_at -> Timestamp,
        heartbeat_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sign_in_links (id) {
        id -> crate::db::UuidText,
        account_id -> crate::db::UuidText,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    browser_sessions (id) {
        id -> crate::db::UuidText,
        account_id -> crate::db::UuidText,
        token_hash -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        idle_seconds -> Integer,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sso_attempts (state_hash) {
        state_hash -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        next_path -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    resources (id) {
        id -> crate::db::UuidText,
        kind -> Text,
        title -> Text,
        summary -> Text,
        body -> Nullable<Text>,
        link -> Nullable<Text>,
        tags -> Text,
        audience -> Text,
        jurisdiction -> Nullable<Text>,
        licence -> Text,
        sharing -> Text,
        built_in -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    survey_tokens (token_hash) {
        token_hash -> Text,
        issued_month -> Text,
        expires_at -> Timestamp,
        used -> Bool,
    }
}

diesel::table! {
    survey_responses (id) {
        id -> crate::db::UuidText,
        submitted_month -> Text,
        answers -> Text,
    }
}

diesel::table! {
    readiness_assessments (id) {
        id -> crate::db::UuidText,
        answers -> Text,
        scores -> Text,
        share_with_steward -> Bool,
        submitted_by -> Text,
        submitted_at -> Timestamp,
    }
}

diesel::table! {
    training_courses (id) {
        id -> crate::db::UuidText,
        kind -> Text,
        title -> Text,
        validity_months -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    training_sessions (id) {
        id -> crate::db::UuidText,
        course_id -> crate::db::UuidText,
        starts_on -> Date,
        format -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    training_completions (id) {
        id -> crate::db::UuidText,
        person_id -> crate::db::UuidText,
        course_id -> crate::db::UuidText,
        session_id -> Nullable<crate::db::UuidText>,
        completed_on -> Date,
        expires_on -> Nullable<Date>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    trainers (id) {
        id -> crate::db::UuidText,
        display_name -> Text,
        credentials -> Nullable<Text>,
        organization -> Nullable<Text>,
        topics -> Text,
        formats -> Text,
        regions -> Text,
        contact -> Nullable<Text>,
        published_fields -> Text,
        consented -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    federation_settings (id) {
        id -> Integer,
        mode -> Text,
        steward_id -> Nullable<Text>,
        steward_url -> Nullable<Text>,
        steward_keys -> Text,
        updated_at -> Timestamp,
        refreshed_at -> Nullable<Timestamp>,
        refresh_error -> Nullable<Text>,
    }
}

diesel::table! {
    federation_bridges (kid) {
        kid -> Text,
        serial -> BigInt,
        token -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    federation_members (node_id) {
        node_id -> Text,
        name -> Text,
        base_url -> Text,
        keys -> Text,
        status -> Text,
        requested_at -> Timestamp,
        joined_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        held_serial -> Nullable<BigInt>,
        synced_at -> Nullable<Timestamp>,
        checked_at -> Nullable<Timestamp>,
        check_error -> Nullable<Text>,
    }
}

diesel::table! {
    federation_manifests (id) {
        id -> Integer,
        serial -> BigInt,
        token -> Text,
        expires_at -> Timestamp,
        stored_at -> Timestamp,
    }
}

diesel::table! {
    federation_feed_head (id) {
        id -> Integer,
        seq -> BigInt,
    }
}

diesel::table! {
    federation_feed (seq) {
        seq -> BigInt,
        kind -> Text,
        item_id -> crate::db::UuidText,
        deleted -> Bool,
        payload -> Text,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    federation_directory (origin, kind, item_id) {
        origin -> Text,
        kind -> Text,
        item_id -> crate::db::UuidText,
        version -> BigInt,
        payload -> Text,
        synced_at -> Timestamp,
    }
}

diesel::table! {
    federation_cursors (origin) {
        origin -> Text,
        cursor -> BigInt,
        synced_at -> Nullable<Timestamp>,
        failures -> Integer,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    federation_handles (handle_hash) {
        handle_hash -> Text,
        supporter_id -> crate::db::UuidText,
        requester_node -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    federation_introductions (id) {
        id -> crate::db::UuidText,
        direction -> Text,
        request_id -> Nullable<crate::db::UuidText>,
        peer_node -> Text,
        supporter_id -> Nullable<crate::db::UuidText>,
        first_name -> Nullable<Text>,
        contact -> Nullable<Text>,
        state -> Text,
        created_at -> Timestamp,
        responded_at -> Nullable<Timestamp>,
        first_contact_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        encounters -> Integer,
    }
}

diesel::table! {
    federation_metrics (member, period) {
        member -> Text,
        period -> Text,
        payload -> Text,
        fetched_at -> Timestamp,
    }
}

diesel::joinable!(accounts -> people (person_id));
diesel::joinable!(scim_users -> people (person_id));
diesel::joinable!(handoffs -> support_requests (request_id));
diesel::joinable!(account_roles -> accounts (account_id));
diesel::joinable!(refresh_tokens -> accounts (account_id));
diesel::joinable!(peer_supporters -> people (person_id));
diesel::joinable!(involvements -> events (event_id));
diesel::joinable!(pending_involvements -> events (event_id));
diesel::joinable!(involvements -> people (person_id));
diesel::joinable!(outreach -> events (event_id));
diesel::joinable!(support_requests -> events (event_id));
diesel::joinable!(encounters -> support_requests (request_id));
diesel::joinable!(follow_ups -> support_requests (request_id));

diesel::table! {
    federation_seen_calls (call_id) {
        call_id -> Text,
        expires_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    federation_seen_calls,
    institution,
    people,
    accounts,
    account_roles,
    refresh_tokens,
    oauth_clients,
    peer_supporters,
    programs,
    events,
    involvements,
    milestones,
    outreach,
    support_requests,
    request_transitions,
    offer_declines,
    encounters,
    supporter_minutes,
    supporter_cases,
    follow_ups,
    alerts,
    idempotency_keys,
    audit_head,
    audit_log,
    case_chain,
    case_chain_head,
    case_pseudonyms,
    request_stats,
    outbox,
    webhook_endpoints,
    webhook_deliveries,
    job_leases,
    sign_in_links,
    browser_sessions,
    sso_attempts,
    resources,
    survey_tokens,
    survey_responses,
    readiness_assessments,
    training_courses,
    training_sessions,
    training_completions,
    trainers,
    federation_settings,
    federation_members,
    federation_manifests,
    federation_bridges,
    federation_feed_head,
    federation_feed,
    federation_directory,
    federation_cursors,
    federation_handles,
    federation_introductions,
    federation_metrics,
    on_call_settings,
    on_call_shifts,
    on_call_overrides,
    alert_pages,
    scim_users,
    pending_involvements,
    outreach_opt_outs,
    handoffs,
);
