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
    match cli.log_format {
        LogFormat::Json => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .json()
            .init(),
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).init(),
    }
    match cli.command {
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
        Command::Worker(cfg) => {
            let (store, artifacts) = app::open_storage(&cli.storage).await?;
            let shutdown = CancellationToken::new();
            let wake = std::sync::Arc::new(tokio::sync::Notify::new());
            let handle = app::start_workers(
                store,
                artifacts,
                &cfg,
                Executors::standard(),
                wake,
                shutdown.clone(),
            )?;
            let Some(handle) = handle else {
                anyhow::bail!("--workers 0: nothing to run");
            };
            app::shutdown_signal().await;
            shutdown.cancel();
            handle.await?;
        }
    }
    Ok(())
}
