-- Git-backed stacks (issue 16): where a managed stack's compose file comes from, and how
-- its polling went. Credentials are sealed with the data dir's key, as registry passwords
-- are, and never sent back. A poll acts as `created_by` as that user is at the time.
CREATE TABLE git_stacks (
    name            TEXT    PRIMARY KEY,
    endpoint        TEXT    NOT NULL DEFAULT 'local',
    url             TEXT    NOT NULL,
    git_ref         TEXT    NOT NULL,
    path            TEXT    NOT NULL,
    -- 0: no polling (a pull is asked for, by a person or a webhook).
    poll_seconds    INTEGER NOT NULL DEFAULT 0,
    credentials     TEXT,
    created_by      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The commit that runs, and its first message line.
    commit_id       TEXT,
    commit_summary  TEXT,
    -- The last poll: when it ended, `deployed` | `unchanged` | `failed`, and for a failure
    -- the error and the commit it was about (when the fetch got that far).
    last_poll       INTEGER,
    last_result     TEXT,
    last_error      TEXT,
    error_commit    TEXT,
    last_job        TEXT,
    created_at      INTEGER NOT NULL DEFAULT (strftime('%s', 'now'))
);
