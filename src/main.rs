//! The `whittle` binary: parse the command line and hand over to `app`.
use clap::Parser;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use whittle::app;
use whittle::config::{ApikeyCommand, Cli, Command, LogFormat};
use whittle::jobs::Executors;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Logs go to stderr (stdout carries what a command prints: a key, the OpenAPI document),
    // with colour codes only for a person at a terminal, never into a file or collector.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    match cli.log_format {
        LogFormat::Json => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .json()
            .init(),
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(ansi)
            .init(),
    }
    match cli.command {
        Command::Healthcheck { url, timeout_secs } => {
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(timeout_secs.max(1)))
                .no_proxy()
                .build()?;
            match client.get(&url).send().await {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => {
                    eprintln!("{url}: {}", r.status());
                    std::process::exit(1);
                }
                Err(e) => {
                    eprintln!("{url}: {e}");
                    std::process::exit(1);
                }
            }
        }
        Command::Openapi => {
            print!("{}", whittle::api::openapi::openapi_json());
        }
        Command::Migrate => {
            app::open_storage(&cli.storage).await?;
            println!("migrations applied");
        }
        Command::Apikey {
            command: ApikeyCommand::Create { tenant },
        } => {
            let (store, _) = app::open_storage(&cli.storage).await?;
            let key = app::create_api_key(&store, &tenant).await?;
            println!("{key}");
            eprintln!(
                "API key for tenant '{tenant}' created. It is shown only once: store it now."
            );
        }
        Command::Apikey {
            command: ApikeyCommand::Bootstrap { key },
        } => {
            let given = key.read()?;
            let (store, _) = app::open_storage(&cli.storage).await?;
            match app::bootstrap_api_key(&store, &key.tenant, given).await? {
                app::Bootstrapped::Created {
                    key: created,
                    generated: true,
                } => {
                    println!("{created}");
                    eprintln!(
                        "First API key for tenant '{}' created. It is shown only once: store it now.",
                        key.tenant
                    );
                }
                app::Bootstrapped::Created { .. } => {
                    eprintln!(
                        "The bootstrap API key for tenant '{}' was created.",
                        key.tenant
                    )
                }
                app::Bootstrapped::Present => eprintln!("The bootstrap API key exists already."),
                app::Bootstrapped::OtherKeysExist => {
                    eprintln!("API keys exist already; nothing to do (see `whittle apikey list`).")
                }
            }
        }
        Command::Apikey {
            command: ApikeyCommand::List,
        } => {
            let (store, _) = app::open_storage(&cli.storage).await?;
            let when = |t: chrono::DateTime<chrono::Utc>| {
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            };
            println!(
                "{:<36}  {:<20}  {:<12}  {:<20}  revoked",
                "id", "tenant", "prefix", "created"
            );
            for (k, tenant) in store.list_api_keys().await? {
                println!(
                    "{:<36}  {:<20}  {:<12}  {:<20}  {}",
                    k.id,
                    tenant,
                    k.prefix,
                    when(k.created_at),
                    k.revoked_at.map_or("-".to_string(), when)
                );
            }
        }
        Command::Apikey {
            command: ApikeyCommand::Revoke { key },
        } => {
            let (store, _) = app::open_storage(&cli.storage).await?;
            let k = app::revoke_api_key(&store, &key).await?;
            eprintln!("API key {} ({}) revoked.", k.id, k.prefix);
        }
        Command::Serve(cfg) => {
            let (store, artifacts) = app::open_storage(&cli.storage).await?;
            let server = app::start_server(store, artifacts, &cfg, Executors::standard()).await?;
            app::shutdown_signal().await;
            server.stop().await?;
        }
        Command::Worker(cmd) => {
            // The recorder first, so the workers' gauges are recorded from their start.
            app::metrics_handle();
            let (store, artifacts) = app::open_storage(&cli.storage).await?;
            let shutdown = CancellationToken::new();
            let wake = std::sync::Arc::new(tokio::sync::Notify::new());
            let probe = app::watch_artifacts(artifacts.clone(), shutdown.clone()).await;
            let events = whittle::jobs::events::EventHub::start(store.clone(), shutdown.clone());
            let workers = app::start_workers_with_events(
                store,
                artifacts.clone(),
                &cmd.worker,
                Executors::standard(),
                wake,
                events,
                shutdown.clone(),
            )?;
            let Some(workers) = workers else {
                anyhow::bail!("--workers 0: nothing to run");
            };
            let health = match cmd.health_bind {
                Some(bind) => Some(
                    app::serve_worker_health(
                        bind,
                        workers.status.clone(),
                        artifacts,
                        shutdown.clone(),
                    )
                    .await?,
                ),
                None => None,
            };
            app::shutdown_signal().await;
            shutdown.cancel();
            workers.handle.await?;
            let _ = probe.await;
            if let Some(h) = health {
                let _ = h.await;
            }
        }
    }
    Ok(())
}
