-- whittle schema, SQLite flavour. Same file names as migrations/postgres; never edit once applied.
-- Encodings (store::sqlite writes them, one function each):
--   ids        TEXT, hyphenated lowercase UUID (so text order = UUIDv7 time order)
--   timestamps TEXT, fixed-width RFC 3339 UTC with microseconds, 'YYYY-MM-DDTHH:MM:SS.ffffffZ'
--              (so text order = time order)
--   documents  TEXT holding JSON
-- WAL mode, foreign keys and busy_timeout are connection settings (store::sqlite::connect).

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created_at TEXT NOT NULL
) STRICT;

-- Anonymous requests act as this tenant (store::ANONYMOUS_TENANT).
INSERT INTO tenants (id, name, created_at)
VALUES ('00000000-0000-0000-0000-000000000000', 'anonymous',
        strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z');

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY NOT NULL,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- Only the sha256 (hex) of a key is stored; the key itself is shown once.
    sha256     TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
    prefix     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;

CREATE TABLE models (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    format        TEXT NOT NULL,
    artifact_key  TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    bytes         INTEGER NOT NULL CHECK (bytes >= 0),
    n_params      INTEGER NOT NULL CHECK (n_params >= 0),
    inventory     TEXT NOT NULL CHECK (json_valid(inventory)),
    architecture  TEXT CHECK (architecture IS NULL OR json_valid(architecture)),
    -- SQLite checks foreign keys at write time, so referencing jobs before it exists is fine.
    source_job_id TEXT REFERENCES jobs (id) ON DELETE SET NULL,
    created_at    TEXT NOT NULL
) STRICT;
-- Keyset pages per tenant, newest first.
CREATE INDEX models_tenant_page_idx ON models (tenant_id, id DESC);
CREATE INDEX models_source_job_idx ON models (source_job_id) WHERE source_job_id IS NOT NULL;

CREATE TABLE datasets (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    format        TEXT NOT NULL,
    artifact_key  TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    bytes         INTEGER NOT NULL CHECK (bytes >= 0),
    rows          INTEGER NOT NULL CHECK (rows >= 0),
    features      INTEGER NOT NULL CHECK (features >= 0),
    feature_names TEXT NOT NULL CHECK (json_valid(feature_names) AND json_type(feature_names) = 'array'),
    target        TEXT NOT NULL,
    task          TEXT NOT NULL CHECK (task IN ('classification', 'regression')),
    classes       TEXT CHECK (classes IS NULL OR (json_valid(classes) AND json_type(classes) = 'array')),
    created_at    TEXT NOT NULL
) STRICT;
CREATE INDEX datasets_tenant_page_idx ON datasets (tenant_id, id DESC);

CREATE TABLE jobs (
    id                  TEXT PRIMARY KEY NOT NULL,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind                TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    spec                TEXT NOT NULL CHECK (json_valid(spec)),
    state               TEXT NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
    priority            INTEGER NOT NULL DEFAULT 0,
    -- Number of claims so far; the fence of the current attempt.
    attempt             INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts        INTEGER NOT NULL CHECK (max_attempts >= 1),
    -- The claim and the rescuer compare these two as text: insist on the fixed-width form.
    scheduled_at        TEXT NOT NULL CHECK (scheduled_at GLOB
        '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    locked_by           TEXT,
    lease_expires_at    TEXT CHECK (lease_expires_at IS NULL OR lease_expires_at GLOB
        '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    progress            REAL NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
    progress_message    TEXT,
    result              TEXT CHECK (result IS NULL OR json_valid(result)),
    -- One AttemptError object per failed attempt, oldest first.
    errors              TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(errors) AND json_type(errors) = 'array'),
    idempotency_key     TEXT,
    cancel_requested_at TEXT,
    parent_job_id       TEXT REFERENCES jobs (id) ON DELETE CASCADE,
    output_model_id     TEXT REFERENCES models (id) ON DELETE SET NULL,
    created_at          TEXT NOT NULL,
    started_at          TEXT,
    finished_at         TEXT,
    -- A job holds a lock exactly while it runs.
    CONSTRAINT jobs_lock_iff_running
        CHECK ((state = 'running') = (locked_by IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CONSTRAINT jobs_finished_iff_terminal
        CHECK ((state IN ('succeeded', 'failed', 'canceled')) = (finished_at IS NOT NULL))
) STRICT;

-- The claim query walks this in order: only queued rows, highest priority, then oldest.
CREATE INDEX jobs_fetch_idx ON jobs (priority DESC, scheduled_at, id) WHERE state = 'queued';
-- The rescuer's scan for expired leases.
CREATE INDEX jobs_lease_idx ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_tenant_page_idx ON jobs (tenant_id, id DESC);
CREATE INDEX jobs_parent_idx ON jobs (parent_job_id) WHERE parent_job_id IS NOT NULL;
CREATE INDEX jobs_output_model_idx ON jobs (output_model_id) WHERE output_model_id IS NOT NULL;
-- An idempotency key names one job per tenant; insert_job relies on this to be race-free.
CREATE UNIQUE INDEX jobs_idempotency_idx ON jobs (tenant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE job_metrics (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    name   TEXT NOT NULL,
    step   INTEGER NOT NULL,
    -- Nullable only because SQLite stores NaN as NULL; the store reads NULL back as NaN.
    value  REAL,
    PRIMARY KEY (job_id, name, step)
) STRICT, WITHOUT ROWID;

CREATE TABLE trials (
    job_id       TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL CHECK (number >= 0),
    params       TEXT NOT NULL CHECK (json_valid(params)),
    state        TEXT NOT NULL CHECK (state IN ('running', 'complete', 'pruned', 'failed')),
    value        REAL,
    intermediate TEXT NOT NULL DEFAULT '[]'
                 CHECK (json_valid(intermediate) AND json_type(intermediate) = 'array'),
    error        TEXT,
    started_at   TEXT,
    finished_at  TEXT,
    PRIMARY KEY (job_id, number)
) STRICT;
