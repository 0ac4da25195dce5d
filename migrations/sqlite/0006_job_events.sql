-- Job events: every state change, progress step, metric point and trial change of a job, as
-- rows written by triggers in the same transaction as the change (so no change goes without
-- its event, and no event describes a change that rolled back).
--
-- `seq` numbers one job's events 1, 2, 3… without gaps (SQLite has one writer, so MAX + 1 is
-- race-free); `id` numbers all events in commit order (the tenant-wide stream's cursor).
-- `state` is the job's state right after the event. Bounded per job: state changes and trial
-- state changes are always kept; progress steps (one per whole percent or message change) and
-- trial intermediate values stop at 10 000 events; metric points are all kept up to 2 000
-- events, then every tenth step up to 10 000 (the full series stays in job_metrics).
CREATE TABLE job_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id    TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL CHECK (seq >= 1),
    tenant_id TEXT NOT NULL,
    kind      TEXT NOT NULL,
    type      TEXT NOT NULL,
    state     TEXT NOT NULL,
    data      TEXT NOT NULL CHECK (json_valid(data)),
    at        TEXT NOT NULL,
    UNIQUE (job_id, seq)
) STRICT;
CREATE INDEX job_events_tenant_idx ON job_events (tenant_id, id);

CREATE TRIGGER job_events_on_insert AFTER INSERT ON jobs
BEGIN
    INSERT INTO job_events (job_id, seq, tenant_id, kind, type, state, data, at)
    VALUES (NEW.id, 1, NEW.tenant_id, NEW.kind, 'job.queued', NEW.state,
            json_object('reason', 'submitted', 'attempt', NEW.attempt,
                        'max_attempts', NEW.max_attempts, 'priority', NEW.priority,
                        'parent_job_id', NEW.parent_job_id, 'scheduled_at', NEW.scheduled_at),
            strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

-- queued → running (a claim), running → queued (a retry with backoff, or a release on
-- graceful shutdown), and the ends.
CREATE TRIGGER job_events_on_state AFTER UPDATE OF state, attempt ON jobs
WHEN OLD.state IS NOT NEW.state OR OLD.attempt IS NOT NEW.attempt
BEGIN
    INSERT INTO job_events (job_id, seq, tenant_id, kind, type, state, data, at)
    SELECT NEW.id,
           (SELECT COALESCE(MAX(seq), 0) + 1 FROM job_events WHERE job_id = NEW.id),
           NEW.tenant_id, NEW.kind,
           CASE
               WHEN NEW.state = 'queued' AND json_array_length(NEW.errors) > json_array_length(OLD.errors)
                   THEN 'job.retry_scheduled'
               ELSE 'job.' || NEW.state
           END,
           NEW.state,
           CASE NEW.state
               WHEN 'running' THEN json_object('attempt', NEW.attempt,
                   'max_attempts', NEW.max_attempts, 'worker', NEW.locked_by)
               WHEN 'queued' THEN
                   CASE WHEN json_array_length(NEW.errors) > json_array_length(OLD.errors)
                       THEN json_object('attempt', OLD.attempt, 'max_attempts', NEW.max_attempts,
                           'error', json_extract(NEW.errors, '$[#-1].message'),
                           'retry_at', NEW.scheduled_at)
                       ELSE json_object('reason', 'released', 'attempt', NEW.attempt,
                           'max_attempts', NEW.max_attempts, 'parent_job_id', NEW.parent_job_id,
                           'priority', NEW.priority, 'scheduled_at', NEW.scheduled_at)
                   END
               WHEN 'succeeded' THEN json_object('attempt', NEW.attempt,
                   'output_model_id', NEW.output_model_id)
               ELSE json_object('attempt', NEW.attempt,
                   'error', CASE WHEN json_array_length(NEW.errors) > json_array_length(OLD.errors)
                                 THEN json_extract(NEW.errors, '$[#-1].message') END)
           END,
           strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
END;

CREATE TRIGGER job_events_on_cancel_request AFTER UPDATE OF cancel_requested_at ON jobs
WHEN OLD.cancel_requested_at IS NULL AND NEW.cancel_requested_at IS NOT NULL
     AND NEW.state = 'running'
BEGIN
    INSERT INTO job_events (job_id, seq, tenant_id, kind, type, state, data, at)
    SELECT NEW.id,
           (SELECT COALESCE(MAX(seq), 0) + 1 FROM job_events WHERE job_id = NEW.id),
           NEW.tenant_id, NEW.kind, 'job.cancel_requested', NEW.state,
           json_object('attempt', NEW.attempt), strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
END;

CREATE TRIGGER job_events_on_progress AFTER UPDATE OF progress, progress_message ON jobs
WHEN OLD.state = 'running' AND NEW.state = 'running' AND OLD.attempt = NEW.attempt
     AND (CAST(NEW.progress * 100 AS INTEGER) <> CAST(OLD.progress * 100 AS INTEGER)
          OR NEW.progress_message IS NOT OLD.progress_message)
     AND (SELECT COALESCE(MAX(seq), 0) FROM job_events WHERE job_id = NEW.id) < 10000
BEGIN
    INSERT INTO job_events (job_id, seq, tenant_id, kind, type, state, data, at)
    SELECT NEW.id,
           (SELECT COALESCE(MAX(seq), 0) + 1 FROM job_events WHERE job_id = NEW.id),
           NEW.tenant_id, NEW.kind, 'job.progress', NEW.state,
           json_object('attempt', NEW.attempt, 'progress', NEW.progress,
                       'message', NEW.progress_message),
           strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
END;

-- A metric point: NaN (stored as NULL) and infinities become null.
CREATE TRIGGER job_events_on_metric AFTER INSERT ON job_metrics
WHEN (SELECT COALESCE(MAX(seq), 0) FROM job_events WHERE job_id = NEW.job_id)
     < CASE WHEN NEW.step % 10 = 0 THEN 10000 ELSE 2000 END
BEGIN
    INSERT INTO job_events (job_id, seq, tenant_id, kind, type, state, data, at)
    SELECT j.id,
           (SELECT COALESCE(MAX(seq), 0) + 1 FROM job_events WHERE job_id = j.id),
           j.tenant_id, j.kind, 'job.metric', j.state,
           json_object('name', NEW.name, 'step', NEW.step,
                       'value', CASE WHEN abs(NEW.value) <= 1.7976931348623157e308 THEN NEW.value END),
           strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM jobs j WHERE j.id = NEW.job_id;
END;

CREATE TRIGGER job_events_on_metric_update AFTER UPDATE OF value ON job_metrics
WHEN OLD.value IS NOT NEW.value
     AND (SELECT COALESCE(MAX(seq), 0) FROM job_events WHERE job_id = NEW.job_id)
         < CASE WHEN NEW.step % 10 = 0 THEN 10000 ELSE 2000 END
BEGIN
    INSERT INTO job_events (job_id, seq, tenant_id, kind, type, state, data, at)
    SELECT j.id,
           (SELECT COALESCE(MAX(seq), 0) + 1 FROM job_events WHERE job_id = j.id),
           j.tenant_id, j.kind, 'job.metric', j.state,
           json_object('name', NEW.name, 'step', NEW.step,
                       'value', CASE WHEN abs(NEW.value) <= 1.7976931348623157e308 THEN NEW.value END),
           strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM jobs j WHERE j.id = NEW.job_id;
END;

-- A trial of a study (the event belongs to the study's job).
CREATE TRIGGER job_events_on_trial AFTER INSERT ON trials
BEGIN
    INSERT INTO job_events (job_id, seq, tenant_id, kind, type, state, data, at)
    SELECT j.id,
           (SELECT COALESCE(MAX(seq), 0) + 1 FROM job_events WHERE job_id = j.id),
           j.tenant_id, j.kind, 'job.trial', j.state,
           json_object('number', NEW.number, 'state', NEW.state,
                       'value', CASE WHEN abs(NEW.value) <= 1.7976931348623157e308 THEN NEW.value END,
                       'params', json(NEW.params),
                       'intermediate_steps', json_array_length(NEW.intermediate),
                       'last_intermediate', json_extract(NEW.intermediate, '$[#-1]')),
           strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM jobs j WHERE j.id = NEW.job_id;
END;

CREATE TRIGGER job_events_on_trial_update AFTER UPDATE ON trials
WHEN OLD.state IS NOT NEW.state OR OLD.value IS NOT NEW.value
     OR (OLD.intermediate IS NOT NEW.intermediate
         AND (SELECT COALESCE(MAX(seq), 0) FROM job_events WHERE job_id = NEW.job_id) < 10000)
BEGIN
    INSERT INTO job_events (job_id, seq, tenant_id, kind, type, state, data, at)
    SELECT j.id,
           (SELECT COALESCE(MAX(seq), 0) + 1 FROM job_events WHERE job_id = j.id),
           j.tenant_id, j.kind, 'job.trial', j.state,
           json_object('number', NEW.number, 'state', NEW.state,
                       'value', CASE WHEN abs(NEW.value) <= 1.7976931348623157e308 THEN NEW.value END,
                       'params', json(NEW.params),
                       'intermediate_steps', json_array_length(NEW.intermediate),
                       'last_intermediate', json_extract(NEW.intermediate, '$[#-1]')),
           strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM jobs j WHERE j.id = NEW.job_id;
END;
