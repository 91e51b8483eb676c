//! Certificate policy rules: defaults and validation on create, the policy an import implies,
//! and policy updates.

use serde_json::Value;

use crate::api_error::ApiError;
use crate::model::{
    Action, BasicConstraints, IssuerParams, KeyProps, LifetimeAction, Policy, PolicyAttributes, SecretProps, Trigger,
    X509Props,
};
use crate::x509::{self, CertInfo, KeySpec, KEY_USAGES};

/// `application/x-pkcs12`.
pub const PKCS12: &str = "application/x-pkcs12";
/// `application/x-pem-file`.
pub const PEM: &str = "application/x-pem-file";

/// Issuer name of self-signed certificates.
pub const ISSUER_SELF: &str = "Self";
/// Issuer name of certificates completed by a merge.
pub const ISSUER_UNKNOWN: &str = "Unknown";

fn invalid(prop: &str, detail: &str) -> ApiError {
    ApiError::bad_parameter(format!("Property {prop} has invalid value. {detail}\r\n"))
}

/// Canonical form of a key usage name (`crlSign` → `cRLSign`), if it is one.
pub fn canonical_key_usage(name: &str) -> Option<&'static str> {
    KEY_USAGES.iter().find(|k| k.eq_ignore_ascii_case(name)).copied()
}

/// Canonical content type, if supported.
pub fn canonical_content_type(ct: &str) -> Option<&'static str> {
    [PKCS12, PEM].into_iter().find(|c| c.eq_ignore_ascii_case(ct))
}

/// The key spec a normalized policy asks for.
pub fn key_spec(policy: &Policy) -> Result<KeySpec, ApiError> {
    let kp = policy.key_props.clone().unwrap_or_default();
    let kty = kp.kty.as_deref().unwrap_or(if kp.crv.is_some() { "EC" } else { "RSA" });
    match kty.to_ascii_uppercase().as_str() {
        "RSA" | "RSA-HSM" => {
            let size = kp.key_size.unwrap_or(2048);
            match size {
                2048 | 3072 | 4096 => Ok(KeySpec::Rsa(size as usize)),
                _ => Err(invalid("policy.key_props.key_size", "Supported RSA key sizes are 2048, 3072 and 4096.")),
            }
        }
        "EC" | "EC-HSM" => match kp.crv.as_deref().unwrap_or("P-256") {
            c if c.eq_ignore_ascii_case("P-256") => Ok(KeySpec::P256),
            c if c.eq_ignore_ascii_case("P-384") => Ok(KeySpec::P384),
            c if c.eq_ignore_ascii_case("P-521") => Ok(KeySpec::P521),
            c if c.eq_ignore_ascii_case("P-256K") => Ok(KeySpec::P256K),
            c => Err(invalid(
                "policy.key_props.crv",
                &format!("The curve {c} is not supported (supported: P-256, P-384, P-521, P-256K)."),
            )),
        },
        other => Err(invalid("policy.key_props.kty", &format!("Unsupported key type {other}."))),
    }
}

fn normalize_key_props(kp: Option<KeyProps>) -> Result<KeyProps, ApiError> {
    let mut kp = kp.unwrap_or_default();
    let kty = kp.kty.clone().unwrap_or_else(|| if kp.crv.is_some() { "EC".into() } else { "RSA".into() });
    let hsm = kty.to_ascii_uppercase().ends_with("-HSM");
    let probe = Policy { key_props: Some(KeyProps { kty: Some(kty.clone()), ..kp.clone() }), ..Default::default() };
    let spec = key_spec(&probe)?;
    let desc = x509::describe_key(spec);
    kp.kty = Some(if hsm { format!("{}-HSM", desc.kty) } else { desc.kty });
    kp.key_size = Some(desc.key_size);
    kp.crv = desc.crv;
    if hsm && kp.exportable == Some(true) {
        return Err(invalid("policy.key_props.exportable", "Exportable keys are not supported for HSM key types."));
    }
    kp.exportable = Some(kp.exportable.unwrap_or(!hsm));
    kp.reuse_key = Some(kp.reuse_key.unwrap_or(false));
    Ok(kp)
}

fn normalize_secret_props(sp: Option<SecretProps>, default: &str) -> Result<SecretProps, ApiError> {
    let ct = match sp.and_then(|s| s.content_type) {
        None => default.to_string(),
        Some(ct) => canonical_content_type(&ct)
            .ok_or_else(|| invalid("policy.secret_props.contentType", &format!("Unsupported content type {ct}.")))?
            .to_string(),
    };
    Ok(SecretProps { content_type: Some(ct) })
}

fn normalize_lifetime_actions(
    actions: Option<Vec<LifetimeAction>>,
    issuer: &str,
) -> Result<Vec<LifetimeAction>, ApiError> {
    let Some(actions) = actions else {
        let action_type = if issuer.eq_ignore_ascii_case(ISSUER_UNKNOWN) { "EmailContacts" } else { "AutoRenew" };
        return Ok(vec![LifetimeAction {
            trigger: Some(Trigger { lifetime_percentage: Some(80), days_before_expiry: None }),
            action: Some(Action { action_type: Some(action_type.into()) }),
        }]);
    };
    actions
        .into_iter()
        .map(|mut a| {
            let t = a.trigger.clone().unwrap_or_default();
            match (t.lifetime_percentage, t.days_before_expiry) {
                (Some(p), None) if (1..=99).contains(&p) => {}
                (None, Some(d)) if d >= 1 => {}
                _ => {
                    return Err(invalid(
                        "policy.lifetime_actions.trigger",
                        "Specify exactly one of lifetime_percentage (1-99) or days_before_expiry.",
                    ))
                }
            }
            let at = a.action.as_ref().and_then(|x| x.action_type.clone()).unwrap_or_default();
            let canonical =
                ["EmailContacts", "AutoRenew"].into_iter().find(|c| c.eq_ignore_ascii_case(&at)).ok_or_else(|| {
                    invalid("policy.lifetime_actions.action.action_type", &format!("Unsupported action type {at}."))
                })?;
            a.action = Some(Action { action_type: Some(canonical.into()) });
            Ok(a)
        })
        .collect()
}

fn normalize_x509(x: Option<X509Props>) -> Result<X509Props, ApiError> {
    let Some(mut x) = x else {
        return Err(invalid("policy.x509_props", "Either subject or subject alternative names must be specified."));
    };
    match x.subject.as_deref() {
        Some(s) if !s.trim().is_empty() => {
            x509::parse_dn(s).map_err(|e| invalid("policy.x509_props", &e))?;
        }
        _ => {
            if x.sans.as_ref().is_none_or(|s| s.is_empty()) {
                return Err(invalid(
                    "policy.x509_props",
                    "Either subject or subject alternative names must be specified.",
                ));
            }
            x.subject = Some(String::new());
        }
    }
    if let Some(sans) = &x.sans {
        for ip in sans.ip_addresses.iter().flatten() {
            if ip.parse::<std::net::IpAddr>().is_err() {
                return Err(invalid("policy.x509_props.sans.ipAddresses", &format!("Invalid IP address {ip}.")));
            }
        }
    }
    let mut usages = Vec::new();
    for k in x.key_usage.clone().unwrap_or_else(|| vec!["digitalSignature".into(), "keyEncipherment".into()]) {
        let c = canonical_key_usage(&k)
            .ok_or_else(|| invalid("policy.x509_props.key_usage", &format!("Unsupported key usage {k}.")))?;
        if !usages.contains(&c.to_string()) {
            usages.push(c.to_string());
        }
    }
    usages.sort();
    x.key_usage = Some(usages);
    let ekus = x.ekus.clone().unwrap_or_else(|| vec!["1.3.6.1.5.5.7.3.1".to_string(), "1.3.6.1.5.5.7.3.2".to_string()]);
    for e in &ekus {
        if x509::parse_oid(e).is_none() {
            return Err(invalid("policy.x509_props.ekus", &format!("Invalid extended key usage {e}.")));
        }
    }
    x.ekus = Some(ekus);
    let months = x.validity_months.unwrap_or(12);
    if !(1..=1200).contains(&months) {
        return Err(invalid("policy.x509_props.validity_months", "validity_months must be between 1 and 1200."));
    }
    x.validity_months = Some(months);
    x.basic_constraints = Some(x.basic_constraints.unwrap_or(BasicConstraints { ca: false }));
    Ok(x)
}

/// Applies the service's defaults to a policy sent with a create request and validates it.
pub fn normalize_for_create(p: Policy, now: i64) -> Result<Policy, ApiError> {
    let x509_props = normalize_x509(p.x509_props)?;
    let mut issuer = p.issuer.unwrap_or_default();
    let issuer_name = issuer.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| ISSUER_UNKNOWN.to_string());
    let issuer_name = if issuer_name.eq_ignore_ascii_case(ISSUER_SELF) {
        ISSUER_SELF.to_string()
    } else if issuer_name.eq_ignore_ascii_case(ISSUER_UNKNOWN) {
        ISSUER_UNKNOWN.to_string()
    } else {
        issuer_name
    };
    issuer.name = Some(issuer_name.clone());
    Ok(Policy {
        key_props: Some(normalize_key_props(p.key_props)?),
        secret_props: Some(normalize_secret_props(p.secret_props, PKCS12)?),
        x509_props: Some(x509_props),
        lifetime_actions: Some(normalize_lifetime_actions(p.lifetime_actions, &issuer_name)?),
        issuer: Some(issuer),
        attributes: Some(PolicyAttributes {
            enabled: Some(p.attributes.and_then(|a| a.enabled).unwrap_or(true)),
            created: Some(now),
            updated: Some(now),
        }),
    })
}

/// The policy an imported certificate gets: X.509 and key facts from the certificate, the rest
/// from the policy sent with the import (if any).
pub fn for_import(given: Option<Policy>, info: &CertInfo, was_pem: bool, now: i64) -> Result<Policy, ApiError> {
    let given = given.unwrap_or_default();
    let key = info.key.clone();
    let given_kp = given.key_props.clone().unwrap_or_default();
    let key_props = KeyProps {
        exportable: Some(given_kp.exportable.unwrap_or(true)),
        kty: key.as_ref().map(|k| k.kty.clone()),
        key_size: key.as_ref().map(|k| k.key_size),
        reuse_key: Some(given_kp.reuse_key.unwrap_or(false)),
        crv: key.as_ref().and_then(|k| k.crv.clone()),
    };
    let sans = (!info.sans.is_empty()).then(|| info.sans.clone());
    let x509_props = X509Props {
        subject: Some(info.subject.clone()),
        sans,
        ekus: Some(info.ekus.clone()),
        key_usage: Some(info.key_usage.clone()),
        validity_months: Some(info.validity_months),
        basic_constraints: Some(BasicConstraints { ca: info.is_ca }),
    };
    let default_ct = if was_pem { PEM } else { PKCS12 };
    let issuer =
        given.issuer.clone().unwrap_or(IssuerParams { name: Some(ISSUER_UNKNOWN.into()), ..Default::default() });
    Ok(Policy {
        key_props: Some(key_props),
        secret_props: Some(normalize_secret_props(given.secret_props, default_ct)?),
        x509_props: Some(x509_props),
        lifetime_actions: Some(match given.lifetime_actions {
            Some(a) => normalize_lifetime_actions(Some(a), ISSUER_UNKNOWN)?,
            None => Vec::new(),
        }),
        issuer: Some(issuer),
        attributes: Some(PolicyAttributes {
            enabled: Some(given.attributes.and_then(|a| a.enabled).unwrap_or(true)),
            created: Some(now),
            updated: Some(now),
        }),
    })
}

fn merge_json(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    continue;
                }
                match b.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge_json(existing, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

/// Applies a policy update (a partial policy document) to a stored policy.
pub fn update(current: &Policy, patch: &Value, now: i64) -> Result<Policy, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::bad_body("the policy must be a JSON object"));
    }
    let mut base = serde_json::to_value(current).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut patch = patch.clone();
    if let Some(obj) = patch.as_object_mut() {
        obj.remove("id");
        if let Some(attrs) = obj.get_mut("attributes").and_then(|a| a.as_object_mut()) {
            attrs.remove("created");
            attrs.remove("updated");
        }
    }
    merge_json(&mut base, &patch);
    let merged: Policy = serde_json::from_value(base).map_err(ApiError::bad_body)?;
    let created = current.attributes.as_ref().and_then(|a| a.created).unwrap_or(now);
    let mut out = normalize_for_create(merged, now)?;
    if let Some(a) = out.attributes.as_mut() {
        a.created = Some(created);
        a.updated = Some(now);
    }
    Ok(out)
}

/// The issuer name of a normalized policy.
pub fn issuer_name(policy: &Policy) -> String {
    policy.issuer.as_ref().and_then(|i| i.name.clone()).unwrap_or_else(|| ISSUER_UNKNOWN.to_string())
}

/// The secret content type of a normalized policy.
pub fn content_type(policy: &Policy) -> String {
    policy.secret_props.as_ref().and_then(|s| s.content_type.clone()).unwrap_or_else(|| PKCS12.to_string())
}

/// Whether the policy makes the private key exportable.
pub fn exportable(policy: &Policy) -> bool {
    policy.key_props.as_ref().and_then(|k| k.exportable).unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Policy {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn defaults() {
        let p = normalize_for_create(
            parse(serde_json::json!({"x509_props": {"subject": "CN=default", "key_usage": ["crlSign", "dataEncipherment", "digitalSignature", "keyEncipherment", "keyAgreement", "keyCertSign"]}, "issuer": {"name": "Self"}})),
            1,
        )
        .unwrap();
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v["x509_props"]["key_usage"],
            serde_json::json!([
                "cRLSign",
                "dataEncipherment",
                "digitalSignature",
                "keyAgreement",
                "keyCertSign",
                "keyEncipherment"
            ])
        );
        assert_eq!(v["key_props"]["key_size"], 2048);
        assert_eq!(v["key_props"]["exportable"], true);
        assert_eq!(v["secret_props"]["contentType"], PKCS12);
        assert_eq!(v["lifetime_actions"][0]["action"]["action_type"], "AutoRenew");
        assert_eq!(v["x509_props"]["ekus"][0], "1.3.6.1.5.5.7.3.1");
    }

    #[test]
    fn invalid_subject_message() {
        let e = normalize_for_create(
            parse(serde_json::json!({"x509_props": {"subject": "Self", "key_usage": ["invalid"]}, "issuer": {"name": "invalid"}})),
            1,
        )
        .unwrap_err();
        assert_eq!(e.message, "Property policy.x509_props has invalid value. Invalid X.500 distinguished name\r\n");
    }

    #[test]
    fn update_merges() {
        let p = normalize_for_create(
            parse(serde_json::json!({"x509_props": {"subject": "CN=xyz"}, "issuer": {"name": "Self"}})),
            1,
        )
        .unwrap();
        let u = update(&p, &serde_json::json!({"x509_props": {"subject": "CN=twa", "validity_months": 8}}), 5).unwrap();
        let x = u.x509_props.unwrap();
        assert_eq!(x.subject.as_deref(), Some("CN=twa"));
        assert_eq!(x.validity_months, Some(8));
        assert_eq!(u.attributes.unwrap().created, Some(1));
    }
}
