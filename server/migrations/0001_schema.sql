-- Esep schema, one text for SQLite and PostgreSQL. `{{ID}}` becomes the backend's
-- auto-increment primary key. Money is BIGINT tiyn; decimals (areas, readings, rates) are
-- TEXT holding exact decimal strings; dates are TEXT 'YYYY-MM-DD', instants TEXT RFC 3339 UTC.

-- D16: a territory may be served by one or several USCs.
CREATE TABLE territory (
    id {{ID}},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE usc (
    id {{ID}},
    bin TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE usc_territory (
    usc_id BIGINT NOT NULL REFERENCES usc(id),
    territory_id BIGINT NOT NULL REFERENCES territory(id),
    PRIMARY KEY (usc_id, territory_id)
);

-- D5: the settlement account (IBAN) is verified against the bank directory on entry.
CREATE TABLE provider (
    id {{ID}},
    usc_id BIGINT NOT NULL REFERENCES usc(id),
    bin TEXT NOT NULL,
    name TEXT NOT NULL,
    iban TEXT NOT NULL,
    bic TEXT NOT NULL,
    bank_name TEXT NOT NULL,
    iban_verified_at TEXT NOT NULL,
    kbe TEXT NOT NULL DEFAULT '17',
    knp TEXT NOT NULL DEFAULT '859',
    UNIQUE (usc_id, bin)
);

CREATE TABLE service (
    id {{ID}},
    provider_id BIGINT NOT NULL REFERENCES provider(id),
    code TEXT NOT NULL UNIQUE,
    section TEXT NOT NULL CHECK (section IN ('utility', 'additional')),
    unit TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('tariff', 'provider')),
    name_kk TEXT NOT NULL,
    name_ru TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE tariff (
    id {{ID}},
    service_id BIGINT NOT NULL REFERENCES service(id),
    territory_id BIGINT NOT NULL REFERENCES territory(id),
    kind TEXT NOT NULL,
    rate TEXT NOT NULL,
    tiers TEXT NOT NULL DEFAULT '[]',
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    UNIQUE (service_id, territory_id, valid_from)
);

-- The services an account receives, as named sets shared by many accounts (a building's
-- package: with or without lift, gas or electric stove...).
CREATE TABLE service_set (
    id {{ID}},
    code TEXT NOT NULL UNIQUE
);

CREATE TABLE service_set_item (
    set_id BIGINT NOT NULL REFERENCES service_set(id),
    service_id BIGINT NOT NULL REFERENCES service(id),
    PRIMARY KEY (set_id, service_id)
);

-- The housing register (as an ОЖАЖ export gives it, D4).
CREATE TABLE premises (
    id {{ID}},
    territory_id BIGINT NOT NULL REFERENCES territory(id),
    register_id TEXT NOT NULL UNIQUE,
    address TEXT NOT NULL,
    area_m2 TEXT NOT NULL,
    residents BIGINT NOT NULL
);

CREATE TABLE account (
    id {{ID}},
    number TEXT NOT NULL UNIQUE,
    premises_id BIGINT NOT NULL REFERENCES premises(id),
    usc_id BIGINT NOT NULL REFERENCES usc(id),
    service_set_id BIGINT NOT NULL REFERENCES service_set(id),
    holder_name TEXT NOT NULL
);
CREATE INDEX account_premises ON account(premises_id);

CREATE TABLE meter (
    id {{ID}},
    account_id BIGINT NOT NULL REFERENCES account(id),
    service_id BIGINT NOT NULL REFERENCES service(id),
    serial TEXT NOT NULL,
    initial_value TEXT NOT NULL,
    UNIQUE (account_id, service_id)
);

CREATE TABLE reading (
    id {{ID}},
    meter_id BIGINT NOT NULL REFERENCES meter(id),
    account_id BIGINT NOT NULL,
    period TEXT NOT NULL,
    value TEXT NOT NULL,
    taken_on TEXT NOT NULL,
    source TEXT NOT NULL,
    flagged BIGINT NOT NULL DEFAULT 0,
    flag_reason TEXT,
    UNIQUE (meter_id, period)
);
CREATE INDEX reading_account_period ON reading(account_id, period);

-- Charges and recalculations submitted by providers (D6: the USC answers for their match
-- with the UPD).
CREATE TABLE provider_line (
    id {{ID}},
    provider_id BIGINT NOT NULL REFERENCES provider(id),
    account_id BIGINT NOT NULL REFERENCES account(id),
    service_id BIGINT NOT NULL REFERENCES service(id),
    period TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('charge', 'recalculation')),
    amount_tiyn BIGINT NOT NULL,
    quantity TEXT,
    description TEXT NOT NULL,
    external_id TEXT NOT NULL,
    UNIQUE (provider_id, external_id)
);
CREATE INDEX provider_line_account_period ON provider_line(account_id, period);

CREATE TABLE import_batch (
    id {{ID}},
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    rows_count BIGINT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (kind, sha256)
);

-- Unified payment documents: immutable versions. A reissue adds a version with a reason;
-- the current version of a period is the highest.
CREATE TABLE upd (
    id {{ID}},
    account_id BIGINT NOT NULL REFERENCES account(id),
    period TEXT NOT NULL,
    version BIGINT NOT NULL,
    number TEXT NOT NULL,
    reason TEXT,
    issued_at TEXT NOT NULL,
    due_date TEXT NOT NULL,
    total_charged_tiyn BIGINT NOT NULL,
    total_due_tiyn BIGINT NOT NULL,
    to_pay_tiyn BIGINT NOT NULL,
    payments_through BIGINT NOT NULL,
    run_id BIGINT NOT NULL,
    UNIQUE (account_id, period, version),
    UNIQUE (number, version)
);
CREATE INDEX upd_period ON upd(period, account_id);

CREATE TABLE upd_line (
    upd_id BIGINT NOT NULL REFERENCES upd(id),
    line_no BIGINT NOT NULL,
    service_id BIGINT NOT NULL,
    provider_id BIGINT NOT NULL,
    quantity TEXT NOT NULL,
    opening_tiyn BIGINT NOT NULL,
    charge_tiyn BIGINT NOT NULL,
    recalculation_tiyn BIGINT NOT NULL,
    paid_tiyn BIGINT NOT NULL,
    due_tiyn BIGINT NOT NULL,
    explanation TEXT NOT NULL,
    PRIMARY KEY (upd_id, line_no)
);

-- Money received for an account's service: written by payment allocation. A UPD counts
-- the allocations with id in (previous UPD's payments_through, its own payments_through].
CREATE TABLE payment_allocation (
    id {{ID}},
    account_id BIGINT NOT NULL REFERENCES account(id),
    service_id BIGINT NOT NULL REFERENCES service(id),
    provider_id BIGINT NOT NULL REFERENCES provider(id),
    amount_tiyn BIGINT NOT NULL,
    paid_at TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX payment_allocation_account ON payment_allocation(account_id, id);

CREATE TABLE billing_run (
    id {{ID}},
    period TEXT NOT NULL,
    territory_id BIGINT NOT NULL,
    reissue BIGINT NOT NULL,
    reason TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    issued BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE app_user (
    id {{ID}},
    role TEXT NOT NULL CHECK (role IN ('consumer', 'provider', 'operator', 'auditor', 'authority')),
    iin TEXT UNIQUE,
    phone TEXT UNIQUE,
    login TEXT UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    provider_id BIGINT REFERENCES provider(id),
    created_at TEXT NOT NULL
);

CREATE TABLE user_account (
    user_id BIGINT NOT NULL REFERENCES app_user(id),
    account_id BIGINT NOT NULL REFERENCES account(id),
    linked_at TEXT NOT NULL,
    PRIMARY KEY (user_id, account_id)
);
CREATE INDEX user_account_account ON user_account(account_id);

-- Sessions are kept by the SHA-256 of their token: a database leak does not leak sessions.
CREATE TABLE session (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES app_user(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- Who read or tried to read whose data (personal data law No. 94-V; D11).
CREATE TABLE access_journal (
    id {{ID}},
    at TEXT NOT NULL,
    user_id BIGINT,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    outcome TEXT NOT NULL,
    client_ip TEXT
);
