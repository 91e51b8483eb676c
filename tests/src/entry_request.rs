//! Rebuilding a recorded request with the core builders, and comparing the two.
//!
//! For an [`Entry`] of a recording: which operation it is, the request the core builds from the
//! inputs the entry carries (names, versions and query in the path, the JSON body where the
//! recorder captured it), and what differs between the recorded and the rebuilt request.

use std::collections::BTreeMap;

use kvcerts_core::models::{
    CertificateContacts, CertificateIssuer, CertificatePolicy, CertificateProperties, CreateCertificateParameters,
    DeletedCertificateProperties, ImportCertificateParameters, IssuerProperties, MergeCertificateParameters,
    RestoreCertificateParameters, UpdateCertificateParameters,
};
use kvcerts_core::{
    ApiVersion, Call, CreateCertificateOptions, ImportCertificateOptions, IssuerOptions, ListOptions,
    MergeCertificateOptions, Operation, RouteParams, UpdateCertificatePropertiesOptions, Vault,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::recording::{query_pairs, Entry, RecordedBody};

// ---- requests --------------------------------------------------------------------------

/// The vault of an entry: its scheme, host and api-version.
pub fn vault_for(entry: &Entry) -> Result<Vault, String> {
    let scheme = entry.uri.scheme_str().unwrap_or("https");
    let authority = entry.uri.authority().ok_or("the recorded URI has no host")?;
    let api_version = query_value(entry, "api-version").ok_or("the recorded request has no api-version")?;
    let options = kvcerts_core::VaultOptions::default()
        .api_version(ApiVersion::new(api_version).map_err(|e| e.to_string())?)
        .allow_insecure_loopback(true);
    Vault::with_options(&format!("{scheme}://{authority}"), options).map_err(|e| e.to_string())
}

/// The value of a query parameter of the recorded request.
pub fn query_value(entry: &Entry, name: &str) -> Option<String> {
    entry.query_pairs().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// The recorded JSON request body, when the recorder captured one and it is not the bodiless
/// challenge probe.
/// The recorded JSON request body, parsed.
pub fn recorded_body<T: DeserializeOwned>(entry: &Entry) -> Result<Option<T>, String> {
    match &entry.request_body {
        RecordedBody::Json(v) if !entry.is_challenge() => {
            serde_json::from_value(v.clone()).map(Some).map_err(|e| format!("recorded request body did not parse: {e}"))
        }
        _ => Ok(None),
    }
}

/// The request the core builds for `entry` (an [`Operation::identify`] result).
pub fn rebuild_request(
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
        Operation::GetContacts => req(vault.get_contacts().map_err(e)?),
        Operation::DeleteContacts => req(vault.delete_contacts().map_err(e)?),
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

/// What differs between the recorded request and `rebuilt` (method, path, query, body).
pub fn compare_requests(entry: &Entry, rebuilt: &http::Request<Vec<u8>>) -> Vec<String> {
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

/// The recorded JSON response body, parsed (`None` when absent or of another shape).
pub fn response_body<T: DeserializeOwned>(entry: &Entry) -> Option<T> {
    match &entry.response_body {
        RecordedBody::Json(v) => serde_json::from_value(v.clone()).ok(),
        _ => None,
    }
}
