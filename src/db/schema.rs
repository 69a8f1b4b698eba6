//! The one schema both backends share, in portable types only. Both migration folders must produce it.

diesel::table! {
    companies (id) {
        id -> BigInt,
        credit_code -> Text,
        name -> Text,
        legal_representative -> Text,
        industry -> Text,
        park_zone -> Text,
        established_on -> Date,
        registered_capital_fen -> BigInt,
        address -> Text,
        contact_phone -> Text,
        verification_status -> Text,
        verification_comment -> Nullable<Text>,
        high_tech_certificate_no -> Nullable<Text>,
        high_tech_valid_until -> Nullable<Date>,
        tech_sme -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Nullable<Text>,
        display_name -> Text,
        role -> Text,
        status -> Text,
        email_verified_at -> Nullable<Timestamp>,
        company_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(users -> companies (company_id));

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        refresh_token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(companies, sessions, users);
