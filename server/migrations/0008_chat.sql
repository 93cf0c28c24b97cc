-- Consultation (D12): one conversation per consumer in the cabinet chat, answered by
-- operators during the published hours; messages written out of hours are kept.

CREATE TABLE chat_thread (
    id {{ID}},
    user_id BIGINT NOT NULL UNIQUE REFERENCES app_user(id),
    updated_at TEXT NOT NULL,
    waiting BIGINT NOT NULL CHECK (waiting IN (0, 1))
);

CREATE TABLE chat_message (
    id {{ID}},
    thread_id BIGINT NOT NULL REFERENCES chat_thread(id),
    from_operator BIGINT NOT NULL CHECK (from_operator IN (0, 1)),
    author_id BIGINT NOT NULL REFERENCES app_user(id),
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX chat_message_thread ON chat_message(thread_id, id);
