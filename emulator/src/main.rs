//! `kvcerts-emulator`: run the emulator until Ctrl-C (or, with `--exit-with-stdin`, until its
//! standard input closes).
//!
//! ```text
//! kvcerts-emulator [--port 8443] [--bind 127.0.0.1] [--http] [--host-name NAME]
//!                  [--ca-out FILE] [--state FILE] [--create-delay-ms N]
//!                  [--delete-delay-ms N] [--recover-delay-ms N] [--no-soft-delete]
//!                  [--required-token TOKEN] [--exit-with-stdin]
//! ```
//!
//! `--port 0` picks a free port. Once listening it prints, one per line and in this order,
//! `vault URL: URL`, `CA certificate: PATH` (HTTPS only) and a line starting with `ready`;
//! a parent process can read these from a pipe. `--exit-with-stdin` makes the emulator stop
//! when its standard input reaches end of file, so a child emulator never outlives its parent.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use kvcerts_emulator::Emulator;

const USAGE: &str = "usage: kvcerts-emulator [--port N] [--bind ADDR] [--http] [--host-name NAME] \
[--ca-out FILE] [--state FILE] [--create-delay-ms N] [--delete-delay-ms N] [--recover-delay-ms N] \
[--no-soft-delete] [--required-token TOKEN] [--exit-with-stdin]";

struct Args {
    port: u16,
    bind: IpAddr,
    http: bool,
    host_name: Option<String>,
    ca_out: Option<PathBuf>,
    state: Option<PathBuf>,
    create_delay_ms: u64,
    delete_delay_ms: u64,
    recover_delay_ms: u64,
    soft_delete: bool,
    required_token: Option<String>,
    exit_with_stdin: bool,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        port: 8443,
        bind: IpAddr::from([127, 0, 0, 1]),
        http: false,
        host_name: None,
        ca_out: None,
        state: None,
        create_delay_ms: 1000,
        delete_delay_ms: 0,
        recover_delay_ms: 0,
        soft_delete: true,
        required_token: None,
        exit_with_stdin: false,
    };
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let num = |name: &str, v: String| -> Result<u64, String> {
            v.parse().map_err(|_| format!("{name}: not a number: {v}"))
        };
        match flag.as_str() {
            "--port" => {
                let v = value("--port")?;
                a.port = v.parse().map_err(|_| format!("--port: not a port: {v}"))?;
            }
            "--bind" => {
                let v = value("--bind")?;
                a.bind = v.parse().map_err(|_| format!("--bind: not an IP address: {v}"))?;
            }
            "--http" => a.http = true,
            "--host-name" => a.host_name = Some(value("--host-name")?),
            "--ca-out" => a.ca_out = Some(PathBuf::from(value("--ca-out")?)),
            "--state" => a.state = Some(PathBuf::from(value("--state")?)),
            "--create-delay-ms" => {
                let v = value("--create-delay-ms")?;
                a.create_delay_ms = num("--create-delay-ms", v)?;
            }
            "--delete-delay-ms" => {
                let v = value("--delete-delay-ms")?;
                a.delete_delay_ms = num("--delete-delay-ms", v)?;
            }
            "--recover-delay-ms" => {
                let v = value("--recover-delay-ms")?;
                a.recover_delay_ms = num("--recover-delay-ms", v)?;
            }
            "--no-soft-delete" => a.soft_delete = false,
            "--required-token" => a.required_token = Some(value("--required-token")?),
            "--exit-with-stdin" => a.exit_with_stdin = true,
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let mut builder = Emulator::builder()
        .tls(!args.http)
        .port(args.port)
        .bind(args.bind)
        .create_delay(Duration::from_millis(args.create_delay_ms))
        .delete_delay(Duration::from_millis(args.delete_delay_ms))
        .recover_delay(Duration::from_millis(args.recover_delay_ms))
        .soft_delete(args.soft_delete)
        .required_token(args.required_token);
    if let Some(h) = args.host_name {
        builder = builder.host_name(h);
    }
    if let Some(s) = args.state {
        builder = builder.state_file(s);
    }
    let emu = match builder.start() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("kvcerts-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("vault URL: {}", emu.vault_url());
    if let Some(pem) = emu.ca_pem() {
        let path = args.ca_out.unwrap_or_else(|| std::env::temp_dir().join("kvcerts-emulator-ca.pem"));
        if let Err(e) = std::fs::write(&path, pem) {
            eprintln!("kvcerts-emulator: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("CA certificate: {}", path.display());
    }
    if args.exit_with_stdin {
        println!("ready; stops when standard input closes or on Ctrl-C");
    } else {
        println!("ready; press Ctrl-C to stop");
    }
    if let Err(e) = wait_for_stop(args.exit_with_stdin) {
        eprintln!("kvcerts-emulator: cannot wait for Ctrl-C: {e}");
    }
    emu.shutdown();
    ExitCode::SUCCESS
}

/// Blocks until Ctrl-C or, when `exit_with_stdin`, until standard input reaches end of file.
fn wait_for_stop(exit_with_stdin: bool) -> std::io::Result<()> {
    let stdin_closed = exit_with_stdin.then(|| {
        let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
        // A plain thread, not the runtime's blocking pool, which the runtime would wait for.
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            let _ = closed_tx.send(());
        });
        closed_rx
    });
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let closed = async {
            match stdin_closed {
                Some(closed_rx) => drop(closed_rx.await),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            signal = tokio::signal::ctrl_c() => signal,
            () = closed => Ok(()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        parse_args(s.split_whitespace().map(str::to_string))
    }

    #[test]
    fn parses_flags() {
        let a = args("--port 9000 --http --host-name vault.local --create-delay-ms 5").unwrap();
        assert_eq!(a.port, 9000);
        assert!(a.http);
        assert_eq!(a.host_name.as_deref(), Some("vault.local"));
        assert_eq!(a.create_delay_ms, 5);
        assert!(!a.exit_with_stdin);
        let a = args("--port 0 --exit-with-stdin").unwrap();
        assert_eq!(a.port, 0);
        assert!(a.exit_with_stdin);
        assert!(args("--port").is_err());
        assert!(args("--bogus").is_err());
        assert!(args("--port x").is_err());
    }
}
