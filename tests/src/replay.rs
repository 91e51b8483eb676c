//! Replaying a recorded scenario against another implementation of the service (the emulator):
//! the pieces that do not depend on a transport.
//!
//! - [`VersionMap`]: certificate versions are chosen by the service, so the versions a recording
//!   names differ from the ones the replay target issues. The map learns each pair from the ids
//!   both answers carry (`id`, `kid`, `sid`, `target`) and rewrites later request paths.
//! - [`PollState`] and [`poll_run`]: a recorded polling sequence (`GET …/pending` until the
//!   operation leaves `inProgress`, `GET /deletedcertificates/{name}` until it stops answering
//!   404) is a run of identical GET requests whose answers change; the target may need more or
//!   fewer rounds than the real service did.

use std::collections::HashMap;

use http::{Method, StatusCode};
use serde_json::Value;

use crate::recording::Entry;

/// Members of an answer that hold an object identifier with a version
/// (`https://{vault}/{collection}/{name}/{version}`).
pub const ID_MEMBERS: &[&str] = &["id", "kid", "sid", "target"];

/// The version in an object identifier: the third path segment of
/// `https://{vault}/{certificates|keys|secrets}/{name}/{version}`, when there is one and it is not
/// one of the sub-resources (`pending`, `policy`, …); issuer ids
/// (`/certificates/issuers/{name}`) have none.
///
/// ```
/// use kvcerts_tests::replay::id_version;
/// assert_eq!(id_version("https://v.vault.azure.net/certificates/c/0a1b"), Some("0a1b"));
/// assert_eq!(id_version("https://v.vault.azure.net/secrets/c/0a1b"), Some("0a1b"));
/// assert_eq!(id_version("https://v.vault.azure.net/certificates/c/pending"), None);
/// assert_eq!(id_version("https://v.vault.azure.net/certificates/c"), None);
/// ```
pub fn id_version(id: &str) -> Option<&str> {
    const COLLECTIONS: &[&str] = &["certificates", "keys", "secrets", "deletedcertificates"];
    const NOT_NAMES: &[&str] = &["issuers", "contacts"];
    const NOT_VERSIONS: &[&str] = &["pending", "policy", "versions", "backup", "create", "import"];
    let after_scheme = id.split_once("://").map_or(id, |(_, rest)| rest);
    let path = after_scheme.split_once('/').map(|(_, p)| p)?;
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let (collection, name, version) = match segments.as_slice() {
        [collection, name, version] | [collection, name, version, ""] => (*collection, *name, *version),
        _ => return None,
    };
    let known_collection = COLLECTIONS.contains(&collection);
    let sub_collection = collection == "certificates" && NOT_NAMES.contains(&name);
    let sub_resource = NOT_VERSIONS.contains(&version);
    let versioned = known_collection && !sub_collection && !sub_resource && !name.is_empty() && !version.is_empty();
    versioned.then_some(version)
}

/// Recorded certificate version → the replay target's version for the same certificate.
///
/// Versions are compared case-insensitively (the service treats them so).
#[derive(Debug, Clone, Default)]
pub struct VersionMap {
    versions: HashMap<String, String>,
}

impl VersionMap {
    /// An empty map.
    pub fn new() -> Self {
        VersionMap::default()
    }

    /// Learns pairs from two answers to the same request: for each member of [`ID_MEMBERS`]
    /// present in both top-level objects with a version, recorded version → target version.
    /// A recorded version already mapped keeps its first mapping. Lists are not looked at: their
    /// items cannot be paired reliably.
    pub fn learn(&mut self, recorded: &Value, target: &Value) {
        for member in ID_MEMBERS {
            let pair = (recorded.get(member).and_then(Value::as_str), target.get(member).and_then(Value::as_str));
            if let (Some(recorded_id), Some(target_id)) = pair {
                if let (Some(from), Some(to)) = (id_version(recorded_id), id_version(target_id)) {
                    self.versions.entry(from.to_ascii_lowercase()).or_insert_with(|| to.to_string());
                }
            }
        }
    }

    /// The target's version for a recorded one.
    pub fn get(&self, recorded: &str) -> Option<&str> {
        self.versions.get(&recorded.to_ascii_lowercase()).map(String::as_str)
    }

    /// How many versions are mapped.
    pub fn len(&self) -> usize {
        self.versions.len()
    }

    /// Whether no version is mapped yet.
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// A request path with every segment that is a mapped recorded version replaced by the
    /// target's version; other segments are kept byte for byte (still percent-encoded).
    ///
    /// ```
    /// let mut map = kvcerts_tests::replay::VersionMap::new();
    /// map.learn(
    ///     &serde_json::json!({ "id": "https://a/certificates/c/AAAA" }),
    ///     &serde_json::json!({ "id": "https://b/certificates/c/bbbb" }),
    /// );
    /// assert_eq!(map.rewrite_path("/secrets/c/aaaa"), "/secrets/c/bbbb");
    /// assert_eq!(map.rewrite_path("/certificates/c/"), "/certificates/c/");
    /// ```
    pub fn rewrite_path(&self, path: &str) -> String {
        path.split('/').map(|segment| self.get(segment).unwrap_or(segment)).collect::<Vec<_>>().join("/")
    }

    /// `text` with every occurrence of a mapped recorded version replaced by the target's (for
    /// recorded request bodies that mention a version).
    pub fn rewrite_text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (from, to) in &self.versions {
            if out.to_ascii_lowercase().contains(from.as_str()) {
                out = replace_ignore_case(&out, from, to);
            }
        }
        out
    }
}

fn replace_ignore_case(text: &str, from: &str, to: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in lower.match_indices(from) {
        out.push_str(&text[last..at]);
        out.push_str(to);
        last = at + from.len();
    }
    out.push_str(&text[last..]);
    out
}

/// What a poller looks at in an answer: the status code, and for a certificate operation
/// (`/pending`) answered with 2xx its `status` member (`inProgress`, `completed`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollState {
    /// The HTTP status.
    pub status: StatusCode,
    /// The operation's `status` member, for `/pending` answers.
    pub operation_status: Option<String>,
}

impl PollState {
    /// The state of an answer to `path` (the request path; only `…/pending` answers carry an
    /// operation status).
    pub fn of(path: &str, status: StatusCode, body: &Value) -> PollState {
        let is_operation = path.trim_end_matches('/').ends_with("/pending") && status.is_success();
        let operation_status =
            if is_operation { body.get("status").and_then(Value::as_str).map(str::to_owned) } else { None };
        PollState { status, operation_status }
    }

    /// The state of a recorded answer.
    pub fn of_entry(entry: &Entry) -> PollState {
        let body = match &entry.response_body {
            crate::recording::RecordedBody::Json(v) => v,
            _ => &Value::Null,
        };
        PollState::of(entry.path(), entry.status, body)
    }

    /// Whether this is a certificate operation that has not finished.
    pub fn in_progress(&self) -> bool {
        self.operation_status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("inProgress"))
    }
}

impl std::fmt::Display for PollState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.operation_status {
            Some(op) => write!(f, "{} ({op})", self.status.as_u16()),
            None => write!(f, "{}", self.status.as_u16()),
        }
    }
}

/// The last index (inclusive) of the polling run that starts at `entries[start]`: the
/// following entries that repeat the same GET request (method, path and query) without a
/// challenge in between. A request that is not repeated is a run of one (`start` itself).
pub fn poll_run(entries: &[&Entry], start: usize) -> usize {
    let Some(first) = entries.get(start) else {
        return start;
    };
    if first.method != Method::GET || first.is_challenge() {
        return start;
    }
    let mut end = start;
    while let Some(next) = entries.get(end + 1) {
        if next.method == first.method && next.uri == first.uri && !next.is_challenge() {
            end += 1;
        } else {
            break;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::Recording;
    use serde_json::json;

    fn entries(json: Value) -> Recording {
        Recording::parse("synthetic", json.to_string().as_bytes()).expect("synthetic recording")
    }

    fn entry(method: &str, path: &str, status: u16, body: Value) -> Value {
        json!({
            "RequestUri": format!("https://v.vault.azure.net{path}?api-version=7.4"),
            "RequestMethod": method,
            "RequestHeaders": {},
            "StatusCode": status,
            "ResponseHeaders": {},
            "ResponseBody": body,
        })
    }

    #[test]
    fn versions_are_learned_from_ids_and_rewritten() {
        let mut map = VersionMap::new();
        map.learn(
            &json!({ "id": "https://v/certificates/c/ABC123", "kid": "https://v/keys/c/ABC123", "target": "https://v/certificates/c" }),
            &json!({ "id": "https://e/certificates/c/def456", "kid": "https://e/keys/c/def456", "target": "https://e/certificates/c" }),
        );
        assert_eq!(map.len(), 1);
        assert_eq!(map.get("abc123"), Some("def456"));
        assert_eq!(map.rewrite_path("/certificates/c/abc123"), "/certificates/c/def456");
        assert_eq!(map.rewrite_text(r#"{"v":"x/ABC123/y"}"#), r#"{"v":"x/def456/y"}"#);
        // First mapping wins; unversioned ids teach nothing.
        map.learn(&json!({ "id": "https://v/certificates/c/abc123" }), &json!({ "id": "https://e/certificates/c/0" }));
        assert_eq!(map.get("ABC123"), Some("def456"));
        assert_eq!(id_version("https://v/certificates/c/"), None);
        assert_eq!(id_version("https://v/certificates/issuers/i"), None);
        assert_eq!(id_version("https://v/certificates/c/v1/"), Some("v1"));
    }

    #[test]
    fn poll_runs_group_repeated_gets() {
        let recording = entries(json!({ "Entries": [
            entry("POST", "/certificates/c/create", 202, json!({ "status": "inProgress" })),
            entry("GET", "/certificates/c/pending", 200, json!({ "status": "inProgress" })),
            entry("GET", "/certificates/c/pending", 200, json!({ "status": "completed" })),
            entry("GET", "/certificates/c", 200, json!({})),
            entry("DELETE", "/certificates/c", 200, json!({})),
            entry("DELETE", "/certificates/c", 404, json!({})),
        ]}));
        let list: Vec<&Entry> = recording.entries.iter().collect();
        assert_eq!(poll_run(&list, 0), 0);
        assert_eq!(poll_run(&list, 1), 2);
        assert_eq!(poll_run(&list, 2), 2);
        assert_eq!(poll_run(&list, 3), 3);
        assert_eq!(poll_run(&list, 4), 4, "only GETs are polls");
        assert_eq!(poll_run(&list, 9), 9);
        let states: Vec<String> = list.iter().map(|e| PollState::of_entry(e).to_string()).collect();
        assert_eq!(states[..4], ["202", "200 (inProgress)", "200 (completed)", "200"]);
        assert!(PollState::of_entry(list[1]).in_progress());
    }
}
