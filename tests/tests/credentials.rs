//! The blocking client's credentials over loopback: each sends the exact token request its
//! identity endpoint expects (checked on the server side), reads the answer, and turns the
//! endpoint's errors into clear errors without leaking secrets.

use std::sync::Arc;
use std::time::Duration;

use kvcerts_core::auth::{self, AuthorityHost, ManagedIdentitySource, TokenRequest, UserAssignedId};
use kvcerts_core::ErrorKind;
use kvcerts_emulator::Emulator;
use kvcerts_tests::{PlaybackOptions, PlaybackServer, Recording, ServedRequest};
use kvcerts_ureq::{
    CertificateClient, ClientSecretCredential, ConnectionOptions, ManagedIdentityCredential, TokenCredential,
    WorkloadIdentityCredential,
};
use serde_json::{json, Value};

const SCOPE: &str = "https://vault.azure.net/.default";

/// A token endpoint that answers `responses` (status, JSON body) in order to requests of
/// `method uri`.
fn token_endpoint(tls: bool, method: &str, uri: &str, responses: &[(u16, Value)]) -> PlaybackServer {
    let entries: Vec<Value> = responses
        .iter()
        .map(|(status, body)| {
            json!({
                "RequestUri": format!("https://login.example{uri}"),
                "RequestMethod": method,
                "RequestHeaders": {},
                "StatusCode": status,
                "ResponseHeaders": { "content-type": "application/json; charset=utf-8" },
                "ResponseBody": body,
            })
        })
        .collect();
    let recording = Recording::parse("token-endpoint", json!({ "Entries": entries }).to_string().as_bytes())
        .expect("synthetic recording");
    PlaybackServer::start(recording, PlaybackOptions { tls, serve_identity: true, ..Default::default() })
        .expect("token endpoint")
}

fn trusting(server: &PlaybackServer) -> ConnectionOptions {
    let mut options = ConnectionOptions::default();
    if let Some(ca) = server.ca_pem() {
        options.extra_roots_pem.push(ca.into_bytes());
        options.replace_roots = true;
    }
    options
}

/// The decoded `name=value` pairs of a form body.
fn form(request: &ServedRequest) -> Vec<(String, String)> {
    kvcerts_tests::recording::query_pairs(std::str::from_utf8(&request.body).expect("utf-8 form"))
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn only_request(server: &PlaybackServer) -> ServedRequest {
    assert!(server.mismatches().is_empty(), "{:?}", server.mismatches());
    let log = server.log();
    assert_eq!(log.len(), 1, "{log:?}");
    log.into_iter().next().expect("one request")
}

#[test]
fn client_secret_sends_the_client_credentials_form_and_reads_the_token() {
    let ok =
        json!({ "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "entra-token" });
    let server = token_endpoint(true, "POST", "/tenant-1/oauth2/v2.0/token", &[(200, ok)]);
    let mut core = auth::ClientSecretCredential::new("tenant-1", "app-1", "s3cret");
    core.authority = AuthorityHost::new(server.url()).expect("https authority");
    let credential = ClientSecretCredential::from_core(core, &trusting(&server)).expect("credential");
    let token = credential.get_token(&TokenRequest::new(vec![SCOPE.into()])).expect("token");
    assert_eq!(token.secret(), "entra-token");

    let request = only_request(&server);
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(request.path_and_query, "/tenant-1/oauth2/v2.0/token");
    assert_eq!(request.headers["content-type"], "application/x-www-form-urlencoded");
    let body = form(&request);
    assert_eq!(field(&body, "grant_type"), Some("client_credentials"));
    assert_eq!(field(&body, "client_id"), Some("app-1"));
    assert_eq!(field(&body, "client_secret"), Some("s3cret"));
    assert_eq!(field(&body, "scope"), Some(SCOPE));
    assert!(!format!("{credential:?}").contains("s3cret"));
}

#[test]
fn entra_errors_keep_the_aadsts_message_and_hide_the_secret() {
    let refused = json!({
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'app-1'. Trace ID: 1 Correlation ID: 2",
        "error_codes": [7000215],
        "correlation_id": "2"
    });
    let server = token_endpoint(true, "POST", "/tenant-1/oauth2/v2.0/token", &[(401, refused)]);
    let mut core = auth::ClientSecretCredential::new("tenant-1", "app-1", "s3cret");
    core.authority = AuthorityHost::new(server.url()).expect("https authority");
    let credential = ClientSecretCredential::from_core(core, &trusting(&server)).expect("credential");
    let error = credential.get_token(&TokenRequest::new(vec![SCOPE.into()])).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Authentication);
    let text = error.to_string();
    assert!(text.contains("AADSTS7000215"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
}

#[test]
fn app_service_managed_identity_sends_the_identity_header() {
    let ok = json!({ "access_token": "mi-token", "expires_on": "4102444800", "resource": "https://vault.azure.net", "token_type": "Bearer" });
    let uri = "/msi/token?api-version=2019-08-01&resource=https://vault.azure.net&client_id=cid-1";
    let server = token_endpoint(false, "GET", uri, &[(200, ok)]);
    let core = auth::ManagedIdentityCredential {
        source: ManagedIdentitySource::AppService {
            endpoint: format!("{}/msi/token", server.url()),
            identity_header: "hdr-secret".into(),
        },
        user_assigned: Some(UserAssignedId::ClientId("cid-1".into())),
    };
    let credential = ManagedIdentityCredential::from_core(core, &ConnectionOptions::default()).expect("credential");
    let token = credential.get_token(&TokenRequest::new(vec![SCOPE.into()])).expect("token");
    assert_eq!(token.secret(), "mi-token");
    assert_eq!(token.expires_on.unix_timestamp(), 4_102_444_800);
    let request = only_request(&server);
    assert_eq!(request.method, http::Method::GET);
    assert_eq!(request.headers["x-identity-header"], "hdr-secret");
    assert!(!format!("{credential:?}").contains("hdr-secret"));
}

#[test]
fn imds_style_managed_identity_sends_metadata_and_reports_its_errors() {
    let uri = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net&msi_res_id=/subscriptions/s/rg/id";
    let ok = json!({ "access_token": "imds-token", "expires_on": "4102444800", "token_type": "Bearer" });
    let missing = json!({ "error": "invalid_request", "error_description": "Identity not found" });
    let server = token_endpoint(false, "GET", uri, &[(200, ok), (400, missing)]);
    let lookup = |k: &str| (k == "AZURE_POD_IDENTITY_AUTHORITY_HOST").then(|| server.url().to_owned());
    let core = auth::ManagedIdentityCredential::from_environment(
        lookup,
        Some(UserAssignedId::ResourceId("/subscriptions/s/rg/id".into())),
    );
    let credential = ManagedIdentityCredential::from_core(core, &ConnectionOptions::default()).expect("credential");
    let token = credential.get_token(&TokenRequest::new(vec![SCOPE.into()])).expect("token");
    assert_eq!(token.secret(), "imds-token");
    let log = server.log();
    assert_eq!(log[0].headers["metadata"], "true");
    // A 400 from IMDS is not retried: the identity is not there.
    let error = credential.get_token(&TokenRequest::new(vec![SCOPE.into()])).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Authentication);
    assert!(error.to_string().contains("Identity not found"), "{error}");
    assert!(server.mismatches().is_empty(), "{:?}", server.mismatches());
}

#[test]
fn an_identity_endpoint_that_refuses_connections_fails_at_once() {
    // A port nothing listens on: what IMDS looks like off Azure (connection refused).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let lookup = move |k: &str| (k == "AZURE_POD_IDENTITY_AUTHORITY_HOST").then(|| format!("http://127.0.0.1:{port}"));
    let core = auth::ManagedIdentityCredential::from_environment(lookup, None);
    let credential = ManagedIdentityCredential::from_core(core, &ConnectionOptions::default()).expect("credential");
    let started = std::time::Instant::now();
    let error = credential.get_token(&TokenRequest::new(vec![SCOPE.into()])).unwrap_err();
    // Not a performance bound: retrying would wait 0.67 s at the least before the second of
    // up to seven attempts (the managed identity profile waits up to ~84 s in all).
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "retried: {:?}", started.elapsed());
    assert!(matches!(error.kind(), ErrorKind::Transport | ErrorKind::Authentication), "{error}");
}

#[test]
fn workload_identity_sends_the_federated_token_as_client_assertion() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("token");
    std::fs::write(&file, "federated-jwt\n").expect("token file");
    let ok = json!({ "token_type": "Bearer", "expires_in": 3599, "access_token": "wi-token" });
    let server = token_endpoint(true, "POST", "/tenant-2/oauth2/v2.0/token", &[(200, ok)]);
    let mut core = auth::WorkloadIdentityCredential::new("tenant-2", "app-2");
    core.authority = AuthorityHost::new(server.url()).expect("https authority");
    let credential = WorkloadIdentityCredential::from_core(core, &file, &trusting(&server)).expect("credential");
    let token = credential.get_token(&TokenRequest::new(vec![SCOPE.into()])).expect("token");
    assert_eq!(token.secret(), "wi-token");
    let body = form(&only_request(&server));
    assert_eq!(field(&body, "client_assertion"), Some("federated-jwt"));
    assert_eq!(field(&body, "client_assertion_type"), Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
    assert_eq!(field(&body, "client_id"), Some("app-2"));
    assert_eq!(field(&body, "grant_type"), Some("client_credentials"));

    let gone = WorkloadIdentityCredential::from_core(
        auth::WorkloadIdentityCredential::new("tenant-2", "app-2"),
        dir.path().join("missing"),
        &ConnectionOptions::default(),
    )
    .expect("credential");
    let error = gone.get_token(&TokenRequest::new(vec![SCOPE.into()])).unwrap_err();
    assert!(error.to_string().contains("cannot read the federated token file"), "{error}");
}

#[test]
fn a_client_secret_token_reaches_the_vault() {
    // The whole chain: challenge from the emulator, token from the (played back) Entra endpoint
    // for the challenge's tenant, and the emulator accepting only that token.
    let emulator =
        Emulator::builder().tenant_id("tenant-3").required_token(Some("entra-token".into())).start().expect("emulator");
    let ok = json!({ "token_type": "Bearer", "expires_in": 3599, "access_token": "entra-token" });
    let server = token_endpoint(true, "POST", "/tenant-3/oauth2/v2.0/token", &[(200, ok)]);
    let mut core = auth::ClientSecretCredential::new("tenant-3", "app-3", "s3cret");
    core.authority = AuthorityHost::new(server.url()).expect("https authority");
    let credential = ClientSecretCredential::from_core(core, &trusting(&server)).expect("credential");
    let client = CertificateClient::builder(emulator.vault_url(), Arc::new(credential))
        .add_root_certificate_pem(emulator.ca_pem().expect("ca").as_bytes().to_vec())
        .verify_challenge_resource(false)
        .poll_interval(Duration::from_millis(20))
        .build()
        .expect("client");
    let contacts = client.get_contacts();
    assert!(contacts.is_ok() || contacts.as_ref().is_err_and(|e| e.kind() == ErrorKind::NotFound), "{contacts:?}");
    let _ = client.get_contacts();
    assert_eq!(server.log().len(), 1, "one token request for two calls");
    assert_eq!(emulator.stats().challenges, 1);
}
