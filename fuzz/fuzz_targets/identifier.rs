//! `KeyVaultCertificateIdentifier::parse` and its accessors.
#![no_main]

use kvcerts_core::KeyVaultCertificateIdentifier;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(id) = KeyVaultCertificateIdentifier::parse(text) {
        let _ = (id.source_id(), id.vault_url(), id.collection(), id.name(), id.version());
        // What was parsed parses again to the same thing.
        let again = KeyVaultCertificateIdentifier::parse(id.source_id()).expect("a parsed id parses again");
        assert_eq!(again.name(), id.name());
        assert_eq!(again.version(), id.version());
    }
});
