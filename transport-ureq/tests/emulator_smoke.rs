//! The blocking client against the in-process emulator over HTTPS.

use std::sync::Arc;
use std::time::Duration;

use kvcerts_core::models::{CertificateContentType, CertificatePolicy};
use kvcerts_core::{ErrorKind, UpdateCertificatePropertiesOptions};
use kvcerts_emulator::Emulator;
use kvcerts_ureq::{CertificateClient, StaticTokenCredential};

fn client(emulator: &Emulator) -> CertificateClient {
    CertificateClient::builder(emulator.vault_url(), Arc::new(StaticTokenCredential::new("test-token")))
        .add_root_certificate_pem(emulator.ca_pem().expect("https emulator").as_bytes().to_vec())
        .verify_challenge_resource(false)
        .poll_interval(Duration::from_millis(50))
        .build()
        .expect("client")
}

#[test]
fn create_get_update_list_delete_recover_purge() {
    let emulator = Emulator::builder()
        .create_delay(Duration::from_millis(100))
        .delete_delay(Duration::from_millis(100))
        .recover_delay(Duration::from_millis(100))
        .start()
        .expect("emulator");
    let client = client(&emulator);

    let mut policy = CertificatePolicy::new("Self", "CN=smoke.example");
    policy.secret_properties =
        Some(kvcerts_core::models::SecretProperties { content_type: Some(CertificateContentType::Pem) });
    policy.key_properties = Some(kvcerts_core::models::KeyProperties { exportable: Some(true), ..Default::default() });
    let created =
        client.begin_create_certificate("smoke", &policy, &Default::default()).unwrap().wait_for_certificate().unwrap();
    assert_eq!(created.name().as_deref(), Some("smoke"));
    assert!(created.cer.as_ref().is_some_and(|c| !c.is_empty()));

    let fetched = client.get_certificate("smoke").unwrap();
    assert_eq!(fetched.x509_thumbprint, created.x509_thumbprint);
    assert_eq!(fetched.policy.as_ref().and_then(|p| p.subject()), Some("CN=smoke.example"));

    let update = UpdateCertificatePropertiesOptions { enabled: Some(false), ..Default::default() };
    assert_eq!(client.update_certificate_properties("smoke", None, &update).unwrap().enabled(), Some(false));

    let names: Vec<String> = client
        .list_properties_of_certificates(&Default::default())
        .unwrap()
        .map(|c| c.unwrap().name().unwrap())
        .collect();
    assert_eq!(names, ["smoke"]);

    let denied = client.download_certificate("smoke", None, None).unwrap_err();
    assert_eq!(denied.kind(), ErrorKind::Forbidden, "a disabled certificate's secret is refused");
    let update = UpdateCertificatePropertiesOptions { enabled: Some(true), ..Default::default() };
    client.update_certificate_properties("smoke", None, &update).unwrap();
    let download = client.download_certificate("smoke", None, None).unwrap();
    let pem = download.pem().unwrap();
    assert_eq!(pem.certificates.len(), 1);

    let deleted = client.begin_delete_certificate("smoke").unwrap().wait().unwrap();
    assert!(deleted.recovery_id.is_some());
    assert_eq!(client.get_certificate("smoke").unwrap_err().kind(), ErrorKind::NotFound);
    client.begin_recover_deleted_certificate("smoke").unwrap().wait().unwrap();
    assert!(client.get_certificate("smoke").is_ok());
    client.begin_delete_certificate("smoke").unwrap().wait().unwrap();
    client.purge_deleted_certificate("smoke").unwrap();

    let stats = emulator.stats();
    assert_eq!(stats.challenges, 1, "one challenge for the whole session");
    assert_eq!(stats.connections, 1, "sequential calls share one connection");
}
