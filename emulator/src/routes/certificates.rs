//! Certificate reads and updates: get, update properties, delete, list, versions, policy.

use std::time::Instant;

use super::paging::{include_pending, page};
use super::{Ctx, Handled, Reply};
use crate::api_error::ApiError;
use crate::ids::{check_name, key_of};
use crate::model::UpdateParams;
use crate::policy;
use crate::store::{unix_now, DeletedCert};
use crate::views::{self, BundleParts};

/// `GET /certificates/{name}[/{version}]`
pub fn get(ctx: &Ctx<'_>, name: &str, version: Option<&str>) -> Handled {
    check_name(name)?;
    let vault = ctx.app.vault();
    let cert = vault.cert(name).ok_or_else(|| ApiError::certificate_not_found(name))?;
    let settings = &ctx.app.settings;
    match version {
        None => {
            let v = cert.latest().ok_or_else(|| ApiError::certificate_not_found(name))?;
            let parts = BundleParts { policy: true, pending: true, x509_meta: false };
            Ok(Reply::ok(views::bundle(&ctx.base, cert, v, parts, settings)))
        }
        Some(ver) => {
            let v = cert.version(ver).ok_or_else(|| ApiError::certificate_not_found(&format!("{name}/{ver}")))?;
            let parts = BundleParts { policy: false, pending: false, x509_meta: true };
            Ok(Reply::ok(views::bundle(&ctx.base, cert, v, parts, settings)))
        }
    }
}

/// `PATCH /certificates/{name}[/{version}]`
pub fn update(ctx: &Ctx<'_>, name: &str, version: Option<&str>) -> Handled {
    check_name(name)?;
    let params: UpdateParams = ctx.json()?;
    let now = unix_now();
    let mut vault = ctx.app.vault();
    let cert = vault.cert_mut(name).ok_or_else(|| ApiError::certificate_not_found(name))?;
    let policy_changed = if let Some(p) = &params.policy {
        cert.policy = policy::update(&cert.policy, p, now)?;
        true
    } else {
        false
    };
    let ver = match version {
        Some(v) => v.to_string(),
        None => cert.latest().map(|v| v.version.clone()).ok_or_else(|| ApiError::certificate_not_found(name))?,
    };
    let v = cert.version_mut(&ver).ok_or_else(|| ApiError::certificate_not_found(&format!("{name}/{ver}")))?;
    if let Some(a) = &params.attributes {
        if let Some(e) = a.enabled {
            v.enabled = e;
        }
        if let Some(nbf) = a.nbf {
            v.nbf = nbf;
        }
        if let Some(exp) = a.exp {
            v.exp = exp;
        }
    }
    if let Some(tags) = params.tags {
        v.tags = Some(tags);
    }
    v.updated = now;
    let v = v.clone();
    let parts = BundleParts { policy: policy_changed, pending: true, x509_meta: false };
    Ok(Reply::ok(views::bundle(&ctx.base, cert, &v, parts, &ctx.app.settings)))
}

/// `DELETE /certificates/{name}`
pub fn delete(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    let settings = &ctx.app.settings;
    let mut vault = ctx.app.vault();
    if vault.cert(name).is_none() {
        return Err(ApiError::certificate_not_found(name));
    }
    let Some(cert) = vault.certs.remove(&key_of(name)) else {
        return Err(ApiError::certificate_not_found(name));
    };
    let now = unix_now();
    let deleted = DeletedCert {
        cert,
        deleted_date: now,
        scheduled_purge_date: now + settings.recoverable_days * 86_400,
        visible_at: (!settings.delete_delay.is_zero()).then(|| Instant::now() + settings.delete_delay),
    };
    if !settings.soft_delete {
        let parts = BundleParts { policy: true, pending: true, x509_meta: false };
        return Ok(Reply::ok(views::latest_bundle(&ctx.base, &deleted.cert, parts, settings)));
    }
    let body = views::deleted_bundle(&ctx.base, &deleted, settings);
    vault.deleted.insert(key_of(name), deleted);
    Ok(Reply::ok(body))
}

/// `GET /certificates`
pub fn list(ctx: &Ctx<'_>) -> Handled {
    let pending = include_pending(ctx);
    let vault = ctx.app.vault();
    let items = vault
        .certs
        .iter()
        .filter(|(_, c)| c.hidden_until.is_none())
        .filter(|(_, c)| !c.versions.is_empty() || (pending && c.operation.is_some()))
        .map(|(k, c)| (k.clone(), views::item(&ctx.base, c)))
        .collect();
    Ok(Reply::ok(page(ctx, "/certificates", items)?))
}

/// `GET /certificates/{name}/versions`
pub fn versions(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    let vault = ctx.app.vault();
    let items = vault
        .cert(name)
        .map(|c| {
            c.versions
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{i:08}"), views::version_item(&ctx.base, c, v)))
                .collect()
        })
        .unwrap_or_default();
    Ok(Reply::ok(page(ctx, &format!("/certificates/{name}/versions"), items)?))
}

/// `GET /certificates/{name}/policy`
pub fn get_policy(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    let vault = ctx.app.vault();
    let cert = vault.cert(name).ok_or_else(|| ApiError::certificate_not_found(name))?;
    Ok(Reply::ok(views::policy(&ctx.base, &cert.name, &cert.policy)))
}

/// `PATCH /certificates/{name}/policy`
pub fn update_policy(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    let patch: serde_json::Value = ctx.json()?;
    let now = unix_now();
    let mut vault = ctx.app.vault();
    let cert = vault.cert_mut(name).ok_or_else(|| ApiError::certificate_not_found(name))?;
    cert.policy = policy::update(&cert.policy, &patch, now)?;
    Ok(Reply::ok(views::policy(&ctx.base, &cert.name, &cert.policy)))
}
