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
        notify_new_programs -> Bool,
        bank_account_status -> Text,
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
        mfa_enabled -> Bool,
    }
}

diesel::table! {
    user_totp (user_id) {
        user_id -> BigInt,
        secret -> Text,
        confirmed_at -> Nullable<Timestamp>,
        last_used_step -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mfa_recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mfa_challenges (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    company_requests (id) {
        id -> BigInt,
        reference_no -> Text,
        company_id -> BigInt,
        created_by -> BigInt,
        category -> Text,
        subject -> Text,
        content -> Text,
        program_id -> Nullable<BigInt>,
        application_id -> Nullable<BigInt>,
        status -> Text,
        assignee_id -> Nullable<BigInt>,
        received_on -> Date,
        first_response_due_on -> Date,
        due_on -> Date,
        first_responded_at -> Nullable<Timestamp>,
        waiting_since -> Nullable<Date>,
        paused_days -> Integer,
        resolution -> Nullable<Text>,
        resolved_at -> Nullable<Timestamp>,
        resolved_on -> Nullable<Date>,
        rating -> Nullable<Integer>,
        rating_comment -> Nullable<Text>,
        ratings_given -> Integer,
        rating_sum -> Integer,
        bad_ratings -> Integer,
        escalated_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    request_messages (id) {
        id -> BigInt,
        request_id -> BigInt,
        author_id -> BigInt,
        body -> Text,
        internal -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    request_counters (year) {
        year -> Integer,
        last_seq -> BigInt,
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
        kind -> Text,
        last_seen_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(sessions -> users (user_id));

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        occurred_at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        actor_role -> Nullable<Text>,
        action -> Text,
        object_type -> Text,
        object_id -> Nullable<BigInt>,
        summary -> Text,
        request_id -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
        keyed_from -> Nullable<BigInt>,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_token -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    one_time_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    throttles (key) {
        key -> Text,
        window_started_at -> Timestamp,
        hits -> Integer,
    }
}

diesel::table! {
    spent_refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> BigInt,
        spent_at -> Timestamp,
    }
}

diesel::table! {
    company_financials (company_id, year) {
        company_id -> BigInt,
        year -> Integer,
        revenue_fen -> BigInt,
        rd_expense_fen -> BigInt,
        employee_count -> Integer,
        rd_staff_count -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    company_bank_accounts (company_id) {
        company_id -> BigInt,
        bank_name -> Text,
        account_name -> Text,
        account_no -> Text,
        updated_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        confirmed_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    programs (id) {
        id -> BigInt,
        code -> Text,
        title -> Text,
        category -> Text,
        summary -> Text,
        guide -> Text,
        opens_at -> Timestamp,
        closes_at -> Timestamp,
        budget_fen -> BigInt,
        reserved_fen -> BigInt,
        disbursed_fen -> BigInt,
        max_award_fen -> BigInt,
        public_notice_days -> Integer,
        payment_due_days -> Integer,
        correction_days -> Integer,
        min_expert_reviews -> Integer,
        max_total_upload_bytes -> BigInt,
        eligibility_rules -> Text,
        required_materials -> Text,
        form_fields -> Text,
        status -> Text,
        last_reference_seq -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        support_family -> Nullable<Text>,
        max_support_ratio_percent -> Nullable<Integer>,
    }
}

diesel::table! {
    applications (id) {
        id -> BigInt,
        program_id -> BigInt,
        company_id -> BigInt,
        created_by -> BigInt,
        reference_no -> Nullable<Text>,
        status -> Text,
        requested_amount_fen -> BigInt,
        approved_amount_fen -> Nullable<BigInt>,
        disbursed_fen -> BigInt,
        form_data -> Text,
        company_snapshot -> Nullable<Text>,
        correction_due_on -> Nullable<Date>,
        notice_starts_on -> Nullable<Date>,
        notice_ends_on -> Nullable<Date>,
        payment_due_on -> Nullable<Date>,
        submitted_at -> Nullable<Timestamp>,
        decided_at -> Nullable<Timestamp>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        expert_scores -> Integer,
    }
}

diesel::table! {
    attachments (id) {
        id -> BigInt,
        application_id -> BigInt,
        material_key -> Text,
        file_name -> Text,
        storage_key -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        uploaded_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    expert_assignments (id) {
        id -> BigInt,
        application_id -> BigInt,
        expert_id -> BigInt,
        assigned_by -> BigInt,
        drawn -> Bool,
        assigned_at -> Timestamp,
        declared_at -> Nullable<Timestamp>,
        conflict_of_interest -> Nullable<Bool>,
        statement -> Nullable<Text>,
        score -> Nullable<Integer>,
        opinion -> Nullable<Text>,
        scored_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    objections (id) {
        id -> BigInt,
        application_id -> BigInt,
        name -> Text,
        contact -> Text,
        organization -> Nullable<Text>,
        content -> Text,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
        resolved_by -> Nullable<BigInt>,
        upheld -> Nullable<Bool>,
        resolution_comment -> Nullable<Text>,
    }
}

diesel::table! {
    calendar_days (day) {
        day -> Date,
        kind -> Text,
    }
}

diesel::table! {
    payment_instalments (id) {
        id -> BigInt,
        application_id -> BigInt,
        due_on -> Date,
        amount_fen -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    disbursements (id) {
        id -> BigInt,
        application_id -> BigInt,
        kind -> Text,
        amount_fen -> BigInt,
        paid_on -> Date,
        voucher_no -> Nullable<Text>,
        note -> Nullable<Text>,
        reverses_id -> Nullable<BigInt>,
        recorded_by -> BigInt,
        created_at -> Timestamp,
        paid_to -> Nullable<Text>,
        paid_to_sha256 -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> BigInt,
        key -> Text,
        fingerprint -> Text,
        claimed_at -> Timestamp,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        completed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    application_invoices (id) {
        id -> BigInt,
        application_id -> BigInt,
        seller_tax_id -> Text,
        invoice_no -> Text,
        issued_on -> Date,
        amount_fen -> BigInt,
        claimed_at -> Timestamp,
        released_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    program_outreach (program_id, company_id) {
        program_id -> BigInt,
        company_id -> BigInt,
        notified_at -> Timestamp,
    }
}

diesel::table! {
    application_counts (program_id, status, submitted) {
        program_id -> BigInt,
        status -> Text,
        submitted -> Bool,
        n -> BigInt,
    }
}

diesel::table! {
    outreach_runs (program_id) {
        program_id -> BigInt,
        claim_token -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        runs -> Integer,
        last_notified -> Integer,
    }
}

diesel::table! {
    disbursement_counts (program_id) {
        program_id -> BigInt,
        n -> BigInt,
    }
}

diesel::table! {
    application_day_counts (status, day) {
        status -> Text,
        day -> Date,
        n -> BigInt,
    }
}

diesel::table! {
    expert_review_counts (program_id, scores) {
        program_id -> BigInt,
        scores -> Integer,
        n -> BigInt,
    }
}

diesel::table! {
    submitted_hour_counts (hour) {
        hour -> Timestamp,
        n -> BigInt,
    }
}

diesel::table! {
    company_counts (industry, park_zone, verification_status) {
        industry -> Text,
        park_zone -> Text,
        verification_status -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    user_counts (role, status) {
        role -> Text,
        status -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    housekeeping_runs (job) {
        job -> Text,
        claim_token -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(company_financials -> companies (company_id));
diesel::joinable!(company_bank_accounts -> companies (company_id));
diesel::joinable!(one_time_tokens -> users (user_id));
diesel::joinable!(user_totp -> users (user_id));
diesel::joinable!(mfa_recovery_codes -> users (user_id));
diesel::joinable!(mfa_challenges -> users (user_id));
diesel::joinable!(spent_refresh_tokens -> sessions (session_id));
diesel::joinable!(application_counts -> programs (program_id));
diesel::joinable!(applications -> programs (program_id));
diesel::joinable!(applications -> companies (company_id));
diesel::joinable!(attachments -> applications (application_id));
diesel::joinable!(expert_assignments -> applications (application_id));
diesel::joinable!(objections -> applications (application_id));
diesel::joinable!(payment_instalments -> applications (application_id));
diesel::joinable!(disbursement_counts -> programs (program_id));
diesel::joinable!(expert_review_counts -> programs (program_id));
diesel::joinable!(disbursements -> applications (application_id));
diesel::joinable!(application_invoices -> applications (application_id));
diesel::joinable!(company_requests -> companies (company_id));
diesel::joinable!(request_messages -> company_requests (request_id));
diesel::joinable!(program_outreach -> programs (program_id));
diesel::joinable!(program_outreach -> companies (company_id));
diesel::joinable!(outreach_runs -> programs (program_id));

diesel::allow_tables_to_appear_in_same_query!(
    application_counts,
    application_day_counts,
    application_invoices,
    applications,
    attachments,
    audit_events,
    calendar_days,
    companies,
    company_bank_accounts,
    company_counts,
    company_financials,
    company_requests,
    disbursement_counts,
    disbursements,
    expert_assignments,
    expert_review_counts,
    idempotency_keys,
    mfa_challenges,
    mfa_recovery_codes,
    objections,
    one_time_tokens,
    outreach_runs,
    payment_instalments,
    program_outreach,
    programs,
    request_counters,
    request_messages,
    sessions,
    spent_refresh_tokens,
    submitted_hour_counts,
    user_counts,
    user_totp,
    users,
);
