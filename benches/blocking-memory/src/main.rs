//! Peak memory of the blocking client: `--gets N` calls to `get_certificate` (cycling over
//! `lg-00000` … `lg-00099`, as `loadgen --populate` creates them), then one listing of every
//! certificate; prints one JSON line with the counts and the peak resident set size.
//!
//! ```text
//! blocking-memory --url URL [--ca FILE] [--token TOKEN] [--gets N] [--no-list]
//! ```
//!
//! The emulator's challenge names `vault.azure.net` while it listens on 127.0.0.1, so
//! challenge-resource verification is off when `--ca` is given (a local test vault).

use std::sync::Arc;

use kvcerts_ureq::{CertificateClient, StaticTokenCredential};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut url = None;
    let mut ca = None;
    let mut token = "blocking-memory-token".to_owned();
    let mut gets = 0usize;
    let mut list = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--url" => url = Some(value()?),
            "--ca" => ca = Some(std::fs::read(value()?)?),
            "--token" => token = value()?,
            "--gets" => gets = value()?.parse()?,
            "--no-list" => list = false,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let url = url.ok_or("usage: blocking-memory --url URL [--ca FILE] [--token T] [--gets N] [--no-list]")?;
    let mut builder = CertificateClient::builder(&url, Arc::new(StaticTokenCredential::new(token)));
    if let Some(pem) = ca {
        builder = builder.add_root_certificate_pem(pem).verify_challenge_resource(false);
    }
    let client = builder.build()?;

    let mut errors = 0usize;
    for i in 0..gets {
        if client.get_certificate(&format!("lg-{:05}", i % 100)).is_err() {
            errors += 1;
        }
    }
    let mut items = 0usize;
    if list {
        for item in client.list_properties_of_certificates(&Default::default())? {
            item?;
            items += 1;
        }
    }
    println!(
        r#"{{"gets":{gets},"errors":{errors},"listed":{items},"peak_rss_kib":{},"rss_kib":{}}}"#,
        status_kib("VmHWM:"),
        status_kib("VmRSS:")
    );
    Ok(())
}

/// A `kB` figure of `/proc/self/status` (Linux), or -1 when it cannot be read.
fn status_kib(field: &str) -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with(field))?;
            line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()
        })
        .unwrap_or(-1)
}
