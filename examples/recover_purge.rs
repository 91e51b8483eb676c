//! Soft delete: a deleted certificate keeps its name until it is recovered or purged, and the
//! typed errors say which situation you are in.
//!
//! `cargo run --example recover_purge` (set `KEYVAULT_URL` to use a real vault).

#[path = "common/mod.rs"]
mod common;

use common::step;
use kvcerts_core::models::CertificatePolicy;
use kvcerts_core::{ConflictReason, ErrorKind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::Target::from_env()?;
    let client = target.blocking_client()?;
    let name = common::unique_name("recover");
    let policy = CertificatePolicy::new("Self", "CN=recover.example");

    step(format!("create '{name}'"));
    client.begin_create_certificate(&name, &policy, &Default::default())?.wait_for_certificate()?;
    println!("done");

    // Delete: the poller waits until the deleted certificate is visible.
    step("delete it");
    let deleted = client.begin_delete_certificate(&name)?.wait()?;
    println!("done");
    println!("   deleted on       {}", common::date(deleted.deleted_on));
    println!("   purge scheduled  {}", common::date(deleted.scheduled_purge_date));
    println!("   recovery id      {}", deleted.recovery_id.as_deref().unwrap_or("-"));

    // The certificate is gone, the deleted certificate is there.
    let error = client.get_certificate(&name).err().ok_or("the deleted certificate is still readable")?;
    println!("get_certificate         -> {:?} ({})", error.kind(), error.code().unwrap_or("-"));
    let found = client.get_deleted_certificate(&name)?;
    println!("get_deleted_certificate -> '{}'", found.name().unwrap_or_default());

    // The name is still taken: creating it again is a conflict whose reason says what to do.
    match client.begin_create_certificate(&name, &policy, &Default::default())?.wait() {
        Err(e) if e.conflict_reason() == Some(ConflictReason::DeletedButRecoverable) => {
            println!("create again            -> Conflict: deleted but recoverable (recover or purge it)")
        }
        Err(e) => return Err(e.into()),
        Ok(_) => return Err("creating over a deleted certificate succeeded".into()),
    }

    // Recover: the poller waits until the certificate is readable again.
    step("recover it");
    let recovered = client.begin_recover_deleted_certificate(&name)?.wait()?;
    println!("done (version {})", recovered.version().unwrap_or_default());

    // Delete and purge: gone for good, the name is free.
    step("delete and purge it");
    client.begin_delete_certificate(&name)?.wait()?;
    client.purge_deleted_certificate(&name)?;
    println!("done");
    // (A real vault may take a few seconds to forget a purged certificate.)
    match client.get_deleted_certificate(&name) {
        Err(e) if e.kind() == ErrorKind::NotFound => println!("get_deleted_certificate -> NotFound"),
        Err(e) => return Err(e.into()),
        Ok(_) => println!("get_deleted_certificate -> still there (the purge is in progress)"),
    }
    Ok(())
}
