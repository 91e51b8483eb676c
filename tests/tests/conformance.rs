//! Conformance with the real service: every recorded exchange in `KVCERTS_RECORDINGS` is
//! recognised, its response parsed by the core parser without losing a field, and its request
//! rebuilt by the core builder.
//!
//! Prints `recordings: N files, E entries, F failed` and fails when F > 0 or N = 0.

use kvcerts_core::models::{
    CertificateContacts, CertificateIssuer, CertificateOperation, CertificatePolicy, CertificateProperties,
    DeletedCertificate, DeletedCertificateProperties, DownloadedCertificate, IssuerProperties, KeyVaultCertificate,
    Page,
};
use kvcerts_core::{ErrorKind, Operation, Vault};
use kvcerts_tests::entry_request::{compare_requests, rebuild_request};
use kvcerts_tests::recording::{recordings_dir, Entry, RecordedBody, Recording};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

#[test]
fn every_recorded_exchange_conforms() {
    let dir = recordings_dir();
    let recordings = Recording::load_dir(&dir).unwrap_or_else(|e| panic!("cannot read recordings in {dir:?}: {e}"));
    let mut entries = 0;
    let mut skipped = 0;
    let mut failures = Vec::new();
    for recording in &recordings {
        for entry in &recording.entries {
            entries += 1;
            if !entry.is_vault() {
                skipped += 1;
                continue;
            }
            if let Err(problems) = check_entry(entry) {
                for problem in problems {
                    failures.push(format!(
                        "{} #{} {} {}: {problem}",
                        recording.name,
                        entry.index,
                        entry.method,
                        entry.uri.path()
                    ));
                }
            }
        }
    }
    for failure in &failures {
        eprintln!("FAILED {failure}");
    }
    let failed_entries = failures.len();
    println!(
        "recordings: {} files, {entries} entries, {failed_entries} failed ({skipped} addressed elsewhere, skipped)",
        recordings.len()
    );
    assert!(!recordings.is_empty(), "no recordings in {dir:?}");
    assert_eq!(failed_entries, 0, "{failed_entries} recorded exchanges do not conform");
}

/// Checks one vault entry; returns every problem found.
fn check_entry(entry: &Entry) -> Result<(), Vec<String>> {
    let Some((operation, params)) = Operation::identify(&entry.method, entry.uri.path()) else {
        return Err(vec!["no operation has this method and path".into()]);
    };
    let mut problems = Vec::new();
    if let Err(e) = check_response(entry, operation) {
        problems.extend(e);
    }
    match rebuild_request(entry, operation, &params) {
        Ok(request) => problems.extend(compare_requests(entry, &request)),
        Err(e) => problems.push(format!("rebuilding the request failed: {e}")),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

// ---- responses -------------------------------------------------------------------------

fn check_response(entry: &Entry, operation: Operation) -> Result<(), Vec<String>> {
    let response = entry.response();
    if !entry.status.is_success() {
        return check_error(entry, operation, &response).map_err(|e| vec![e]);
    }
    let reserialized = match operation {
        Operation::CreateCertificate
        | Operation::GetCertificateOperation
        | Operation::CancelCertificateOperation
        | Operation::DeleteCertificateOperation => roundtrip::<CertificateOperation>(&response),
        Operation::ImportCertificate
        | Operation::GetCertificate
        | Operation::GetCertificateVersion
        | Operation::UpdateCertificateProperties
        | Operation::MergeCertificate
        | Operation::RestoreCertificateBackup
        | Operation::RecoverDeletedCertificate => {
            same_as_serde(&response)?;
            roundtrip::<KeyVaultCertificate>(&response)
        }
        Operation::DeleteCertificate | Operation::GetDeletedCertificate => roundtrip::<DeletedCertificate>(&response),
        Operation::ListPropertiesOfCertificates | Operation::ListPropertiesOfCertificateVersions => {
            roundtrip::<Page<CertificateProperties>>(&response)
        }
        Operation::ListDeletedCertificates => roundtrip::<Page<DeletedCertificateProperties>>(&response),
        Operation::ListPropertiesOfIssuers => roundtrip::<Page<IssuerProperties>>(&response),
        Operation::GetCertificatePolicy | Operation::UpdateCertificatePolicy => {
            roundtrip::<CertificatePolicy>(&response)
        }
        Operation::SetContacts | Operation::GetContacts | Operation::DeleteContacts => {
            roundtrip::<CertificateContacts>(&response)
        }
        Operation::CreateIssuer | Operation::UpdateIssuer | Operation::GetIssuer | Operation::DeleteIssuer => {
            roundtrip::<CertificateIssuer>(&response)
        }
        Operation::BackupCertificate => {
            let vault = Vault::new("https://x.vault.azure.net").map_err(|e| vec![e.to_string()])?;
            let call = vault.backup_certificate("x").map_err(|e| vec![e.to_string()])?;
            let bytes = call.parse(&response).map_err(|e| vec![format!("backup did not parse: {e}")])?;
            Ok(serde_json::json!({ "value": kvcerts_core::models::encoding::encode_url(&bytes) }))
        }
        Operation::PurgeDeletedCertificate => {
            let vault = Vault::new("https://x.vault.azure.net").map_err(|e| vec![e.to_string()])?;
            let call = vault.purge_deleted_certificate("x").map_err(|e| vec![e.to_string()])?;
            call.parse(&response).map_err(|e| vec![format!("purge answer did not parse: {e}")])?;
            Ok(Value::Null)
        }
        Operation::DownloadCertificate => check_download(&response),
        other => Err(vec![format!("no parser for {other:?}")]),
    }?;
    let recorded = match &entry.response_body {
        RecordedBody::Json(v) => v.clone(),
        RecordedBody::Null | RecordedBody::Absent => Value::Null,
        RecordedBody::Text(t) => return Err(vec![format!("a 2xx answer is text, not JSON: {t:.80}")]),
    };
    let mut problems = Vec::new();
    contains_all("", &recorded, &reserialized, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The bundle parser (its own reader for plain bodies, serde for the rest) gives what serde
/// gives, on the body as recorded (pretty-printed) and as the service sends it (compact).
fn same_as_serde(response: &http::Response<Vec<u8>>) -> Result<(), Vec<String>> {
    let vault = Vault::new("https://x.vault.azure.net").map_err(|e| vec![e.to_string()])?;
    let compact = serde_json::from_slice::<Value>(response.body())
        .and_then(|json| serde_json::to_vec(&json))
        .map_err(|e| vec![format!("did not parse: {e}")])?;
    for body in [response.body().clone(), compact] {
        let call = vault.get_certificate("x").map_err(|e| vec![e.to_string()])?;
        let parsed = call.parse(&http::Response::new(body.clone())).map_err(|e| vec![format!("did not parse: {e}")])?;
        let decoded: KeyVaultCertificate = serde_json::from_slice(&body).map_err(|e| vec![e.to_string()])?;
        if parsed != decoded {
            return Err(vec![format!("the bundle parser read {parsed:?}, serde {decoded:?}")]);
        }
    }
    Ok(())
}

/// Parses with the core model and serializes it back.
fn roundtrip<T: DeserializeOwned + Serialize>(response: &http::Response<Vec<u8>>) -> Result<Value, Vec<String>> {
    let model: T = serde_json::from_slice(response.body()).map_err(|e| vec![format!("did not parse: {e}")])?;
    serde_json::to_value(&model).map_err(|e| vec![format!("did not serialize: {e}")])
}

/// A download parses into the model; the call's parser accepts it exactly when it holds a key.
fn check_download(response: &http::Response<Vec<u8>>) -> Result<Value, Vec<String>> {
    let model: DownloadedCertificate =
        serde_json::from_slice(response.body()).map_err(|e| vec![format!("did not parse: {e}")])?;
    let vault = Vault::new("https://x.vault.azure.net").map_err(|e| vec![e.to_string()])?;
    let call = vault.download_certificate("x", None, None).map_err(|e| vec![e.to_string()])?;
    match (call.parse(response), model.has_private_key()) {
        (Ok(_), true) => {}
        (Err(e), false) if e.kind() == ErrorKind::InvalidInput && e.to_string().contains("not exportable") => {}
        (result, has_key) => {
            return Err(vec![format!("download parser gave {:?} for a secret with key={has_key}", result.err())])
        }
    }
    // The secret value round-trips through `SecretString` unchanged.
    let mut value = serde_json::to_value(&model).map_err(|e| vec![e.to_string()])?;
    if let Some(v) = value.get_mut("value") {
        *v = Value::String(model.value.expose_secret().to_owned());
    }
    Ok(value)
}

/// An error answer becomes the typed error for its status, with the service's code and message.
fn check_error(entry: &Entry, operation: Operation, response: &http::Response<Vec<u8>>) -> Result<(), String> {
    let error = kvcerts_core::response::service_error(operation, response);
    let expected_kind = match entry.status.as_u16() {
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        429 => ErrorKind::Throttled,
        _ => ErrorKind::Service,
    };
    if error.kind() != expected_kind {
        return Err(format!("status {} gave error kind {:?}", entry.status, error.kind()));
    }
    if let RecordedBody::Json(body) = &entry.response_body {
        let recorded_code = body.pointer("/error/code").and_then(Value::as_str);
        let recorded_message = body.pointer("/error/message").and_then(Value::as_str);
        let service = error.service_error().ok_or("not a service error")?;
        if recorded_code != service.code.as_deref() || recorded_message != service.message.as_deref() {
            return Err(format!(
                "error code/message lost: recorded {recorded_code:?}/{recorded_message:?}, parsed {:?}/{:?}",
                service.code, service.message
            ));
        }
        let mut inner = body.pointer("/error/innererror");
        let mut depth = 0;
        while let Some(level) = inner.filter(|v| !v.is_null()) {
            let code = level.get("code").and_then(Value::as_str);
            if service.inner.get(depth).and_then(|d| d.code.as_deref()) != code {
                return Err(format!("inner error {depth} lost: recorded {code:?}"));
            }
            depth += 1;
            inner = level.get("innererror");
        }
    }
    let recorded_request_id = entry.response_headers.get("x-ms-request-id").and_then(|v| v.to_str().ok());
    if error.request_id() != recorded_request_id {
        return Err(format!("x-ms-request-id lost: recorded {recorded_request_id:?}, parsed {:?}", error.request_id()));
    }
    if let Some(service) = error.service_error() {
        let recorded = |name: &str| entry.response_headers.get(name).and_then(|v| v.to_str().ok());
        if service.region.as_deref() != recorded("x-ms-keyvault-region")
            || service.service_version.as_deref() != recorded("x-ms-keyvault-service-version")
        {
            return Err(format!(
                "region or service version lost: parsed {:?} {:?}",
                service.region, service.service_version
            ));
        }
    }
    Ok(())
}

/// Every field of `recorded` is in `ours` with an equal value (`null` counts as absent).
fn contains_all(path: &str, recorded: &Value, ours: &Value, problems: &mut Vec<String>) {
    match (recorded, ours) {
        (Value::Null, _) => {}
        (Value::Object(r), Value::Object(o)) => {
            for (key, value) in r {
                let child = format!("{path}.{key}");
                match o.get(key) {
                    Some(v) => contains_all(&child, value, v, problems),
                    None if value.is_null() => {}
                    None => problems.push(format!("field `{child}` is unknown to the models (value lost)")),
                }
            }
        }
        (Value::Array(r), Value::Array(o)) if r.len() == o.len() => {
            for (i, (a, b)) in r.iter().zip(o).enumerate() {
                contains_all(&format!("{path}[{i}]"), a, b, problems);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (a, b) if a == b => {}
        (a, b) => problems.push(format!("field `{path}` changed: recorded {a:.120}, parsed back {b:.120}")),
    }
}

// ---- the checks themselves can fail ------------------------------------------------------

fn entry_from(json: Value) -> Entry {
    let recording = serde_json::json!({ "Entries": [json] });
    Recording::parse("synthetic", recording.to_string().as_bytes()).expect("synthetic recording").entries.remove(0)
}

fn contacts_entry(response_body: Value, request_body: Option<Value>, path: &str) -> Value {
    let mut entry = serde_json::json!({
        "RequestUri": format!("https://v.vault.azure.net{path}?api-version=7.4"),
        "RequestMethod": "PUT",
        "RequestHeaders": {},
        "StatusCode": 200,
        "ResponseHeaders": { "content-type": "application/json" },
        "ResponseBody": response_body,
    });
    if let Some(body) = request_body {
        entry["RequestBody"] = body;
    }
    entry
}

#[test]
fn conforming_entry_passes() {
    let body = serde_json::json!({ "contacts": [{ "email": "a@b.c", "name": "A" }] });
    let entry = entry_from(contacts_entry(body.clone(), Some(body), "/certificates/contacts"));
    assert_eq!(check_entry(&entry), Ok(()));
}

#[test]
fn unknown_response_fields_are_reported_by_name() {
    let request = serde_json::json!({ "contacts": [{ "email": "a@b.c" }] });
    let response = serde_json::json!({ "contacts": [{ "email": "a@b.c", "pager": "555" }], "etag": "x" });
    let problems =
        check_entry(&entry_from(contacts_entry(response, Some(request), "/certificates/contacts"))).unwrap_err();
    assert!(problems.iter().any(|p| p.contains("`.contacts[0].pager`")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("`.etag`")), "{problems:?}");
}

#[test]
fn request_body_differences_are_reported() {
    let recorded_request = serde_json::json!({ "contacts": [{ "email": "a@b.c" }], "extra": true });
    let response = serde_json::json!({ "contacts": [{ "email": "a@b.c" }] });
    let problems = check_entry(&entry_from(contacts_entry(response, Some(recorded_request), "/certificates/contacts")))
        .unwrap_err();
    assert!(problems.iter().any(|p| p.starts_with("body:")), "{problems:?}");
}

#[test]
fn unknown_operations_and_type_changes_are_reported() {
    let response = serde_json::json!({ "contacts": [] });
    let problems = check_entry(&entry_from(contacts_entry(response, None, "/certificates/contactz"))).unwrap_err();
    assert!(problems[0].contains("no operation"), "{problems:?}");

    let mut problems = Vec::new();
    contains_all("", &serde_json::json!({ "exp": 5 }), &serde_json::json!({ "exp": "5" }), &mut problems);
    assert_eq!(problems.len(), 1, "{problems:?}");
}
