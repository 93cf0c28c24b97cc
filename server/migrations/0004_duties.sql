-- USC duties: complaints and applications (D13), the notification outbox, the discrepancy
-- journal (D8, D9), audits and their findings (D7, D10), debt requests (D15).

CREATE TABLE complaint (
    id {{ID}},
    number TEXT NOT NULL UNIQUE,
    user_id BIGINT REFERENCES app_user(id),
    account_id BIGINT REFERENCES account(id),
    channel TEXT NOT NULL CHECK (channel IN ('cabinet', 'phone', 'office', 'letter')),
    kind TEXT NOT NULL CHECK (kind IN ('complaint', 'application')),
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    registered_on TEXT NOT NULL,
    deadline TEXT NOT NULL,
    extended_deadline TEXT,
    extension_reason TEXT,
    status TEXT NOT NULL CHECK (status IN ('registered', 'extended', 'answered')),
    answer TEXT,
    answered_on TEXT,
    created_by BIGINT
);

CREATE TABLE complaint_event (
    id {{ID}},
    complaint_id BIGINT NOT NULL REFERENCES complaint(id),
    at TEXT NOT NULL,
    actor_id BIGINT,
    status TEXT NOT NULL,
    note TEXT NOT NULL
);

-- Messages to people, sent by channel adapters (cabinet notice, e-mail, SMS).
CREATE TABLE notification (
    id {{ID}},
    user_id BIGINT,
    channel TEXT NOT NULL CHECK (channel IN ('cabinet', 'email', 'sms')),
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT
);

CREATE TABLE discrepancy (
    id {{ID}},
    source TEXT NOT NULL CHECK (source IN ('check', 'complaint', 'audit', 'bank_reconciliation', 'operator')),
    detected_on TEXT NOT NULL,
    registered_on TEXT NOT NULL,
    registration_deadline TEXT NOT NULL,
    late BIGINT NOT NULL,
    description TEXT NOT NULL,
    justification TEXT NOT NULL,
    responsible TEXT NOT NULL,
    provider_id BIGINT REFERENCES provider(id),
    account_id BIGINT REFERENCES account(id),
    status TEXT NOT NULL CHECK (status IN ('registered', 'notified', 'correcting', 'corrected', 'closed')),
    correction TEXT,
    correction_line_id BIGINT,
    corrected_upd_id BIGINT,
    complaint_id BIGINT REFERENCES complaint(id),
    audit_finding_id BIGINT
);

CREATE TABLE discrepancy_event (
    id {{ID}},
    discrepancy_id BIGINT NOT NULL REFERENCES discrepancy(id),
    at TEXT NOT NULL,
    actor_id BIGINT,
    status TEXT NOT NULL,
    note TEXT NOT NULL
);

-- D7, D10: an audit's results are documents kept at least three years.
CREATE TABLE audit (
    id {{ID}},
    kind TEXT NOT NULL CHECK (kind IN ('planned', 'unscheduled')),
    quarter TEXT,
    reason TEXT NOT NULL,
    audit_date TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    checks TEXT NOT NULL,
    findings_count BIGINT NOT NULL
);

CREATE TABLE audit_finding (
    id {{ID}},
    audit_id BIGINT NOT NULL REFERENCES audit(id),
    check_code TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL
);

CREATE TABLE debt_request (
    id {{ID}},
    user_id BIGINT NOT NULL REFERENCES app_user(id),
    account_id BIGINT NOT NULL REFERENCES account(id),
    legal_basis TEXT NOT NULL,
    reference TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    answer TEXT NOT NULL
);
