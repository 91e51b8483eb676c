//! Load generator: `get_certificate` calls and a full listing against a vault (normally the
//! emulator), printing one JSON line with timings, CPU time, peak memory and counts.
//!
//! ```text
//! cargo run --release -p kvcerts-tests --example loadgen -- \
//!     (--url URL [--ca FILE] | --emulator) [--token TOKEN] [--transport ureq|hyper]
//!     [--concurrency K] [--gets N] [--list-expect M] [--populate M]
//!     [--no-verify-challenge-resource] [--baseline | --baseline-json | --compare]
//! ```
//!
//! - `--transport ureq` drives the blocking client on the main thread; `hyper` drives the async
//!   client on a tokio current-thread runtime, with `--concurrency K` calls in flight (default 1).
//! - `--gets N`: N `get_certificate` calls, cycling over `lg-00000` … `lg-00099` (or fewer, when
//!   fewer were populated). `--list-expect M`: lists every certificate and reports an error
//!   field when the count is not M.
//! - `--populate M`: first creates `lg-00000` … up to M certificates (EC P-256, issuer `Self`)
//!   that are missing, 32 at a time; needs a vault whose creates complete at once (the emulator
//!   with `--create-delay-ms 0`).
//! - `--baseline`: instead of the client, a plain ureq agent (same TLS stack: rustls with ring,
//!   keep-alive; the client's user agent and timeouts) sends the same GETs (same URLs, `Accept`
//!   and a fixed `Authorization: Bearer` header) and reads the bodies without parsing them: the
//!   floor the client's CPU per call compares with. One agent
//!   serves the warm-up and the measured calls, so they share one keep-alive connection.
//! - `--baseline-json`: the same loop, also parsing each body into a `serde_json::Value` (what
//!   a program calling the REST API by hand does at the least with an answer).
//! - `--compare` (blocking client): the client's `get_certificate`, the same GETs through the
//!   client's `send_request` (authentication and retries, no decoding), the `--baseline` loop,
//!   the same loop reading each body into a buffer sized from `Content-Length` (as the client's
//!   transport does; `baseline_sized`) and the `--baseline-json` loop take turns in blocks of
//!   50 calls, N calls each, in one thread; the report gives each one's CPU per call (the
//!   thread's CPU clock) and the ratios. Taking turns exposes all five to the same machine noise (other tenants, frequency
//!   changes), which on a shared machine moves separate runs by 20 % or more; the ratios are
//!   what `BENCHMARKS.md` quotes.
//! - `--emulator`: starts an emulator in-process (its CPU and memory then count in the
//!   process's figures; the CPU figures use the calling thread's usage, see `cpu_scope`).
//!
//! CPU time comes from `getrusage` (`RUSAGE_SELF`, or `RUSAGE_THREAD` with `--emulator`), peak
//! memory from `ru_maxrss`, connections from the emulator's `/_emulator/stats` (reset first).

use std::sync::Arc;
use std::time::{Duration, Instant};

use kvcerts_core::models::{CertificatePolicy, KeyCurveName, KeyProperties, KeyType};
use kvcerts_core::Vault;
use serde_json::{json, Value};

const NAMES: usize = 100;

#[derive(Debug, Clone)]
struct Args {
    url: Option<String>,
    ca: Option<String>,
    token: String,
    transport: String,
    concurrency: usize,
    gets: usize,
    list_expect: Option<usize>,
    populate: usize,
    verify_challenge_resource: bool,
    baseline: bool,
    baseline_json: bool,
    compare: bool,
    emulator: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        url: None,
        ca: None,
        token: "loadgen-token".into(),
        transport: "ureq".into(),
        concurrency: 1,
        gets: 0,
        list_expect: None,
        populate: 0,
        verify_challenge_resource: true,
        baseline: false,
        baseline_json: false,
        compare: false,
        emulator: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        let number = |v: String| v.parse::<usize>().map_err(|_| format!("not a number: {v}"));
        match arg.as_str() {
            "--url" => a.url = Some(value()?),
            "--ca" => {
                let path = value()?;
                a.ca = Some(std::fs::read_to_string(&path).map_err(|e| format!("--ca {path}: {e}"))?);
            }
            "--token" => a.token = value()?,
            "--transport" => a.transport = value()?,
            "--concurrency" => a.concurrency = number(value()?)?.max(1),
            "--gets" => a.gets = number(value()?)?,
            "--list-expect" => a.list_expect = Some(number(value()?)?),
            "--populate" => a.populate = number(value()?)?,
            "--no-verify-challenge-resource" => a.verify_challenge_resource = false,
            "--baseline" => a.baseline = true,
            "--baseline-json" => {
                a.baseline = true;
                a.baseline_json = true;
            }
            "--compare" => a.compare = true,
            "--emulator" => a.emulator = true,
            "--bench" => {}
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.url.is_none() && !a.emulator {
        return Err("give --url URL or --emulator".into());
    }
    if !matches!(a.transport.as_str(), "ureq" | "hyper") {
        return Err(format!("--transport ureq|hyper, not {}", a.transport));
    }
    if a.compare && (a.baseline || a.transport != "ureq") {
        return Err("--compare measures the blocking client (--transport ureq) against both baselines".into());
    }
    Ok(a)
}

/// CPU time (user, system) and peak resident memory, from `getrusage`.
#[derive(Debug, Clone, Copy)]
struct Usage {
    user: Duration,
    system: Duration,
    maxrss_kib: i64,
}

fn usage(thread_only: bool) -> Usage {
    let who = if thread_only { libc::RUSAGE_THREAD } else { libc::RUSAGE_SELF };
    // SAFETY: getrusage fills the struct it is given; a zeroed rusage is a valid value.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `r` is a valid, writable rusage.
    unsafe { libc::getrusage(who, &mut r) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    // ru_maxrss is always the process's peak; read it from RUSAGE_SELF.
    let mut s: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut s) };
    Usage { user: tv(r.ru_utime), system: tv(r.ru_stime), maxrss_kib: s.ru_maxrss }
}

/// A phase's figures: wall time, CPU, and the connections the vault accepted.
struct Phase {
    started: Instant,
    cpu: Usage,
    thread_only: bool,
}

impl Phase {
    fn start(admin: &Admin, thread_only: bool) -> Phase {
        admin.reset();
        Phase { started: Instant::now(), cpu: usage(thread_only), thread_only }
    }

    fn finish(self, admin: &Admin, calls: usize, mut extra: Value) -> Value {
        let elapsed = self.started.elapsed();
        let now = usage(self.thread_only);
        let cpu = (now.user + now.system).saturating_sub(self.cpu.user + self.cpu.system);
        let stats = admin.stats();
        let fields = json!({
            "calls": calls,
            "elapsed_s": round(elapsed.as_secs_f64(), 4),
            "calls_per_s": round(calls as f64 / elapsed.as_secs_f64(), 1),
            "cpu_user_s": round((now.user.saturating_sub(self.cpu.user)).as_secs_f64(), 4),
            "cpu_sys_s": round((now.system.saturating_sub(self.cpu.system)).as_secs_f64(), 4),
            "cpu_us_per_call": round(cpu.as_secs_f64() * 1e6 / calls.max(1) as f64, 1),
            "maxrss_kib": now.maxrss_kib,
            "connections": stats.as_ref().and_then(|s| s["connections"].as_u64()),
            "challenges": stats.as_ref().and_then(|s| s["challenges"].as_u64()),
            // Less the DELETE that reset the counters (counted after the reset).
            "requests": stats.as_ref().and_then(|s| s["totalRequests"].as_u64()).map(|n| n.saturating_sub(1)),
        });
        if let (Value::Object(extra), Value::Object(fields)) = (&mut extra, fields) {
            extra.extend(fields);
        }
        extra
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (x * p).round() / p
}

/// The emulator's admin endpoints (absent on a real vault: then no connection figures).
struct Admin {
    agent: ureq::Agent,
    url: String,
}

impl Admin {
    fn new(url: &str, ca: Option<&str>) -> Admin {
        Admin { agent: plain_agent(ca), url: url.trim_end_matches('/').to_owned() }
    }

    fn reset(&self) {
        let _ = self.agent.delete(format!("{}/_emulator/stats", self.url)).call();
    }

    fn stats(&self) -> Option<Value> {
        let mut response = self.agent.get(format!("{}/_emulator/stats", self.url)).call().ok()?;
        if response.status() != 200 {
            return None;
        }
        serde_json::from_slice(&response.body_mut().read_to_vec().ok()?).ok()
    }
}

/// A ureq agent with rustls (ring) trusting `ca` (or the public roots), keep-alive, no
/// redirects, statuses as responses, the client's user agent and timeouts: the transport of
/// the blocking client, without the client.
fn plain_agent(ca: Option<&str>) -> ureq::Agent {
    use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
    let roots = match ca {
        Some(pem) => {
            let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(pem.as_bytes())
                .filter_map(|item| match item {
                    Ok(PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            RootCerts::Specific(Arc::new(certs))
        }
        None => RootCerts::WebPki,
    };
    // The blocking client's transport settings (kvcerts_ureq::ConnectionOptions defaults), so
    // the two send the same requests the same way.
    let defaults = kvcerts_ureq::ConnectionOptions::default();
    ureq::Agent::config_builder()
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(defaults.user_agent.as_str())
        .timeout_connect(Some(defaults.connect_timeout))
        .timeout_recv_response(Some(defaults.read_timeout))
        .timeout_recv_body(Some(defaults.read_timeout))
        .build()
        .new_agent()
}

enum Client {
    Ureq(kvcerts_ureq::CertificateClient),
    Hyper(kvcerts_hyper::CertificateClient, tokio::runtime::Runtime),
}

impl Client {
    fn new(args: &Args, url: &str, ca: Option<&str>) -> Client {
        match args.transport.as_str() {
            "ureq" => {
                let credential = Arc::new(kvcerts_ureq::StaticTokenCredential::new(args.token.clone()));
                let mut b = kvcerts_ureq::CertificateClient::builder(url, credential)
                    .verify_challenge_resource(args.verify_challenge_resource)
                    .allow_insecure_loopback(url.starts_with("http://"));
                if let Some(ca) = ca {
                    b = b.add_root_certificate_pem(ca.as_bytes().to_vec());
                }
                Client::Ureq(b.build().expect("blocking client"))
            }
            _ => {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                let entered = runtime.enter();
                let credential = Arc::new(kvcerts_hyper::StaticTokenCredential::new(args.token.clone()));
                let mut b = kvcerts_hyper::CertificateClient::builder(url, credential)
                    .verify_challenge_resource(args.verify_challenge_resource)
                    .allow_insecure_loopback(url.starts_with("http://"));
                if let Some(ca) = ca {
                    b = b.add_root_certificate_pem(ca.as_bytes().to_vec());
                }
                let client = b.build().expect("async client");
                drop(entered);
                Client::Hyper(client, runtime)
            }
        }
    }

    /// `n` gets over `names`, `concurrency` at a time (async only); the number of errors.
    fn gets(&self, names: &[String], n: usize, concurrency: usize) -> usize {
        match self {
            Client::Ureq(c) => (0..n).filter(|i| c.get_certificate(&names[i % names.len()]).is_err()).count(),
            Client::Hyper(c, rt) => rt.block_on(async {
                let mut set = tokio::task::JoinSet::new();
                for worker in 0..concurrency {
                    let (c, names) = (c.clone(), names.to_vec());
                    set.spawn(async move {
                        let mut errors = 0;
                        for i in (worker..n).step_by(concurrency) {
                            if c.get_certificate(&names[i % names.len()]).await.is_err() {
                                errors += 1;
                            }
                        }
                        errors
                    });
                }
                let mut errors = 0;
                while let Some(r) = set.join_next().await {
                    errors += r.unwrap_or(1);
                }
                errors
            }),
        }
    }

    /// `n` of the same GETs through the blocking client's `send_request`: authentication, retries
    /// and transport as in `get_certificate`, but the body is not decoded.
    fn send_requests(&self, names: &[String], n: usize) -> usize {
        let Client::Ureq(c) = self else { return n };
        let failed = |name: &String| {
            let Ok(call) = c.vault().get_certificate(name) else { return true };
            c.send_request(call.into_parts().0).map_or(true, |r| r.status() != 200)
        };
        (0..n).filter(|i| failed(&names[i % names.len()])).count()
    }

    /// Lists every certificate: (items, pages) or the error.
    fn list(&self) -> Result<(usize, u32), kvcerts_core::Error> {
        match self {
            Client::Ureq(c) => {
                let mut pager = c.list_properties_of_certificates(&Default::default())?;
                let mut items = 0;
                for item in pager.by_ref() {
                    item?;
                    items += 1;
                }
                Ok((items, pager.pages()))
            }
            Client::Hyper(c, rt) => rt.block_on(async {
                let mut pager = c.list_properties_of_certificates(&Default::default())?;
                let mut items = 0;
                while let Some(item) = pager.next().await {
                    item?;
                    items += 1;
                }
                Ok((items, pager.pages()))
            }),
        }
    }
}

/// Creates the missing certificates among `names` (EC P-256, issuer `Self`), 32 at a time, with
/// the async client whatever `--transport` says (setup, not measured).
fn populate(url: &str, ca: Option<&str>, names: &[String]) -> usize {
    let mut policy = CertificatePolicy::new("Self", "CN=loadgen.example");
    policy.key_properties =
        Some(KeyProperties { key_type: Some(KeyType::Ec), curve: Some(KeyCurveName::P256), ..Default::default() });
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let _entered = runtime.enter();
    let credential = Arc::new(kvcerts_hyper::StaticTokenCredential::new("loadgen-populate"));
    let mut b = kvcerts_hyper::CertificateClient::builder(url, credential)
        .verify_challenge_resource(false)
        .allow_insecure_loopback(url.starts_with("http://"))
        .poll_interval(Duration::from_millis(20));
    if let Some(ca) = ca {
        b = b.add_root_certificate_pem(ca.as_bytes().to_vec());
    }
    let client = b.build().expect("async client");
    runtime.block_on(async {
        let mut created = 0;
        for chunk in names.chunks(32) {
            let mut set = tokio::task::JoinSet::new();
            for name in chunk {
                let (client, name, policy) = (client.clone(), name.clone(), policy.clone());
                set.spawn(async move {
                    if client.get_certificate(&name).await.is_ok() {
                        return Some(0);
                    }
                    let poller = client.begin_create_certificate(&name, &policy, &Default::default()).ok()?;
                    poller.wait_for_certificate().await.ok().map(|_| 1)
                });
            }
            while let Some(r) = set.join_next().await {
                created += r.ok().flatten().unwrap_or(0);
            }
        }
        created
    })
}

/// How a baseline loop reads each body.
#[derive(Clone, Copy)]
enum Body {
    /// ureq's `read_to_vec`, not parsed: what a plain loop does.
    Plain,
    /// Into a buffer sized from `Content-Length` (as the client's transport does), not parsed.
    Sized,
    /// ureq's `read_to_vec`, then parsed into a `serde_json::Value`.
    Json,
}

/// The baseline: the same GETs through a bare ureq agent with a fixed bearer token, each body
/// read as `body` says.
fn baseline_gets(agent: &ureq::Agent, url: &str, token: &str, names: &[String], n: usize, body: Body) -> usize {
    use std::io::Read;
    let vault = Vault::with_options(url, kvcerts_core::VaultOptions::default().allow_insecure_loopback(true))
        .expect("vault url");
    let uris: Vec<String> =
        names.iter().map(|name| vault.get_certificate(name).expect("name").request().uri().to_string()).collect();
    let bearer = format!("Bearer {token}");
    let mut errors = 0;
    for i in 0..n {
        let request = agent.get(&uris[i % uris.len()]).header("Accept", "application/json");
        match request.header("Authorization", &bearer).call() {
            Ok(mut response) => {
                let ok = response.status() == 200;
                let read = match body {
                    Body::Plain | Body::Json => response.body_mut().read_to_vec(),
                    Body::Sized => {
                        let mut bytes = Vec::with_capacity(response.body().content_length().unwrap_or(0) as usize);
                        let mut reader = response.body_mut().with_config().limit(10 * 1024 * 1024).reader();
                        reader.read_to_end(&mut bytes).map(|_| bytes).map_err(ureq::Error::from)
                    }
                };
                match read {
                    Ok(bytes) if ok => {
                        if matches!(body, Body::Json) && serde_json::from_slice::<Value>(&bytes).is_err() {
                            errors += 1;
                        }
                    }
                    _ => errors += 1,
                }
            }
            Err(_) => errors += 1,
        }
    }
    errors
}

/// The calling thread's CPU time (user and system).
fn thread_cpu() -> Duration {
    // SAFETY: clock_gettime fills the timespec it is given; a zeroed timespec is a valid value.
    let mut t: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `t` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// A named loop for [`compare`]: runs that many calls, returns how many failed.
type Loop<'a> = (&'static str, Box<dyn Fn(usize) -> usize + 'a>);

/// Runs `loops` in turns, blocks of 50 calls, `n` calls each; each one's CPU per call, and
/// each one's CPU relative to the plain loop (`baseline`) and the client's relative to the
/// loop that sizes its buffers (`baseline_sized`) and the one that parses JSON (`baseline_json`).
fn compare(loops: &[Loop<'_>], n: usize, warm_up_errors: usize) -> Value {
    const BLOCK: usize = 50;
    let mut cpu = vec![Duration::ZERO; loops.len()];
    let mut errors = 0;
    let mut done = 0;
    while done < n {
        let block = BLOCK.min(n - done);
        for ((_, run), spent) in loops.iter().zip(&mut cpu) {
            let started = thread_cpu();
            errors += run(block);
            *spent += thread_cpu().saturating_sub(started);
        }
        done += block;
    }
    let per_call = |d: Duration| round(d.as_secs_f64() * 1e6 / n.max(1) as f64, 1);
    let mut out = json!({"calls_each": n, "block": BLOCK, "errors": errors, "warm_up_errors": warm_up_errors});
    for ((name, _), spent) in loops.iter().zip(&cpu) {
        out[format!("{name}_cpu_us_per_call")] = json!(per_call(*spent));
    }
    let spent = |name: &str| loops.iter().zip(&cpu).find(|((n, _), _)| *n == name).map(|(_, d)| d.as_secs_f64());
    let ratio = |a: &str, b: &str| spent(a).zip(spent(b)).map(|(a, b)| round(a / b.max(1e-9), 3));
    for (name, _) in loops.iter().filter(|(n, _)| *n != "baseline") {
        out[format!("{name}_to_baseline")] = json!(ratio(name, "baseline"));
    }
    out["client_to_baseline_json"] = json!(ratio("client", "baseline_json"));
    out["client_to_baseline_sized"] = json!(ratio("client", "baseline_sized"));
    out
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let emulator = args
        .emulator
        .then(|| kvcerts_emulator::Emulator::builder().create_delay(Duration::ZERO).start().expect("emulator"));
    let url = match &emulator {
        Some(e) => e.vault_url().to_owned(),
        None => args.url.clone().expect("url"),
    };
    let ca: Option<String> = match &emulator {
        Some(e) => e.ca_pem().map(str::to_owned),
        None => args.ca.clone(),
    };
    let verify = args.verify_challenge_resource && emulator.is_none();
    let args = Args { verify_challenge_resource: verify, ..args };
    let thread_only = emulator.is_some();
    let admin = Admin::new(&url, ca.as_deref());
    let client = Client::new(&args, &url, ca.as_deref());

    let mut out = json!({
        "transport": match (args.baseline, args.baseline_json) {
            (true, false) => "baseline-ureq-agent",
            (true, true) => "baseline-ureq-agent-json",
            _ => args.transport.as_str(),
        },
        "concurrency": if args.transport == "hyper" { args.concurrency } else { 1 },
        "url": url,
        "in_process_emulator": emulator.is_some(),
    });

    if args.populate > 0 {
        let names: Vec<String> = (0..args.populate).map(|i| format!("lg-{i:05}")).collect();
        let started = Instant::now();
        let created = populate(&url, ca.as_deref(), &names);
        out["populate"] = json!({"created": created, "elapsed_s": round(started.elapsed().as_secs_f64(), 2)});
    }

    // The gets cycle over the first 100 names (fewer when fewer were just populated).
    let cycle = if (1..NAMES).contains(&args.populate) { args.populate } else { NAMES };
    let names: Vec<String> = (0..cycle).map(|i| format!("lg-{i:05}")).collect();
    if args.gets > 0 {
        // One call first, so the challenge and the token are not part of the measurement.
        let agent = plain_agent(ca.as_deref());
        let read = if args.baseline_json { Body::Json } else { Body::Plain };
        let baseline = |n| baseline_gets(&agent, &url, &args.token, &names, n, read);
        let warm = if args.baseline { baseline(1) } else { client.gets(&names, 1, 1) };
        if args.compare {
            let warm = warm + baseline_gets(&agent, &url, &args.token, &names, 1, Body::Json);
            let (client, agent, token) = (&client, &agent, args.token.as_str());
            let loops: [Loop<'_>; 5] = [
                ("client", Box::new(|n| client.gets(&names, n, 1))),
                ("client_send_request", Box::new(|n| client.send_requests(&names, n))),
                ("baseline", Box::new(|n| baseline_gets(agent, &url, token, &names, n, Body::Plain))),
                ("baseline_sized", Box::new(|n| baseline_gets(agent, &url, token, &names, n, Body::Sized))),
                ("baseline_json", Box::new(|n| baseline_gets(agent, &url, token, &names, n, Body::Json))),
            ];
            out["compare"] = compare(&loops, args.gets, warm);
        } else {
            let phase = Phase::start(&admin, thread_only);
            let errors =
                if args.baseline { baseline(args.gets) } else { client.gets(&names, args.gets, args.concurrency) };
            out["gets"] = phase.finish(&admin, args.gets, json!({"errors": errors, "warm_up_errors": warm}));
        }
    }

    if let Some(expect) = args.list_expect {
        let phase = Phase::start(&admin, thread_only);
        let listed = client.list();
        let (items, pages, error) = match listed {
            Ok((items, pages)) => {
                (items, pages, (items != expect).then(|| format!("listed {items}, expected {expect}")))
            }
            Err(e) => (0, 0, Some(e.to_string())),
        };
        out["list"] = phase.finish(&admin, pages as usize, json!({"items": items, "pages": pages, "error": error}));
        out["list"]["items_per_s"] =
            json!(round(items as f64 / out["list"]["elapsed_s"].as_f64().unwrap_or(1.0).max(1e-9), 1));
    }
    out["maxrss_kib"] = json!(usage(false).maxrss_kib);
    println!("{out}");
}
