//! Soft-deleted certificates: list, get, purge, recover.

use std::time::Instant;

use http::StatusCode;

use super::paging::page;
use super::{Ctx, Handled, Reply};
use crate::api_error::ApiError;
use crate::ids::{check_name, key_of};
use crate::views::{self, BundleParts};

fn require_soft_delete(ctx: &Ctx<'_>, operation: &str) -> Result<(), ApiError> {
    if ctx.app.settings.soft_delete {
        Ok(())
    } else {
        Err(ApiError::bad_parameter(format!(
            "Operation \"{operation}\" is not allowed because this vault does not have soft delete enabled."
        )))
    }
}

/// `GET /deletedcertificates`
pub fn list(ctx: &Ctx<'_>) -> Handled {
    require_soft_delete(ctx, "list deleted")?;
    let vault = ctx.app.vault();
    let items = vault
        .deleted
        .iter()
        .filter(|(_, d)| d.visible_at.is_none())
        .map(|(k, d)| (k.clone(), views::deleted_item(&ctx.base, d, &ctx.app.settings)))
        .collect();
    Ok(Reply::ok(page(ctx, "/deletedcertificates", items)?))
}

/// `GET /deletedcertificates/{name}`
pub fn get(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    require_soft_delete(ctx, "get deleted")?;
    let vault = ctx.app.vault();
    let d = vault.deleted(name).ok_or_else(|| ApiError::deleted_certificate_not_found(name))?;
    Ok(Reply::ok(views::deleted_bundle(&ctx.base, d, &ctx.app.settings)))
}

/// `DELETE /deletedcertificates/{name}` → 204
pub fn purge(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    require_soft_delete(ctx, "purge")?;
    let mut vault = ctx.app.vault();
    if vault.deleted(name).is_none() {
        return Err(ApiError::deleted_certificate_not_found(name));
    }
    vault.deleted.remove(&key_of(name));
    Ok(Reply { status: StatusCode::NO_CONTENT, body: None, headers: Vec::new() })
}

/// `POST /deletedcertificates/{name}/recover`
pub fn recover(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    require_soft_delete(ctx, "recover")?;
    let settings = &ctx.app.settings;
    let mut vault = ctx.app.vault();
    if vault.deleted(name).is_none() {
        return Err(ApiError::certificate_not_found(name));
    }
    let Some(d) = vault.deleted.remove(&key_of(name)) else {
        return Err(ApiError::certificate_not_found(name));
    };
    let mut cert = d.cert;
    cert.hidden_until = (!settings.recover_delay.is_zero()).then(|| Instant::now() + settings.recover_delay);
    let parts = BundleParts { policy: true, pending: true, x509_meta: false };
    let body = views::latest_bundle(&ctx.base, &cert, parts, settings);
    vault.certs.insert(key_of(name), cert);
    Ok(Reply::ok(body))
}
