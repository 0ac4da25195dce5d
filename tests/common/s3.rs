//! An S3-compatible server for the tests: `moto_server` (PyPI `moto[server]`), started on a
//! free loopback port, reached through a TCP proxy the test can take down to simulate a
//! network failure without losing the server's (in-memory) buckets.
//!
//! `WHITTLE_TEST_S3_SERVER` names the `moto_server` executable; unset, the S3 tests skip
//! (`.ci/run` installs moto and sets it, so they never skip in CI).
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use whittle::config::S3Config;

use super::free_port;

/// Access key the tests use (moto accepts any).
pub const ACCESS_KEY: &str = "whittle-test";
pub const SECRET_KEY: &str = "whittle-test-secret";

pub struct S3Server {
    child: Child,
    /// The proxy's address: what whittle is pointed at.
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    /// Bumped on every `set_up(false)`: live connections of an older generation are cut.
    generation: Arc<std::sync::atomic::AtomicU64>,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl S3Server {
    /// Start moto and the proxy; None (with a note) when `WHITTLE_TEST_S3_SERVER` is unset.
    pub async fn start() -> Option<S3Server> {
        let Ok(exe) = std::env::var("WHITTLE_TEST_S3_SERVER") else {
            eprintln!("skipping: WHITTLE_TEST_S3_SERVER is not set (path of moto_server)");
            return None;
        };
        let port = free_port();
        let child = Command::new(&exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {exe}: {e}"));
        let backend: SocketAddr = ([127, 0, 0, 1], port).into();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(std::sync::atomic::AtomicU64::new(0));
        tokio::spawn(proxy(listener, backend, up.clone(), generation.clone()));
        let server = S3Server {
            child,
            addr,
            up,
            generation,
        };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client.get(server.endpoint()).send().await.is_ok() {
                return Some(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("moto_server never answered on {backend}");
    }

    /// `http://127.0.0.1:<proxy port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Create a bucket (moto takes unsigned requests for that).
    pub async fn create_bucket(&self, name: &str) {
        let r = reqwest::Client::new()
            .put(format!("{}/{name}", self.endpoint()))
            .send()
            .await
            .expect("create bucket");
        assert!(
            r.status().is_success(),
            "create bucket {name}: {}",
            r.status()
        );
    }

    /// Take the network down (connections refused, open ones cut) or bring it back.
    pub fn set_up(&self, up: bool) {
        if !up {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        self.up.store(up, Ordering::SeqCst);
    }

    /// whittle's settings for this server (flags, not `AWS_*`, so tests can run in parallel).
    pub fn config(&self) -> S3Config {
        S3Config {
            endpoint: Some(self.endpoint()),
            region: Some("us-east-1".into()),
            access_key_id: Some(ACCESS_KEY.into()),
            secret_access_key: Some(SECRET_KEY.into()),
            allow_http: true,
            max_retries: Some(2),
            retry_timeout_secs: Some(5),
            ..Default::default()
        }
    }

    /// The same for a child process, as the `AWS_*` variables a deployment sets, with the
    /// instance-metadata endpoint pinned to loopback so no lookup can leave the machine.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_METADATA_ENDPOINT", "http://127.0.0.1:9".into()),
            ("WHITTLE_S3_MAX_RETRIES", "2".into()),
            ("WHITTLE_S3_RETRY_TIMEOUT_SECS", "5".into()),
        ]
    }
}

async fn proxy(
    listener: tokio::net::TcpListener,
    backend: SocketAddr,
    up: Arc<AtomicBool>,
    generation: Arc<std::sync::atomic::AtomicU64>,
) {
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            return;
        };
        if !up.load(Ordering::SeqCst) {
            drop(inbound); // refused: closed at once
            continue;
        }
        let born = generation.load(Ordering::SeqCst);
        let generation = generation.clone();
        tokio::spawn(async move {
            let Ok(mut outbound) = tokio::net::TcpStream::connect(backend).await else {
                return;
            };
            let copy = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
            let cut = async {
                while generation.load(Ordering::SeqCst) == born {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            };
            tokio::select! {
                _ = copy => {}
                _ = cut => {}
            }
        });
    }
}
