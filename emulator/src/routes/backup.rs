//! Backup and restore: an opaque base64url blob holding every version and the policy.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::json;

use super::{Ctx, Handled, Reply};
use crate::api_error::ApiError;
use crate::ids::{check_name, key_of};
use crate::model::RestoreParams;
use crate::store::Cert;
use crate::views::{self, BundleParts};

/// The first bytes of every backup blob.
const MAGIC: &[u8] = b"&KvcertsEmulatorCertificateBackupV1.";

/// `POST /certificates/{name}/backup`
pub fn backup(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    let vault = ctx.app.vault();
    let cert =
        vault.cert(name).filter(|c| !c.versions.is_empty()).ok_or_else(|| ApiError::certificate_not_found(name))?;
    let mut copy = cert.clone();
    copy.operation = None;
    let mut blob = MAGIC.to_vec();
    blob.extend(serde_json::to_vec(&copy).map_err(|e| ApiError::internal(e.to_string()))?);
    Ok(Reply::ok(json!({ "value": URL_SAFE_NO_PAD.encode(blob) })))
}

fn decode_blob(value: &str) -> Option<Cert> {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = URL_SAFE_NO_PAD
        .decode(compact.trim_end_matches('=').as_bytes())
        .or_else(|_| STANDARD.decode(compact.as_bytes()))
        .ok()?;
    let json = bytes.strip_prefix(MAGIC)?;
    serde_json::from_slice(json).ok()
}

/// `POST /certificates/restore`
pub fn restore(ctx: &Ctx<'_>) -> Handled {
    let params: RestoreParams = ctx.json()?;
    let value =
        params.value.filter(|v| !v.is_empty()).ok_or_else(|| ApiError::bad_parameter("Property value is required."))?;
    let cert = decode_blob(&value)
        .ok_or_else(|| ApiError::bad_parameter("Backup blob contains invalid or corrupt version."))?;
    let name = cert.name.clone();
    check_name(&name)?;
    let mut vault = ctx.app.vault();
    vault.check_name_usable(&name)?;
    if vault.certs.contains_key(&key_of(&name)) {
        return Err(ApiError::conflict(format!(
            "Certificate {name} already exists. Delete and purge it before restoring a backup with the same name."
        )));
    }
    let parts = BundleParts { policy: true, pending: false, x509_meta: false };
    let body = views::latest_bundle(&ctx.base, &cert, parts, &ctx.app.settings);
    vault.certs.insert(key_of(&name), cert);
    Ok(Reply::ok(body))
}
