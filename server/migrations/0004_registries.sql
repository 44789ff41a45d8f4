-- Private registries (issue 4). The password is sealed with the key in the data dir's
-- `registry.key` (ChaCha20-Poly1305); it is never sent back by the API.
CREATE TABLE registries (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    url        TEXT    NOT NULL,
    host       TEXT    NOT NULL,
    username   TEXT,
    password   TEXT,
    created_at INTEGER NOT NULL DEFAULT (strftime('%s', 'now'))
);
