//! Import validation: `Vault::import_certificate` with arbitrary bytes (PEM, PKCS#12, base64),
//! without and with a password (first input byte).
#![no_main]

use kvcerts_core::{ImportCertificateOptions, Vault};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let vault = Vault::new("https://fuzz.vault.azure.net").expect("vault");
    let mut options = ImportCertificateOptions::default();
    if selector & 1 != 0 {
        options.password = Some("password".to_string().into());
    }
    if let Ok(call) = vault.import_certificate("fuzz", bytes, &options) {
        assert_eq!(call.request().method(), "POST");
    }
});
