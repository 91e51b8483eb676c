//! The async client on an executor that is not tokio: `async-executor` with `async-io`'s
//! reactor and timer. The three small pieces the client needs from a runtime — how to sleep,
//! how to run a background task, how to open a TCP connection — are given as a `Runtime`;
//! TLS, HTTP/2, pooling, retries, authentication, polling and paging work unchanged.
//!
//! Runs against the in-process emulator: `cargo run -p kvcerts-hyper --example other_runtime`.

use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_executor::Executor;
use async_io::Async;
use kvcerts_core::models::CertificatePolicy;
use kvcerts_hyper::{BoxFuture, CertificateClient, Connect, FuturesIo, Runtime, StaticTokenCredential, Stream};

/// Opens TCP connections with `async-io`.
struct AsyncIoConnect;

impl Connect for AsyncIoConnect {
    fn connect(&self, host: &str, port: u16) -> BoxFuture<'static, std::io::Result<Box<dyn Stream>>> {
        // Name resolution through the OS is blocking: fine for IP literals and this example;
        // a real program would resolve with `async-net` or on the `blocking` thread pool.
        let addrs: std::io::Result<Vec<_>> = (host, port).to_socket_addrs().map(Iterator::collect);
        Box::pin(async move {
            let mut last_error = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
            for addr in addrs? {
                match Async::<TcpStream>::connect(addr).await {
                    Ok(stream) => {
                        stream.get_ref().set_nodelay(true)?;
                        return Ok(Box::new(FuturesIo(stream)) as Box<dyn Stream>);
                    }
                    Err(e) => last_error = e,
                }
            }
            Err(last_error)
        })
    }
}

/// The runtime: `async-io`'s timer, the executor's `spawn`, `async-io`'s TCP.
pub fn async_io_runtime(executor: Arc<Executor<'static>>) -> Runtime {
    let timer = |deadline: Instant| -> BoxFuture<'static, ()> {
        Box::pin(async move {
            async_io::Timer::at(deadline).await;
        })
    };
    let spawner = move |task: BoxFuture<'static, ()>| executor.spawn(task).detach();
    Runtime::new(timer, spawner, AsyncIoConnect)
}

/// Creates, reads, lists and deletes a certificate on `vault_url`.
pub async fn run(runtime: Runtime, vault_url: &str, ca_pem: &str) -> Result<Vec<String>, kvcerts_hyper::Error> {
    let client = CertificateClient::builder(vault_url, Arc::new(StaticTokenCredential::new("example-token")))
        .runtime(runtime)
        .add_root_certificate_pem(ca_pem.as_bytes().to_vec())
        .verify_challenge_resource(false)
        .poll_interval(Duration::from_millis(50))
        .build()?;
    let policy = CertificatePolicy::new("Self", "CN=other-runtime.example");
    let created =
        client.begin_create_certificate("other-runtime", &policy, &Default::default())?.wait_for_certificate().await?;
    println!("created {}", created.id.as_deref().unwrap_or("?"));

    // Calls in flight at once share the connection pool and the token.
    let (a, b) = futures_lite::future::zip(
        client.get_certificate("other-runtime"),
        client.get_certificate_policy("other-runtime"),
    )
    .await;
    println!("thumbprint {:?}, subject {:?}", a?.x509_thumbprint, b?.subject());

    let mut names = Vec::new();
    let mut pager = client.list_properties_of_certificates(&Default::default())?;
    while let Some(item) = pager.next().await {
        names.push(item?.name().unwrap_or_default());
    }
    println!("listed {names:?}");
    client.begin_delete_certificate("other-runtime")?.wait().await?;
    Ok(names)
}

#[allow(dead_code)]
fn main() {
    let emulator = kvcerts_emulator::Emulator::builder().start().expect("emulator");
    let executor = Arc::new(Executor::new());
    let runtime = async_io_runtime(executor.clone());
    let names = async_io::block_on(executor.run(run(runtime, emulator.vault_url(), emulator.ca_pem().unwrap())))
        .expect("the example runs");
    assert_eq!(names, ["other-runtime"]);
}
