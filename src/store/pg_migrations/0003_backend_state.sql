-- Backend state set by operators (O1, M4): every instance sharing the database sees it. An active backend has no row.
CREATE TABLE backend_state (
    backend bytea PRIMARY KEY,
    state integer NOT NULL,
    changed_ms bigint NOT NULL
);
