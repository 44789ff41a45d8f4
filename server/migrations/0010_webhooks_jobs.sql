-- Deploy webhooks and the jobs they (and other automation) start (issue 16).
-- A webhook acts with the rights of the user who made it (`created_by`), re-read at every
-- call. Only a SHA-256 of its secret is kept; a webhook that verifies GitHub's
-- `X-Hub-Signature-256` also keeps the secret sealed (an HMAC is checked with the key
-- itself), with the data dir's key as registry passwords are.
CREATE TABLE webhooks (
    id            TEXT    PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('container', 'stack', 'service')),
    target        TEXT    NOT NULL,
    endpoint      TEXT    NOT NULL DEFAULT 'local',
    created_by    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash   TEXT    NOT NULL,
    sealed_secret TEXT,
    tag_variable  TEXT,
    created_at    INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),
    last_called   INTEGER
);

-- Jobs: what a deploy did, line by line, and how it ended. Kept after berth restarts; a
-- job that was queued or running when berth stopped is marked failed at the next start.
CREATE TABLE jobs (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    endpoint    TEXT    NOT NULL DEFAULT 'local',
    webhook_id  TEXT,
    user_name   TEXT,
    state       TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    log         TEXT    NOT NULL DEFAULT '[]',
    error_code  TEXT,
    error       TEXT,
    created_at  INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),
    started_at  INTEGER,
    finished_at INTEGER
);
CREATE INDEX jobs_webhook ON jobs (webhook_id, created_at);
