-- Webhooks: a tenant's subscriptions, and one delivery per (subscription, event), written by
-- a trigger in the transaction that writes the event (so a committed event always has its
-- deliveries, and a restart loses none). Deliveries are a queue like jobs: claimed with
-- `FOR UPDATE SKIP LOCKED` and a lease (`locked_until`), retried with backoff
-- (`next_attempt_at`), each attempt logged.
CREATE TABLE webhooks (
    id                   uuid PRIMARY KEY,
    tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url                  text NOT NULL,
    -- JSON array of event type names.
    events               jsonb NOT NULL CHECK (jsonb_typeof(events) = 'array'),
    secret               text NOT NULL,
    description          text,
    enabled              boolean NOT NULL DEFAULT true,
    disabled_reason      text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_tenant_page_idx ON webhooks (tenant_id, id DESC);

CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    webhook_id      uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        bigint NOT NULL REFERENCES job_events (id) ON DELETE CASCADE,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'succeeded', 'failed')),
    -- Attempts started (the fence of the current one).
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_hook_idx ON webhook_deliveries (webhook_id, id DESC);

CREATE TABLE webhook_attempts (
    delivery_id bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    -- NULL when no response came (connect error, timeout, refused address).
    status_code integer,
    latency_ms  double precision NOT NULL,
    error       text,
    PRIMARY KEY (delivery_id, attempt)
);

CREATE FUNCTION whittle_webhook_deliveries_on_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_deliveries (webhook_id, event_id)
    SELECT w.id, NEW.id FROM webhooks w
    WHERE w.tenant_id = NEW.tenant_id AND w.enabled AND w.events ? NEW.type;
    RETURN NULL;
END
$$;

CREATE TRIGGER webhook_deliveries_on_event AFTER INSERT ON job_events
    FOR EACH ROW EXECUTE FUNCTION whittle_webhook_deliveries_on_event();
