//! A [`Runtime`] for the async client on `async-executor` with `async-io`'s reactor and timer:
//! the three small things the client needs from an executor (how to sleep, how to run a
//! background task, how to open a TCP connection). Used by `examples/async_other_runtime.rs`
//! and by kvcerts-hyper's `tests/other_runtime.rs`, which include this file.

use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Instant;

use async_executor::Executor;
use async_io::Async;
use kvcerts_hyper::{BoxFuture, Connect, FuturesIo, Runtime, Stream};

/// Opens TCP connections with `async-io`.
pub struct AsyncIoConnect;

impl Connect for AsyncIoConnect {
    fn connect(&self, host: &str, port: u16) -> BoxFuture<'static, std::io::Result<Box<dyn Stream>>> {
        // Name resolution through the OS blocks: fine for an example; a real program would
        // resolve with `async-net` or on the `blocking` thread pool.
        let addrs: std::io::Result<Vec<_>> = (host, port).to_socket_addrs().map(Iterator::collect);
        Box::pin(async move {
            let mut last_error = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
            for addr in addrs? {
                match Async::<TcpStream>::connect(addr).await {
                    Ok(stream) => {
                        stream.get_ref().set_nodelay(true)?;
                        // FuturesIo adapts a futures-io stream to hyper's IO traits.
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
