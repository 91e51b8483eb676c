//! Certificate issuers: the accounts Key Vault uses to order certificates from a CA provider
//! (DigiCert, GlobalSign). Create, read, update, list and delete one; a policy then names it
//! as its issuer. (Issuers `Self` and `Unknown` are built in and need no issuer object.)
//!
//! `cargo run --example issuers` (set `KEYVAULT_URL` to use a real vault).

#[path = "common/mod.rs"]
mod common;

use common::step;
use kvcerts_core::models::AdministratorDetails;
use kvcerts_core::IssuerOptions;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::Target::from_env()?;
    let client = target.blocking_client()?;
    let name = common::unique_name("issuer");

    // Create: the provider, the account at the provider, and the organization's
    // administrators. The password is a `SecretString`: never printed, not even by `Debug`.
    step(format!("create issuer '{name}' (provider DigiCert)"));
    let options = IssuerOptions {
        account_id: Some("example-account".into()),
        password: Some("example-api-key".to_owned().into()),
        organization_id: Some("example-org".into()),
        admin_contacts: Some(vec![AdministratorDetails {
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            email_address: Some("admin@example.com".into()),
            phone: Some("555-0100".into()),
        }]),
        enabled: Some(true),
    };
    let created = client.create_issuer(&name, "DigiCert", &options)?;
    println!("done (id {})", created.id.as_deref().unwrap_or("-"));

    // Get: everything but the password, which the service never returns.
    let issuer = client.get_issuer(&name)?;
    let admins = issuer.organization_details.as_ref().and_then(|o| o.admin_contacts.as_ref()).map_or(0, Vec::len);
    println!(
        "get: provider {}, account {}, {admins} administrator(s), enabled {:?}",
        issuer.provider.as_deref().unwrap_or("-"),
        issuer.credentials.as_ref().and_then(|c| c.account_id.as_deref()).unwrap_or("-"),
        issuer.attributes.as_ref().and_then(|a| a.enabled),
    );

    // Update: only what is set changes (here: disable it; the provider stays).
    step("disable it");
    let updated = client.update_issuer(&name, None, &IssuerOptions { enabled: Some(false), ..Default::default() })?;
    println!("done (enabled {:?})", updated.attributes.as_ref().and_then(|a| a.enabled));

    // List: names and providers only.
    println!("issuers in the vault:");
    for item in client.list_properties_of_issuers(&Default::default())? {
        let properties = item?;
        println!("  {:<32} {}", properties.name().unwrap_or("-"), properties.provider.as_deref().unwrap_or("-"));
    }

    // Delete: returns the deleted issuer. Issuers are not soft-deleted: no purge needed.
    step("delete it");
    client.delete_issuer(&name)?;
    println!("done");
    Ok(())
}
