-- Webhooks: a tenant's subscriptions, and one delivery per (subscription, event), written by
-- a trigger in the transaction that writes the event (so a committed event always has its
-- deliveries, and a restart loses none). Deliveries are a queue like jobs: claimed with a
-- lease (`locked_until`), retried with backoff (`next_attempt_at`), each attempt logged.
CREATE TABLE webhooks (
    id                   TEXT PRIMARY KEY NOT NULL,
    tenant_id            TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url                  TEXT NOT NULL,
    -- JSON array of event type names.
    events               TEXT NOT NULL CHECK (json_valid(events) AND json_type(events) = 'array'),
    secret               TEXT NOT NULL,
    description          TEXT,
    enabled              INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    disabled_reason      TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
) STRICT;
CREATE INDEX webhooks_tenant_page_idx ON webhooks (tenant_id, id DESC);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        INTEGER NOT NULL REFERENCES job_events (id) ON DELETE CASCADE,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'succeeded', 'failed')),
    -- Attempts started (the fence of the current one).
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- Fixed-width RFC 3339 UTC text (compared as text with the store's timestamps).
    next_attempt_at TEXT NOT NULL,
    locked_until    TEXT,
    created_at      TEXT NOT NULL,
    finished_at     TEXT
) STRICT;
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_hook_idx ON webhook_deliveries (webhook_id, id DESC);

CREATE TABLE webhook_attempts (
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    at          TEXT NOT NULL,
    -- NULL when no response came (connect error, timeout, refused address).
    status_code INTEGER,
    latency_ms  REAL NOT NULL,
    error       TEXT,
    PRIMARY KEY (delivery_id, attempt)
) STRICT;

CREATE TRIGGER webhook_deliveries_on_event AFTER INSERT ON job_events
BEGIN
    INSERT INTO webhook_deliveries (webhook_id, event_id, next_attempt_at, created_at)
    SELECT w.id, NEW.id,
           strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z',
           strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'
    FROM webhooks w
    WHERE w.tenant_id = NEW.tenant_id AND w.enabled = 1
      AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = NEW.type);
END;
