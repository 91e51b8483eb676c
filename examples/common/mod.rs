//! What every example shares: where the vault is, and a client for it.
//!
//! - `KEYVAULT_URL` unset (the default): the emulator runs as a child process, the
//!   `kvcerts-emulator` program, on a free port of 127.0.0.1, over HTTPS with its own test CA,
//!   which the client trusts. Any token is accepted, so a fixed one is used. Operations complete
//!   within ~100 ms and the client polls every 50 ms (at most 100 ms apart), so each example
//!   takes a few seconds at most. The program is `KVCERTS_EMULATOR_BIN` if set, else
//!   `target/<profile>/kvcerts-emulator` next to the example, which is built with cargo when it
//!   is missing or older than the sources of the emulator or of `kvcerts-core`, which it uses
//!   (so on the first run). It stops with the example, also when the example crashes: it exits
//!   when its standard input closes.
//! - `KEYVAULT_URL=https://myvault.vault.azure.net`: that vault, with `DefaultAzureCredential`
//!   (environment, workload identity, managed identity, then the Azure CLI) and default
//!   options. The examples use unique names and delete and purge what they create.
//!
//! Each example includes this file with `#[path = "common/mod.rs"] mod common;`.

#![allow(dead_code)] // not every example uses every helper

use std::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kvcerts_core::flows::PollOptions;
use kvcerts_core::ErrorKind;

/// How the client polls long-running operations on the emulator: every 50 ms, and never
/// waits longer than 100 ms even when the emulator's `Retry-After` (whole seconds) says so.
pub fn emulator_polling() -> PollOptions {
    PollOptions::create().interval(Duration::from_millis(50)).max_interval(Duration::from_millis(100))
}

/// Any token will do for the emulator.
pub const EMULATOR_TOKEN: &str = "emulator-token";

/// The vault the example talks to. Keep it alive as long as the client: dropping it stops the
/// emulator.
pub struct Target {
    /// The vault URL.
    pub url: String,
    emulator: Option<EmulatorProcess>,
}

/// The real vault's URL, when `KEYVAULT_URL` is set (and not empty).
pub fn keyvault_url() -> Option<String> {
    std::env::var("KEYVAULT_URL").ok().filter(|url| !url.trim().is_empty())
}

impl Target {
    /// `KEYVAULT_URL`, or a freshly started emulator process.
    pub fn from_env() -> Result<Target, Box<dyn Error>> {
        if let Some(url) = keyvault_url() {
            println!("vault: {url} (DefaultAzureCredential)");
            return Ok(Target { url, emulator: None });
        }
        let emulator = EmulatorProcess::start(true)?;
        let url = emulator.vault_url().to_owned();
        println!("vault: emulator at {url} (set KEYVAULT_URL to use a real vault)");
        Ok(Target { url, emulator: Some(emulator) })
    }

    /// Whether this is the emulator.
    pub fn is_emulator(&self) -> bool {
        self.emulator.is_some()
    }

    /// The emulator's CA certificate (PEM), which clients must trust.
    pub fn ca_pem(&self) -> Option<&str> {
        self.emulator.as_ref().and_then(EmulatorProcess::ca_pem)
    }

    /// A blocking client: `DefaultAzureCredential` and default options for a real vault;
    /// a fixed token, the emulator's CA and short polls for the emulator.
    pub fn blocking_client(&self) -> Result<kvcerts_ureq::CertificateClient, kvcerts_core::Error> {
        use kvcerts_ureq::{CertificateClient, DefaultAzureCredential, StaticTokenCredential};
        let Some(ca_pem) = self.ca_pem() else {
            return CertificateClient::new(&self.url, Arc::new(DefaultAzureCredential::new()));
        };
        CertificateClient::builder(&self.url, Arc::new(StaticTokenCredential::new(EMULATOR_TOKEN)))
            .add_root_certificate_pem(ca_pem.as_bytes().to_vec())
            // The emulator's challenge names https://vault.azure.net, not 127.0.0.1.
            .verify_challenge_resource(false)
            .create_polling(emulator_polling())
            .delete_recover_polling(emulator_polling())
            .build()
    }

    /// An async client on tokio (call inside a tokio runtime), configured like
    /// [`Target::blocking_client`].
    #[cfg(feature = "async")]
    pub fn async_client(&self) -> Result<kvcerts_hyper::CertificateClient, kvcerts_core::Error> {
        use kvcerts_hyper::{DefaultAzureCredential, StaticTokenCredential, TokenCredential};
        let credential: Arc<dyn TokenCredential> = if self.is_emulator() {
            Arc::new(StaticTokenCredential::new(EMULATOR_TOKEN))
        } else {
            Arc::new(DefaultAzureCredential::new())
        };
        self.async_builder(credential).build()
    }

    /// An async client builder with `credential`, plus the emulator's settings when this is
    /// the emulator (for clients on another runtime: add `.runtime(...)`).
    #[cfg(feature = "async")]
    pub fn async_builder(&self, credential: Arc<dyn kvcerts_hyper::TokenCredential>) -> kvcerts_hyper::ClientBuilder {
        let builder = kvcerts_hyper::CertificateClient::builder(&self.url, credential);
        match self.ca_pem() {
            Some(ca_pem) => builder
                .add_root_certificate_pem(ca_pem.as_bytes().to_vec())
                .verify_challenge_resource(false)
                .create_polling(emulator_polling())
                .delete_recover_polling(emulator_polling()),
            None => builder,
        }
    }
}

/// The emulator running as a child process (`kvcerts-emulator --exit-with-stdin`), with the
/// examples' settings: operations finish after 100 ms, not minutes. Dropping it stops the
/// process; if the example dies first, the emulator sees its standard input close and exits.
pub struct EmulatorProcess {
    child: Child,
    url: String,
    ca_pem: Option<String>,
}

impl EmulatorProcess {
    /// Starts the emulator over HTTPS (`tls`) or plain HTTP, and waits until it serves.
    pub fn start(tls: bool) -> Result<EmulatorProcess, Box<dyn Error>> {
        let program = emulator_program()?;
        let ca_path = std::env::temp_dir().join(format!("kvcerts-example-ca-{}.pem", std::process::id()));
        let mut command = Command::new(&program);
        command.args(["--port", "0", "--exit-with-stdin"]);
        command.args(["--create-delay-ms", "100", "--delete-delay-ms", "100", "--recover-delay-ms", "100"]);
        if tls {
            command.arg("--ca-out").arg(&ca_path);
        } else {
            command.arg("--http");
        }
        // Its error messages, if any, go straight to our stderr.
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot run the emulator {}: {e}", program.display()))?;
        let stdout = child.stdout.take().ok_or("the emulator's stdout is not a pipe")?;
        let mut emulator = EmulatorProcess { child, url: String::new(), ca_pem: None }; // killed on error

        // It prints `vault URL: URL`, `CA certificate: PATH` (HTTPS only), then `ready…`, and
        // nothing more on stdout. A reader thread hands the lines over, so a hung start-up ends
        // in an error after STARTUP_TIMEOUT instead of blocking the example forever.
        let (lines, received) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = std::time::Instant::now() + STARTUP_TIMEOUT;
        loop {
            let wait = deadline.saturating_duration_since(std::time::Instant::now());
            let line = match received.recv_timeout(wait) {
                Ok(line) => line?,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "the emulator {} was not ready within {} s",
                        program.display(),
                        STARTUP_TIMEOUT.as_secs()
                    )
                    .into());
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            };
            if let Some(url) = line.strip_prefix("vault URL: ") {
                emulator.url = url.trim().to_owned();
            } else if let Some(path) = line.strip_prefix("CA certificate: ") {
                let pem = std::fs::read_to_string(path.trim())
                    .map_err(|e| format!("cannot read the emulator's CA certificate {path}: {e}"))?;
                let _ = std::fs::remove_file(path.trim());
                emulator.ca_pem = Some(pem);
            } else if line.starts_with("ready") {
                if emulator.url.is_empty() || (tls && emulator.ca_pem.is_none()) {
                    return Err("the emulator was ready without printing its vault URL and CA certificate".into());
                }
                return Ok(emulator);
            }
        }
        let status = emulator.child.wait()?;
        Err(format!("the emulator {} stopped before it was ready ({status})", program.display()).into())
    }

    /// The vault URL, e.g. `https://127.0.0.1:54321`.
    pub fn vault_url(&self) -> &str {
        &self.url
    }

    /// The CA certificate (PEM) of an HTTPS emulator.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long the emulator may take to print that it is ready (it takes well under a second;
/// building it first is not counted).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// The emulator program: `KVCERTS_EMULATOR_BIN`, or `kvcerts-emulator` in the target directory
/// the example runs from, built first with cargo when it is missing or older than its sources
/// (the emulator's, `kvcerts-core`'s, which it is built on, and `Cargo.lock`).
fn emulator_program() -> Result<PathBuf, Box<dyn Error>> {
    if let Some(program) = std::env::var_os("KVCERTS_EMULATOR_BIN") {
        return Ok(program.into());
    }
    // The example is target/<profile>/examples/NAME; the emulator goes to target/<profile>/.
    let exe = std::env::current_exe()?;
    let profile_dir = exe.parent().and_then(Path::parent).ok_or("cannot find the example's target directory")?;
    let program = profile_dir.join(format!("kvcerts-emulator{}", std::env::consts::EXE_SUFFIX));
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = [workspace.join("emulator"), workspace.join("core")];
    if is_newer_than_sources(&program, &sources, &workspace.join("Cargo.lock")) {
        return Ok(program);
    }
    let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => "dev",
        Some(name) => name,
    };
    println!("building the emulator first: cargo build -p kvcerts-emulator --profile {profile}");
    // Cargo sets CARGO for the programs it runs; from the workspace, it finds the same config.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", "kvcerts-emulator", "--bin", "kvcerts-emulator", "--profile", profile])
        .current_dir(workspace)
        .status()
        .map_err(|e| format!("cannot run cargo to build the emulator: {e} (or set KVCERTS_EMULATOR_BIN)"))?;
    if !status.success() {
        return Err(format!("building the emulator failed ({status})").into());
    }
    if !program.exists() {
        return Err(format!("cargo did not build {}: set KVCERTS_EMULATOR_BIN", program.display()).into());
    }
    Ok(program)
}

/// Whether `program` exists and is newer than `lock_file` and, in each of `crate_dirs`,
/// `Cargo.toml` and every file of `src/`.
fn is_newer_than_sources(program: &Path, crate_dirs: &[PathBuf], lock_file: &Path) -> bool {
    fn modified(path: &Path) -> Option<SystemTime> {
        path.metadata().and_then(|m| m.modified()).ok()
    }
    fn newest(path: &Path) -> Option<SystemTime> {
        match std::fs::read_dir(path) {
            Ok(entries) => entries.flatten().filter_map(|entry| newest(&entry.path())).max(),
            Err(_) => modified(path),
        }
    }
    let Some(built) = modified(program) else { return false };
    let changed = crate_dirs
        .iter()
        .filter_map(|dir| newest(&dir.join("src")).max(modified(&dir.join("Cargo.toml"))))
        .chain(modified(lock_file))
        .max();
    changed.is_none_or(|changed| changed <= built)
}

/// A name no other run uses: `prefix-` and the time in milliseconds, in hex.
pub fn unique_name(prefix: &str) -> String {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    format!("{prefix}-{millis:x}")
}

/// Deletes a certificate, waits until the deletion completes, and purges it, so the name can
/// be used again at once. A certificate that is already gone is fine.
pub fn delete_and_purge(client: &kvcerts_ureq::CertificateClient, name: &str) -> Result<(), kvcerts_core::Error> {
    match client.begin_delete_certificate(name)?.wait() {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    match client.purge_deleted_certificate(name) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// `2025-01-31 13:45:07`: a timestamp to the second, in UTC.
pub fn timestamp(t: Option<time::OffsetDateTime>) -> String {
    match t.map(|t| t.to_offset(time::UtcOffset::UTC)) {
        Some(t) => format!("{} {:02}:{:02}:{:02}", t.date(), t.hour(), t.minute(), t.second()),
        None => "-".into(),
    }
}

/// `2025-01-31`: the date part of a timestamp.
pub fn date(t: Option<time::OffsetDateTime>) -> String {
    match t {
        Some(t) => t.date().to_string(),
        None => "-".into(),
    }
}

/// Prints `text … ` without a newline (and flushes), so the reader sees the step before it
/// runs; the example finishes the line with `println!("done …")`.
pub fn step(text: impl std::fmt::Display) {
    print!("{text} … ");
    let _ = std::io::stdout().flush();
}
