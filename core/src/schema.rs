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
    }
}

diesel::table! {
    people (id) {
        id -> Text,
        staff_id -> Nullable<Text>,
        display_name -> Text,
        email -> Text,
        profession -> Text,
        specialty -> Nullable<Text>,
        department -> Nullable<Text>,
        experience_band -> Text,
        languages -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    accounts (id) {
        id -> Text,
        person_id -> Text,
        password_hash -> Nullable<Text>,
        external_subject -> Nullable<Text>,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    account_roles (account_id, role) {
        account_id -> Text,
        role -> Text,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        account_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    oauth_clients (id) {
        id -> Text,
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
        id -> Text,
        person_id -> Text,
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
    }
}

diesel::table! {
    programs (id) {
        id -> Text,
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
    }
}

diesel::joinable!(accounts -> people (person_id));
diesel::joinable!(account_roles -> accounts (account_id));
diesel::joinable!(refresh_tokens -> accounts (account_id));
diesel::joinable!(peer_supporters -> people (person_id));

diesel::allow_tables_to_appear_in_same_query!(
    institution,
    people,
    accounts,
    account_roles,
    refresh_tokens,
    oauth_clients,
    peer_supporters,
    programs,
);
