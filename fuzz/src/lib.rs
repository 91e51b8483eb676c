//! Shared by the fuzz targets and `examples/build_corpus.rs`: the input format of the
//! `responses` target and the dispatch from an input byte to each `Vault` call's parser.
//!
//! `responses` input: `[operation, status, flags, (retry_after_len, retry_after…)?, body…]`
//! - `operation`: index into [`OPERATIONS`] (modulo its length);
//! - `status`: index into [`STATUSES`] (modulo its length);
//! - `flags`: bit 0 a `Retry-After` header follows (its length, then its bytes), bit 1 an
//!   `x-ms-request-id` header, bit 2 a JSON `content-type`;
//! - the rest is the body.

use std::sync::OnceLock;

use http::{HeaderValue, Response, StatusCode};
use kvcerts_core::models::{
    CertificateContact, CertificateContentType, CertificatePolicy, CertificateProperties, DeletedCertificateProperties,
    IssuerProperties,
};
use kvcerts_core::{
    ImportCertificateOptions, IssuerOptions, ListOptions, MergeCertificateOptions, Operation, RetryAfter,
    UpdateCertificatePropertiesOptions, Vault,
};

/// Every operation, in the order the `responses` target's first byte selects them.
pub const OPERATIONS: &[Operation] = Operation::ALL;

/// The statuses the second byte selects.
pub const STATUSES: &[u16] = &[200, 201, 202, 204, 301, 307, 400, 401, 403, 404, 409, 429, 500, 502, 503, 504];

/// A throw-away self-signed P-256 certificate and key (made with `openssl req -x509 -newkey ec`),
/// only so that `Vault::import_certificate` builds a call whose parser can be fuzzed.
const IMPORT_MATERIAL: &str =
    concat!(include_str!("../fixtures/import_cert.pem"), include_str!("../fixtures/import_key.pem"));

fn vault() -> &'static Vault {
    static VAULT: OnceLock<Vault> = OnceLock::new();
    VAULT.get_or_init(|| Vault::new("https://fuzz.vault.azure.net").expect("vault"))
}

/// Builds the response described by a `responses` input; `None` when the input is too short.
pub fn response_from(data: &[u8]) -> Option<(Operation, Response<Vec<u8>>)> {
    let (&op, rest) = data.split_first()?;
    let (&status, rest) = rest.split_first()?;
    let (&flags, mut rest) = rest.split_first()?;
    let operation = OPERATIONS[op as usize % OPERATIONS.len()];
    let status = StatusCode::from_u16(STATUSES[status as usize % STATUSES.len()]).ok()?;
    let mut builder = Response::builder().status(status);
    if flags & 1 != 0 {
        let (&len, after) = rest.split_first()?;
        let len = (len as usize).min(after.len());
        if let Ok(value) = HeaderValue::from_bytes(&after[..len]) {
            builder = builder.header(http::header::RETRY_AFTER, value);
        }
        rest = &after[len..];
    }
    if flags & 2 != 0 {
        builder = builder.header("x-ms-request-id", "00000000-0000-0000-0000-000000000000");
    }
    if flags & 4 != 0 {
        builder = builder.header(http::header::CONTENT_TYPE, "application/json; charset=utf-8");
    }
    Some((operation, builder.body(rest.to_vec()).ok()?))
}

/// Encodes a `responses` input (the inverse of [`response_from`]), for seeds.
pub fn encode_response(operation: Operation, response: &Response<Vec<u8>>) -> Option<Vec<u8>> {
    let op = OPERATIONS.iter().position(|o| *o == operation)?;
    let status = STATUSES.iter().position(|s| *s == response.status().as_u16())?;
    let retry_after = response.headers().get(http::header::RETRY_AFTER).map(|v| v.as_bytes()).filter(|v| v.len() < 256);
    let mut flags = 2 | 4;
    if retry_after.is_some() {
        flags |= 1;
    }
    let mut out = vec![op as u8, status as u8, flags];
    if let Some(v) = retry_after {
        out.push(v.len() as u8);
        out.extend_from_slice(v);
    }
    out.extend_from_slice(response.body());
    Some(out)
}

/// Parses `response` with the parser of `operation`'s call, and exercises what the parsed
/// value offers (names, identifiers, downloads' PEM and PKCS#12, error accessors).
pub fn parse_response(operation: Operation, response: &Response<Vec<u8>>) {
    let v = vault();
    let _ = RetryAfter::from_headers(response.headers()).map(|r| r.delay_from(time::OffsetDateTime::UNIX_EPOCH));
    macro_rules! check {
        ($call:expr, |$ok:ident| $use:expr) => {{
            match $call.parse(response) {
                Ok($ok) => {
                    let _ = $use;
                }
                Err(e) => {
                    let _ = (e.kind(), e.status(), e.code(), e.conflict_reason(), e.retry_after(), e.to_string());
                }
            }
        }};
    }
    let name = "fuzz";
    match operation {
        Operation::CreateCertificate => {
            check!(v.create_certificate(name, &CertificatePolicy::default(), &Default::default()).unwrap(), |o| o
                .csr_pem())
        }
        Operation::ImportCertificate => check!(
            v.import_certificate(name, IMPORT_MATERIAL.as_bytes(), &ImportCertificateOptions::default()).unwrap(),
            |c| (c.name(), c.version(), c.expires_on(), c.x509_thumbprint_hex(), c.properties())
        ),
        Operation::GetCertificate => check!(v.get_certificate(name).unwrap(), |c| (
            c.identifier(),
            c.name(),
            c.version(),
            c.expires_on(),
            c.x509_thumbprint_hex(),
            c.properties()
        )),
        Operation::GetCertificateVersion => {
            check!(v.get_certificate_version(name, "0123456789abcdef0123456789abcdef").unwrap(), |c| c.properties())
        }
        Operation::UpdateCertificateProperties => check!(
            v.update_certificate_properties(name, None, &UpdateCertificatePropertiesOptions::default()).unwrap(),
            |c| c.properties()
        ),
        Operation::DeleteCertificate => check!(v.delete_certificate(name).unwrap(), |d| d.name()),
        Operation::ListPropertiesOfCertificates => check!(
            v.list_properties_of_certificates(&ListOptions::default()).unwrap(),
            |p| (p.continuation().map(str::to_owned), p.value.iter().map(CertificateProperties::name).count())
        ),
        Operation::ListPropertiesOfCertificateVersions => {
            check!(v.list_properties_of_certificate_versions(name, &ListOptions::default()).unwrap(), |p| p
                .value
                .iter()
                .map(|c| (c.identifier(), c.version()))
                .count())
        }
        Operation::GetCertificatePolicy => check!(v.get_certificate_policy(name).unwrap(), |p| p.subject()),
        Operation::UpdateCertificatePolicy => {
            check!(v.update_certificate_policy(name, &CertificatePolicy::default()).unwrap(), |p| p.content_type())
        }
        Operation::GetCertificateOperation => check!(v.get_certificate_operation(name).unwrap(), |o| o.csr_pem()),
        Operation::CancelCertificateOperation => check!(v.cancel_certificate_operation(name).unwrap(), |o| o.csr_pem()),
        Operation::DeleteCertificateOperation => check!(v.delete_certificate_operation(name).unwrap(), |o| o.csr_pem()),
        Operation::MergeCertificate => check!(
            v.merge_certificate(name, &[vec![0x30, 0x03, 0x02, 0x01, 0x01]], &MergeCertificateOptions::default())
                .unwrap(),
            |c| c.properties()
        ),
        Operation::BackupCertificate => check!(v.backup_certificate(name).unwrap(), |b| b.len()),
        Operation::RestoreCertificateBackup => {
            check!(v.restore_certificate_backup(b"backup").unwrap(), |c| c.properties())
        }
        Operation::ListDeletedCertificates => {
            check!(v.list_deleted_certificates(&ListOptions::default()).unwrap(), |p| p
                .value
                .iter()
                .map(|d: &DeletedCertificateProperties| (d.properties.name(), d.recovery_id.clone()))
                .count())
        }
        Operation::GetDeletedCertificate => check!(v.get_deleted_certificate(name).unwrap(), |d| d.name()),
        Operation::PurgeDeletedCertificate => check!(v.purge_deleted_certificate(name).unwrap(), |u| u),
        Operation::RecoverDeletedCertificate => {
            check!(v.recover_deleted_certificate(name).unwrap(), |c| c.properties())
        }
        Operation::SetContacts => {
            check!(
                v.set_contacts(&[CertificateContact { email: Some("a@b.example".into()), ..Default::default() }])
                    .unwrap(),
                |c| c.contacts.len()
            )
        }
        Operation::GetContacts => check!(v.get_contacts().unwrap(), |c| c.contacts.len()),
        Operation::DeleteContacts => check!(v.delete_contacts().unwrap(), |c| c.contacts.len()),
        Operation::ListPropertiesOfIssuers => {
            check!(v.list_properties_of_issuers(&ListOptions::default()).unwrap(), |p| p
                .value
                .iter()
                .map(IssuerProperties::name)
                .count())
        }
        Operation::CreateIssuer => check!(v.create_issuer(name, "Test", &IssuerOptions::default()).unwrap(), |i| i),
        Operation::UpdateIssuer => check!(v.update_issuer(name, None, &IssuerOptions::default()).unwrap(), |i| i),
        Operation::GetIssuer => check!(v.get_issuer(name).unwrap(), |i| i),
        Operation::DeleteIssuer => check!(v.delete_issuer(name).unwrap(), |i| i),
        Operation::DownloadCertificate => {
            check!(v.download_certificate(name, None, Some(&CertificateContentType::Pem)).unwrap(), |d| (
                d.is_pem(),
                d.has_private_key(),
                d.pem().map(|p| p.certificates.len()),
                d.pkcs12().map(|b| b.len())
            ))
        }
        _ => {}
    }
    // The page of any list through `next_page` (same parser, other request builder).
    if let Ok(call) =
        v.next_page::<CertificateProperties>(Operation::ListPropertiesOfCertificates, "https://fuzz.vault.azure.net/x")
    {
        let _ = call.parse(response);
    }
}
