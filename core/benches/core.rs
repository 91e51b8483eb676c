//! Micro-benchmarks of kvcerts-core: building requests and parsing realistic responses.
//!
//! `cargo bench -p kvcerts-core --bench core [-- FILTER]` prints one line per case: the median
//! time per operation over 7 samples (each sample about 100 ms of repetitions), and the heap
//! allocations and bytes allocated per operation, counted by the `#[global_allocator]` below.
//! Nothing is asserted: the numbers go to BENCHMARKS.md.
//!
//! The responses are in `benches/fixtures/` (see `fixtures/README.md`): a recorded certificate
//! bundle, the same bundle with a 3 KiB certificate and a full policy, a 25-item list page (live
//! and deleted) and a pending operation with its CSR.
//!
//! The `_cold` cases time each call alone with the caches flushed before it (16 MiB written),
//! as a client finds them after waiting on a socket: there the decoder's code and data come from
//! memory, so they measure its footprint more than its instruction count. The typed decode in
//! those cases goes through `decode_bundle_cold`, to single it out under callgrind (see
//! BENCHMARKS.md).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kvcerts_core::auth::{parse_www_authenticate, Challenge};
use kvcerts_core::models::{CertificatePolicy, CertificateProperties};
use kvcerts_core::{KeyVaultCertificateIdentifier, ListOptions, Operation, Vault};

/// Counts every allocation (and reallocation) and the bytes requested.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: defers to the system allocator; the counters are plain atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const BUNDLE_RECORDED: &[u8] = include_bytes!("fixtures/certificate_bundle_recorded.json");
const BUNDLE_3K: &[u8] = include_bytes!("fixtures/certificate_bundle.json");
const BUNDLE_EMULATOR: &[u8] = include_bytes!("fixtures/certificate_bundle_emulator.json");
const LIST_PAGE: &[u8] = include_bytes!("fixtures/list_page_25.json");
const PENDING: &[u8] = include_bytes!("fixtures/pending_operation.json");
const DELETED_PAGE: &[u8] = include_bytes!("fixtures/deleted_list_page_25.json");
const VAULT: &str = "https://REDACTED.vault.azure.net";
const WWW_AUTHENTICATE: &str = r#"Bearer authorization="https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net""#;

/// A 200 with the headers Key Vault sends.
fn response(body: &[u8]) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(200)
        .header("cache-control", "no-cache")
        .header("content-type", "application/json; charset=utf-8")
        .header("expires", "-1")
        .header("pragma", "no-cache")
        .header("strict-transport-security", "max-age=31536000;includeSubDomains")
        .header("x-content-type-options", "nosniff")
        .header("x-ms-keyvault-region", "westus2")
        .header("x-ms-keyvault-service-version", "1.9.150.1")
        .header("x-ms-request-id", "80261045-d363-48ba-8526-8f182e7e6f94")
        .body(body.to_vec())
        .expect("response")
}

struct Measurement {
    ns_per_op: f64,
    allocations_per_op: f64,
    bytes_per_op: f64,
}

/// Times `f`: calibrates a repetition count to ~100 ms, takes 7 samples, keeps the median.
fn measure(mut f: impl FnMut()) -> Measurement {
    for _ in 0..100 {
        f();
    }
    let mut iterations: u64 = 1;
    loop {
        let started = Instant::now();
        for _ in 0..iterations {
            f();
        }
        if started.elapsed() >= Duration::from_millis(20) {
            break;
        }
        iterations *= 2;
    }
    iterations *= 5;
    let mut samples = Vec::with_capacity(7);
    let (mut allocations, mut bytes) = (0, 0);
    for _ in 0..7 {
        let (a0, b0) = (ALLOCATIONS.load(Ordering::Relaxed), BYTES.load(Ordering::Relaxed));
        let started = Instant::now();
        for _ in 0..iterations {
            f();
        }
        samples.push(started.elapsed().as_nanos() as f64 / iterations as f64);
        allocations = ALLOCATIONS.load(Ordering::Relaxed) - a0;
        bytes = BYTES.load(Ordering::Relaxed) - b0;
    }
    samples.sort_by(f64::total_cmp);
    Measurement {
        ns_per_op: samples[samples.len() / 2],
        allocations_per_op: allocations as f64 / iterations as f64,
        bytes_per_op: bytes as f64 / iterations as f64,
    }
}

/// Bytes written before each call of a cold case: more than the L2 and L3 caches hold.
const FLUSH_BYTES: usize = 16 << 20;

/// Calls per sample of a cold case.
const COLD_CALLS: usize = 150;

/// Times `f` alone with the caches flushed before each call: one warm-up round, then 7 samples
/// of [`COLD_CALLS`] calls; the median of the samples' means.
fn measure_cold(mut f: impl FnMut()) -> Measurement {
    let mut flush = vec![0u8; FLUSH_BYTES];
    let mut samples = Vec::with_capacity(7);
    let (mut allocations, mut bytes) = (0, 0);
    for round in 0..8 {
        let mut elapsed = Duration::ZERO;
        (allocations, bytes) = (0, 0);
        for _ in 0..COLD_CALLS {
            for byte in flush.iter_mut().step_by(64) {
                *byte = byte.wrapping_add(1);
            }
            black_box(&mut flush);
            let (a0, b0) = (ALLOCATIONS.load(Ordering::Relaxed), BYTES.load(Ordering::Relaxed));
            let started = Instant::now();
            f();
            elapsed += started.elapsed();
            allocations += ALLOCATIONS.load(Ordering::Relaxed) - a0;
            bytes += BYTES.load(Ordering::Relaxed) - b0;
        }
        if round > 0 {
            samples.push(elapsed.as_nanos() as f64 / COLD_CALLS as f64);
        }
    }
    samples.sort_by(f64::total_cmp);
    Measurement {
        ns_per_op: samples[samples.len() / 2],
        allocations_per_op: allocations as f64 / COLD_CALLS as f64,
        bytes_per_op: bytes as f64 / COLD_CALLS as f64,
    }
}

/// The emulator's bundle decoded as `get_certificate` decodes it, in a function of its own so
/// that callgrind can collect it alone (`--toggle-collect='*decode_bundle_cold*'`).
#[inline(never)]
fn decode_bundle_cold(vault: &Vault, response: &http::Response<Vec<u8>>) {
    let call = vault.get_certificate("lg-00001").unwrap();
    drop(black_box(call.parse(black_box(response)).unwrap()));
}

/// The same body parsed into a generic `serde_json::Value`, for comparison
/// (`--toggle-collect='*value_cold*'`).
#[inline(never)]
fn value_cold(body: &[u8]) {
    drop(black_box(serde_json::from_slice::<serde_json::Value>(black_box(body))));
}

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let vault = Vault::new(VAULT).expect("vault");
    let bundle_recorded = response(BUNDLE_RECORDED);
    let bundle_3k = response(BUNDLE_3K);
    let bundle_emulator = response(BUNDLE_EMULATOR);
    let deleted_page = response(DELETED_PAGE);
    let list_page = response(LIST_PAGE);
    let pending = response(PENDING);
    let next_link = serde_json::from_slice::<serde_json::Value>(LIST_PAGE).expect("page")["nextLink"]
        .as_str()
        .expect("nextLink")
        .to_owned();
    let policy = vault.get_certificate("x").unwrap().parse(&bundle_3k).unwrap().policy.expect("policy");
    let certificate_id =
        "https://REDACTED.vault.azure.net/certificates/GetCertificate/ddfae22b0b3445b0aaacaad871703308";

    type Case<'a> = (&'a str, Box<dyn FnMut() + 'a>);
    let cases: Vec<Case> = vec![
        ("vault_url_parse", Box::new(|| drop(black_box(Vault::new(black_box(VAULT)).unwrap())))),
        (
            "get_certificate_request",
            Box::new(|| drop(black_box(vault.get_certificate(black_box("web-frontend")).unwrap()))),
        ),
        (
            "get_certificate_parse_recorded_bundle",
            Box::new(|| {
                let call = vault.get_certificate("GetCertificate").unwrap();
                drop(black_box(call.parse(black_box(&bundle_recorded)).unwrap()));
            }),
        ),
        (
            "get_certificate_parse_3k_cer_full_policy",
            Box::new(|| {
                let call = vault.get_certificate("GetCertificate").unwrap();
                drop(black_box(call.parse(black_box(&bundle_3k)).unwrap()));
            }),
        ),
        (
            "get_certificate_parse_emulator_bundle",
            Box::new(|| {
                let call = vault.get_certificate("lg-00001").unwrap();
                drop(black_box(call.parse(black_box(&bundle_emulator)).unwrap()));
            }),
        ),
        (
            // The floor for any decoder built on serde_json: the same body tokenized and skipped.
            "json_skip_emulator_bundle",
            Box::new(|| drop(black_box(serde_json::from_slice::<serde::de::IgnoredAny>(black_box(BUNDLE_EMULATOR))))),
        ),
        (
            "list_deleted_certificates_page_25_parse",
            Box::new(|| {
                let call = vault.list_deleted_certificates(&Default::default()).unwrap();
                drop(black_box(call.parse(black_box(&deleted_page)).unwrap()));
            }),
        ),
        (
            "list_certificates_page_25_parse",
            Box::new(|| {
                let call = vault.list_properties_of_certificates(&ListOptions::default()).unwrap();
                drop(black_box(call.parse(black_box(&list_page)).unwrap()));
            }),
        ),
        (
            "next_page_request",
            Box::new(|| {
                let call = vault
                    .next_page::<CertificateProperties>(Operation::ListPropertiesOfCertificates, black_box(&next_link))
                    .unwrap();
                drop(black_box(call));
            }),
        ),
        (
            "pending_operation_with_csr_parse",
            Box::new(|| {
                let call = vault.get_certificate_operation("GetCertificate").unwrap();
                drop(black_box(call.parse(black_box(&pending)).unwrap()));
            }),
        ),
        (
            "create_certificate_request_full_policy",
            Box::new(|| {
                let policy: &CertificatePolicy = black_box(&policy);
                drop(black_box(vault.create_certificate("web-frontend", policy, &Default::default()).unwrap()));
            }),
        ),
        (
            "www_authenticate_parse",
            Box::new(|| {
                let parsed = parse_www_authenticate(black_box(WWW_AUTHENTICATE));
                drop(black_box(Challenge::from_auth_challenge(&parsed[0])));
            }),
        ),
        (
            "certificate_identifier_parse",
            Box::new(|| drop(black_box(KeyVaultCertificateIdentifier::parse(black_box(certificate_id)).unwrap()))),
        ),
    ];

    let cold_cases: Vec<Case> = vec![
        ("get_certificate_parse_emulator_bundle_cold", Box::new(|| decode_bundle_cold(&vault, &bundle_emulator))),
        ("json_value_parse_emulator_bundle_cold", Box::new(|| value_cold(BUNDLE_EMULATOR))),
    ];

    println!("{:<42} {:>12} {:>12} {:>12}", "case", "ns/op", "allocs/op", "bytes/op");
    let cases = cases.into_iter().map(|c| (c, false)).chain(cold_cases.into_iter().map(|c| (c, true)));
    for ((name, mut f), cold) in cases {
        if filter.as_deref().is_some_and(|wanted| !name.contains(wanted)) {
            continue;
        }
        let m = if cold { measure_cold(&mut f) } else { measure(&mut f) };
        println!("{name:<42} {:>12.0} {:>12.1} {:>12.0}", m.ns_per_op, m.allocations_per_op, m.bytes_per_op);
    }
}
