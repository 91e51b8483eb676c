//! The response body type: a whole body, or one cut short to simulate a dropped connection.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// A response body.
#[derive(Debug)]
pub enum Body {
    /// The whole body (possibly empty).
    Full(Option<Bytes>),
    /// The first part of a body, then an error that makes the server abort the connection.
    Truncated {
        /// The part still to send.
        part: Option<Bytes>,
        /// Whether the error was already produced.
        failed: bool,
    },
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Body::Full(None)
    }

    /// A whole body.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let b = bytes.into();
        Body::Full((!b.is_empty()).then_some(b))
    }

    /// The first half of `bytes`, then a connection abort.
    pub fn truncated(bytes: Bytes) -> Self {
        let half = bytes.slice(..bytes.len() / 2);
        Body::Truncated { part: (!half.is_empty()).then_some(half), failed: false }
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|d| Ok(Frame::data(d)))),
            Body::Truncated { part, failed } => {
                if let Some(d) = part.take() {
                    Poll::Ready(Some(Ok(Frame::data(d))))
                } else if !*failed {
                    *failed = true;
                    Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "kvcerts-emulator: injected dropped connection",
                    ))))
                } else {
                    Poll::Ready(None)
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Body::Truncated { .. } => SizeHint::default(),
        }
    }
}
