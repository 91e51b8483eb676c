//! Paged lists: `maxresults` (1–25), `$skiptoken`, absolute `nextLink`s.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::Ctx;
use crate::api_error::ApiError;

/// The largest page the service returns.
pub const MAX_PAGE: usize = 25;

/// One page of `items` (sorted by their keys) for the list at `path`.
pub fn page(ctx: &Ctx<'_>, path: &str, mut items: Vec<(String, Value)>) -> Result<Value, ApiError> {
    let max = match ctx.query("maxresults") {
        None | Some("") => MAX_PAGE,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_parameter(format!(
                    "Invalid value '{s}' for maxresults: the value must be between 1 and {MAX_PAGE}."
                )))
            }
        },
    };
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let start = match ctx.query("$skiptoken") {
        None | Some("") => 0,
        Some(tok) => {
            let key = URL_SAFE_NO_PAD
                .decode(tok.trim_end_matches('=').as_bytes())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| ApiError::bad_parameter("Invalid $skiptoken value."))?;
            items.iter().position(|(k, _)| *k >= key).unwrap_or(items.len())
        }
    };
    let rest = &items[start..];
    let (this, more) = rest.split_at(rest.len().min(max));
    let next = more.first().map(|(k, _)| {
        let mut link = format!(
            "{}{}?api-version={}&$skiptoken={}&maxresults={}",
            ctx.base,
            path,
            ctx.api_version_query(),
            URL_SAFE_NO_PAD.encode(k.as_bytes()),
            max
        );
        if let Some(p) = ctx.query("includePending") {
            link.push_str("&includePending=");
            link.push_str(p);
        }
        link
    });
    Ok(json!({
        "value": this.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
        "nextLink": next,
    }))
}

/// Whether `includePending=true` was given.
pub fn include_pending(ctx: &Ctx<'_>) -> bool {
    ctx.query("includePending").is_some_and(|v| v.eq_ignore_ascii_case("true"))
}
