//! The Azure CLI credential's protocol: which command to run and how to read its output.
//! Running the process (with a timeout) is the transport's job.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::OffsetDateTime;

use super::token::{AccessToken, TokenRequest};
use crate::error::Error;

/// The command that prints a token: `az account get-access-token --output json --scope S
/// [--tenant T]`. Arguments are passed as a list, never through a shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureCliCommand {
    /// The program (`az`; on Windows the transport runs it through `cmd /C`).
    pub program: &'static str,
    /// The arguments.
    pub args: Vec<String>,
}

/// How a transport starts an [`AzureCliCommand`]: `program` with `args` (no shell, except
/// `cmd /C az` for the CLI's batch file on Windows); errors name `shown`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureCliInvocation {
    /// The program to start.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// The Azure CLI program, as errors show it.
    pub shown: PathBuf,
}

impl AzureCliCommand {
    /// How to start this command: `program` instead of `az` from `PATH` when given; on
    /// `windows`, `az` from `PATH` runs through `cmd /C` (it is a batch file).
    pub fn invocation(&self, program: Option<&Path>, windows: bool) -> AzureCliInvocation {
        let shown = program.map_or_else(|| PathBuf::from(self.program), Path::to_path_buf);
        let args = self.args.iter().map(OsString::from);
        if windows && program.is_none() {
            let args = [OsString::from("/C"), shown.clone().into_os_string()].into_iter().chain(args).collect();
            AzureCliInvocation { program: PathBuf::from("cmd"), args, shown }
        } else {
            AzureCliInvocation { program: shown.clone(), args: args.collect(), shown }
        }
    }
}

/// Builds the command for `request`: exactly one scope; scope and tenant are checked to hold
/// only URL/identifier characters, so nothing can be smuggled into the command line.
pub fn azure_cli_command(request: &TokenRequest) -> Result<AzureCliCommand, Error> {
    let [scope] = request.scopes.as_slice() else {
        return Err(Error::invalid(
            "token request",
            format!("the Azure CLI takes exactly one scope, not {}", request.scopes.len()),
        ));
    };
    let safe = |s: &str, extra: &[u8]| {
        !s.is_empty() && !s.starts_with('-') && s.bytes().all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
    };
    if !safe(scope, b"-._:/") {
        return Err(Error::invalid("token request", format!("{scope:?} is not a valid scope for the Azure CLI")));
    }
    let mut args: Vec<String> =
        ["account", "get-access-token", "--output", "json", "--scope", scope].iter().map(|s| s.to_string()).collect();
    if let Some(tenant) = &request.tenant_id {
        if !safe(tenant, b"-.") {
            return Err(Error::invalid("token request", format!("{tenant:?} is not a valid tenant id")));
        }
        args.push("--tenant".into());
        args.push(tenant.clone());
    }
    Ok(AzureCliCommand { program: "az", args })
}

/// How much of the CLI's stdout and of its stderr a transport reads (1 MiB each); a token is
/// a few KiB.
pub const MAX_OUTPUT: u64 = 1 << 20;

/// The error when `program` could not be started: not on `PATH` (`not_found`), or `reason`.
pub fn start_failed(program: &Path, not_found: bool, reason: &dyn std::fmt::Display) -> Error {
    if not_found {
        Error::Authentication(format!(
            "the Azure CLI ({}) was not found on PATH; install it or use another credential",
            program.display()
        ))
    } else {
        Error::Authentication(format!("cannot run the Azure CLI ({}): {reason}", program.display()))
    }
}

/// The error when the CLI did not exit within `timeout` (the transport has killed it).
pub fn timed_out(timeout: std::time::Duration) -> Error {
    Error::Authentication(format!("the Azure CLI did not answer within {} s", timeout.as_secs()))
}

/// The error when waiting for the CLI to exit failed for `reason`.
pub fn wait_failed(reason: &dyn std::fmt::Display) -> Error {
    Error::Authentication(format!("waiting for the Azure CLI failed: {reason}"))
}

#[derive(Deserialize)]
struct CliToken {
    #[serde(rename = "accessToken")]
    access_token: String,
    /// Unix seconds (Azure CLI 2.54 and later).
    expires_on: Option<i64>,
    /// Local time `2023-10-31 14:59:10.000000` (older versions).
    #[serde(rename = "expiresOn")]
    expires_on_local: Option<String>,
}

/// Reads the CLI's output. `succeeded` is whether the process exited with status 0; `stderr`
/// is shown (shortened) in errors. A CLI that is not logged in gets an error that says to run
/// `az login`. The token never appears in an error.
pub fn parse_azure_cli_output(
    succeeded: bool,
    stdout: &[u8],
    stderr: &[u8],
    now: OffsetDateTime,
) -> Result<AccessToken, Error> {
    let stderr_text = String::from_utf8_lossy(&stderr[..stderr.len().min(2048)]);
    if !succeeded {
        let text = stderr_text.trim();
        if text.contains("az login") || text.contains("AADSTS") && text.contains("login") {
            return Err(Error::Authentication(format!(
                "the Azure CLI is not logged in (run `az login`): {}",
                first_line(text)
            )));
        }
        return Err(Error::Authentication(format!("`az account get-access-token` failed: {}", first_line(text))));
    }
    let token: CliToken = serde_json::from_slice(stdout).map_err(|e| {
        Error::Authentication(format!("the Azure CLI printed something other than a token ({e}); is `az` up to date?"))
    })?;
    if token.access_token.is_empty() {
        return Err(Error::Authentication("the Azure CLI printed an empty token".into()));
    }
    let expires_on = match (token.expires_on, token.expires_on_local.as_deref()) {
        (Some(seconds), _) => OffsetDateTime::from_unix_timestamp(seconds)
            .map_err(|_| Error::Authentication(format!("the Azure CLI token expiry {seconds} is not a time")))?,
        (None, Some(local)) => parse_local(local).unwrap_or(now + time::Duration::minutes(5)),
        (None, None) => now + time::Duration::minutes(5),
    };
    Ok(AccessToken::new(token.access_token, expires_on))
}

/// Older CLIs print local time without an offset; read it as UTC, which at worst makes the
/// token look valid a few hours longer or shorter than it is — the 5-minute refresh margin and
/// the challenge retry on 401 then get a fresh one.
fn parse_local(text: &str) -> Option<OffsetDateTime> {
    use crate::dates::{digits, parse_date_time};
    let b = text.split('.').next()?.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    parse_date_time(digits(&b[..4])?, digits(&b[5..7])?, digits(&b[8..10])?, &b[10..], b' ')
}

fn first_line(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("(no output)");
    line.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    #[test]
    fn command_has_scope_and_tenant_and_refuses_injection() {
        let request = TokenRequest::new(vec!["https://vault.azure.net/.default".into()])
            .tenant_id(Some("contoso.onmicrosoft.com".into()));
        let command = azure_cli_command(&request).unwrap();
        assert_eq!(command.program, "az");
        assert_eq!(
            command.args,
            [
                "account",
                "get-access-token",
                "--output",
                "json",
                "--scope",
                "https://vault.azure.net/.default",
                "--tenant",
                "contoso.onmicrosoft.com"
            ]
        );
        let plain = command.invocation(None, false);
        assert_eq!((plain.program.as_path(), plain.shown.as_path()), (Path::new("az"), Path::new("az")));
        assert_eq!(plain.args, command.args.iter().map(OsString::from).collect::<Vec<_>>());
        let windows = command.invocation(None, true);
        assert_eq!((windows.program.as_path(), windows.shown.as_path()), (Path::new("cmd"), Path::new("az")));
        assert_eq!(windows.args[..3], ["/C", "az", "account"].map(OsString::from));
        let own = command.invocation(Some(Path::new("/opt/az")), true);
        assert_eq!((own.program.as_path(), own.shown.as_path()), (Path::new("/opt/az"), Path::new("/opt/az")));
        assert_eq!(own.args, plain.args);
        assert!(azure_cli_command(&TokenRequest::new(vec!["x; rm -rf /".into()])).is_err());
        assert!(azure_cli_command(&TokenRequest::new(vec!["--help".into()])).is_err());
        assert!(azure_cli_command(&TokenRequest::new(vec![])).is_err());
        let bad_tenant =
            TokenRequest::new(vec!["https://vault.azure.net/.default".into()]).tenant_id(Some("a b".into()));
        assert!(azure_cli_command(&bad_tenant).is_err());
    }

    #[test]
    fn output_is_parsed_and_errors_are_clear() {
        let out = br#"{"accessToken":"eyJ0eXAi.secret","expiresOn":"2023-11-14 22:13:20.000000","expires_on":1700003600,"tenant":"t","tokenType":"Bearer"}"#;
        let token = parse_azure_cli_output(true, out, b"", now()).unwrap();
        assert_eq!(token.secret(), "eyJ0eXAi.secret");
        assert_eq!(token.expires_on.unix_timestamp(), 1_700_003_600);
        let old = br#"{"accessToken":"t","expiresOn":"2023-11-14 23:13:20.000000"}"#;
        assert_eq!(parse_azure_cli_output(true, old, b"", now()).unwrap().expires_on.unix_timestamp(), 1_700_003_600);

        let e =
            parse_azure_cli_output(false, b"", b"ERROR: Please run 'az login' to setup account.", now()).unwrap_err();
        assert!(e.to_string().contains("run `az login`"), "{e}");
        let e = parse_azure_cli_output(true, b"not json eyJ0eXAi.secret", b"", now()).unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }
}
