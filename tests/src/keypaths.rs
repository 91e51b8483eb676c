//! The *shape* of a JSON document as a set of key paths, for comparing two answers to the same
//! request field name by field name while ignoring the values.
//!
//! A key path names one object member from the root: `.attributes.enabled`. Arrays are merged:
//! the members of every element appear under `[]`, so `{"value":[{"id":1},{"x5t":2}]}` has the
//! paths `.value`, `.value[].id` and `.value[].x5t`, however many elements the array has.
//! Scalars contribute nothing themselves; only object members are paths.

use std::collections::BTreeSet;

use serde_json::Value;

/// Every key path of `value` (see the [module documentation](self)).
///
/// ```
/// let doc = serde_json::json!({ "id": "x", "attributes": { "enabled": true }, "value": [{ "id": 1 }, {}] });
/// let paths: Vec<String> = kvcerts_tests::keypaths::key_paths(&doc).into_iter().collect();
/// assert_eq!(paths, [".attributes", ".attributes.enabled", ".id", ".value", ".value[].id"]);
/// ```
pub fn key_paths(value: &Value) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    collect(value, "", &mut paths);
    paths
}

fn collect(value: &Value, prefix: &str, paths: &mut BTreeSet<String>) {
    match value {
        Value::Object(members) => {
            for (name, member) in members {
                let path = format!("{prefix}.{name}");
                collect(member, &path, paths);
                paths.insert(path);
            }
        }
        Value::Array(items) => {
            let path = format!("{prefix}[]");
            for item in items {
                collect(item, &path, paths);
            }
        }
        _ => {}
    }
}

/// How the key paths of two documents differ.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPathDiff {
    /// Paths only the expected document (e.g. the recorded answer) has.
    pub missing: BTreeSet<String>,
    /// Paths only the actual document (e.g. the emulator's answer) has.
    pub extra: BTreeSet<String>,
}

impl KeyPathDiff {
    /// Whether both documents have the same key paths.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty()
    }

    /// Drops every path for which `ignore` returns true, from both sides.
    pub fn retain_unless(&mut self, ignore: impl Fn(&str) -> bool) {
        self.missing.retain(|p| !ignore(p));
        self.extra.retain(|p| !ignore(p));
    }
}

impl std::fmt::Display for KeyPathDiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |set: &BTreeSet<String>| set.iter().map(String::as_str).collect::<Vec<_>>().join(", ");
        match (self.missing.is_empty(), self.extra.is_empty()) {
            (true, true) => f.write_str("same key paths"),
            (false, true) => write!(f, "missing {}", list(&self.missing)),
            (true, false) => write!(f, "extra {}", list(&self.extra)),
            (false, false) => write!(f, "missing {}; extra {}", list(&self.missing), list(&self.extra)),
        }
    }
}

/// The key paths `expected` has and `actual` lacks, and the other way round.
pub fn diff(expected: &Value, actual: &Value) -> KeyPathDiff {
    let expected = key_paths(expected);
    let actual = key_paths(actual);
    KeyPathDiff {
        missing: expected.difference(&actual).cloned().collect(),
        extra: actual.difference(&expected).cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arrays_are_merged_and_values_ignored() {
        let a = json!({ "value": [{ "id": "a", "tags": {} }, { "id": "b", "x5t": "t" }], "nextLink": null });
        let b = json!({ "value": [{ "id": "c", "tags": { "k": "v" }, "x5t": "u" }], "nextLink": "n" });
        let d = diff(&a, &b);
        assert_eq!(d.missing, BTreeSet::new());
        assert_eq!(d.extra, [".value[].tags.k".to_string()].into_iter().collect());
    }

    #[test]
    fn nested_arrays_and_empty_documents() {
        assert!(key_paths(&json!(null)).is_empty());
        assert!(key_paths(&json!([1, 2])).is_empty());
        let paths = key_paths(&json!({ "a": [[{ "b": 1 }]] }));
        assert_eq!(paths, [".a", ".a[][].b"].iter().map(|s| s.to_string()).collect());
    }

    #[test]
    fn display_and_filtering() {
        let mut d = diff(&json!({ "a": 1, "b": 1 }), &json!({ "a": 1, "c": 1 }));
        assert_eq!(d.to_string(), "missing .b; extra .c");
        d.retain_unless(|p| p == ".c");
        assert_eq!(d.to_string(), "missing .b");
        d.retain_unless(|p| p == ".b");
        assert!(d.is_empty());
    }
}
