//! Lazy listing, page by page: an async [`ItemPager::next`] / [`ItemPager::next_page`], and a
//! [`Stream`](futures_core::Stream) of items.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use kvcerts_core::flows::Pager;
use kvcerts_core::models::Page;
use kvcerts_core::Error;
use serde::de::DeserializeOwned;

use crate::client::CertificateClient;
use crate::runtime::BoxFuture;

type Fetch<T> = BoxFuture<'static, (Box<Pager<T>>, Result<Option<Page<T>>, Error>)>;

enum State<T> {
    Idle(Box<Pager<T>>),
    /// A page request in flight; it owns the flow and gives it back with the page.
    Fetching(Fetch<T>),
    Finished,
}

/// The items of a list operation; fetches the next page when the current one is used up.
/// After an error the pager ends.
///
/// Cancel-safe: a dropped `next`/`next_page` future leaves the page request in the pager, and
/// the next call picks it up, so no page is lost or skipped.
pub struct ItemPager<T> {
    client: CertificateClient,
    state: State<T>,
    buffered: VecDeque<T>,
    continuation: Option<String>,
    pages: u32,
}

// No field is ever pinned (the fetch is boxed), so moving a pager is always fine.
impl<T> Unpin for ItemPager<T> {}

impl<T: DeserializeOwned + Send + 'static> ItemPager<T> {
    pub(crate) fn new(client: CertificateClient, flow: Pager<T>) -> Self {
        let continuation = flow.continuation().map(str::to_owned);
        let pages = flow.pages();
        ItemPager { client, state: State::Idle(Box::new(flow)), buffered: VecDeque::new(), continuation, pages }
    }

    /// The next whole page (`None` after the last). Items already buffered by
    /// [`next`](Self::next) or the stream are not repeated.
    pub async fn next_page(&mut self) -> Option<Result<Page<T>, Error>> {
        std::future::poll_fn(|cx| self.poll_page(cx)).await
    }

    /// The next item (`None` after the last).
    pub async fn next(&mut self) -> Option<Result<T, Error>> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    /// The `nextLink` of the page after the ones fetched so far, to resume listing later.
    pub fn continuation(&self) -> Option<&str> {
        self.continuation.as_deref()
    }

    /// How many pages were fetched.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    fn poll_page(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Page<T>, Error>>> {
        loop {
            match &mut self.state {
                State::Finished => return Poll::Ready(None),
                State::Idle(_) => {
                    let State::Idle(mut flow) = std::mem::replace(&mut self.state, State::Finished) else {
                        unreachable!("matched Idle above")
                    };
                    let client = self.client.clone();
                    self.state = State::Fetching(Box::pin(async move {
                        let result = client.drive(&mut *flow).await;
                        (flow, result)
                    }));
                }
                State::Fetching(fetch) => {
                    let Poll::Ready((flow, result)) = fetch.as_mut().poll(cx) else {
                        return Poll::Pending;
                    };
                    self.continuation = flow.continuation().map(str::to_owned);
                    self.pages = flow.pages();
                    return Poll::Ready(match result {
                        Ok(Some(page)) => {
                            self.state = State::Idle(flow);
                            Some(Ok(page))
                        }
                        Ok(None) => {
                            self.state = State::Finished;
                            None
                        }
                        Err(e) => {
                            self.state = State::Finished;
                            Some(Err(e))
                        }
                    });
                }
            }
        }
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, Error>>> {
        loop {
            if let Some(item) = self.buffered.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            match self.poll_page(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Ok(page))) => self.buffered.extend(page.value),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
            }
        }
    }
}

impl<T: DeserializeOwned + Send + 'static> futures_core::Stream for ItemPager<T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_item(cx)
    }
}
