-- D4: deliveries of the monthly exchange file to ОЖАЖ, with their attempts and outcome.
CREATE TABLE exchange_delivery (
    id {{ID}},
    period TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    url TEXT NOT NULL,
    records BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    last_error TEXT,
    receipt TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
