-- App template sources (issue 16): a list fetched from a URL or uploaded as a file. The list
-- is kept as it was read (fetched once, when added), so the catalogue does not depend on
-- the source's server being up; an admin removes and adds it again to refresh it.
CREATE TABLE template_sources (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    url         TEXT,
    content     BLOB    NOT NULL,
    created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL DEFAULT (strftime('%s', 'now'))
);
