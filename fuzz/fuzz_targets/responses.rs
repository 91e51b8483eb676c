//! Every response parser: the first input byte picks the `Vault` call whose parser runs (see
//! `kvcerts_fuzz` for the input format). Parsers must never panic, whatever the status,
//! headers and body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((operation, response)) = kvcerts_fuzz::response_from(data) {
        kvcerts_fuzz::parse_response(operation, &response);
    }
});
