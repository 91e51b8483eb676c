//! Which certificates expire soon? Lists the vault's certificates (with a progress indicator
//! on stderr) and prints those that expire within N days, soonest first.
//!
//! ```text
//! cargo run --example expiring -- --days 60
//! ```
//!
//! Against the emulator it first adds a few certificates with different lifetimes,
//! so the table is not empty; against a real vault (`KEYVAULT_URL`) it only reads.

#[path = "common/mod.rs"]
mod common;

use std::io::Write;

use kvcerts_core::models::{CertificatePolicy, CertificateProperties, X509CertificateProperties};
use kvcerts_core::UpdateCertificatePropertiesOptions;
use time::{Duration, OffsetDateTime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let days = days_argument().unwrap_or_else(|message| {
        eprintln!("{message}\n{USAGE}");
        std::process::exit(2);
    });
    let target = common::Target::from_env()?;
    let client = target.blocking_client()?;
    if target.is_emulator() {
        add_sample_certificates(&client)?;
    }

    // List page by page, showing progress: a large vault takes many pages of 25.
    let mut pager = client.list_properties_of_certificates(&Default::default())?;
    let mut all: Vec<CertificateProperties> = Vec::new();
    while let Some(page) = pager.next_page() {
        all.extend(page?.value);
        eprint!("\rlisted {}…", all.len());
        let _ = std::io::stderr().flush();
    }
    eprintln!("\rlisted {} certificates in {} page(s)", all.len(), pager.pages());

    // Keep those that expire within `days` (already expired ones too), soonest first.
    let now = OffsetDateTime::now_utc();
    let limit = now + Duration::days(days);
    let mut expiring: Vec<(OffsetDateTime, CertificateProperties)> = all
        .into_iter()
        .filter_map(|c| c.expires_on().map(|expires| (expires, c)))
        .filter(|(expires, _)| *expires <= limit)
        .collect();
    expiring.sort_by_key(|(expires, _)| *expires);

    println!("\n{} certificate(s) expire within {days} days", expiring.len());
    if expiring.is_empty() {
        return Ok(());
    }
    println!("{:<40} {:<17} {:>9}  ENABLED", "NAME", "EXPIRES (UTC)", "DAYS LEFT");
    for (expires, certificate) in &expiring {
        println!(
            "{:<40} {:<17} {:>9}  {}",
            certificate.name().unwrap_or_default(),
            format!("{} {:02}:{:02}", expires.date(), expires.hour(), expires.minute()),
            ((*expires - now).as_seconds_f64() / 86_400.0).round(),
            certificate.enabled().map_or("?", |e| if e { "yes" } else { "no" }),
        );
    }
    Ok(())
}

const USAGE: &str = "usage: cargo run --example expiring -- [--days N]   (default: 30 days)";

/// `--days N` (default 30).
fn days_argument() -> Result<i64, String> {
    let mut days = 30;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--days" => args.next().ok_or("--days needs a value")?,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => other.strip_prefix("--days=").ok_or(format!("unexpected argument '{other}'"))?.to_owned(),
        };
        days = value.parse().map_err(|_| format!("--days takes a whole number of days, not '{value}'"))?;
    }
    Ok(days)
}

/// Certificates with lifetimes of 1, 3 and 12 months (the policy's validity), plus two
/// short-lived ones imported from a local CA (policies cannot go below one month); one is
/// disabled.
fn add_sample_certificates(client: &kvcerts_ureq::CertificateClient) -> Result<(), Box<dyn std::error::Error>> {
    common::step("adding sample certificates to the emulator");
    // Start every creation first, then wait for them all: they run side by side.
    let mut pollers = Vec::new();
    for months in [1, 3, 12] {
        let x509 = X509CertificateProperties {
            subject: Some(format!("CN=valid-{months}-months.example")),
            validity_in_months: Some(months),
            ..Default::default()
        };
        let policy = CertificatePolicy { x509_properties: Some(x509), ..Default::default() };
        let mut poller =
            client.begin_create_certificate(&format!("valid-{months}-months"), &policy, &Default::default())?;
        poller.poll(); // sends the create request without waiting
        pollers.push(poller);
    }
    for poller in pollers {
        poller.wait_for_certificate()?;
    }
    for days in [5, 20] {
        let key = rcgen::KeyPair::generate()?;
        let mut params = rcgen::CertificateParams::new(vec![format!("valid-{days}-days.example")])?;
        params.not_before = OffsetDateTime::now_utc() - Duration::days(1);
        params.not_after = OffsetDateTime::now_utc() + Duration::days(days);
        let pem = format!("{}{}", params.self_signed(&key)?.pem(), key.serialize_pem());
        client.import_certificate(&format!("valid-{days}-days"), pem.as_bytes(), &Default::default())?;
    }
    let disable = UpdateCertificatePropertiesOptions { enabled: Some(false), ..Default::default() };
    client.update_certificate_properties("valid-20-days", None, &disable)?;
    println!("done");
    Ok(())
}
