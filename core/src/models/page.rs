//! One page of a list operation.

use serde::{Deserialize, Serialize};

/// One page of results and the link to the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    /// The absolute URL of the next page; `None` on the last page.
    #[serde(rename = "nextLink", default, skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

impl<T> Page<T> {
    /// The next-page link, treating an empty string as the end.
    pub fn continuation(&self) -> Option<&str> {
        self.next_link.as_deref().filter(|l| !l.is_empty())
    }
}
