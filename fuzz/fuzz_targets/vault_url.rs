//! The vault URL parser (`Vault::new`, `Vault::with_options`), the same-origin check and the
//! `nextLink` request builder. Input: the vault URL, optionally a NUL byte and a link.
#![no_main]

use kvcerts_core::models::CertificateProperties;
use kvcerts_core::{Operation, Vault, VaultOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (url, link) = text.split_once('\0').unwrap_or((text, "https://fuzz.vault.azure.net/certificates?x=1"));
    for options in [VaultOptions::default(), VaultOptions::default().allow_insecure_loopback(true)] {
        if let Ok(vault) = Vault::with_options(url, options) {
            let _ = (vault.url(), vault.host(), vault.port(), vault.is_https());
            // A vault URL that parsed builds a request (http::Uri accepts it).
            let _ = vault.get_contacts();
            let same = vault.is_same_origin(link);
            if let Ok(call) = vault.next_page::<CertificateProperties>(Operation::ListPropertiesOfCertificates, link) {
                assert!(same, "a nextLink to another origin was accepted: {url:?} {link:?}");
                let _ = call.request().uri();
            }
        }
    }
    let _ = Vault::new(url);
});
