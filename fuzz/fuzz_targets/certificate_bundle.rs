//! The certificate bundle parser (`get_certificate` and every call that answers with a
//! bundle) against serde: the parser reads plain bodies with its own small reader and hands
//! everything else to serde, so for any body its answer must be exactly serde's, the same
//! certificate or an error for the same bodies. JSON is UTF-8 text (RFC 8259), and a body that
//! is not is refused as a whole (serde_json alone would skip bad bytes inside an ignored field),
//! so serde's answer here is serde's on the body as text. The input is the body.
#![no_main]

use kvcerts_core::models::KeyVaultCertificate;
use kvcerts_core::Vault;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let vault = Vault::new("https://fuzz.vault.azure.net").expect("vault");
    let call = vault.get_certificate("fuzz").expect("call");
    let mut response = http::Response::new(body.to_vec());
    *response.status_mut() = http::StatusCode::OK;
    let parsed = call.parse(&response).ok();
    let decoded =
        std::str::from_utf8(body).ok().and_then(|text| serde_json::from_str::<KeyVaultCertificate>(text).ok());
    assert_eq!(parsed, decoded, "the parser and serde disagree on {:?}", String::from_utf8_lossy(body));
});
