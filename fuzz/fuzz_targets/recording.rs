//! The recording reader (`kvcerts_tests::Recording::parse`) and what tests use of an entry.
#![no_main]

use kvcerts_tests::Recording;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(recording) = Recording::parse("fuzz", data) {
        let _ = (recording.starts_with_challenge(), recording.vault_authority(), recording.vault_origin());
        for entry in &recording.entries {
            let _ = entry.response();
            let _ = entry.request_body_bytes();
            let _ = (entry.path(), entry.query_pairs(), entry.is_vault(), entry.is_challenge());
        }
    }
});
