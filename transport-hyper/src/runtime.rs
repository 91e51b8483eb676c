//! What the client needs from an async runtime: how to sleep ([`Timer`]), how to run a
//! background task ([`Spawn`], for hyper's connection tasks) and how to open a TCP stream
//! ([`Connect`]). TLS, HTTP/1.1 and HTTP/2, pooling, timeouts and everything else are done by
//! this crate on top of them, the same way on every runtime.
//!
//! With the default `tokio` feature, [`Runtime::tokio`] is used unless you give another one.
//! On any other executor, implement the three traits (a few lines each) and pass
//! [`Runtime::new`] to [`ClientBuilder::runtime`](crate::ClientBuilder::runtime) and to the
//! credentials' [`ConnectionOptions`](crate::ConnectionOptions). [`FuturesIo`] adapts a
//! `futures-io` stream (smol, async-io, async-std) to hyper's IO traits.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A boxed, `Send` future, as the traits of this crate return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A byte stream hyper can speak HTTP over (a connected TCP socket): hyper's
/// [`Read`](hyper::rt::Read) + [`Write`](hyper::rt::Write). Implemented for every such type.
pub trait Stream: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static {}

impl<T: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static> Stream for T {}

/// How to sleep.
pub trait Timer: Send + Sync + 'static {
    /// A future that completes at `deadline` (or soon after).
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()>;
}

impl<F> Timer for F
where
    F: Fn(Instant) -> BoxFuture<'static, ()> + Send + Sync + 'static,
{
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        self(deadline)
    }
}

/// How to run a background task to completion (hyper drives each connection in one).
pub trait Spawn: Send + Sync + 'static {
    /// Runs `task` on the executor, detached.
    fn spawn(&self, task: BoxFuture<'static, ()>);
}

impl<F> Spawn for F
where
    F: Fn(BoxFuture<'static, ()>) + Send + Sync + 'static,
{
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        self(task)
    }
}

/// How to open a TCP connection. TLS is added by the client; the connect timeout is applied
/// by the client around this call and the TLS handshake.
pub trait Connect: Send + Sync + 'static {
    /// A connected stream to `host` (a DNS name or an IP address, IPv6 without brackets) on
    /// `port`.
    fn connect(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<Box<dyn Stream>>>;
}

/// The async runtime a client (or credential) runs on: a [`Timer`], a [`Spawn`] and a
/// [`Connect`]. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) timer: Arc<dyn Timer>,
    pub(crate) spawner: Arc<dyn Spawn>,
    pub(crate) connector: Arc<dyn Connect>,
    name: &'static str,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Runtime").field(&self.name).finish()
    }
}

impl Runtime {
    /// A runtime made of your timer, spawner and connector.
    pub fn new(timer: impl Timer, spawner: impl Spawn, connector: impl Connect) -> Self {
        Runtime { timer: Arc::new(timer), spawner: Arc::new(spawner), connector: Arc::new(connector), name: "custom" }
    }

    /// The tokio runtime the caller is running in (its timer, `spawn` and `TcpStream`). The
    /// runtime is remembered, so the client may then be polled from other executors too while
    /// that tokio runtime keeps running. Fails outside a tokio runtime.
    #[cfg(feature = "tokio")]
    pub fn tokio() -> Result<Self, kvcerts_core::Error> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| kvcerts_core::Error::InvalidInput {
            what: "runtime",
            reason: "not inside a tokio runtime: build the client (and credentials) inside one, or give a \
                     Runtime with ClientBuilder::runtime"
                .into(),
        })?;
        let tokio = tokio_rt::TokioRuntime { handle };
        Ok(Runtime {
            timer: Arc::new(tokio.clone()),
            spawner: Arc::new(tokio.clone()),
            connector: Arc::new(tokio),
            name: "tokio",
        })
    }

    /// The runtime used when none is given: tokio's with the `tokio` feature, else an error.
    pub(crate) fn default_runtime() -> Result<Self, kvcerts_core::Error> {
        #[cfg(feature = "tokio")]
        {
            Runtime::tokio()
        }
        #[cfg(not(feature = "tokio"))]
        {
            Err(kvcerts_core::Error::InvalidInput {
                what: "runtime",
                reason: "no runtime: enable the `tokio` feature of kvcerts-hyper, or give a Runtime with \
                         ClientBuilder::runtime (and ConnectionOptions::runtime for credentials)"
                    .into(),
            })
        }
    }

    /// Sleeps until `deadline`.
    pub(crate) async fn sleep_until(&self, deadline: Instant) {
        if deadline > Instant::now() {
            self.timer.sleep_until(deadline).await;
        }
    }

    /// Runs `future`, giving up after `limit` (`None`).
    pub(crate) async fn timeout<T>(&self, limit: Duration, future: impl Future<Output = T>) -> Option<T> {
        let mut future = std::pin::pin!(future);
        let mut sleep = self.timer.sleep_until(Instant::now() + limit);
        std::future::poll_fn(move |cx| {
            if let Poll::Ready(value) = future.as_mut().poll(cx) {
                return Poll::Ready(Some(value));
            }
            sleep.as_mut().poll(cx).map(|()| None)
        })
        .await
    }
}

/// [`Spawn`] as hyper's executor.
#[derive(Clone)]
pub(crate) struct HyperExecutor(pub(crate) Arc<dyn Spawn>);

impl<F: Future<Output = ()> + Send + 'static> hyper::rt::Executor<F> for HyperExecutor {
    fn execute(&self, future: F) {
        self.0.spawn(Box::pin(future))
    }
}

/// [`Timer`] as hyper's timer (for the connection pool's idle sweep).
#[derive(Clone)]
pub(crate) struct HyperTimer(pub(crate) Arc<dyn Timer>);

impl hyper::rt::Timer for HyperTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep(Mutex::new(self.0.sleep_until(deadline))))
    }
}

/// hyper's `Sleep` must be `Sync`; the mutex makes the boxed future so (it is only ever
/// polled through `&mut`).
struct HyperSleep(Mutex<BoxFuture<'static, ()>>);

impl Future for HyperSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self.get_mut().0.get_mut().unwrap_or_else(|e| e.into_inner());
        inner.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for HyperSleep {}

/// Adapts a `futures-io` stream (`AsyncRead + AsyncWrite`, as smol, async-io and async-std
/// give) to hyper's IO traits, for a [`Connect`] implementation.
#[derive(Debug)]
pub struct FuturesIo<S>(pub S);

impl<S: futures_io::AsyncRead + Unpin> hyper::rt::Read for FuturesIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let mut scratch = [0u8; 8192];
        let want = buf.remaining().min(scratch.len());
        match Pin::new(&mut self.get_mut().0).poll_read(cx, &mut scratch[..want]) {
            Poll::Ready(Ok(n)) => {
                buf.put_slice(&scratch[..n]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: futures_io::AsyncWrite + Unpin> hyper::rt::Write for FuturesIo<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_close(cx)
    }
}

#[cfg(feature = "tokio")]
mod tokio_rt {
    use super::*;

    /// tokio's timer, spawner and TCP, bound to one runtime.
    #[derive(Clone)]
    pub(super) struct TokioRuntime {
        pub(super) handle: tokio::runtime::Handle,
    }

    impl Timer for TokioRuntime {
        fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
            // Created inside the runtime's context, the sleep may be polled from anywhere.
            let _entered = self.handle.enter();
            Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)))
        }
    }

    impl Spawn for TokioRuntime {
        fn spawn(&self, task: BoxFuture<'static, ()>) {
            self.handle.spawn(task);
        }
    }

    impl Connect for TokioRuntime {
        fn connect(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<Box<dyn Stream>>> {
            let host = host.to_owned();
            // Connecting on the runtime registers the socket with its reactor, so the stream
            // works whichever executor polls it afterwards.
            let task = self.handle.spawn(async move {
                let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
                stream.set_nodelay(true)?;
                Ok::<_, io::Error>(stream)
            });
            Box::pin(async move {
                let stream = task.await.map_err(io::Error::other)??;
                Ok(Box::new(hyper_util::rt::TokioIo::new(stream)) as Box<dyn Stream>)
            })
        }
    }
}
