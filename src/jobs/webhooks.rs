//! Webhook deliveries: a loop beside the job runner that claims due deliveries (a queue in
//! the database, filled by a trigger on job events), sends each as a signed Standard
//! Webhooks POST, and records the outcome (retry with backoff, give up, disable a webhook
//! that keeps failing). Deliveries never reach a non-public address unless allowed: hosts
//! are resolved once by a resolver that drops non-public addresses, and the connection goes
//! to an address it returned (no second lookup a DNS rebinding could answer differently);
//! redirects are not followed and proxies are not used.
use chrono::Utc;
use futures::future::join_all;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::events::EventHub;
use crate::config::{WebhookConfig, WorkerConfig};
use crate::domain::events::WebhookPayload;
use crate::domain::webhooks::{is_public, secret_key, sign};
use crate::store::{ClaimedDelivery, DeliveryOutcome, DynStore};

/// Deliveries in flight at once per process.
const CONCURRENCY: i64 = 8;
/// Bytes of a failed response's body kept as the attempt's error.
const ERROR_SNIPPET: usize = 200;

/// Sends due deliveries until shutdown.
pub struct Deliverer {
    store: DynStore,
    client: reqwest::Client,
    cfg: WebhookConfig,
    poll: Duration,
    events: Arc<EventHub>,
}

/// Resolves a host to its public addresses only (an error when it has none).
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                let e = std::io::Error::other(format!(
                    "{host} resolves to no public address (refused; set WHITTLE_WEBHOOK_ALLOW_PRIVATE to allow)"
                ));
                return Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client deliveries use.
pub fn delivery_client(cfg: &WebhookConfig) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(cfg.timeout())
        .connect_timeout(cfg.timeout())
        .user_agent(concat!("whittle-webhooks/", env!("CARGO_PKG_VERSION")));
    if !cfg.allow_private {
        builder = builder.dns_resolver(Arc::new(PublicOnly));
    }
    builder.build().expect("the webhook HTTP client builds")
}

/// Why a URL may not be delivered to, judged without a lookup (a literal address); hosts are
/// judged by the resolver at connect time.
fn refused_literal(url: &url::Url, cfg: &WebhookConfig) -> Option<String> {
    if cfg.allow_private {
        return None;
    }
    let ip: IpAddr = match url.host()? {
        url::Host::Ipv4(v4) => v4.into(),
        url::Host::Ipv6(v6) => v6.into(),
        url::Host::Domain(_) => return None,
    };
    (!is_public(ip)).then(|| {
        format!(
            "{ip} is not a public address (refused; set WHITTLE_WEBHOOK_ALLOW_PRIVATE to allow)"
        )
    })
}

/// Text safe for the database (no NUL, at most `max` characters).
fn clean(text: &str, max: usize) -> String {
    text.chars().filter(|c| *c != '\0').take(max).collect()
}

/// The chain of an error's causes, `a: b: c`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl Deliverer {
    pub fn new(store: DynStore, cfg: &WorkerConfig, events: Arc<EventHub>) -> Self {
        Deliverer {
            store,
            client: delivery_client(&cfg.webhooks),
            cfg: cfg.webhooks.clone(),
            poll: cfg.poll(),
            events,
        }
    }

    /// Run until `shutdown`; deliveries in flight finish (each bounded by the timeout).
    pub fn spawn(self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move { self.run(shutdown).await })
    }

    async fn run(self, shutdown: CancellationToken) {
        let lease = self.cfg.timeout() + Duration::from_secs(30);
        let mut sub = self.events.subscribe();
        info!("webhook deliveries started");
        while !shutdown.is_cancelled() {
            match self.store.claim_deliveries(CONCURRENCY, lease).await {
                Ok(claimed) if !claimed.is_empty() => {
                    join_all(claimed.into_iter().map(|d| self.deliver(d))).await;
                    continue;
                }
                Ok(_) => {}
                Err(e) => warn!(error = %e, "claiming webhook deliveries failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = sub.wait_any(self.poll) => {}
            }
        }
        info!("webhook deliveries stopped");
    }

    async fn deliver(&self, d: ClaimedDelivery) {
        let outcome = self.attempt(&d).await;
        debug!(delivery = d.id, attempt = d.attempt, delivered = outcome.delivered,
            status = ?outcome.status_code, "webhook attempt");
        metrics::counter!("whittle_webhook_attempts_total",
            "outcome" => if outcome.delivered { "delivered" } else { "failed" })
        .increment(1);
        let max_failures = self.cfg.max_failures.clamp(1, i32::MAX as u32) as i32;
        if let Err(e) = self
            .store
            .record_delivery(d.id, &outcome, max_failures)
            .await
        {
            // The lease ends and the delivery is attempted again: at least once.
            warn!(delivery = d.id, error = %e, "recording a webhook attempt failed");
        }
    }

    async fn attempt(&self, d: &ClaimedDelivery) -> DeliveryOutcome {
        let mut outcome = DeliveryOutcome {
            attempt: d.attempt,
            status_code: None,
            latency_ms: 0.0,
            error: None,
            delivered: false,
            retry_at: None,
        };
        let given_up = d.attempt as i64 > self.cfg.max_attempts.max(1) as i64;
        let result = if given_up {
            Err(format!(
                "gave up after {} attempts",
                self.cfg.max_attempts.max(1)
            ))
        } else {
            self.send(d, &mut outcome).await
        };
        match result {
            Ok(()) => outcome.delivered = true,
            Err(e) => {
                outcome.error = Some(clean(&e, 1000));
                if !given_up && (d.attempt as i64) < self.cfg.max_attempts.max(1) as i64 {
                    let wait = self.cfg.backoff(d.attempt.max(1) as u32);
                    outcome.retry_at = chrono::TimeDelta::from_std(wait)
                        .ok()
                        .map(|w| Utc::now() + w);
                }
            }
        }
        outcome
    }

    /// One POST; `Err` with the reason unless the receiver answered 2xx.
    async fn send(&self, d: &ClaimedDelivery, outcome: &mut DeliveryOutcome) -> Result<(), String> {
        let url = url::Url::parse(&d.webhook.url).map_err(|e| format!("bad url: {e}"))?;
        if let Some(refused) = refused_literal(&url, &self.cfg) {
            return Err(refused);
        }
        let key = secret_key(&d.webhook.secret)?;
        let event = d.event.clone().into_event()?;
        let body = serde_json::to_vec(&WebhookPayload::new(event)).map_err(|e| e.to_string())?;
        let msg_id = format!("msg_{}", d.id);
        let timestamp = Utc::now().timestamp();
        let signature = sign(&key, &msg_id, timestamp, &body);
        let start = Instant::now();
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        outcome.latency_ms = start.elapsed().as_secs_f64() * 1000.0;
        let resp = sent.map_err(|e| chain(&e))?;
        let status = resp.status();
        outcome.status_code = Some(status.as_u16() as i32);
        // Read (a bounded part of) the body, so the connection can be reused.
        let mut snippet = Vec::new();
        let mut resp = resp;
        while let Ok(Some(chunk)) = resp.chunk().await {
            if snippet.len() < 64 * 1024 {
                snippet.extend_from_slice(&chunk);
            } else {
                break;
            }
        }
        if status.is_success() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&snippet);
        let text = clean(text.trim(), ERROR_SNIPPET);
        Err(if text.is_empty() {
            format!("HTTP {}", status.as_u16())
        } else {
            format!("HTTP {}: {text}", status.as_u16())
        })
    }
}
