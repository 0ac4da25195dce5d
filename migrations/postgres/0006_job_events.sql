-- Job events: every state change, progress step, metric point and trial change of a job, as
-- rows written by triggers in the same transaction as the change (so no change goes without
-- its event, and no event describes a change that rolled back), each announced with
-- `NOTIFY whittle_events, '<tenant> <job> <seq>'` at commit.
--
-- `seq` numbers one job's events 1, 2, 3… without gaps: it is taken while the job's row is
-- locked (by the UPDATE itself, or explicitly for metrics and trials), and the lock is held
-- until commit, so one job's events also commit in `seq` order. `id` numbers all events
-- (the tenant-wide stream's cursor; a sequence, so ids of concurrent transactions can commit
-- out of order: readers of the tenant stream leave the newest fraction of a second unread,
-- see `at`). `state` is the job's state right after the event. Bounds as in SQLite: state
-- changes and trial state changes are always kept; progress steps and trial intermediate
-- values stop at 10 000 events; metric points are all kept up to 2 000 events, then every
-- tenth step up to 10 000 (the full series stays in job_metrics).
CREATE TABLE job_events (
    id        bigserial PRIMARY KEY,
    job_id    uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq       bigint NOT NULL CHECK (seq >= 1),
    tenant_id uuid NOT NULL,
    kind      text NOT NULL,
    type      text NOT NULL,
    state     text NOT NULL,
    data      jsonb NOT NULL,
    -- The wall clock at the change (not the transaction's start).
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (job_id, seq)
);
CREATE INDEX job_events_tenant_idx ON job_events (tenant_id, id);

-- Append one event to a job unless it already has `max_seq` events. `lock_job` takes the job
-- row's lock first (callers that are not an UPDATE of that row).
CREATE FUNCTION whittle_job_event(p_job uuid, p_type text, p_data jsonb, p_max_seq bigint,
                                  p_lock_job boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    j record;
    n bigint;
BEGIN
    IF p_lock_job THEN
        SELECT tenant_id, kind, state INTO j FROM jobs WHERE id = p_job FOR UPDATE;
    ELSE
        SELECT tenant_id, kind, state INTO j FROM jobs WHERE id = p_job;
    END IF;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT COALESCE(MAX(seq), 0) INTO n FROM job_events WHERE job_id = p_job;
    IF n >= p_max_seq THEN
        RETURN;
    END IF;
    INSERT INTO job_events (job_id, seq, tenant_id, kind, type, state, data)
    VALUES (p_job, n + 1, j.tenant_id, j.kind, p_type, j.state, p_data);
    PERFORM pg_notify('whittle_events', j.tenant_id::text || ' ' || p_job::text || ' ' || (n + 1)::text);
END
$$;

-- A finite double as jsonb, else null (jsonb has no NaN or infinities).
CREATE FUNCTION whittle_finite(v double precision) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v IS NULL OR v = 'NaN'::float8 OR v = 'Infinity'::float8
                     OR v = '-Infinity'::float8 THEN 'null'::jsonb
                ELSE to_jsonb(v) END
$$;

CREATE FUNCTION whittle_job_events_on_job() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    retried boolean;
    last_error text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM whittle_job_event(NEW.id, 'job.queued', jsonb_build_object(
            'reason', 'submitted', 'attempt', NEW.attempt, 'max_attempts', NEW.max_attempts,
            'priority', NEW.priority, 'parent_job_id', NEW.parent_job_id,
            'scheduled_at', NEW.scheduled_at), 9223372036854775807, false);
        RETURN NULL;
    END IF;
    retried := jsonb_array_length(NEW.errors) > jsonb_array_length(OLD.errors);
    last_error := CASE WHEN retried THEN NEW.errors -> -1 ->> 'message' END;
    IF OLD.state IS DISTINCT FROM NEW.state OR OLD.attempt IS DISTINCT FROM NEW.attempt THEN
        IF NEW.state = 'running' THEN
            PERFORM whittle_job_event(NEW.id, 'job.running', jsonb_build_object(
                'attempt', NEW.attempt, 'max_attempts', NEW.max_attempts,
                'worker', NEW.locked_by), 9223372036854775807, false);
        ELSIF NEW.state = 'queued' AND retried THEN
            PERFORM whittle_job_event(NEW.id, 'job.retry_scheduled', jsonb_build_object(
                'attempt', OLD.attempt, 'max_attempts', NEW.max_attempts, 'error', last_error,
                'retry_at', NEW.scheduled_at), 9223372036854775807, false);
        ELSIF NEW.state = 'queued' THEN
            PERFORM whittle_job_event(NEW.id, 'job.queued', jsonb_build_object(
                'reason', 'released', 'attempt', NEW.attempt, 'max_attempts', NEW.max_attempts,
                'priority', NEW.priority, 'parent_job_id', NEW.parent_job_id,
                'scheduled_at', NEW.scheduled_at), 9223372036854775807, false);
        ELSIF NEW.state = 'succeeded' THEN
            PERFORM whittle_job_event(NEW.id, 'job.succeeded', jsonb_build_object(
                'attempt', NEW.attempt, 'output_model_id', NEW.output_model_id),
                9223372036854775807, false);
        ELSE
            PERFORM whittle_job_event(NEW.id, 'job.' || NEW.state, jsonb_build_object(
                'attempt', NEW.attempt, 'error', last_error), 9223372036854775807, false);
        END IF;
    ELSIF NEW.state = 'running' THEN
        IF OLD.cancel_requested_at IS NULL AND NEW.cancel_requested_at IS NOT NULL THEN
            PERFORM whittle_job_event(NEW.id, 'job.cancel_requested', jsonb_build_object(
                'attempt', NEW.attempt), 9223372036854775807, false);
        END IF;
        IF floor(NEW.progress * 100) <> floor(OLD.progress * 100)
           OR NEW.progress_message IS DISTINCT FROM OLD.progress_message THEN
            PERFORM whittle_job_event(NEW.id, 'job.progress', jsonb_build_object(
                'attempt', NEW.attempt, 'progress', NEW.progress,
                'message', NEW.progress_message), 10000, false);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER job_events_on_job AFTER INSERT OR UPDATE ON jobs
    FOR EACH ROW EXECUTE FUNCTION whittle_job_events_on_job();

CREATE FUNCTION whittle_job_events_on_metric() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.value IS NOT DISTINCT FROM NEW.value THEN
        RETURN NULL;
    END IF;
    PERFORM whittle_job_event(NEW.job_id, 'job.metric', jsonb_build_object(
        'name', NEW.name, 'step', NEW.step, 'value', whittle_finite(NEW.value)),
        CASE WHEN NEW.step % 10 = 0 THEN 10000 ELSE 2000 END, true);
    RETURN NULL;
END
$$;

CREATE TRIGGER job_events_on_metric AFTER INSERT OR UPDATE ON job_metrics
    FOR EACH ROW EXECUTE FUNCTION whittle_job_events_on_metric();

CREATE FUNCTION whittle_job_events_on_trial() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed boolean;
BEGIN
    changed := TG_OP = 'INSERT' OR OLD.state IS DISTINCT FROM NEW.state
               OR OLD.value IS DISTINCT FROM NEW.value;
    IF NOT changed AND OLD.intermediate IS NOT DISTINCT FROM NEW.intermediate THEN
        RETURN NULL;
    END IF;
    PERFORM whittle_job_event(NEW.job_id, 'job.trial', jsonb_build_object(
        'number', NEW.number, 'state', NEW.state, 'value', whittle_finite(NEW.value),
        'params', NEW.params, 'intermediate_steps', jsonb_array_length(NEW.intermediate),
        'last_intermediate', NEW.intermediate -> -1),
        CASE WHEN changed THEN 9223372036854775807 ELSE 10000 END, true);
    RETURN NULL;
END
$$;

CREATE TRIGGER job_events_on_trial AFTER INSERT OR UPDATE ON trials
    FOR EACH ROW EXECUTE FUNCTION whittle_job_events_on_trial();
