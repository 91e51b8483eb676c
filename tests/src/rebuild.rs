//! Request bodies for replaying a recorded scenario against another vault.
//!
//! A recorded request body is sent as recorded when the recorder captured it, except where it
//! cannot mean the same thing to another vault (a merged certificate signed for the real
//! service's key, a backup blob encrypted by the real service). When the recorder did not
//! capture it (the `cpp-*` recordings), the body is rebuilt by the core's request builders from
//! what the service answered:
//!
//! | operation | rebuilt from |
//! |---|---|
//! | create | the policy the service echoed for that name nearest after the request (else before it; else [`CertificatePolicy::default`]), with the tags and `enabled` of the nearest certificate answer |
//! | import | a certificate and key made by the caller ([`Supplies::import_material`]) per the policy the import answer echoed, in its content type; tags and `enabled` from the answer |
//! | update properties | `enabled` and tags of the answer |
//! | update policy | the policy answered |
//! | merge | a chain the caller signs for the pending key ([`Supplies::merge_chain`]) |
//! | restore | the backup the replay target gave earlier ([`Supplies::backup`]) |
//! | set contacts | the contacts answered |
//! | create / update issuer | provider, account id, organization and `enabled` answered; any password |
//! | cancel operation | the only body there is (`cancellation_requested: true`) |
//!
//! Everything else has no body.

use std::collections::BTreeMap;

use kvcerts_core::models::{
    CertificateAttributes, CertificateContacts, CertificateIssuer, CertificatePolicy, SecretString,
};
use kvcerts_core::{
    CreateCertificateOptions, ImportCertificateOptions, IssuerOptions, MergeCertificateOptions, Operation, RouteParams,
    UpdateCertificatePropertiesOptions, Vault,
};
use serde_json::Value;

use crate::recording::{Entry, RecordedBody};
use crate::replay::VersionMap;

/// The password sent when an issuer is rebuilt: the service never returns the real one.
pub const REBUILT_ISSUER_PASSWORD: &str = "rebuilt-issuer-password";

/// What only the caller can provide to rebuild a body: material that must fit the replay
/// target's state.
pub trait Supplies {
    /// A certificate with its private key to import as `name`, made per `policy` (the policy the
    /// service echoed for the recorded import: key type and size, subject, content type), as PEM
    /// text or PKCS#12 bytes with an empty password.
    fn import_material(&mut self, name: &str, policy: &CertificatePolicy) -> Result<Vec<u8>, String>;

    /// A certificate chain (DER, leaf first, `length` certificates at most) whose leaf holds the
    /// public key of `name`'s pending operation on the replay target (signed for its CSR).
    fn merge_chain(&mut self, name: &str, length: usize) -> Result<Vec<Vec<u8>>, String>;

    /// The backup blob the replay target returned for `name` earlier in the scenario (the
    /// latest one of any certificate when `name` is `None`).
    fn backup(&mut self, name: Option<&str>) -> Result<Vec<u8>, String>;
}

/// Where a replayed request body came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodySource {
    /// As recorded (recorded versions rewritten).
    Recorded,
    /// The operation has no body (none recorded, none needed).
    None,
    /// Rebuilt by the core from what the service answered; the text says from what.
    Rebuilt(String),
    /// Recorded, but a member was replaced so that it fits the replay target; the text says
    /// which and why.
    Replaced(String),
}

/// A request body to send.
#[derive(Debug, Clone)]
pub struct PlannedBody {
    /// The bytes (JSON), or `None` for no body.
    pub body: Option<Vec<u8>>,
    /// Where they came from.
    pub source: BodySource,
}

/// The body to send when replaying `entries[index]` (a vault request that is not a challenge),
/// whose operation and route parameters are `operation` and `params`.
///
/// `vault` is the replay target (its URL and the recorded api-version): the core builders run
/// against it. `versions` rewrites recorded versions in recorded bodies. Fails with the reason
/// when the body cannot be reproduced.
pub fn plan_body(
    entries: &[&Entry],
    index: usize,
    operation: Operation,
    params: &RouteParams,
    vault: &Vault,
    versions: &VersionMap,
    supplies: &mut dyn Supplies,
) -> Result<PlannedBody, String> {
    let entry = entries[index];
    let name = params.name.as_deref().unwrap_or("");
    let core = |e: kvcerts_core::Error| format!("the core refused the rebuilt request: {e}");
    let recorded = &entry.request_body;

    // Recorded bodies that cannot be sent to another vault as they are.
    match (operation, recorded) {
        (Operation::MergeCertificate, RecordedBody::Json(body)) => {
            let length = body.get("x5c").and_then(Value::as_array).map_or(1, Vec::len).max(1);
            let chain = supplies.merge_chain(name, length)?;
            let mut body = body.clone();
            body["x5c"] = Value::Array(
                chain.iter().map(|c| Value::String(kvcerts_core::models::encoding::encode_standard(c))).collect(),
            );
            return Ok(PlannedBody {
                body: Some(serde_json::to_vec(&body).map_err(|e| e.to_string())?),
                source: BodySource::Replaced(
                    "x5c: the recorded chain certifies the real service's key; signed the target's CSR instead".into(),
                ),
            });
        }
        (Operation::RestoreCertificateBackup, RecordedBody::Json(_)) => {
            let blob = supplies.backup(restored_name(entry).as_deref())?;
            let call = vault.restore_certificate_backup(&blob).map_err(core)?;
            return Ok(PlannedBody {
                body: Some(call.into_parts().0.into_body()),
                source: BodySource::Replaced(
                    "value: the recorded blob is sealed by the real service; sent the target's backup instead".into(),
                ),
            });
        }
        _ => {}
    }
    match recorded {
        RecordedBody::Json(body) => {
            let text = serde_json::to_string(body).map_err(|e| e.to_string())?;
            return Ok(PlannedBody {
                body: Some(versions.rewrite_text(&text).into_bytes()),
                source: BodySource::Recorded,
            });
        }
        RecordedBody::Text(text) => {
            return Ok(PlannedBody {
                body: Some(versions.rewrite_text(text).into_bytes()),
                source: BodySource::Recorded,
            })
        }
        RecordedBody::Null => return Ok(PlannedBody { body: None, source: BodySource::None }),
        RecordedBody::Absent => {}
    }

    // Not captured: rebuild from the answers.
    let answer = success_json(entry);
    let rebuilt = |request: http::Request<Vec<u8>>, from: &str| PlannedBody {
        body: Some(request.into_body()),
        source: BodySource::Rebuilt(from.to_string()),
    };
    Ok(match operation {
        Operation::CreateCertificate => {
            let (policy, from) = match policy_echo(entries, index, name) {
                Some((policy, at)) => (policy, format!("the policy echoed at entry {at}")),
                None => (CertificatePolicy::default(), "the default policy (no echo)".to_string()),
            };
            let echo = certificate_echo(entries, index, name);
            let options = CreateCertificateOptions {
                enabled: echo.and_then(enabled_of),
                tags: echo.and_then(tags_of),
                preserve_order: None,
            };
            rebuilt(vault.create_certificate(name, &policy, &options).map_err(core)?.into_parts().0, &from)
        }
        Operation::ImportCertificate => {
            let answer = answer.ok_or("the import failed, so nothing tells what was imported")?;
            let policy = answer
                .get("policy")
                .and_then(|p| clean_policy(p).ok())
                .ok_or("the import answer echoes no policy to make a certificate for")?;
            let material = supplies.import_material(name, &policy)?;
            let options = ImportCertificateOptions {
                password: None,
                policy: Some(policy),
                enabled: enabled_of(answer),
                tags: tags_of(answer),
                preserve_order: None,
            };
            let call = vault.import_certificate(name, &material, &options).map_err(core)?;
            rebuilt(call.into_parts().0, "a local certificate per the policy the import answer echoed")
        }
        Operation::UpdateCertificateProperties => {
            let answer = answer.ok_or("the update failed, so nothing tells what it changed")?;
            let update = UpdateCertificatePropertiesOptions {
                enabled: enabled_of(answer),
                tags: tags_of(answer),
                ..Default::default()
            };
            let call = vault.update_certificate_properties(name, params.version.as_deref(), &update).map_err(core)?;
            rebuilt(call.into_parts().0, "enabled and tags of the answer")
        }
        Operation::UpdateCertificatePolicy => {
            let answer = answer.ok_or("the update failed, so nothing tells what it changed")?;
            let policy = clean_policy(answer)?;
            rebuilt(vault.update_certificate_policy(name, &policy).map_err(core)?.into_parts().0, "the policy answered")
        }
        Operation::CancelCertificateOperation => {
            rebuilt(vault.cancel_certificate_operation(name).map_err(core)?.into_parts().0, "the fixed cancel body")
        }
        Operation::MergeCertificate => {
            let chain = supplies.merge_chain(name, 1)?;
            let options =
                MergeCertificateOptions { enabled: answer.and_then(enabled_of), tags: answer.and_then(tags_of) };
            let call = vault.merge_certificate(name, &chain, &options).map_err(core)?;
            rebuilt(call.into_parts().0, "a certificate signed for the target's CSR")
        }
        Operation::RestoreCertificateBackup => {
            let blob = supplies.backup(restored_name(entry).as_deref())?;
            let call = vault.restore_certificate_backup(&blob).map_err(core)?;
            rebuilt(call.into_parts().0, "the target's earlier backup")
        }
        Operation::SetContacts => {
            let answer = answer.ok_or("setting contacts failed, so nothing tells which were sent")?;
            let contacts: CertificateContacts = serde_json::from_value(answer.clone())
                .map_err(|e| format!("the contacts answer did not parse: {e}"))?;
            rebuilt(vault.set_contacts(&contacts.contacts).map_err(core)?.into_parts().0, "the contacts answered")
        }
        Operation::CreateIssuer | Operation::UpdateIssuer => {
            let answer = answer.ok_or("the issuer request failed, so nothing tells what was sent")?;
            let issuer: CertificateIssuer =
                serde_json::from_value(answer.clone()).map_err(|e| format!("the issuer answer did not parse: {e}"))?;
            let credentials = issuer.credentials.as_ref();
            let organization = issuer.organization_details.as_ref();
            let options = IssuerOptions {
                account_id: credentials.and_then(|c| c.account_id.clone()),
                password: credentials.map(|_| SecretString::new(REBUILT_ISSUER_PASSWORD)),
                organization_id: organization.and_then(|o| o.id.clone()),
                admin_contacts: organization.and_then(|o| o.admin_contacts.clone()),
                enabled: issuer.attributes.as_ref().and_then(|a| a.enabled),
            };
            let provider = issuer.provider.as_deref();
            let call = if operation == Operation::CreateIssuer {
                vault.create_issuer(name, provider.unwrap_or("Test"), &options)
            } else {
                vault.update_issuer(name, provider, &options)
            };
            rebuilt(call.map_err(core)?.into_parts().0, "the issuer answered (any password)")
        }
        _ => PlannedBody { body: None, source: BodySource::None },
    })
}

/// The JSON answer of a successful entry.
fn success_json(entry: &Entry) -> Option<&Value> {
    match &entry.response_body {
        RecordedBody::Json(v) if entry.status.is_success() => Some(v),
        _ => None,
    }
}

/// The certificate or issuer name a vault entry's path names.
fn entry_name(entry: &Entry) -> Option<String> {
    Operation::identify(&entry.method, entry.path()).and_then(|(_, p)| p.name)
}

/// The name of the certificate a recorded restore answered with (from its `id`).
fn restored_name(entry: &Entry) -> Option<String> {
    let id = success_json(entry)?.get("id")?.as_str()?;
    let after = id.split("/certificates/").nth(1)?;
    after.split('/').next().filter(|n| !n.is_empty()).map(str::to_owned)
}

/// `attributes.enabled` of a certificate-like answer.
fn enabled_of(answer: &Value) -> Option<bool> {
    answer.pointer("/attributes/enabled").and_then(Value::as_bool)
}

/// `tags` of a certificate-like answer (string values only).
fn tags_of(answer: &Value) -> Option<BTreeMap<String, String>> {
    let tags = answer.get("tags")?.as_object()?;
    Some(tags.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned()))).collect())
}

/// An echoed policy as a request policy: parsed by the core, without the read-only members
/// (`id`, `attributes.created`/`updated`; `enabled` is kept).
pub fn clean_policy(echo: &Value) -> Result<CertificatePolicy, String> {
    let mut policy: CertificatePolicy =
        serde_json::from_value(echo.clone()).map_err(|e| format!("the echoed policy did not parse: {e}"))?;
    policy.id = None;
    policy.attributes = policy
        .attributes
        .and_then(|a| a.enabled)
        .map(|enabled| CertificateAttributes { enabled: Some(enabled), ..Default::default() });
    Ok(policy)
}

/// Order of the entries to look at for an echo of `index`: the following entries nearest
/// first, then the preceding ones nearest first.
fn around(len: usize, index: usize) -> impl Iterator<Item = usize> {
    (index + 1..len).chain((0..index).rev())
}

/// The policy the service echoed for certificate `name` nearest to `entries[index]` (after it
/// first, then before it), cleaned by [`clean_policy`], with the index of the echoing entry.
///
/// Echoes are the answers of `GET`/`PATCH …/policy` (the policy itself) and the `policy` member
/// of certificate answers (get, update, import, merge, restore, recover, delete, get deleted).
pub fn policy_echo(entries: &[&Entry], index: usize, name: &str) -> Option<(CertificatePolicy, usize)> {
    around(entries.len(), index).find_map(|at| {
        let entry = entries[at];
        let answer = success_json(entry)?;
        let (operation, params) = Operation::identify(&entry.method, entry.path())?;
        let policy = match operation {
            Operation::GetCertificatePolicy | Operation::UpdateCertificatePolicy => answer,
            Operation::RestoreCertificateBackup if restored_name(entry)?.eq_ignore_ascii_case(name) => {
                answer.get("policy")?
            }
            Operation::GetCertificate
            | Operation::UpdateCertificateProperties
            | Operation::ImportCertificate
            | Operation::MergeCertificate
            | Operation::RecoverDeletedCertificate
            | Operation::DeleteCertificate
            | Operation::GetDeletedCertificate => answer.get("policy")?,
            _ => return None,
        };
        if operation != Operation::RestoreCertificateBackup && !params.name?.eq_ignore_ascii_case(name) {
            return None;
        }
        clean_policy(policy).ok().map(|p| (p, at))
    })
}

/// The certificate answer (with `attributes`) for `name` nearest to `entries[index]` (after
/// it first, then before it), for the tags and `enabled` flag a create set.
pub fn certificate_echo<'a>(entries: &[&'a Entry], index: usize, name: &str) -> Option<&'a Value> {
    around(entries.len(), index).find_map(|at| {
        let entry = entries[at];
        let answer = success_json(entry)?;
        let is_certificate = matches!(
            Operation::identify(&entry.method, entry.path()),
            Some((Operation::GetCertificate | Operation::GetCertificateVersion, _))
        );
        (is_certificate && answer.get("attributes").is_some() && entry_name(entry)?.eq_ignore_ascii_case(name))
            .then_some(answer)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::Recording;
    use serde_json::json;

    struct NoSupplies;

    impl Supplies for NoSupplies {
        fn import_material(&mut self, _: &str, _: &CertificatePolicy) -> Result<Vec<u8>, String> {
            Err("none".into())
        }
        fn merge_chain(&mut self, _: &str, length: usize) -> Result<Vec<Vec<u8>>, String> {
            Ok(vec![vec![0x30, 0x00]; length])
        }
        fn backup(&mut self, name: Option<&str>) -> Result<Vec<u8>, String> {
            Ok(name.unwrap_or("?").as_bytes().to_vec())
        }
    }

    fn entry(method: &str, path: &str, status: u16, response: Value) -> Value {
        json!({
            "RequestUri": format!("https://v.vault.azure.net{path}?api-version=7.3"),
            "RequestMethod": method,
            "RequestHeaders": {},
            "StatusCode": status,
            "ResponseHeaders": {},
            "ResponseBody": response,
        })
    }

    fn plan(recording: &Recording, index: usize) -> Result<(Value, BodySource), String> {
        let entries: Vec<&Entry> = recording.entries.iter().collect();
        let entry = entries[index];
        let (operation, params) = Operation::identify(&entry.method, entry.path()).expect("known operation");
        let vault = Vault::new("https://e.vault.azure.net").expect("vault");
        let planned = plan_body(&entries, index, operation, &params, &vault, &VersionMap::new(), &mut NoSupplies)?;
        let body = planned.body.map(|b| serde_json::from_slice(&b).expect("JSON body")).unwrap_or(Value::Null);
        Ok((body, planned.source))
    }

    #[test]
    fn create_takes_the_nearest_later_echo_and_the_certificate_tags() {
        let policy = json!({ "id": "https://v/certificates/c/policy", "x509_props": { "subject": "CN=a" },
            "issuer": { "name": "Self" }, "attributes": { "enabled": true, "created": 1, "updated": 2 } });
        let recording = Recording::parse(
            "r",
            json!({ "Entries": [
                entry("POST", "/certificates/c/create", 202, json!({ "status": "inProgress" })),
                entry("GET", "/certificates/c", 200, json!({ "policy": policy, "tags": { "t": "1" }, "attributes": { "enabled": false } })),
                entry("PATCH", "/certificates/c/policy", 200, json!({ "x509_props": { "subject": "CN=later" }, "issuer": { "name": "Self" } })),
            ]})
            .to_string()
            .as_bytes(),
        )
        .expect("recording");
        let (body, source) = plan(&recording, 0).expect("rebuilt");
        assert_eq!(body["policy"]["x509_props"]["subject"], "CN=a");
        assert!(body["policy"].get("id").is_none());
        assert_eq!(body["policy"]["attributes"], json!({ "enabled": true }));
        assert_eq!(body["tags"], json!({ "t": "1" }));
        assert_eq!(body["attributes"], json!({ "enabled": false }));
        assert!(matches!(source, BodySource::Rebuilt(ref s) if s.contains("entry 1")), "{source:?}");

        let (body, _) = plan(&recording, 2).expect("policy update rebuilt");
        assert_eq!(body["x509_props"]["subject"], "CN=later");
    }

    #[test]
    fn recorded_bodies_are_kept_but_merge_and_restore_are_replaced() {
        let mut merge = entry("POST", "/certificates/c/pending/merge", 201, json!({}));
        merge["RequestBody"] = json!({ "x5c": ["AAAA", "BBBB"], "tags": { "k": "v" } });
        let mut restore = entry("POST", "/certificates/restore", 200, json!({ "id": "https://v/certificates/r/1" }));
        restore["RequestBody"] = json!({ "value": "c2VhbGVk" });
        let mut cancel = entry("PATCH", "/certificates/c/pending", 200, json!({}));
        cancel["RequestBody"] = json!({ "cancellation_requested": true });
        let recording =
            Recording::parse("r", json!({ "Entries": [merge, restore, cancel] }).to_string().as_bytes()).unwrap();
        let (body, source) = plan(&recording, 0).unwrap();
        assert_eq!(body, json!({ "x5c": ["MAA=", "MAA="], "tags": { "k": "v" } }));
        assert!(matches!(source, BodySource::Replaced(_)));
        let (body, _) = plan(&recording, 1).unwrap();
        assert_eq!(body["value"], kvcerts_core::models::encoding::encode_url(b"r"));
        assert_eq!(plan(&recording, 2).unwrap(), (json!({ "cancellation_requested": true }), BodySource::Recorded));
    }

    #[test]
    fn contacts_and_issuers_are_rebuilt_from_the_answer() {
        let recording = Recording::parse(
            "r",
            json!({ "Entries": [
                entry("PUT", "/certificates/contacts", 200, json!({ "id": "x", "contacts": [{ "email": "a@b.c", "name": "A" }] })),
                entry("PUT", "/certificates/issuers/i1", 200, json!({ "id": "x", "provider": "Test",
                    "credentials": { "account_id": "acct" }, "attributes": { "enabled": true, "created": 1 } })),
                entry("GET", "/certificates/issuers/i1", 200, json!({})),
            ]})
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(plan(&recording, 0).unwrap().0, json!({ "contacts": [{ "email": "a@b.c", "name": "A" }] }));
        let (issuer, _) = plan(&recording, 1).unwrap();
        assert_eq!(issuer["provider"], "Test");
        assert_eq!(issuer["credentials"], json!({ "account_id": "acct", "pwd": REBUILT_ISSUER_PASSWORD }));
        assert_eq!(issuer["attributes"], json!({ "enabled": true }));
        assert_eq!(plan(&recording, 2).unwrap(), (Value::Null, BodySource::None));
    }

    #[test]
    fn an_import_without_material_is_not_reproducible() {
        let recording = Recording::parse(
            "r",
            json!({ "Entries": [entry("POST", "/certificates/c/import", 200,
                json!({ "policy": { "secret_props": { "contentType": "application/x-pem-file" } } }))] })
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(plan(&recording, 0).unwrap_err(), "none");
    }
}
