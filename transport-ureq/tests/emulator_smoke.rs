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
        .client_request_ids(true)
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

#[test]
fn a_list_resumes_from_its_continuation_and_a_creation_is_followed_by_name() {
    let emulator = Emulator::builder().create_delay(Duration::from_millis(300)).start().expect("emulator");
    let first = client(&emulator);
    for name in ["r1", "r2", "r3", "r4", "r5"] {
        first
            .begin_create_certificate(name, &CertificatePolicy::new("Self", "CN=r.example"), &Default::default())
            .unwrap()
            .wait()
            .unwrap();
    }

    // One page of two, then the rest from the saved link, by another client (another process,
    // say): every name once.
    let options = kvcerts_core::ListOptions::default().max_page_size(2);
    let mut pager = first.list_properties_of_certificates(&options).unwrap();
    let page = pager.next_page().unwrap().unwrap();
    let mut names: Vec<String> = page.value.iter().map(|c| c.name().unwrap()).collect();
    let continuation = pager.continuation().expect("a link to the next page").to_owned();
    let second = client(&emulator);
    names.extend(
        second.resume_list_properties_of_certificates(&continuation).unwrap().map(|c| c.unwrap().name().unwrap()),
    );
    assert_eq!(names, ["r1", "r2", "r3", "r4", "r5"]);
    // The link of the certificates list does not resume the deleted ones.
    let refused = second.resume_list_deleted_certificates(&continuation).err().expect("another list's link");
    assert_eq!(refused.kind(), ErrorKind::InvalidInput, "{refused}");

    // A creation started by one client is followed to its end by another that knows only the name.
    let mut started = first
        .begin_create_certificate("late", &CertificatePolicy::new("Self", "CN=late.example"), &Default::default())
        .unwrap();
    assert!(started.poll().is_none(), "sent, and pending for 300 ms");
    drop(started);
    let created = second.create_certificate_poller("late").unwrap().wait_for_certificate().unwrap();
    assert_eq!(created.name().as_deref(), Some("late"));
    assert!(created.cer.as_ref().is_some_and(|c| !c.is_empty()));
    // No creation on record: the service answers 404, as for a deleted operation.
    let missing = second.create_certificate_poller("never-created").unwrap().wait().unwrap();
    assert!(matches!(missing, kvcerts_core::flows::CreateOutcome::Deleted), "{missing:?}");
}

#[test]
fn each_request_carries_its_own_client_request_id_which_the_service_echoes() {
    let emulator = Emulator::builder().start().expect("emulator");
    let first = client(&emulator);
    let echoed = |name: &str| {
        let request = first.vault().get_certificate(name).unwrap().into_parts().0;
        let response = first.send_request(request).unwrap();
        assert_eq!(response.status(), 404);
        response.headers().get("x-ms-client-request-id").expect("echoed").to_str().unwrap().to_owned()
    };
    let (a, b) = (echoed("a"), echoed("b"));
    assert_eq!((a.len(), a.matches('-').count()), (36, 4), "{a}");
    assert_ne!(a, b, "one id per request");
    // Another client (another process, say) draws other ids.
    let other = client(&emulator);
    let request = other.vault().get_certificate("a").unwrap().into_parts().0;
    let c = other.send_request(request).unwrap().headers()["x-ms-client-request-id"].to_str().unwrap().to_owned();
    assert!(c != a && c != b, "{a} {b} {c}");
    // Off unless asked for.
    let plain = CertificateClient::builder(emulator.vault_url(), Arc::new(StaticTokenCredential::new("t")))
        .add_root_certificate_pem(emulator.ca_pem().unwrap().as_bytes().to_vec())
        .verify_challenge_resource(false)
        .build()
        .unwrap();
    let response = plain.send_request(plain.vault().get_certificate("a").unwrap().into_parts().0).unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.headers().get("x-ms-client-request-id").is_none());
}
