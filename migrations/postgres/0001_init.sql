-- whittle schema, Postgres flavour. Same file names as migrations/sqlite; never edit once applied.
-- Timestamps are timestamptz, ids uuid (UUIDv7 chosen by the application), documents jsonb.

CREATE TABLE tenants (
    id         uuid PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Anonymous requests act as this tenant (store::ANONYMOUS_TENANT).
INSERT INTO tenants (id, name) VALUES ('00000000-0000-0000-0000-000000000000', 'anonymous');

CREATE TABLE api_keys (
    id         uuid PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- Only the sha256 (hex) of a key is stored; the key itself is shown once.
    sha256     text NOT NULL UNIQUE CHECK (length(sha256) = 64),
    prefix     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

CREATE TABLE models (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name          text NOT NULL,
    format        text NOT NULL,
    artifact_key  text NOT NULL,
    sha256        text NOT NULL,
    bytes         bigint NOT NULL CHECK (bytes >= 0),
    n_params      bigint NOT NULL CHECK (n_params >= 0),
    inventory     jsonb NOT NULL,
    architecture  jsonb,
    -- FK added below, once jobs exists (models and jobs reference each other).
    source_job_id uuid,
    created_at    timestamptz NOT NULL DEFAULT now()
);
-- Keyset pages per tenant, newest first.
CREATE INDEX models_tenant_page_idx ON models (tenant_id, id DESC);

CREATE TABLE datasets (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name          text NOT NULL,
    format        text NOT NULL,
    artifact_key  text NOT NULL,
    sha256        text NOT NULL,
    bytes         bigint NOT NULL CHECK (bytes >= 0),
    rows          bigint NOT NULL CHECK (rows >= 0),
    features      bigint NOT NULL CHECK (features >= 0),
    feature_names jsonb NOT NULL CHECK (jsonb_typeof(feature_names) = 'array'),
    target        text NOT NULL,
    task          text NOT NULL CHECK (task IN ('classification', 'regression')),
    classes       jsonb CHECK (classes IS NULL OR jsonb_typeof(classes) = 'array'),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX datasets_tenant_page_idx ON datasets (tenant_id, id DESC);

CREATE TABLE jobs (
    id                  uuid PRIMARY KEY,
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind                text NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    spec                jsonb NOT NULL,
    state               text NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
    priority            integer NOT NULL DEFAULT 0,
    -- Number of claims so far; the fence of the current attempt.
    attempt             integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts        integer NOT NULL CHECK (max_attempts >= 1),
    scheduled_at        timestamptz NOT NULL DEFAULT now(),
    locked_by           text,
    lease_expires_at    timestamptz,
    progress            double precision NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
    progress_message    text,
    result              jsonb,
    -- One AttemptError object per failed attempt, oldest first.
    errors              jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(errors) = 'array'),
    idempotency_key     text,
    cancel_requested_at timestamptz,
    parent_job_id       uuid REFERENCES jobs (id) ON DELETE CASCADE,
    output_model_id     uuid REFERENCES models (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    -- A job holds a lock exactly while it runs.
    CONSTRAINT jobs_lock_iff_running
        CHECK ((state = 'running') = (locked_by IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CONSTRAINT jobs_finished_iff_terminal
        CHECK ((state IN ('succeeded', 'failed', 'canceled')) = (finished_at IS NOT NULL))
);

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

ALTER TABLE models ADD CONSTRAINT models_source_job_fk
    FOREIGN KEY (source_job_id) REFERENCES jobs (id) ON DELETE SET NULL;
CREATE INDEX models_source_job_idx ON models (source_job_id) WHERE source_job_id IS NOT NULL;

CREATE TABLE job_metrics (
    job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    name   text NOT NULL,
    step   bigint NOT NULL,
    value  double precision NOT NULL,
    PRIMARY KEY (job_id, name, step)
);

CREATE TABLE trials (
    job_id       uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    number       integer NOT NULL CHECK (number >= 0),
    params       jsonb NOT NULL,
    state        text NOT NULL CHECK (state IN ('running', 'complete', 'pruned', 'failed')),
    value        double precision,
    intermediate jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(intermediate) = 'array'),
    error        text,
    started_at   timestamptz,
    finished_at  timestamptz,
    PRIMARY KEY (job_id, number)
);

-- Wake workers: NOTIFY only wakes, polling guarantees pickup. The payload is the job kind.
-- Fires for new jobs and for jobs handed back to the queue (retry, release, rescue).
CREATE FUNCTION whittle_notify_job_queued() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('whittle_jobs', NEW.kind);
    RETURN NULL;
END;
$$;

CREATE TRIGGER jobs_notify_insert
    AFTER INSERT ON jobs
    FOR EACH ROW WHEN (NEW.state = 'queued')
    EXECUTE FUNCTION whittle_notify_job_queued();

CREATE TRIGGER jobs_notify_requeue
    AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (NEW.state = 'queued' AND OLD.state <> 'queued')
    EXECUTE FUNCTION whittle_notify_job_queued();
