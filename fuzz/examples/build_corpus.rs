//! Writes the seed corpora of every fuzz target from the recordings (`KVCERTS_RECORDINGS` or
//! `../shared/recordings`) and the benchmark fixtures:
//!
//! ```text
//! cd fuzz && cargo run --example build_corpus [-- OUT_DIR]   # default: corpus/
//! ```
//!
//! - `responses`: every recorded response, encoded with the operation its request was for;
//! - `www_authenticate`: every recorded `WWW-Authenticate` value, plus a few variants;
//! - `identifier`: every `id`, `kid`, `sid`, `nextLink` and `recoveryId` in the bodies;
//! - `vault_url`: every recorded vault origin, with a NUL and a recorded `nextLink` after it;
//! - `import`: every downloaded secret `value` (PEM, base64 PKCS#12 and its bytes), and the
//!   targets' own certificate and key;
//! - `recording`: the recording files themselves;
//! - `certificate_bundle`: every recorded certificate bundle (a 2xx body with a `cer`),
//!   compact as the service sends it and pretty-printed, and the benchmark fixtures.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use kvcerts_core::Operation;
use kvcerts_tests::{recordings_dir, Recording};

fn main() {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "corpus".into()));
    let dir = recordings_dir();
    let recordings = Recording::load_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut strings = BTreeSet::new();
    for recording in &recordings {
        seeds.push(("recording", fs::read(&recording.path).expect("recording file")));
        if let Some(origin) = recording.vault_origin() {
            strings.insert(("vault_url", origin));
        }
        for entry in &recording.entries {
            let response = entry.response();
            if let Some(value) = response.headers().get(http::header::WWW_AUTHENTICATE) {
                seeds.push(("www_authenticate", value.as_bytes().to_vec()));
            }
            if let Some((operation, _)) = Operation::identify(&entry.method, entry.path()) {
                if let Some(input) = kvcerts_fuzz::encode_response(operation, &response) {
                    seeds.push(("responses", input));
                }
            }
            if let Ok(json) = serde_json::from_slice::<serde_json::Value>(response.body()) {
                collect_ids(&json, &mut strings);
                if entry.status.is_success() && json.get("cer").is_some() {
                    seeds.push(("certificate_bundle", serde_json::to_vec(&json).expect("json")));
                    seeds.push(("certificate_bundle", serde_json::to_vec_pretty(&json).expect("json")));
                }
            }
            // The recordings keep no request bodies: import material comes from the downloaded
            // secrets (a certificate with its key, PEM or PKCS#12).
            if entry.path().starts_with("/secrets/") {
                if let Ok(json) = serde_json::from_slice::<serde_json::Value>(response.body()) {
                    if let Some(value) = json["value"].as_str() {
                        seeds.push(("import", [&[0][..], value.as_bytes()].concat()));
                        seeds.push(("import", [&[0][..], &value.replace('\n', "\r\n").into_bytes()[..]].concat()));
                        if let Ok(der) = base64_decode(value) {
                            seeds.push(("import", [&[0][..], &der[..]].concat()));
                            seeds.push(("import", [&[1][..], &der[..]].concat()));
                        }
                    }
                }
            }
        }
    }
    for fixture in [
        &include_bytes!("../../core/benches/fixtures/certificate_bundle.json")[..],
        include_bytes!("../../core/benches/fixtures/certificate_bundle_recorded.json"),
        include_bytes!("../../core/benches/fixtures/certificate_bundle_emulator.json"),
    ] {
        seeds.push(("certificate_bundle", fixture.to_vec()));
    }
    let own = concat!(include_str!("../fixtures/import_cert.pem"), include_str!("../fixtures/import_key.pem"));
    seeds.push(("import", [&[0][..], own.as_bytes()].concat()));
    for (target, text) in &strings {
        seeds.push((target, text.clone().into_bytes()));
    }
    let links: Vec<&String> =
        strings.iter().filter(|(t, s)| *t == "identifier" && s.contains("skiptoken")).map(|(_, s)| s).collect();
    if let (Some(origin), Some(link)) = (strings.iter().find(|(t, _)| *t == "vault_url"), links.first()) {
        seeds.push(("vault_url", format!("{}\0{link}", origin.1).into_bytes()));
        seeds.push(("vault_url", format!("{}\0https://evil.example/certificates", origin.1).into_bytes()));
    }
    for extra in [
        r#"Bearer authorization="https://login.microsoftonline.com/tenant", scope="https://vault.azure.net/.default""#,
        r#"Bearer realm="", authorization_uri="https://login.windows.net/t", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ==""#,
        r#"Basic realm="x", Bearer resource="https://vault.azure.net", authorization="https://login.windows.net/t""#,
        "PoP nonce=\"abc\", Bearer resource=https://vault.azure.net",
    ] {
        seeds.push(("www_authenticate", extra.as_bytes().to_vec()));
    }
    let mut written = std::collections::BTreeMap::<&str, usize>::new();
    for (target, bytes) in seeds {
        let dir = out.join(target);
        fs::create_dir_all(&dir).expect("corpus dir");
        write_seed(&dir, &bytes);
        *written.entry(target).or_default() += 1;
    }
    for (target, n) in written {
        println!("{target}: {n} seeds");
    }
}

fn collect_ids(value: &serde_json::Value, out: &mut BTreeSet<(&'static str, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("id" | "kid" | "sid" | "nextLink" | "recoveryId" | "target", serde_json::Value::String(s)) => {
                        out.insert(("identifier", s.clone()));
                    }
                    _ => collect_ids(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_ids(v, out)),
        _ => {}
    }
}

/// Names a seed by a hash of its bytes, so running twice writes nothing new.
fn write_seed(dir: &Path, bytes: &[u8]) {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    fs::write(dir.join(format!("seed-{hash:016x}")), bytes).expect("seed");
}

fn base64_decode(text: &str) -> Result<Vec<u8>, ()> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c).ok_or(())? as u32;
        buffer = (buffer << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Ok(out)
}
