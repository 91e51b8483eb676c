//! Tests of the recording reader, against the recordings directory and against bad input.

use std::fs;

use http::{Method, StatusCode};
use kvcerts_tests::recording::query_pairs;
use kvcerts_tests::{recordings_dir, RecordedBody, Recording, RecordingError};
use proptest::prelude::*;
use serde_json::{json, Value};

fn all_recordings() -> Vec<Recording> {
    let dir = recordings_dir();
    Recording::load_dir(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
}

#[test]
fn every_recording_loads_and_has_entries() {
    let recordings = all_recordings();
    assert!(!recordings.is_empty());
    for recording in &recordings {
        assert!(!recording.entries.is_empty(), "{} has no entries", recording.name);
        assert!(recording.path.is_file(), "{}", recording.path.display());
        assert!(recording.vault_authority().is_some(), "{} has no vault entry", recording.name);
        for (index, entry) in recording.entries.iter().enumerate() {
            assert_eq!(entry.index, index);
            assert!(entry.uri.scheme().is_some() && entry.uri.host().is_some());
        }
    }
}

#[test]
fn recordings_are_sorted_by_file_name() {
    let names: Vec<_> = all_recordings()
        .iter()
        .map(|recording| recording.path.file_name().map(|name| name.to_os_string()).unwrap_or_default())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn net_recordings_start_with_a_challenge_and_cpp_ones_do_not() {
    for recording in all_recordings() {
        if recording.name.starts_with("net-") {
            assert!(recording.starts_with_challenge(), "{}", recording.name);
            let first = &recording.entries[0];
            assert!(first.is_challenge());
            assert!(!first.request_headers.contains_key("authorization"));
            assert_eq!(first.request_body, RecordedBody::Null);
            // Header names are case-insensitive: the file says "WWW-Authenticate".
            let challenge = first.response_headers["www-authenticate"].to_str().unwrap();
            assert!(challenge.starts_with("Bearer authorization=\""), "{challenge}");
            // The request after the probe is the same one, authenticated.
            let second = &recording.entries[1];
            assert_eq!((&second.method, &second.uri), (&first.method, &first.uri));
            assert_eq!(second.request_headers["Authorization"], "Sanitized");
        } else if recording.name.starts_with("cpp-") {
            assert!(!recording.starts_with_challenge(), "{}", recording.name);
            assert!(!recording.entries.iter().any(|entry| entry.is_challenge()));
        }
    }
}

#[test]
fn absent_and_null_bodies_are_distinguished() {
    let mut saw_cpp = false;
    let mut saw_null_request = false;
    for recording in all_recordings() {
        if recording.name.starts_with("cpp-") {
            saw_cpp = true;
            for entry in &recording.entries {
                assert_eq!(entry.request_body, RecordedBody::Absent, "{}", recording.name);
                assert_eq!(entry.request_body_bytes(), None);
                assert!(entry.response_body.is_recorded());
            }
        } else if recording.name.starts_with("net-") {
            for entry in &recording.entries {
                assert!(entry.request_body.is_recorded(), "{}", recording.name);
                if entry.request_body == RecordedBody::Null {
                    saw_null_request = true;
                    assert_eq!(entry.request_body_bytes(), Some(Vec::new()));
                }
            }
        }
        for entry in &recording.entries {
            if entry.status == StatusCode::NO_CONTENT {
                assert_eq!(entry.response_body, RecordedBody::Null);
            }
        }
    }
    if recordings_dir() == kvcerts_tests::default_recordings_dir() {
        assert!(saw_cpp && saw_null_request);
    }
}

#[test]
fn entry_helpers_on_a_real_recording() {
    let recording = Recording::named("cpp-KeyVaultCertificateClientTest.GetCertificate").unwrap();
    assert_eq!(recording.name, "cpp-KeyVaultCertificateClientTest.GetCertificate");
    assert_eq!(recording.entries.len(), 4);
    assert!(recording.source.as_deref().unwrap().contains("azure-sdk-for-cpp"));
    assert_eq!(recording.vault_authority().as_deref(), Some("REDACTED.vault.azure.net"));
    assert_eq!(recording.vault_origin().as_deref(), Some("https://REDACTED.vault.azure.net"));

    let create = &recording.entries[0];
    assert_eq!(create.method, Method::POST);
    assert_eq!(create.path(), "/certificates/GetCertificate/create");
    assert_eq!(create.query_pairs(), vec![("api-version".to_string(), "7.3".to_string())]);
    assert!(create.is_vault() && !create.is_challenge());
    assert_eq!(create.status, StatusCode::ACCEPTED);
    assert_eq!(create.response_headers["Content-Length"], "1241");

    let response = create.response();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(!response.headers().contains_key("content-length"));
    assert_eq!(response.headers()["retry-after"], "10");
    assert!(response.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("https://REDACTED.vault.azure.net/certificates/GetCertificate/pending?"));
    let body: Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body["status"], "inProgress");
    assert_eq!(response.body(), &serde_json::to_vec(&body).unwrap(), "compact serialization");
}

#[test]
fn identity_entries_are_not_vault_entries() {
    let recording = Recording::parse(
        "identity",
        json!({"Entries": [
            entry("POST", "https://login.microsoftonline.com/tenant/oauth2/v2.0/token", 200),
            entry("GET", "http://169.254.169.254/metadata/identity/oauth2/token?resource=x", 200),
            entry("POST", "https://LOGIN.windows.net/tenant/tokens", 200),
            entry("POST", "https://sts.example/x/oauth2/token", 200),
            entry("GET", "https://vault.example:8443/certificates?api-version=7.4&maxresults=2", 200),
        ]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let vault: Vec<bool> = recording.entries.iter().map(|e| e.is_vault()).collect();
    assert_eq!(vault, [false, false, false, false, true]);
    assert_eq!(recording.vault_authority().as_deref(), Some("vault.example:8443"));
    assert_eq!(recording.vault_origin().as_deref(), Some("https://vault.example:8443"));
    assert!(!recording.starts_with_challenge());
    assert_eq!(recording.source, None);
    assert_eq!(recording.path, std::path::PathBuf::new());
}

#[test]
fn bodies_headers_and_queries_are_parsed() {
    let mut raw = entry("GET", "https://v.example/certificates?api-version=7.3&%24skiptoken=a%2Fb&maxresults=25", 401);
    raw["RequestBody"] = json!("plain text");
    raw["RequestHeaders"] = json!({"X-Multi": ["a", "b"], "Content-Type": "text/plain"});
    raw["ResponseHeaders"] = json!({
        "WWW-Authenticate": "Bearer authorization=\"https://login.windows.net/t\"",
        "Content-Length": "5",
        "Transfer-Encoding": "chunked",
        "x-non-ascii": "caf\u{e9}"
    });
    raw["ResponseBody"] = json!([1, {"b": null}]);
    let recording =
        Recording::parse("shapes", json!({"Entries": [raw], "Source": "here"}).to_string().as_bytes()).unwrap();
    assert_eq!(recording.source.as_deref(), Some("here"));
    let entry = &recording.entries[0];
    assert_eq!(entry.request_body, RecordedBody::Text("plain text".into()));
    assert_eq!(entry.request_body_bytes(), Some(b"plain text".to_vec()));
    assert_eq!(entry.response_body, RecordedBody::Json(json!([1, {"b": null}])));
    let multi: Vec<_> = entry.request_headers.get_all("x-multi").iter().collect();
    assert_eq!(multi, ["a", "b"]);
    assert_eq!(entry.response_headers["x-non-ascii"].as_bytes(), "caf\u{e9}".as_bytes());
    assert!(entry.is_challenge());
    assert!(recording.starts_with_challenge());
    assert_eq!(
        entry.query_pairs(),
        [("api-version", "7.3"), ("$skiptoken", "a/b"), ("maxresults", "25")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    let response = entry.response();
    assert!(!response.headers().contains_key("content-length"));
    assert!(!response.headers().contains_key("transfer-encoding"));
    assert_eq!(response.body(), br#"[1,{"b":null}]"#);
    assert_eq!(query_pairs(""), Vec::<(String, String)>::new());
}

fn entry(method: &str, uri: &str, status: u16) -> Value {
    json!({
        "RequestUri": uri,
        "RequestMethod": method,
        "RequestHeaders": {},
        "StatusCode": status,
        "ResponseHeaders": {},
        "ResponseBody": null
    })
}

fn invalid_message(result: Result<Recording, RecordingError>) -> (String, String) {
    match result {
        Err(RecordingError::Invalid { file, message }) => (file, message),
        other => panic!("expected an Invalid error, got {other:?}"),
    }
}

#[test]
fn malformed_files_give_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = json!({"Entries": [entry("GET", "https://v.example/certificates", 200)]});
    fs::write(dir.path().join("a-good.json"), good.to_string()).unwrap();
    fs::write(dir.path().join("b-broken.json"), b"{\"Entries\": [").unwrap();
    fs::write(dir.path().join("notes.txt"), b"not a recording").unwrap();

    let err = Recording::load_dir(dir.path()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("b-broken.json"), "{text}");
    assert!(text.contains("not valid JSON"), "{text}");
    let (file, _) = invalid_message(Err(err));
    assert!(file.ends_with("b-broken.json"));

    fs::remove_file(dir.path().join("b-broken.json")).unwrap();
    let loaded = Recording::load_dir(dir.path()).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].name, "a-good");

    let missing = dir.path().join("missing.json");
    let err = Recording::load(&missing).unwrap_err();
    assert!(matches!(err, RecordingError::Io { .. }));
    assert!(err.to_string().contains("missing.json"), "{err}");
}

#[test]
fn each_kind_of_malformation_is_reported() {
    let valid = || entry("GET", "https://v.example/certificates", 200);
    let mut cases: Vec<(Value, &str)> = vec![
        (json!([]), "top level is not a JSON object"),
        (json!({}), "no `Entries`"),
        (json!({"Entries": {}}), "`Entries` is not an array"),
        (json!({"Entries": [], "Source": 3}), "`Source` is not a string"),
        (json!({"Entries": [1]}), "entry 0: not a JSON object"),
    ];
    let mutations: Vec<(&str, Value, &str)> = vec![
        ("RequestUri", json!(null), "`RequestUri` is not a string"),
        ("RequestUri", json!("/relative"), "not an absolute URI"),
        ("RequestUri", json!("https://bad host/"), "not a valid URI"),
        ("RequestMethod", json!("GE T"), "not a valid method"),
        ("StatusCode", json!("200"), "`StatusCode` is not a number"),
        ("StatusCode", json!(99), "not a valid HTTP status"),
        ("StatusCode", json!(70000), "not a valid HTTP status"),
        ("StatusCode", json!(-1), "not a valid HTTP status"),
        ("StatusCode", json!(200.5), "not a valid HTTP status"),
        ("RequestHeaders", json!([]), "`RequestHeaders` is not an object"),
        ("ResponseHeaders", json!({"bad name": "x"}), "not a valid header name"),
        ("ResponseHeaders", json!({"x": "a\nb"}), "invalid value"),
        ("ResponseHeaders", json!({"x": "a\u{0}b"}), "invalid value"),
        ("ResponseHeaders", json!({"x": 1}), "is not a string"),
        ("ResponseHeaders", json!({"x": ["a", 1]}), "not a string"),
    ];
    for (field, value, expected) in mutations {
        let mut bad = valid();
        bad[field] = value;
        cases.push((json!({"Entries": [valid(), bad]}), expected));
    }
    let mut no_status = valid();
    no_status.as_object_mut().unwrap().remove("StatusCode");
    cases.push((json!({"Entries": [no_status]}), "entry 0: no `StatusCode`"));

    for (document, expected) in cases {
        let (file, message) = invalid_message(Recording::parse("case", document.to_string().as_bytes()));
        assert_eq!(file, "case");
        assert!(message.contains(expected), "{document}: {message:?} lacks {expected:?}");
    }

    // Headers and bodies are optional.
    let minimal = json!({"Entries": [{"RequestUri": "http://v.example", "RequestMethod": "GET", "StatusCode": 200}]});
    let recording = Recording::parse("minimal", minimal.to_string().as_bytes()).unwrap();
    assert_eq!(recording.entries[0].response_body, RecordedBody::Absent);
    assert!(recording.entries[0].response().body().is_empty());
    assert!(recording.entries[0].response_headers.is_empty());
}

#[test]
fn empty_or_missing_directories_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = Recording::load_dir(dir.path()).unwrap_err();
    assert!(matches!(err, RecordingError::NoRecordings { .. }), "{err:?}");
    assert!(err.to_string().contains(&dir.path().display().to_string()));

    let missing = dir.path().join("nope");
    let err = Recording::load_dir(&missing).unwrap_err();
    assert!(matches!(err, RecordingError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("nope"), "{err}");
}

/// A JSON value of any shape, biased towards the shapes a recording has.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u16>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::from)),
        ".*".prop_map(Value::from),
        "(GET|POST|https?://[a-z.]{0,10}(:[0-9]{0,6})?/[ -~]{0,20}|[a-zA-Z-]{0,10})".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                "(RequestUri|RequestMethod|StatusCode|RequestHeaders|ResponseHeaders|RequestBody|ResponseBody|Entries|Source|[ -~]{0,8})",
                inner,
                0..8
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Recording::parse("fuzz", &bytes);
    }

    #[test]
    fn arbitrary_json_never_panics(entries in prop::collection::vec(arbitrary_json(), 0..4), source in arbitrary_json()) {
        let document = json!({"Entries": entries, "Source": source});
        if let Ok(recording) = Recording::parse("fuzz", document.to_string().as_bytes()) {
            for entry in &recording.entries {
                let _ = (entry.response(), entry.query_pairs(), entry.is_vault(), entry.request_body_bytes());
            }
            let _ = (recording.vault_authority(), recording.vault_origin(), recording.starts_with_challenge());
        }
    }

    #[test]
    fn mutated_real_entries_never_panic(field in "(RequestUri|RequestMethod|StatusCode|RequestHeaders|ResponseHeaders|RequestBody|ResponseBody)", value in arbitrary_json()) {
        let mut raw = entry("GET", "https://v.example/certificates?api-version=7.3", 200);
        raw[field.as_str()] = value;
        let document = json!({"Entries": [raw]});
        if let Ok(recording) = Recording::parse("fuzz", document.to_string().as_bytes()) {
            let _ = recording.entries[0].response();
        }
    }
}
