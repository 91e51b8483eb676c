//! A certificate's secret: `GET /secrets/{name}[/{version}]`, PEM or base64 PKCS#12 per the
//! version's content type or `outContentType`, with the private key only when exportable.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::{Ctx, Handled, Reply};
use crate::api_error::ApiError;
use crate::ids::check_name;
use crate::policy::{canonical_content_type, PEM};
use crate::views;
use crate::x509;

/// `GET /secrets/{name}[/{version}]`
pub fn get(ctx: &Ctx<'_>, name: &str, version: Option<&str>) -> Handled {
    check_name(name)?;
    let out_type = match ctx.query("outContentType") {
        None | Some("") => None,
        Some(ct) => Some(canonical_content_type(ct).ok_or_else(|| {
            ApiError::bad_parameter(format!(
                "Invalid value for outContentType: {ct}. Supported values are application/x-pkcs12 and application/x-pem-file."
            ))
        })?),
    };
    let vault = ctx.app.vault();
    let cert = vault.cert(name).ok_or_else(|| ApiError::secret_not_found(name))?;
    let v = match version {
        None => cert.latest().ok_or_else(|| ApiError::secret_not_found(name))?,
        Some(ver) => cert.version(ver).ok_or_else(|| ApiError::secret_not_found(&format!("{name}/{ver}")))?,
    };
    if !v.enabled {
        return Err(ApiError::secret_disabled());
    }
    let content_type = out_type.unwrap_or(v.content_type.as_str()).to_string();
    let key = v.key.as_deref().filter(|_| v.exportable);
    let value = if content_type == PEM {
        x509::secret_pem(&v.chain, key)
    } else {
        STANDARD.encode(x509::secret_pkcs12(&v.chain, key).map_err(ApiError::internal)?)
    };
    Ok(Reply::ok(views::secret(&ctx.base, cert, v, value, &content_type, &ctx.app.settings)))
}
