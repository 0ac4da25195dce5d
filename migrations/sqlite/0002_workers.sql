-- Worker processes and the job kinds they run, refreshed while they run: admission refuses a
-- kind that live workers exist for but none of them executes.
CREATE TABLE workers (
    id           TEXT PRIMARY KEY,
    kinds        TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX workers_last_seen ON workers (last_seen_at);
