-- Payments through banks (T3, T5, D11): the banks, payments with idempotency, the
-- double-entry ledger, and payouts from each transit account to the providers.

-- A financial organisation the USC has a contract with, and its transit account (T5).
CREATE TABLE bank (
    id {{ID}},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    base_url TEXT NOT NULL,
    transit_iban TEXT NOT NULL,
    bic TEXT NOT NULL,
    -- The shared secret of the HMAC-SHA256 signatures on both sides' messages.
    secret TEXT NOT NULL,
    sandbox BIGINT NOT NULL
);

CREATE TABLE payment (
    id {{ID}},
    public_id TEXT NOT NULL UNIQUE,
    user_id BIGINT,
    account_id BIGINT NOT NULL REFERENCES account(id),
    upd_id BIGINT NOT NULL REFERENCES upd(id),
    bank_id BIGINT NOT NULL REFERENCES bank(id),
    channel TEXT NOT NULL CHECK (channel IN ('online', 'bank_channel')),
    amount_tiyn BIGINT NOT NULL CHECK (amount_tiyn > 0),
    chosen_lines TEXT,
    status TEXT NOT NULL CHECK (status IN ('created', 'pending', 'succeeded', 'declined', 'reversed')),
    bank_ref TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (bank_id, bank_ref)
);
CREATE INDEX payment_upd ON payment(upd_id);

-- Requests that move money carry an Idempotency-Key: the first answer is kept.
CREATE TABLE idempotency (
    user_id BIGINT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);

-- Double entry: every entry's postings sum to zero. An entry's (kind, reference) is unique,
-- so a movement is posted once however often its cause is reported.
CREATE TABLE ledger_entry (
    id {{ID}},
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    memo TEXT NOT NULL,
    UNIQUE (kind, reference)
);

CREATE TABLE ledger_posting (
    entry_id BIGINT NOT NULL REFERENCES ledger_entry(id),
    account TEXT NOT NULL,
    amount_tiyn BIGINT NOT NULL
);
CREATE INDEX ledger_posting_entry ON ledger_posting(entry_id);
CREATE INDEX ledger_posting_account ON ledger_posting(account);

ALTER TABLE payment_allocation ADD COLUMN payment_id BIGINT;
ALTER TABLE payment_allocation ADD COLUMN bank_id BIGINT;
ALTER TABLE payment_allocation ADD COLUMN payout_item_id BIGINT;
ALTER TABLE payment_allocation ADD COLUMN advance_tiyn BIGINT NOT NULL DEFAULT 0;
CREATE INDEX payment_allocation_payment ON payment_allocation(payment_id);
CREATE INDEX payment_allocation_unpaid ON payment_allocation(bank_id, payout_item_id);

-- One batch per transit account and value date (pain.001); running the payout twice for a
-- date finds the same batch.
CREATE TABLE payout_batch (
    id {{ID}},
    bank_id BIGINT NOT NULL REFERENCES bank(id),
    value_date TEXT NOT NULL,
    msg_id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('created', 'confirmed')),
    xml TEXT NOT NULL,
    UNIQUE (bank_id, value_date)
);

CREATE TABLE payout_item (
    id {{ID}},
    batch_id BIGINT NOT NULL REFERENCES payout_batch(id),
    provider_id BIGINT NOT NULL REFERENCES provider(id),
    amount_tiyn BIGINT NOT NULL CHECK (amount_tiyn > 0),
    end_to_end_id TEXT NOT NULL UNIQUE
);

-- Every callback or registry line that was refused, and why (it moved no money).
CREATE TABLE bank_message_journal (
    id {{ID}},
    at TEXT NOT NULL,
    bank_code TEXT NOT NULL,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);
