-- Environments (issue 14): the daemons berth manages besides `local` (the one of
-- --docker-host, which is not stored). Keys are sealed like registry passwords (the data
-- dir's `registry.key`, ChaCha20-Poly1305) and never sent back; CA and certificates are
-- public and kept as PEM text. `teams` is a JSON array of team names ([] = everyone).
CREATE TABLE environments (
    name            TEXT    PRIMARY KEY,
    url             TEXT    NOT NULL,
    tls_ca          TEXT,
    tls_cert        TEXT,
    tls_key         TEXT,
    skip_verify     INTEGER NOT NULL DEFAULT 0,
    ssh_key         TEXT,
    ssh_known_hosts TEXT,
    teams           TEXT    NOT NULL DEFAULT '[]',
    paused          INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL DEFAULT (strftime('%s', 'now'))
);
