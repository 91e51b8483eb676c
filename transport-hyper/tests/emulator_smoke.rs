//! The async client against the in-process emulator over HTTPS, on tokio: the same scenario as
//! `kvcerts-ureq`'s smoke test.

#![cfg(feature = "tokio")]

use std::sync::Arc;
use std::time::Duration;

use futures_lite::StreamExt;
use kvcerts_core::models::{CertificateContentType, CertificatePolicy};
use kvcerts_core::{ErrorKind, UpdateCertificatePropertiesOptions};
use kvcerts_emulator::Emulator;
use kvcerts_hyper::{CertificateClient, StaticTokenCredential};

fn client(emulator: &Emulator) -> CertificateClient {
    CertificateClient::builder(emulator.vault_url(), Arc::new(StaticTokenCredential::new("test-token")))
        .add_root_certificate_pem(emulator.ca_pem().expect("https emulator").as_bytes().to_vec())
        .verify_challenge_resource(false)
        .poll_interval(Duration::from_millis(50))
        .client_request_ids(true)
        .build()
        .expect("client")
}

#[tokio::test]
async fn create_get_update_list_delete_recover_purge() {
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
    let created = client
        .begin_create_certificate("smoke", &policy, &Default::default())
        .unwrap()
        .wait_for_certificate()
        .await
        .unwrap();
    assert_eq!(created.name().as_deref(), Some("smoke"));
    assert!(created.cer.as_ref().is_some_and(|c| !c.is_empty()));

    let fetched = client.get_certificate("smoke").await.unwrap();
    assert_eq!(fetched.x509_thumbprint, created.x509_thumbprint);
    assert_eq!(fetched.policy.as_ref().and_then(|p| p.subject()), Some("CN=smoke.example"));

    let update = UpdateCertificatePropertiesOptions { enabled: Some(false), ..Default::default() };
    assert_eq!(client.update_certificate_properties("smoke", None, &update).await.unwrap().enabled(), Some(false));

    // The pager as a Stream...
    let names: Vec<String> = client
        .list_properties_of_certificates(&Default::default())
        .unwrap()
        .map(|c| c.unwrap().name().unwrap())
        .collect()
        .await;
    assert_eq!(names, ["smoke"]);
    // ... and with the inherent async `next`.
    let mut pager = client.list_properties_of_certificates(&Default::default()).unwrap();
    assert_eq!(pager.next().await.unwrap().unwrap().name().as_deref(), Some("smoke"));
    assert!(pager.next().await.is_none());

    let denied = client.download_certificate("smoke", None, None).await.unwrap_err();
    assert_eq!(denied.kind(), ErrorKind::Forbidden, "a disabled certificate's secret is refused");
    let update = UpdateCertificatePropertiesOptions { enabled: Some(true), ..Default::default() };
    client.update_certificate_properties("smoke", None, &update).await.unwrap();
    let download = client.download_certificate("smoke", None, None).await.unwrap();
    let pem = download.pem().unwrap();
    assert_eq!(pem.certificates.len(), 1);

    let deleted = client.begin_delete_certificate("smoke").unwrap().wait().await.unwrap();
    assert!(deleted.recovery_id.is_some());
    assert_eq!(client.get_certificate("smoke").await.unwrap_err().kind(), ErrorKind::NotFound);
    client.begin_recover_deleted_certificate("smoke").unwrap().wait().await.unwrap();
    assert!(client.get_certificate("smoke").await.is_ok());
    client.begin_delete_certificate("smoke").unwrap().wait().await.unwrap();
    client.purge_deleted_certificate("smoke").await.unwrap();

    let stats = emulator.stats();
    assert_eq!(stats.challenges, 1, "one challenge for the whole session");
    assert_eq!(stats.connections, 1, "sequential calls share one connection");
}

#[tokio::test]
async fn a_list_resumes_from_its_continuation_and_a_creation_is_followed_by_name() {
    let emulator = Emulator::builder().create_delay(Duration::from_millis(300)).start().expect("emulator");
    let first = client(&emulator);
    for name in ["r1", "r2", "r3", "r4", "r5"] {
        let policy = CertificatePolicy::new("Self", "CN=r.example");
        first.begin_create_certificate(name, &policy, &Default::default()).unwrap().wait().await.unwrap();
    }

    let options = kvcerts_core::ListOptions::default().max_page_size(2);
    let mut pager = first.list_properties_of_certificates(&options).unwrap();
    let page = pager.next_page().await.unwrap().unwrap();
    let mut names: Vec<String> = page.value.iter().map(|c| c.name().unwrap()).collect();
    let continuation = pager.continuation().expect("a link to the next page").to_owned();
    let second = client(&emulator);
    let mut rest = second.resume_list_properties_of_certificates(&continuation).unwrap();
    while let Some(item) = rest.next().await {
        names.push(item.unwrap().name().unwrap());
    }
    assert_eq!(names, ["r1", "r2", "r3", "r4", "r5"]);
    let refused = second.resume_list_deleted_certificates(&continuation).err().expect("another list's link");
    assert_eq!(refused.kind(), ErrorKind::InvalidInput, "{refused}");

    let policy = CertificatePolicy::new("Self", "CN=late.example");
    let mut started = first.begin_create_certificate("late", &policy, &Default::default()).unwrap();
    assert!(started.poll().await.is_none(), "sent, and pending for 300 ms");
    drop(started);
    let created = second.create_certificate_poller("late").unwrap().wait_for_certificate().await.unwrap();
    assert_eq!(created.name().as_deref(), Some("late"));
    assert!(created.cer.as_ref().is_some_and(|c| !c.is_empty()));
    // No creation on record: the service answers 404, as for a deleted operation.
    let missing = second.create_certificate_poller("never-created").unwrap().wait().await.unwrap();
    assert!(matches!(missing, kvcerts_core::flows::CreateOutcome::Deleted), "{missing:?}");
}

#[tokio::test]
async fn each_request_carries_its_own_client_request_id_which_the_service_echoes() {
    let emulator = Emulator::builder().start().expect("emulator");
    let (first, second) = (client(&emulator), client(&emulator));
    let mut ids = Vec::new();
    for (client, name) in [(&first, "a"), (&first, "b"), (&second, "a")] {
        let request = client.vault().get_certificate(name).unwrap().into_parts().0;
        let response = client.send_request(request).await.unwrap();
        assert_eq!(response.status(), 404);
        ids.push(response.headers()["x-ms-client-request-id"].to_str().unwrap().to_owned());
    }
    assert!(ids.iter().all(|id| id.len() == 36 && id.matches('-').count() == 4), "{ids:?}");
    assert!(
        ids[0] != ids[1] && ids[0] != ids[2] && ids[1] != ids[2],
        "one id per request, other ids in another client: {ids:?}"
    );
}
