//! JSON views: how stored objects look on the wire (`CertificateBundle`, `CertificateItem`,
//! `DeletedCertificateBundle`, `CertificateOperation`, `IssuerBundle`, `Contacts`, secrets).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::model::{Contact, Policy};
use crate::store::{Cert, CertVersion, DeletedCert, IssuerRecord, OpStatus, Operation, Settings};
use crate::x509;

/// Which optional parts a certificate bundle carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct BundleParts {
    /// Include `policy`.
    pub policy: bool,
    /// Include `pending: {id}`.
    pub pending: bool,
    /// Include `subject`, `issuer` and `serialnumber` (versioned GET).
    pub x509_meta: bool,
}

/// Certificate attributes, with the vault's recovery level when `recovery` is set.
pub fn attributes(v: &CertVersion, settings: &Settings, recovery: bool) -> Value {
    let mut a = json!({
        "enabled": v.enabled,
        "nbf": v.nbf,
        "exp": v.exp,
        "created": v.created,
        "updated": v.updated,
    });
    if recovery {
        add_recovery(&mut a, settings);
    }
    a
}

fn add_recovery(a: &mut Value, settings: &Settings) {
    if settings.soft_delete {
        a["recoveryLevel"] = json!("Recoverable+Purgeable");
        a["recoverableDays"] = json!(settings.recoverable_days);
    } else {
        a["recoveryLevel"] = json!("Purgeable");
    }
}

/// A policy with its id.
pub fn policy(base: &str, name: &str, p: &Policy) -> Value {
    let mut v = serde_json::to_value(p).unwrap_or_else(|_| json!({}));
    if let Value::Object(m) = &mut v {
        let mut out = Map::new();
        out.insert("id".into(), json!(format!("{base}/certificates/{name}/policy")));
        out.extend(std::mem::take(m));
        return Value::Object(out);
    }
    v
}

/// A certificate bundle for one version.
pub fn bundle(base: &str, cert: &Cert, v: &CertVersion, parts: BundleParts, settings: &Settings) -> Value {
    let name = &cert.name;
    let ver = &v.version;
    let mut b = json!({
        "id": format!("{base}/certificates/{name}/{ver}"),
        "kid": format!("{base}/keys/{name}/{ver}"),
        "sid": format!("{base}/secrets/{name}/{ver}"),
        "x5t": x509::x5t(v.cer()),
        "cer": STANDARD.encode(v.cer()),
        "attributes": attributes(v, settings, true),
    });
    if let Some(tags) = &v.tags {
        b["tags"] = Value::Object(tags.clone());
    }
    if parts.x509_meta {
        if let Ok(info) = x509::cert_info(v.cer()) {
            b["subject"] = json!(info.subject);
            b["issuer"] = json!(info.issuer);
            b["serialnumber"] = json!(info.serial);
        }
    }
    if parts.policy {
        b["policy"] = policy(base, name, &cert.policy);
    }
    if parts.pending {
        b["pending"] = json!({ "id": format!("{base}/certificates/{name}/pending") });
    }
    b
}

/// The bundle for a certificate's latest version, or a minimal one when it has none yet.
pub fn latest_bundle(base: &str, cert: &Cert, parts: BundleParts, settings: &Settings) -> Value {
    match cert.latest() {
        Some(v) => bundle(base, cert, v, parts, settings),
        None => {
            let name = &cert.name;
            let mut b = json!({ "id": format!("{base}/certificates/{name}") });
            if parts.policy {
                b["policy"] = policy(base, name, &cert.policy);
            }
            if parts.pending {
                b["pending"] = json!({ "id": format!("{base}/certificates/{name}/pending") });
            }
            b
        }
    }
}

fn deleted_fields(base: &str, d: &DeletedCert) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("recoveryId".into(), json!(format!("{base}/deletedcertificates/{}", d.cert.name)));
    m.insert("deletedDate".into(), json!(d.deleted_date));
    m.insert("scheduledPurgeDate".into(), json!(d.scheduled_purge_date));
    m
}

/// A deleted certificate bundle (latest version, policy, pending).
pub fn deleted_bundle(base: &str, d: &DeletedCert, settings: &Settings) -> Value {
    let parts = BundleParts { policy: true, pending: true, x509_meta: false };
    let inner = latest_bundle(base, &d.cert, parts, settings);
    let mut m = deleted_fields(base, d);
    if let Value::Object(o) = inner {
        m.extend(o);
    }
    Value::Object(m)
}

/// A list item of `GET /certificates` (id without version).
pub fn item(base: &str, cert: &Cert) -> Value {
    let name = &cert.name;
    match cert.latest() {
        Some(v) => {
            let mut i = json!({
                "id": format!("{base}/certificates/{name}"),
                "x5t": x509::x5t(v.cer()),
                "attributes": attributes(v, &Settings::default(), false),
                "subject": "",
            });
            if let Some(tags) = &v.tags {
                i["tags"] = Value::Object(tags.clone());
            }
            i
        }
        None => {
            let created = cert.policy.attributes.as_ref().and_then(|a| a.created).unwrap_or_default();
            json!({
                "id": format!("{base}/certificates/{name}"),
                "attributes": { "enabled": false, "created": created, "updated": created },
                "subject": "",
            })
        }
    }
}

/// A list item of `GET /certificates/{name}/versions`.
pub fn version_item(base: &str, cert: &Cert, v: &CertVersion) -> Value {
    let mut i = json!({
        "id": format!("{base}/certificates/{}/{}", cert.name, v.version),
        "x5t": x509::x5t(v.cer()),
        "attributes": attributes(v, &Settings::default(), false),
        "subject": "",
    });
    if let Some(tags) = &v.tags {
        i["tags"] = Value::Object(tags.clone());
    }
    i
}

/// A list item of `GET /deletedcertificates`.
pub fn deleted_item(base: &str, d: &DeletedCert, settings: &Settings) -> Value {
    let mut m = deleted_fields(base, d);
    m.insert("id".into(), json!(format!("{base}/certificates/{}", d.cert.name)));
    if let Some(v) = d.cert.latest() {
        m.insert("x5t".into(), json!(x509::x5t(v.cer())));
        m.insert("attributes".into(), attributes(v, settings, true));
        if let Some(tags) = &v.tags {
            m.insert("tags".into(), Value::Object(tags.clone()));
        }
    }
    Value::Object(m)
}

/// The status details the service sends while an operation is in progress.
fn status_details(op: &Operation) -> Option<&'static str> {
    if op.status != OpStatus::InProgress && op.status != OpStatus::Failed {
        return None;
    }
    let issuer = op.issuer.name.as_deref().unwrap_or_default();
    Some(if issuer == crate::policy::ISSUER_UNKNOWN {
        "Pending certificate created. Please Perform Merge to complete the request."
    } else {
        "Pending certificate created. Certificate request is in progress. This may take some time based on the issuer provider. Please check again later."
    })
}

/// A certificate operation.
pub fn operation(base: &str, cert: &Cert, op: &Operation) -> Value {
    let name = &cert.name;
    let mut issuer = json!({ "name": op.issuer.name.clone().unwrap_or_default() });
    if let Some(cty) = &op.issuer.cty {
        issuer["cty"] = json!(cty);
    }
    let mut o = json!({
        "id": format!("{base}/certificates/{name}/pending"),
        "issuer": issuer,
        "csr": STANDARD.encode(&op.csr),
        "cancellation_requested": op.cancellation_requested,
        "status": op.status.as_str(),
    });
    if let Some(d) = status_details(op) {
        o["status_details"] = json!(d);
    }
    if let Some((code, message)) = &op.error {
        o["error"] = json!({ "code": code, "message": message });
    }
    if op.status == OpStatus::Completed {
        o["target"] = json!(format!("{base}/certificates/{name}"));
    }
    o["request_id"] = json!(op.request_id);
    o
}

/// An issuer bundle (the password is never returned).
pub fn issuer(base: &str, rec: &IssuerRecord) -> Value {
    let mut i = json!({
        "id": format!("{base}/certificates/issuers/{}", rec.name),
        "provider": rec.provider,
    });
    if let Some(c) = &rec.credentials {
        let mut cred = json!({});
        if let Some(a) = &c.account_id {
            cred["account_id"] = json!(a);
        }
        i["credentials"] = cred;
    }
    if let Some(org) = &rec.org_details {
        let mut o = serde_json::to_value(org).unwrap_or_else(|_| json!({}));
        o["zip"] = json!(0);
        i["org_details"] = o;
    }
    i["attributes"] = json!({
        "enabled": rec.enabled,
        "created": rec.created,
        "updated": rec.updated,
    });
    i
}

/// A list item of `GET /certificates/issuers`.
pub fn issuer_item(base: &str, rec: &IssuerRecord) -> Value {
    json!({
        "id": format!("{base}/certificates/issuers/{}", rec.name),
        "provider": rec.provider,
    })
}

/// The contacts object.
pub fn contacts(base: &str, list: &[Contact]) -> Value {
    json!({
        "id": format!("{base}/certificates/contacts"),
        "contacts": list,
    })
}

/// A certificate's secret (`SecretBundle`).
pub fn secret(
    base: &str,
    cert: &Cert,
    v: &CertVersion,
    value: String,
    content_type: &str,
    settings: &Settings,
) -> Value {
    let name = &cert.name;
    let ver = &v.version;
    let mut s = json!({
        "value": value,
        "contentType": content_type,
        "id": format!("{base}/secrets/{name}/{ver}"),
        "managed": true,
        "attributes": attributes(v, settings, true),
    });
    if let Some(tags) = &v.tags {
        s["tags"] = Value::Object(tags.clone());
    }
    s["kid"] = json!(format!("{base}/keys/{name}/{ver}"));
    s
}
