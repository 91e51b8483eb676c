//! Certificate contacts: set, get, delete.

use super::{Ctx, Handled, Reply};
use crate::api_error::ApiError;
use crate::model::ContactsIn;
use crate::views;

/// `PUT /certificates/contacts`
pub fn set(ctx: &Ctx<'_>) -> Handled {
    let body: ContactsIn = ctx.json()?;
    let list = body.contacts.ok_or_else(|| ApiError::bad_parameter("Property contacts is required."))?;
    if list.iter().any(|c| c.email.as_deref().is_none_or(|e| e.trim().is_empty())) {
        return Err(ApiError::bad_parameter("Property contacts.email is required for every contact."));
    }
    let mut vault = ctx.app.vault();
    vault.contacts = Some(list.clone());
    Ok(Reply::ok(views::contacts(&ctx.base, &list)))
}

/// `GET /certificates/contacts`
pub fn get(ctx: &Ctx<'_>) -> Handled {
    let vault = ctx.app.vault();
    let list = vault.contacts.as_ref().ok_or_else(ApiError::contacts_not_found)?;
    Ok(Reply::ok(views::contacts(&ctx.base, list)))
}

/// `DELETE /certificates/contacts`
pub fn delete(ctx: &Ctx<'_>) -> Handled {
    let mut vault = ctx.app.vault();
    let list = vault.contacts.take().ok_or_else(ApiError::contacts_not_found)?;
    Ok(Reply::ok(views::contacts(&ctx.base, &list)))
}
