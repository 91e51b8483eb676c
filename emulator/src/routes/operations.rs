//! Issuing certificates: create (an operation that completes after a delay, or by merge),
//! import, and the `/pending` operation resource (get, cancel, delete, merge).

use std::time::Instant;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::header::{LOCATION, RETRY_AFTER};
use http::StatusCode;

use super::{Ctx, Handled, Reply};
use crate::api_error::ApiError;
use crate::ids::{check_name, key_of, new_version};
use crate::model::{CreateParams, ImportParams, MergeParams, OperationUpdate};
use crate::policy::{self, ISSUER_SELF, ISSUER_UNKNOWN};
use crate::store::{unix_now, Cert, CertVersion, OpStatus, Operation, Vault};
use crate::views::{self, BundleParts};
use crate::x509::{self, ImportError};

/// `Retry-After` seconds for an operation still in progress.
fn retry_after(op: &Operation) -> u64 {
    match op.ready_at {
        Some(t) => {
            let left = t.saturating_duration_since(Instant::now());
            left.as_secs() + u64::from(left.subsec_nanos() > 0)
        }
        None => 10,
    }
}

fn operation_reply(ctx: &Ctx<'_>, cert: &Cert, op: &Operation, status: StatusCode) -> Reply {
    let mut reply = Reply::with_status(status, views::operation(&ctx.base, cert, op));
    if op.status == OpStatus::InProgress {
        reply = reply.header(RETRY_AFTER, retry_after(op).to_string());
    }
    reply
}

fn check_no_operation_in_progress(vault: &Vault, name: &str) -> Result<(), ApiError> {
    if vault.cert(name).is_some_and(|c| c.in_progress()) {
        return Err(ApiError::conflict(format!(
            "A certificate operation for {name} is already in progress. Wait for it to finish, or cancel or delete it first."
        )));
    }
    Ok(())
}

/// `POST /certificates/{name}/create`
pub async fn create(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    let params: CreateParams = ctx.json()?;
    let now = unix_now();
    let (mut new_policy, reuse) = {
        let vault = ctx.app.vault();
        vault.check_name_usable(name)?;
        check_no_operation_in_progress(&vault, name)?;
        let existing = vault.cert(name);
        let p = match params.policy.clone() {
            Some(p) => policy::normalize_for_create(p, now)?,
            None => match existing {
                Some(c) => c.policy.clone(),
                None => {
                    return Err(ApiError::bad_parameter("Property policy is required when creating a new certificate."))
                }
            },
        };
        let reuse_key = p.key_props.as_ref().and_then(|k| k.reuse_key).unwrap_or(false);
        let reuse = existing.filter(|_| reuse_key).and_then(|c| c.latest()).and_then(|v| v.key.clone());
        (p, reuse)
    };
    let spec = policy::key_spec(&new_policy)?;
    let issuer = policy::issuer_name(&new_policy);
    let x509_props = new_policy.x509_props.clone().unwrap_or_default();
    let is_self = issuer == ISSUER_SELF;
    let material = tokio::task::spawn_blocking(move || {
        let key = match reuse {
            Some(k) if x509::public_key_of(&k).is_ok_and(|(_, s)| s == spec) => k,
            _ => x509::generate_key(spec)?,
        };
        let csr = x509::csr(&x509_props, &key, spec)?;
        let issued = if is_self {
            Some(x509::self_signed(&x509_props, &key, spec, time::OffsetDateTime::now_utc())?.der)
        } else {
            None
        };
        Ok::<_, String>((key, csr, issued))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .map_err(|e| ApiError::bad_parameter(format!("Property policy.x509_props has invalid value. {e}\r\n")))?;
    let (key, csr, issued) = material;

    let mut vault = ctx.app.vault();
    vault.check_name_usable(name)?;
    check_no_operation_in_progress(&vault, name)?;
    let delay = ctx.app.settings.create_delay;
    let op = Operation {
        request_id: new_version(),
        version: new_version(),
        issuer: new_policy.issuer.clone().unwrap_or_default(),
        csr,
        key,
        cancellation_requested: false,
        status: OpStatus::InProgress,
        error: None,
        ready_at: (issuer != ISSUER_UNKNOWN).then(|| Instant::now() + delay),
        issued,
        enabled: params.attributes.as_ref().and_then(|a| a.enabled),
        tags: params.tags.clone(),
        content_type: policy::content_type(&new_policy),
        exportable: policy::exportable(&new_policy),
    };
    let key = key_of(name);
    match vault.certs.get_mut(&key) {
        Some(c) => {
            if let (Some(old), Some(new)) =
                (c.policy.attributes.as_ref().and_then(|a| a.created), new_policy.attributes.as_mut())
            {
                new.created = Some(old);
            }
            c.policy = new_policy;
            c.operation = Some(op);
        }
        None => {
            vault.certs.insert(
                key.clone(),
                Cert {
                    name: name.to_string(),
                    versions: Vec::new(),
                    policy: new_policy,
                    operation: Some(op),
                    hidden_until: None,
                },
            );
        }
    }
    let cert = vault.certs.get(&key).ok_or_else(|| ApiError::internal("certificate vanished"))?;
    let op = cert.operation.as_ref().ok_or_else(|| ApiError::internal("operation vanished"))?;
    let location = format!(
        "{}/certificates/{}/pending?api-version={}&request_id={}",
        ctx.base,
        cert.name,
        ctx.api_version_query(),
        op.request_id
    );
    let mut reply =
        Reply::with_status(StatusCode::ACCEPTED, views::operation(&ctx.base, cert, op)).header(LOCATION, location);
    reply = reply.header(RETRY_AFTER, retry_after(op).to_string());
    Ok(reply)
}

fn import_error(e: ImportError) -> ApiError {
    match e {
        ImportError::Pem(m) | ImportError::Pkcs12(m) => ApiError::bad_parameter(m),
    }
}

/// `POST /certificates/{name}/import`
pub fn import(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    let params: ImportParams = ctx.json()?;
    let value = params
        .value
        .clone()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::bad_parameter("Property value is required."))?;
    let bundle = x509::parse_import_value(&value, params.pwd.as_deref()).map_err(import_error)?;
    let key = bundle.key.clone().ok_or_else(|| {
        ApiError::bad_parameter(if bundle.was_pem {
            "Private key is not specified in the specified X.509 PEM certificate content. Please specify private key in the X.509 PEM certificate content."
        } else {
            "Private key is not specified in the specified PKCS#12 certificate content. Please specify private key in the PKCS#12 certificate content."
        })
    })?;
    let (public_key, _) = x509::public_key_of(&key).map_err(ApiError::bad_parameter)?;
    let chain = x509::order_chain(&bundle.certs, &public_key).ok_or_else(|| {
        ApiError::bad_parameter(
            "The private key does not match the public key of any certificate in the specified content.",
        )
    })?;
    let info = x509::cert_info(&chain[0]).map_err(ApiError::bad_parameter)?;
    let now = unix_now();
    let new_policy = policy::for_import(params.policy.clone(), &info, bundle.was_pem, now)?;

    let mut vault = ctx.app.vault();
    vault.check_name_usable(name)?;
    check_no_operation_in_progress(&vault, name)?;
    let version = CertVersion {
        version: new_version(),
        chain,
        key: Some(key),
        enabled: params.attributes.as_ref().and_then(|a| a.enabled).unwrap_or(true),
        nbf: info.nbf,
        exp: info.exp,
        created: now,
        updated: now,
        tags: params.tags.clone(),
        content_type: policy::content_type(&new_policy),
        exportable: policy::exportable(&new_policy),
    };
    let key = key_of(name);
    let cert = vault.certs.entry(key).or_insert_with(|| Cert {
        name: name.to_string(),
        versions: Vec::new(),
        policy: new_policy.clone(),
        operation: None,
        hidden_until: None,
    });
    cert.policy = new_policy;
    cert.versions.push(version);
    let parts = BundleParts { policy: true, pending: false, x509_meta: false };
    Ok(Reply::ok(views::latest_bundle(&ctx.base, cert, parts, &ctx.app.settings)))
}

/// `GET /certificates/{name}/pending`
pub fn get(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    let vault = ctx.app.vault();
    let cert = vault.cert(name).ok_or_else(|| ApiError::pending_not_found(name))?;
    let op = cert.operation.as_ref().ok_or_else(|| ApiError::pending_not_found(name))?;
    Ok(operation_reply(ctx, cert, op, StatusCode::OK))
}

/// `PATCH /certificates/{name}/pending` (`{"cancellation_requested": true}`)
pub fn cancel(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    let update: OperationUpdate = ctx.json()?;
    if update.cancellation_requested != Some(true) {
        return Err(ApiError::bad_parameter("Property cancellation_requested must be true."));
    }
    let mut vault = ctx.app.vault();
    let cert = vault.cert_mut(name).ok_or_else(|| ApiError::pending_not_found(name))?;
    let op = cert.operation.as_mut().ok_or_else(|| ApiError::pending_not_found(name))?;
    if op.status == OpStatus::InProgress {
        op.cancellation_requested = true;
    }
    let (cert, op) = (&*cert, cert.operation.as_ref());
    let op = op.ok_or_else(|| ApiError::pending_not_found(name))?;
    // The service answers a cancel without `Retry-After`, even while the operation is still in
    // progress (net-VerifyCancelCertificateOperation): only create and get send it.
    Ok(Reply::with_status(StatusCode::OK, views::operation(&ctx.base, cert, op)))
}

/// `DELETE /certificates/{name}/pending`
pub fn delete(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    let mut vault = ctx.app.vault();
    let cert = vault.cert_mut(name).ok_or_else(|| ApiError::pending_not_found(name))?;
    let op = cert.operation.take().ok_or_else(|| ApiError::pending_not_found(name))?;
    let body = views::operation(&ctx.base, cert, &op);
    if cert.versions.is_empty() {
        vault.certs.remove(&key_of(name));
    }
    Ok(Reply::ok(body))
}

/// `POST /certificates/{name}/pending/merge`
pub fn merge(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    let params: MergeParams = ctx.json()?;
    let x5c = params
        .x5c
        .clone()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::bad_parameter("Property x5c is required."))?;
    let chain = x5c
        .iter()
        .map(|c| {
            let compact: String = c.chars().filter(|ch| !ch.is_whitespace()).collect();
            STANDARD.decode(compact).map_err(|_| {
                ApiError::bad_parameter("Property x5c has invalid value. Each entry must be a base64 DER certificate.")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let info = x509::cert_info(&chain[0]).map_err(ApiError::bad_parameter)?;
    let now = unix_now();
    let base = ctx.base.clone();
    let mut vault = ctx.app.vault();
    let cert = vault.cert_mut(name).ok_or_else(|| ApiError::pending_not_found(name))?;
    let op = cert.operation.as_mut().ok_or_else(|| ApiError::pending_not_found(name))?;
    if op.status != OpStatus::InProgress {
        return Err(ApiError::bad_parameter(format!(
            "The certificate operation for {name} is not in progress (status: {}).",
            op.status.as_str()
        )));
    }
    if op.issuer.name.as_deref() != Some(ISSUER_UNKNOWN) {
        return Err(ApiError::bad_parameter("Merge is only allowed for certificates whose issuer is Unknown."));
    }
    let (public_key, _) = x509::public_key_of(&op.key).map_err(ApiError::internal)?;
    if public_key != info.public_key {
        return Err(ApiError::bad_parameter("Public key from x509 certificate and key of this instance doesn't match"));
    }
    let version = CertVersion {
        version: op.version.clone(),
        chain,
        key: Some(op.key.clone()),
        enabled: params.attributes.as_ref().and_then(|a| a.enabled).or(op.enabled).unwrap_or(true),
        nbf: info.nbf,
        exp: info.exp,
        created: now,
        updated: now,
        tags: params.tags.clone().or_else(|| op.tags.clone()),
        content_type: op.content_type.clone(),
        exportable: op.exportable,
    };
    op.status = OpStatus::Completed;
    cert.versions.push(version);
    let parts = BundleParts { policy: true, pending: true, x509_meta: false };
    let body = views::latest_bundle(&base, cert, parts, &ctx.app.settings);
    let location = format!("{base}/certificates/{}?api-version={}", cert.name, ctx.api_version);
    Ok(Reply::with_status(StatusCode::CREATED, body).header(LOCATION, location))
}
