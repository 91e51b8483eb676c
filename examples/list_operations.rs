//! The list operations: certificates (item by item and page by page), the versions of one
//! certificate, and deleted certificates.
//!
//! `cargo run --example list_operations` (set `KEYVAULT_URL` to use a real vault).

#[path = "common/mod.rs"]
mod common;

use kvcerts_core::models::CertificatePolicy;
use kvcerts_core::ListOptions;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::Target::from_env()?;
    let client = target.blocking_client()?;

    // Three certificates; the first one gets a second version (creating an existing name
    // adds a version).
    let prefix = common::unique_name("list");
    let names: Vec<String> = ["a", "b", "c"].iter().map(|s| format!("{prefix}-{s}")).collect();
    common::step(format!("creating {} certificates, '{}' with two versions", names.len(), names[0]));
    let policy = CertificatePolicy::new("Self", "CN=list.example");
    for name in names.iter().chain([&names[0]]) {
        client.begin_create_certificate(name, &policy, &Default::default())?.wait_for_certificate()?;
    }
    println!("done");

    // Item by item: the iterator fetches the next page when needed. A real vault holds other
    // certificates too, so keep ours.
    println!("\ncertificates (latest versions):");
    for item in client.list_properties_of_certificates(&Default::default())? {
        let properties = item?;
        let name = properties.name().unwrap_or_default();
        if name.starts_with(&prefix) {
            let enabled = properties.enabled().unwrap_or(true);
            println!("  {name:<32} enabled {enabled:<5}  expires {}", common::date(properties.expires_on()));
        }
    }

    // The versions of one certificate, page by page: `next_page` instead of iterating items,
    // and a page size (maxresults, 1–25) of one, so each version takes one request.
    println!("\nversions of '{}', page by page:", names[0]);
    let options = ListOptions::default().max_page_size(1);
    let mut pager = client.list_properties_of_certificate_versions(&names[0], &options)?;
    while let Some(page) = pager.next_page() {
        for version in page?.value {
            let created = version.attributes.as_ref().and_then(|a| a.created_on);
            println!(
                "  page {}: {} created {}",
                pager.pages(),
                version.version().unwrap_or_default(),
                common::timestamp(created)
            );
        }
    }

    // Deleted certificates: delete ours (the poller waits until each deletion completes).
    common::step("\ndeleting them");
    for name in &names {
        client.begin_delete_certificate(name)?.wait()?;
    }
    println!("done");
    println!("deleted certificates:");
    for item in client.list_deleted_certificates(&Default::default())? {
        let deleted = item?;
        let name = deleted.properties.name().unwrap_or_default();
        if name.starts_with(&prefix) {
            println!("  {name:<32} purge scheduled {}", common::date(deleted.scheduled_purge_date));
        }
    }

    // Clean up: purge, so the names are free again.
    for name in &names {
        client.purge_deleted_certificate(name)?;
    }
    println!("purged");
    Ok(())
}
