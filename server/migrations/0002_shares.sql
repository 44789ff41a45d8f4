-- Shares declared through the API (shares from --share flags live in memory only).
CREATE TABLE shares (
    name       TEXT    PRIMARY KEY,
    path       TEXT    NOT NULL,
    writable   INTEGER NOT NULL DEFAULT 0,
    -- JSON array of team names; empty: everyone logged in.
    teams      TEXT    NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL DEFAULT (strftime('%s', 'now'))
);
