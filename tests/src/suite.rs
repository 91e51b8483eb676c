//! The end-to-end suite, written once for every transport: the scenario of a recording run
//! through a client's typed API against a [`PlaybackServer`](crate::PlaybackServer).
//!
//! [`run_scenario`] walks the recording and, for each operation the recorded client performed,
//! calls the same operation on a [`SuiteClient`]: pollers where the recording shows polling
//! (create → `/pending` polls, delete → `/deletedcertificates` polls, recover → certificate
//! polls), pagers for lists, single calls for the rest. It checks each outcome against the
//! recording (success, or the typed error for the recorded status). The server checks that the
//! requests match.

use kvcerts_core::flows::CreateOutcome;
use kvcerts_core::models::{
    CertificateContact, CertificateContacts, CertificateContentType, CertificateIssuer, CertificatePolicy,
    CertificateProperties, CreateCertificateParameters, DeletedCertificate, DeletedCertificateProperties,
    ImportCertificateParameters, IssuerProperties, KeyVaultCertificate, MergeCertificateParameters,
    RestoreCertificateParameters, UpdateCertificateParameters,
};
use kvcerts_core::{
    CreateCertificateOptions, Error, ErrorKind, ImportCertificateOptions, IssuerOptions, ListOptions,
    MergeCertificateOptions, Operation, UpdateCertificatePropertiesOptions,
};
use serde_json::Value;

use crate::entry_request::{query_value, recorded_body};
use crate::recording::{Entry, Recording};

/// What the suite asks of a client: the typed API of `kvcerts-ureq` and `kvcerts-hyper` (the
/// async one through a runtime's `block_on`).
pub trait SuiteClient {
    /// `begin_create_certificate` polled to its end.
    fn create_and_wait(
        &self,
        name: &str,
        policy: &CertificatePolicy,
        options: &CreateCertificateOptions,
    ) -> Result<CreateOutcome, Error>;
    /// `begin_create_certificate`, one round only (sends the create, does not poll); the
    /// poller's continuation token.
    fn create_without_polling(
        &self,
        name: &str,
        policy: &CertificatePolicy,
        options: &CreateCertificateOptions,
    ) -> Result<String, Error>;
    /// `resume_create_certificate` from a continuation token, polled to its end.
    fn resume_create_and_wait(&self, continuation_token: &str) -> Result<CreateOutcome, Error>;
    /// `begin_delete_certificate`, polled to its end when `wait`, else one round.
    fn delete(&self, name: &str, wait: bool) -> Result<Option<DeletedCertificate>, Error>;
    /// `begin_recover_deleted_certificate`, polled to its end when `wait`, else one round.
    fn recover(&self, name: &str, wait: bool) -> Result<Option<KeyVaultCertificate>, Error>;
    /// Every item of `list_properties_of_certificates`.
    fn list_certificates(&self, options: &ListOptions) -> Result<Vec<CertificateProperties>, Error>;
    /// Every item of `list_properties_of_certificate_versions`.
    fn list_versions(&self, name: &str, options: &ListOptions) -> Result<Vec<CertificateProperties>, Error>;
    /// Every item of `list_deleted_certificates`.
    fn list_deleted(&self, options: &ListOptions) -> Result<Vec<DeletedCertificateProperties>, Error>;
    /// Every item of `list_properties_of_issuers`.
    fn list_issuers(&self, options: &ListOptions) -> Result<Vec<IssuerProperties>, Error>;
    /// One of the single-exchange operations, with its inputs; the result as JSON.
    fn exchange(&self, operation: Operation, inputs: &Inputs) -> Result<Value, Error>;
}

/// The inputs of a single-exchange operation, taken from a recorded entry.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Certificate or issuer name.
    pub name: String,
    /// Version.
    pub version: Option<String>,
    /// Properties update.
    pub update: UpdateCertificatePropertiesOptions,
    /// Policy (policy update).
    pub policy: CertificatePolicy,
    /// Certificate to import (PEM or PKCS#12).
    pub import: Vec<u8>,
    /// Import options.
    pub import_options: ImportCertificateOptions,
    /// Certificates to merge (DER).
    pub merge: Vec<Vec<u8>>,
    /// Merge options.
    pub merge_options: MergeCertificateOptions,
    /// Backup blob to restore.
    pub backup: Vec<u8>,
    /// Contacts to set.
    pub contacts: Vec<CertificateContact>,
    /// Issuer provider.
    pub provider: Option<String>,
    /// Issuer options.
    pub issuer: IssuerOptions,
    /// `outContentType` of a download.
    pub out_content_type: Option<CertificateContentType>,
}

/// Calls the single-exchange operation `$op` on `$client` with `$inputs`, appending `$($aw)*`
/// (`.await` for async clients) to each call; evaluates to `Result<serde_json::Value, Error>`.
#[macro_export]
macro_rules! suite_exchange {
    ($client:expr, $op:expr, $inputs:expr, [$($aw:tt)*]) => {{
        use $crate::suite::to_json;
        use kvcerts_core::Operation as Op;
        let (c, i) = ($client, $inputs);
        let v = i.version.as_deref();
        match $op {
            Op::GetCertificate => to_json(c.get_certificate(&i.name)$($aw)*),
            Op::GetCertificateVersion => to_json(c.get_certificate_version(&i.name, v.unwrap_or(""))$($aw)*),
            Op::UpdateCertificateProperties => to_json(c.update_certificate_properties(&i.name, v, &i.update)$($aw)*),
            Op::GetDeletedCertificate => to_json(c.get_deleted_certificate(&i.name)$($aw)*),
            Op::PurgeDeletedCertificate => to_json(c.purge_deleted_certificate(&i.name)$($aw)*),
            Op::ImportCertificate => to_json(c.import_certificate(&i.name, &i.import, &i.import_options)$($aw)*),
            Op::GetCertificatePolicy => to_json(c.get_certificate_policy(&i.name)$($aw)*),
            Op::UpdateCertificatePolicy => to_json(c.update_certificate_policy(&i.name, &i.policy)$($aw)*),
            Op::BackupCertificate => to_json(c.backup_certificate(&i.name)$($aw)*),
            Op::RestoreCertificateBackup => to_json(c.restore_certificate_backup(&i.backup)$($aw)*),
            Op::GetCertificateOperation => to_json(c.get_certificate_operation(&i.name)$($aw)*),
            Op::CancelCertificateOperation => to_json(c.cancel_certificate_operation(&i.name)$($aw)*),
            Op::DeleteCertificateOperation => to_json(c.delete_certificate_operation(&i.name)$($aw)*),
            Op::MergeCertificate => to_json(c.merge_certificate(&i.name, &i.merge, &i.merge_options)$($aw)*),
            Op::SetContacts => to_json(c.set_contacts(&i.contacts)$($aw)*),
            Op::GetContacts => to_json(c.get_contacts()$($aw)*),
            Op::DeleteContacts => to_json(c.delete_contacts()$($aw)*),
            Op::GetIssuer => to_json(c.get_issuer(&i.name)$($aw)*),
            Op::CreateIssuer => {
                to_json(c.create_issuer(&i.name, i.provider.as_deref().unwrap_or("Test"), &i.issuer)$($aw)*)
            }
            Op::UpdateIssuer => to_json(c.update_issuer(&i.name, i.provider.as_deref(), &i.issuer)$($aw)*),
            Op::DeleteIssuer => to_json(c.delete_issuer(&i.name)$($aw)*),
            Op::DownloadCertificate => {
                to_json(c.download_certificate(&i.name, v, i.out_content_type.as_ref())$($aw)*)
            }
            other => Err(kvcerts_core::Error::Misuse(format!("{other:?} is not a single exchange"))),
        }
    }};
}

/// Serializes a result for comparison (`()` becomes `null`).
pub fn to_json<T: serde::Serialize>(result: Result<T, Error>) -> Result<Value, Error> {
    result.map(|v| serde_json::to_value(v).unwrap_or(Value::Null))
}

/// A stand-in certificate with its PKCS#8 key, for imports whose body the recorder did not
/// capture (the playback server answers with the recorded response whatever is sent).
fn stand_in_pem() -> Vec<u8> {
    let generated = rcgen::generate_simple_self_signed(vec!["suite.example".to_owned()]);
    match generated {
        Ok(c) => format!("{}{}", c.cert.pem(), c.signing_key.serialize_pem()).into_bytes(),
        Err(_) => Vec::new(),
    }
}

/// The smallest well-formed PKCS#12: version 3, an empty id-data authSafe, no MAC (so no
/// password to check); the playback server answers with the recorded response whatever is sent.
const STAND_IN_PKCS12: &[u8] = &[
    0x30, 0x16, 0x02, 0x01, 0x03, 0x30, 0x11, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0,
    0x04, 0x04, 0x02, 0x30, 0x00,
];

/// The inputs the recorded request carried (its body where captured, stand-ins otherwise).
fn inputs_for(entry: &Entry, operation: Operation, last_backup: &[u8]) -> Result<Inputs, String> {
    let params = Operation::identify(&entry.method, entry.uri.path()).map(|(_, p)| p).unwrap_or_default();
    let mut inputs = Inputs { name: params.name.unwrap_or_default(), version: params.version, ..Default::default() };
    match operation {
        Operation::UpdateCertificateProperties => {
            let body: UpdateCertificateParameters = recorded_body(entry)?.unwrap_or_default();
            if let Some(a) = body.attributes {
                inputs.update.enabled = a.enabled;
                inputs.update.not_before = a.not_before;
                inputs.update.expires_on = a.expires_on;
            }
            inputs.update.tags = body.tags;
        }
        Operation::UpdateCertificatePolicy => {
            inputs.policy = recorded_body(entry)?.unwrap_or_else(CertificatePolicy::empty);
        }
        Operation::ImportCertificate => {
            let body: Option<ImportCertificateParameters> = recorded_body(entry)?;
            let pkcs12 = entry.uri.path().to_ascii_lowercase().contains("pkcs");
            inputs.import = match &body {
                Some(b) => {
                    kvcerts_core::models::encoding::decode_base64(b.value.expose_secret()).map_err(|e| e.to_string())?
                }
                None if pkcs12 => STAND_IN_PKCS12.to_vec(),
                None => stand_in_pem(),
            };
            if let Some(b) = body {
                inputs.import_options.password = b.password;
                inputs.import_options.policy = b.policy;
                inputs.import_options.tags = b.tags;
            } else if pkcs12 {
                inputs.import_options.password = Some("".into());
            }
        }
        Operation::MergeCertificate => {
            let body: Option<MergeCertificateParameters> = recorded_body(entry)?;
            inputs.merge = body.map(|b| b.x509_certificates).unwrap_or_else(|| vec![vec![0x30, 0x00]]);
        }
        Operation::RestoreCertificateBackup => {
            let body: Option<RestoreCertificateParameters> = recorded_body(entry)?;
            inputs.backup = body.and_then(|b| b.value).unwrap_or_else(|| last_backup.to_vec());
            if inputs.backup.is_empty() {
                inputs.backup = vec![0];
            }
        }
        Operation::SetContacts => {
            let body: Option<CertificateContacts> = recorded_body(entry)?;
            inputs.contacts = match body {
                Some(b) => b.contacts,
                // Not captured: the contacts the service echoed.
                None => crate::entry_request::response_body::<CertificateContacts>(entry)
                    .map(|c| c.contacts)
                    .unwrap_or_default(),
            };
        }
        Operation::CreateIssuer | Operation::UpdateIssuer => {
            let body: Option<CertificateIssuer> = recorded_body(entry)?;
            let body =
                body.or_else(|| crate::entry_request::response_body::<CertificateIssuer>(entry)).unwrap_or_default();
            inputs.provider = body.provider.clone();
            if let Some(c) = body.credentials {
                inputs.issuer.account_id = c.account_id;
                inputs.issuer.password = c.password;
            }
            if let Some(o) = body.organization_details {
                inputs.issuer.organization_id = o.id;
                inputs.issuer.admin_contacts = o.admin_contacts;
            }
            inputs.issuer.enabled = body.attributes.and_then(|a| a.enabled);
        }
        Operation::DownloadCertificate => {
            inputs.out_content_type =
                query_value(entry, "outContentType").map(|v| CertificateContentType::from(v.as_str()));
        }
        _ => {}
    }
    Ok(inputs)
}

/// The error kind the suite expects for a recorded status.
pub fn expected_kind(status: http::StatusCode) -> ErrorKind {
    match status.as_u16() {
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        429 => ErrorKind::Throttled,
        _ => ErrorKind::Service,
    }
}

fn check<T>(what: &str, result: Result<T, Error>, entry: &Entry) -> Result<T, String> {
    let keyless_download = entry.uri.path().starts_with("/secrets/")
        && crate::entry_request::response_body::<kvcerts_core::models::DownloadedCertificate>(entry)
            .is_some_and(|d| !d.has_private_key());
    match result {
        Err(e)
            if keyless_download && e.kind() == ErrorKind::InvalidInput && e.to_string().contains("not exportable") =>
        {
            Err(String::new())
        }
        Ok(_) if keyless_download => Err(format!("{what} accepted a secret without a private key")),
        Ok(v) if entry.status.is_success() => Ok(v),
        Ok(_) => Err(format!("{what} succeeded, but the service answered {}", entry.status)),
        Err(e) if !entry.status.is_success() => {
            if e.kind() == expected_kind(entry.status) && e.status() == Some(entry.status) {
                Err(String::new())
            } else {
                Err(format!("{what}: expected a {:?} error for {}, got {e}", expected_kind(entry.status), entry.status))
            }
        }
        Err(e) => Err(format!("{what} failed: {e}")),
    }
}

/// Runs the scenario of `recording` on `client`; the problems found (empty: it conforms). The
/// playback server's own mismatches are checked by the caller.
pub fn run_scenario(client: &dyn SuiteClient, recording: &Recording) -> Vec<String> {
    let entries: Vec<&Entry> = recording.vault_entries().filter(|e| !e.is_challenge()).collect();
    let mut problems = Vec::new();
    let mut last_backup = Vec::new();
    // A creation the recorded client resumed from its continuation token: (token, the entry
    // where the resumed poller starts).
    let mut resume: Option<(String, usize)> = None;
    let mut i = 0;
    while i < entries.len() {
        let entry = entries[i];
        let Some((operation, params)) = Operation::identify(&entry.method, entry.uri.path()) else {
            problems.push(format!("entry {}: unknown operation", entry.index));
            i += 1;
            continue;
        };
        let name = params.name.clone().unwrap_or_default();
        // How many following entries poll `path`, up to and including the first answer for
        // which `done` holds (a poller stops there; later GETs are the test's own).
        let polls_of = |path: &str, done: &dyn Fn(&Entry) -> bool| {
            let mut n = 0;
            for e in &entries[i + 1..] {
                if e.method != http::Method::GET || e.uri.path().trim_end_matches('/') != path {
                    break;
                }
                n += 1;
                if done(e) {
                    break;
                }
            }
            n
        };
        let exists = |e: &Entry| e.status.is_success() || e.status == http::StatusCode::FORBIDDEN;
        let operation_done = |e: &Entry| {
            e.status == http::StatusCode::NOT_FOUND
                || crate::entry_request::response_body::<Value>(e).is_some_and(|v| v["status"] != "inProgress")
        };
        let certificate_path = format!("/certificates/{name}");
        let pending_path = format!("/certificates/{name}/pending");
        let resumed_here = resume.as_ref().is_some_and(|(_, at)| *at == i);
        let outcome: Result<(), String> = match operation {
            Operation::GetCertificateOperation if resumed_here => {
                let (token, _) = resume.take().unwrap_or_default();
                // The resumed poller polls from here and fetches the certificate.
                let polls = polls_of(&pending_path, &operation_done);
                let fetch = usize::from(entries.get(i + polls + 1).is_some_and(|e| {
                    e.method == http::Method::GET && e.uri.path().trim_end_matches('/') == certificate_path
                }));
                i += polls + fetch;
                match client.resume_create_and_wait(&token) {
                    Ok(CreateOutcome::Completed(_)) if fetch == 1 => Ok(()),
                    Ok(other) => Err(format!("the resumed creation ended with {other:?}")),
                    Err(e) => Err(format!("the resumed creation failed: {e}")),
                }
            }
            Operation::CreateCertificate => {
                let polls = polls_of(&pending_path, &operation_done);
                let more_polls = entries[i + 1 + polls..]
                    .iter()
                    .take_while(|e| e.method == http::Method::GET && e.uri.path() == pending_path)
                    .count();
                let body: CreateCertificateParameters = recorded_body(entry).ok().flatten().unwrap_or_default();
                let policy = body.policy.unwrap_or_default();
                let options = CreateCertificateOptions {
                    enabled: body.attributes.and_then(|a| a.enabled),
                    tags: body.tags,
                    preserve_order: body.preserve_order,
                };
                if polls == 0 || !entry.status.is_success() || more_polls > 0 {
                    let result = check("create", client.create_without_polling(&name, &policy, &options), entry);
                    if let (Ok(token), true) = (&result, more_polls > 0) {
                        // The recorded client polled to the end, then resumed from its token:
                        // its own polls are single exchanges, the resumed poller takes over after.
                        resume = Some((token.clone(), i + polls + 1));
                    }
                    result.map(|_| ())
                } else {
                    let last_poll = entries[i + polls];
                    let completed = crate::entry_request::response_body::<Value>(last_poll)
                        .is_some_and(|v| v["status"] == "completed");
                    let fetch = usize::from(
                        completed
                            && entries.get(i + polls + 1).is_some_and(|e| {
                                e.method == http::Method::GET && e.uri.path().trim_end_matches('/') == certificate_path
                            }),
                    );
                    i += polls + fetch;
                    match client.create_and_wait(&name, &policy, &options) {
                        Ok(CreateOutcome::Completed(_)) if fetch == 1 => Ok(()),
                        Ok(CreateOutcome::Failed(_)) if last_poll.uri.path().ends_with("pending") => Ok(()),
                        Ok(CreateOutcome::Deleted) if last_poll.status == http::StatusCode::NOT_FOUND => Ok(()),
                        Ok(CreateOutcome::AwaitingMerge(_) | CreateOutcome::Cancelled(_)) => Ok(()),
                        Ok(other) => Err(format!("create ended with {other:?}")),
                        Err(e) => Err(format!("create failed: {e}")),
                    }
                }
            }
            Operation::DeleteCertificate => {
                let polls = polls_of(&format!("/deletedcertificates/{name}"), &exists);
                let result = check("delete", client.delete(&name, polls > 0), entry);
                i += polls;
                result.map(|_| ())
            }
            Operation::RecoverDeletedCertificate => {
                let polls = polls_of(&certificate_path, &exists);
                let result = check("recover", client.recover(&name, polls > 0), entry);
                i += polls;
                result.map(|_| ())
            }
            Operation::ListPropertiesOfCertificates
            | Operation::ListPropertiesOfCertificateVersions
            | Operation::ListDeletedCertificates
            | Operation::ListPropertiesOfIssuers => {
                let options = ListOptions {
                    max_page_size: query_value(entry, "maxresults").and_then(|s| s.parse().ok()),
                    include_pending: query_value(entry, "includePending").map(|v| v == "true"),
                };
                // Every following page of this list belongs to the pager.
                let pages = entries[i + 1..]
                    .iter()
                    .take_while(|e| e.method == http::Method::GET && query_value(e, "$skiptoken").is_some())
                    .count();
                let expected: usize = entries[i..=i + pages]
                    .iter()
                    .filter_map(|e| crate::entry_request::response_body::<Value>(e))
                    .map(|v| v["value"].as_array().map_or(0, Vec::len))
                    .sum();
                i += pages;
                let got = match operation {
                    Operation::ListPropertiesOfCertificates => client.list_certificates(&options).map(|v| v.len()),
                    Operation::ListPropertiesOfCertificateVersions => {
                        client.list_versions(&name, &options).map(|v| v.len())
                    }
                    Operation::ListDeletedCertificates => client.list_deleted(&options).map(|v| v.len()),
                    _ => client.list_issuers(&options).map(|v| v.len()),
                };
                check("list", got, entry).and_then(|n| {
                    if n == expected {
                        Ok(())
                    } else {
                        Err(format!("listed {n} items, the recording has {expected}"))
                    }
                })
            }
            _ => match inputs_for(entry, operation, &last_backup) {
                Ok(inputs) => {
                    let result = check(operation.python_name(), client.exchange(operation, &inputs), entry);
                    if let (Operation::BackupCertificate, Ok(v)) = (operation, &result) {
                        let bytes: Vec<u8> = serde_json::from_value(v.clone()).unwrap_or_default();
                        last_backup = bytes;
                    }
                    result.map(|_| ())
                }
                Err(e) => Err(e),
            },
        };
        if let Err(problem) = outcome {
            if !problem.is_empty() {
                problems.push(format!("entry {}: {problem}", entry.index));
            }
        }
        i += 1;
    }
    problems
}
