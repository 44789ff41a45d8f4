-- Who owns an image tag (issue 12): recorded when a non-admin pulls, builds, loads, tags or
-- commits it. `name` is a tag as the daemon lists it (`repo:tag`) or an image id
-- (`sha256:…`, for a build's image that later loses its tag). A tag with no row is shared.
CREATE TABLE image_owners (
    endpoint   TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    team       TEXT    NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),
    PRIMARY KEY (endpoint, name)
);
