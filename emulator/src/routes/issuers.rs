//! Certificate issuers: set (create or replace), update, get, delete, list.

use super::paging::page;
use super::{Ctx, Handled, Reply};
use crate::api_error::ApiError;
use crate::ids::{check_name, key_of};
use crate::model::IssuerIn;
use crate::store::{unix_now, IssuerRecord};
use crate::views;

/// `PUT /certificates/issuers/{name}`
pub fn set(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    let body: IssuerIn = ctx.json()?;
    let provider = body
        .provider
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| ApiError::bad_parameter("Property provider is required."))?;
    let now = unix_now();
    let mut vault = ctx.app.vault();
    let created = vault.issuers.get(&key_of(name)).map(|i| i.created).unwrap_or(now);
    let rec = IssuerRecord {
        name: name.to_string(),
        provider,
        credentials: body.credentials,
        org_details: body.org_details,
        enabled: body.attributes.and_then(|a| a.enabled).unwrap_or(true),
        created,
        updated: now,
    };
    let out = views::issuer(&ctx.base, &rec);
    vault.issuers.insert(key_of(name), rec);
    Ok(Reply::ok(out))
}

/// `PATCH /certificates/issuers/{name}`
pub fn update(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    let body: IssuerIn = ctx.json()?;
    let now = unix_now();
    let mut vault = ctx.app.vault();
    let rec = vault.issuers.get_mut(&key_of(name)).ok_or_else(|| ApiError::issuer_not_found(name))?;
    if let Some(p) = body.provider.filter(|p| !p.trim().is_empty()) {
        rec.provider = p;
    }
    if let Some(c) = body.credentials {
        let mut cur = rec.credentials.take().unwrap_or_default();
        if c.account_id.is_some() {
            cur.account_id = c.account_id;
        }
        if c.pwd.is_some() {
            cur.pwd = c.pwd;
        }
        rec.credentials = Some(cur);
    }
    if let Some(o) = body.org_details {
        let mut cur = rec.org_details.take().unwrap_or_default();
        if o.id.is_some() {
            cur.id = o.id;
        }
        if o.admin_details.is_some() {
            cur.admin_details = o.admin_details;
        }
        rec.org_details = Some(cur);
    }
    if let Some(e) = body.attributes.and_then(|a| a.enabled) {
        rec.enabled = e;
    }
    rec.updated = now;
    Ok(Reply::ok(views::issuer(&ctx.base, rec)))
}

/// `GET /certificates/issuers/{name}`
pub fn get(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    let vault = ctx.app.vault();
    let rec = vault.issuers.get(&key_of(name)).ok_or_else(|| ApiError::issuer_not_found(name))?;
    Ok(Reply::ok(views::issuer(&ctx.base, rec)))
}

/// `DELETE /certificates/issuers/{name}`
pub fn delete(ctx: &Ctx<'_>, name: &str) -> Handled {
    check_name(name)?;
    let mut vault = ctx.app.vault();
    let rec = vault.issuers.remove(&key_of(name)).ok_or_else(|| ApiError::issuer_not_found(name))?;
    Ok(Reply::ok(views::issuer(&ctx.base, &rec)))
}

/// `GET /certificates/issuers`
pub fn list(ctx: &Ctx<'_>) -> Handled {
    let vault = ctx.app.vault();
    let items = vault.issuers.iter().map(|(k, r)| (k.clone(), views::issuer_item(&ctx.base, r))).collect();
    Ok(Reply::ok(page(ctx, "/certificates/issuers", items)?))
}
