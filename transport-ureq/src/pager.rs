//! Lazy iteration over list results, page by page.

use std::collections::VecDeque;

use kvcerts_core::flows::Pager;
use kvcerts_core::models::Page;
use kvcerts_core::Error;
use serde::de::DeserializeOwned;

use crate::client::CertificateClient;

/// The items of a list operation; fetches the next page when the current one is used up.
/// After an error the iterator ends.
pub struct ItemPager<T> {
    client: CertificateClient,
    flow: Pager<T>,
    buffered: VecDeque<T>,
    finished: bool,
}

impl<T: DeserializeOwned> ItemPager<T> {
    pub(crate) fn new(client: CertificateClient, flow: Pager<T>) -> Self {
        ItemPager { client, flow, buffered: VecDeque::new(), finished: false }
    }

    /// The next whole page (`None` after the last). Items already buffered by the iterator
    /// are not repeated.
    pub fn next_page(&mut self) -> Option<Result<Page<T>, Error>> {
        if self.finished {
            return None;
        }
        match self.client.drive(&mut self.flow) {
            Ok(Some(page)) => Some(Ok(page)),
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(e) => {
                self.finished = true;
                Some(Err(e))
            }
        }
    }

    /// The `nextLink` of the page after the ones fetched so far, to resume listing later.
    pub fn continuation(&self) -> Option<&str> {
        self.flow.continuation()
    }

    /// How many pages were fetched.
    pub fn pages(&self) -> u32 {
        self.flow.pages()
    }
}

impl<T: DeserializeOwned> Iterator for ItemPager<T> {
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.buffered.pop_front() {
                return Some(Ok(item));
            }
            match self.next_page()? {
                Ok(page) => self.buffered.extend(page.value),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
