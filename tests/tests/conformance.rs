//! Conformance with the real service: every recorded exchange in `KVCERTS_RECORDINGS` is
//! recognised, its response parsed by the core parser without losing a field, and its request
//! rebuilt by the core builder.
//!
//! Prints `recordings: N files, E entries, F failed` and fails when F > 0 or N = 0.

use std::collections::BTreeMap;

use kvcerts_core::models::{
    CertificateContacts, CertificateIssuer, CertificateOperation, CertificatePolicy, CertificateProperties,
    CreateCertificateParameters, DeletedCertificate, DeletedCertificateProperties, DownloadedCertificate,
    ImportCertificateParameters, IssuerProperties, KeyVaultCertificate, MergeCertificateParameters, Page,
    RestoreCertificateParameters, UpdateCertificateParameters,
};
use kvcerts_core::{
    ApiVersion, Call, CreateCertificateOptions, ErrorKind, ImportCertificateOptions, IssuerOptions, ListOptions,
    MergeCertificateOptions, Operation, RouteParams, UpdateCertificatePropertiesOptions, Vault,
};
use kvcerts_tests::recording::{query_pairs, recordings_dir, Entry, RecordedBody, Recording};
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
        | Operation::RecoverDeletedCertificate => roundtrip::<KeyVaultCertificate>(&response),
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

// ---- requests --------------------------------------------------------------------------

fn vault_for(entry: &Entry) -> Result<Vault, String> {
    let scheme = entry.uri.scheme_str().unwrap_or("https");
    let authority = entry.uri.authority().ok_or("the recorded URI has no host")?;
    let api_version = query_value(entry, "api-version").ok_or("the recorded request has no api-version")?;
    let options = kvcerts_core::VaultOptions::default()
        .api_version(ApiVersion::new(api_version).map_err(|e| e.to_string())?)
        .allow_insecure_loopback(true);
    Vault::with_options(&format!("{scheme}://{authority}"), options).map_err(|e| e.to_string())
}

fn query_value(entry: &Entry, name: &str) -> Option<String> {
    entry.query_pairs().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// The recorded JSON request body, when the recorder captured one and it is not the bodiless
/// challenge probe.
fn recorded_body<T: DeserializeOwned>(entry: &Entry) -> Result<Option<T>, String> {
    match &entry.request_body {
        RecordedBody::Json(v) if !entry.is_challenge() => {
            serde_json::from_value(v.clone()).map(Some).map_err(|e| format!("recorded request body did not parse: {e}"))
        }
        _ => Ok(None),
    }
}

fn rebuild_request(
    entry: &Entry,
    operation: Operation,
    params: &RouteParams,
) -> Result<http::Request<Vec<u8>>, String> {
    let vault = vault_for(entry)?;
    let name = params.name.as_deref().unwrap_or("");
    let version = params.version.as_deref();
    let e = |e: kvcerts_core::Error| e.to_string();
    let list_options = || {
        let mut options = ListOptions::default();
        if let Some(size) = query_value(entry, "maxresults") {
            options = options.max_page_size(size.parse().unwrap_or(0));
        }
        if let Some(pending) = query_value(entry, "includePending") {
            options = options.include_pending(pending == "true");
        }
        options
    };
    let is_next_link = query_value(entry, "$skiptoken").is_some();
    fn req<T>(call: Call<T>) -> http::Request<Vec<u8>> {
        call.into_parts().0
    }
    Ok(match operation {
        Operation::CreateCertificate => {
            let body: CreateCertificateParameters = recorded_body(entry)?.unwrap_or_default();
            let options = CreateCertificateOptions {
                enabled: body.attributes.as_ref().and_then(|a| a.enabled),
                tags: body.tags.clone(),
                preserve_order: body.preserve_order,
            };
            req(vault.create_certificate(name, &body.policy.unwrap_or_default(), &options).map_err(e)?)
        }
        Operation::ImportCertificate => {
            let body: Option<ImportCertificateParameters> = recorded_body(entry)?;
            let Some(body) = body else {
                // Not captured: rebuild the request line only, with a stand-in PKCS#12.
                return Ok(placeholder(&vault, http::Method::POST, entry));
            };
            let bytes = kvcerts_core::models::encoding::decode_base64(body.value.expose_secret())
                .map_err(|err| format!("recorded import value is not base64: {err}"))?;
            let options = ImportCertificateOptions {
                password: body.password.clone(),
                policy: body.policy.clone(),
                enabled: body.attributes.as_ref().and_then(|a| a.enabled),
                tags: body.tags.clone(),
                preserve_order: body.preserve_order,
            };
            req(vault.import_certificate(name, &bytes, &options).map_err(e)?)
        }
        Operation::GetCertificate => req(vault.get_certificate(name).map_err(e)?),
        Operation::GetCertificateVersion => {
            req(vault.get_certificate_version(name, version.unwrap_or("")).map_err(e)?)
        }
        Operation::UpdateCertificateProperties => {
            let body: UpdateCertificateParameters = recorded_body(entry)?.unwrap_or_default();
            let mut update = UpdateCertificatePropertiesOptions::default();
            if let Some(a) = &body.attributes {
                update.enabled = a.enabled;
                update.not_before = a.not_before;
                update.expires_on = a.expires_on;
            }
            update.tags = body.tags.clone();
            req(vault.update_certificate_properties(name, version, &update).map_err(e)?)
        }
        Operation::DeleteCertificate => req(vault.delete_certificate(name).map_err(e)?),
        Operation::ListPropertiesOfCertificates if is_next_link => {
            req(vault.next_page::<CertificateProperties>(operation, &entry.uri.to_string()).map_err(e)?)
        }
        Operation::ListPropertiesOfCertificates => {
            req(vault.list_properties_of_certificates(&list_options()).map_err(e)?)
        }
        Operation::ListPropertiesOfCertificateVersions if is_next_link => {
            req(vault.next_page::<CertificateProperties>(operation, &entry.uri.to_string()).map_err(e)?)
        }
        Operation::ListPropertiesOfCertificateVersions => {
            req(vault.list_properties_of_certificate_versions(name, &list_options()).map_err(e)?)
        }
        Operation::ListDeletedCertificates if is_next_link => {
            req(vault.next_page::<DeletedCertificateProperties>(operation, &entry.uri.to_string()).map_err(e)?)
        }
        Operation::ListDeletedCertificates => req(vault.list_deleted_certificates(&list_options()).map_err(e)?),
        Operation::ListPropertiesOfIssuers if is_next_link => {
            req(vault.next_page::<IssuerProperties>(operation, &entry.uri.to_string()).map_err(e)?)
        }
        Operation::ListPropertiesOfIssuers => req(vault.list_properties_of_issuers(&list_options()).map_err(e)?),
        Operation::GetCertificatePolicy => req(vault.get_certificate_policy(name).map_err(e)?),
        Operation::UpdateCertificatePolicy => {
            let body: CertificatePolicy = recorded_body(entry)?.unwrap_or_else(CertificatePolicy::empty);
            req(vault.update_certificate_policy(name, &body).map_err(e)?)
        }
        Operation::GetCertificateOperation => req(vault.get_certificate_operation(name).map_err(e)?),
        Operation::CancelCertificateOperation => req(vault.cancel_certificate_operation(name).map_err(e)?),
        Operation::DeleteCertificateOperation => req(vault.delete_certificate_operation(name).map_err(e)?),
        Operation::MergeCertificate => {
            let body: Option<MergeCertificateParameters> = recorded_body(entry)?;
            let body = body.unwrap_or_else(|| {
                serde_json::from_value(serde_json::json!({ "x5c": ["MAA="] })).expect("stand-in merge body")
            });
            let options = MergeCertificateOptions {
                enabled: body.attributes.as_ref().and_then(|a| a.enabled),
                tags: body.tags.clone(),
            };
            req(vault.merge_certificate(name, &body.x509_certificates, &options).map_err(e)?)
        }
        Operation::BackupCertificate => req(vault.backup_certificate(name).map_err(e)?),
        Operation::RestoreCertificateBackup => {
            let body: Option<RestoreCertificateParameters> = recorded_body(entry)?;
            let blob = body.and_then(|b| b.value).unwrap_or_else(|| vec![0]);
            req(vault.restore_certificate_backup(&blob).map_err(e)?)
        }
        Operation::GetDeletedCertificate => req(vault.get_deleted_certificate(name).map_err(e)?),
        Operation::PurgeDeletedCertificate => req(vault.purge_deleted_certificate(name).map_err(e)?),
        Operation::RecoverDeletedCertificate => req(vault.recover_deleted_certificate(name).map_err(e)?),
        Operation::SetContacts => {
            let body: CertificateContacts = recorded_body(entry)?.unwrap_or_else(|| {
                serde_json::from_value(serde_json::json!({ "contacts": [{ "email": "a@b.c" }] })).expect("stand-in")
            });
            req(vault.set_contacts(&body.contacts).map_err(e)?)
        }
        Operation::GetContacts => req(vault.get_contacts()),
        Operation::DeleteContacts => req(vault.delete_contacts()),
        Operation::CreateIssuer | Operation::UpdateIssuer => {
            let body: CertificateIssuer = recorded_body(entry)?
                .unwrap_or_else(|| CertificateIssuer { provider: Some("Test".into()), ..Default::default() });
            let mut options = IssuerOptions::default();
            if let Some(c) = &body.credentials {
                options.account_id = c.account_id.clone();
                options.password = c.password.clone();
            }
            if let Some(o) = &body.organization_details {
                options.organization_id = o.id.clone();
                options.admin_contacts = o.admin_contacts.clone();
            }
            options.enabled = body.attributes.as_ref().and_then(|a| a.enabled);
            if operation == Operation::CreateIssuer {
                req(vault.create_issuer(name, body.provider.as_deref().unwrap_or("Test"), &options).map_err(e)?)
            } else {
                req(vault.update_issuer(name, body.provider.as_deref(), &options).map_err(e)?)
            }
        }
        Operation::GetIssuer => req(vault.get_issuer(name).map_err(e)?),
        Operation::DeleteIssuer => req(vault.delete_issuer(name).map_err(e)?),
        Operation::DownloadCertificate => {
            let out = query_value(entry, "outContentType")
                .map(|v| kvcerts_core::models::CertificateContentType::from(v.as_str()));
            req(vault.download_certificate(name, version, out.as_ref()).map_err(e)?)
        }
        other => return Err(format!("no builder for {other:?}")),
    })
}

/// A request with the recorded method and URI, for operations whose body was not captured and
/// cannot be stood in for (the comparison then covers method, path and query only).
fn placeholder(vault: &Vault, method: http::Method, entry: &Entry) -> http::Request<Vec<u8>> {
    let uri = format!("{}{}", vault.url(), entry.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut request = http::Request::new(Vec::new());
    *request.method_mut() = method;
    *request.uri_mut() = uri.parse().unwrap_or_default();
    request
}

fn compare_requests(entry: &Entry, rebuilt: &http::Request<Vec<u8>>) -> Vec<String> {
    let mut problems = Vec::new();
    if rebuilt.method() != entry.method {
        problems.push(format!("method: recorded {}, built {}", entry.method, rebuilt.method()));
    }
    let trim = |p: &str| p.trim_end_matches('/').to_owned();
    if trim(rebuilt.uri().path()) != trim(entry.uri.path()) {
        problems.push(format!("path: recorded {}, built {}", entry.uri.path(), rebuilt.uri().path()));
    }
    let sorted = |pairs: Vec<(String, String)>| pairs.into_iter().collect::<BTreeMap<_, _>>();
    let recorded_query = sorted(entry.query_pairs());
    let built_query = sorted(query_pairs(rebuilt.uri().query().unwrap_or("")));
    if recorded_query != built_query {
        problems.push(format!("query: recorded {recorded_query:?}, built {built_query:?}"));
    }
    // Bodies only where the recorder captured them, and not for the bodiless challenge probe.
    if entry.request_body.is_recorded() && !entry.is_challenge() {
        let recorded = match &entry.request_body {
            RecordedBody::Json(v) => v.clone(),
            RecordedBody::Text(t) => Value::String(t.clone()),
            _ => Value::Null,
        };
        let built = if rebuilt.body().is_empty() {
            Value::Null
        } else {
            match serde_json::from_slice::<Value>(rebuilt.body()) {
                Ok(v) => v,
                Err(err) => {
                    problems.push(format!("built body is not JSON: {err}"));
                    return problems;
                }
            }
        };
        if recorded != built {
            problems.push(format!("body: recorded {recorded}, built {built}"));
        }
    }
    problems
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
