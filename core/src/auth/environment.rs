//! How credentials are configured from environment variables. Core reads no environment:
//! transports pass a lookup function (`|name| std::env::var(name).ok()`).

use super::identity::{
    AuthorityHost, ClientSecretCredential, ManagedIdentityCredential, UserAssignedId, WorkloadIdentityCredential,
};
use crate::error::Error;

fn required(lookup: &dyn Fn(&str) -> Option<String>, name: &str) -> Result<String, Error> {
    match lookup(name) {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(Error::Authentication(format!("the environment variable {name} is not set"))),
    }
}

fn authority(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<AuthorityHost>, Error> {
    match lookup("AZURE_AUTHORITY_HOST") {
        Some(v) if !v.trim().is_empty() => AuthorityHost::new(&v).map(Some),
        _ => Ok(None),
    }
}

/// A service principal from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` (and
/// `AZURE_AUTHORITY_HOST`); the error names the first missing variable.
pub fn client_secret_from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<ClientSecretCredential, Error> {
    let tenant = required(&lookup, "AZURE_TENANT_ID")?;
    let client = required(&lookup, "AZURE_CLIENT_ID")?;
    let secret = required(&lookup, "AZURE_CLIENT_SECRET")?;
    let mut credential = ClientSecretCredential::new(tenant, client, secret);
    if let Some(host) = authority(&lookup)? {
        credential.authority = host;
    }
    Ok(credential)
}

/// Workload identity from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE`
/// (and `AZURE_AUTHORITY_HOST`): the credential and the token file's path.
pub fn workload_identity_from_env(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(WorkloadIdentityCredential, String), Error> {
    let tenant = required(&lookup, "AZURE_TENANT_ID")?;
    let client = required(&lookup, "AZURE_CLIENT_ID")?;
    let file = required(&lookup, "AZURE_FEDERATED_TOKEN_FILE")?;
    let mut credential = WorkloadIdentityCredential::new(tenant, client);
    if let Some(host) = authority(&lookup)? {
        credential.authority = host;
    }
    Ok((credential, file))
}

/// The managed identity of `DefaultAzureCredential`: user-assigned by `AZURE_CLIENT_ID` when it
/// is set, else system-assigned; App Service or IMDS by `IDENTITY_ENDPOINT`/`IDENTITY_HEADER`.
pub fn managed_identity_from_env(lookup: impl Fn(&str) -> Option<String>) -> ManagedIdentityCredential {
    let user = lookup("AZURE_CLIENT_ID").filter(|v| !v.trim().is_empty()).map(UserAssignedId::ClientId);
    ManagedIdentityCredential::from_environment(&lookup, user)
}

/// The error of a credential chain in which every link failed: one line per link.
pub fn chain_failed(reasons: &[String]) -> Error {
    Error::Authentication(format!("no credential in the chain gave a token:\n- {}", reasons.join("\n- ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn missing_variables_are_named() {
        let e = client_secret_from_env(env(&[("AZURE_TENANT_ID", "t")])).unwrap_err();
        assert!(e.to_string().contains("AZURE_CLIENT_ID"), "{e}");
        let c = client_secret_from_env(env(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_SECRET", "s"),
            ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us"),
        ]))
        .unwrap();
        assert!(c.authority.as_str().contains("login.microsoftonline.us"));
        assert!(!format!("{c:?}").contains("\"s\""));
        let (w, file) = workload_identity_from_env(env(&[
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
        ]))
        .unwrap();
        assert_eq!(file, "/var/run/token");
        assert_eq!(w.client_id, "c");
        let m = managed_identity_from_env(env(&[("AZURE_CLIENT_ID", "c")]));
        assert_eq!(m.user_assigned, Some(UserAssignedId::ClientId("c".into())));
        assert!(chain_failed(&["A: no".into(), "B: no".into()]).to_string().contains("\n- B: no"));
    }
}
