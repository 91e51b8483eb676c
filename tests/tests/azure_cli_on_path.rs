//! The blocking Azure CLI credential runs the `az` it finds on `PATH` (here a stand-in script)
//! with the exact arguments, reads its token, and explains a CLI that is missing or logged out.
//! One test in its own binary, because it changes `PATH`.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use kvcerts_core::auth::TokenRequest;
use kvcerts_core::ErrorKind;
use kvcerts_ureq::{AzureCliCredential, TokenCredential};

fn write_az(dir: &std::path::Path, script: &str) {
    let path = dir.join("az");
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).expect("script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn azure_cli_from_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let args_file = dir.path().join("args");
    let original_path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![dir.path().to_path_buf()];
    paths.extend(std::env::split_paths(&original_path));
    std::env::set_var("PATH", std::env::join_paths(paths).expect("PATH"));

    let request = TokenRequest::new(vec!["https://vault.azure.net/.default".into()]).tenant_id(Some("tenant-9".into()));
    write_az(
        dir.path(),
        &format!(
            r#"printf '%s\n' "$@" > '{}'
echo '{{"accessToken":"cli-token","expiresOn":"2099-01-01 00:00:00.000000","expires_on":4070908800,"tenant":"tenant-9","tokenType":"Bearer"}}'"#,
            args_file.display()
        ),
    );
    let token = AzureCliCredential::new().get_token(&request).expect("token");
    assert_eq!(token.secret(), "cli-token");
    assert_eq!(token.expires_on.unix_timestamp(), 4_070_908_800);
    let args = std::fs::read_to_string(&args_file).expect("args");
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        [
            "account",
            "get-access-token",
            "--output",
            "json",
            "--scope",
            "https://vault.azure.net/.default",
            "--tenant",
            "tenant-9"
        ]
    );

    write_az(dir.path(), "echo \"ERROR: Please run 'az login' to setup account.\" >&2; exit 1");
    let error = AzureCliCredential::new().get_token(&request).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Authentication);
    assert!(error.to_string().contains("run `az login`"), "{error}");

    write_az(dir.path(), "sleep 5");
    let error = AzureCliCredential::new().timeout(Duration::from_millis(300)).get_token(&request).unwrap_err();
    assert!(error.to_string().contains("did not answer within"), "{error}");

    std::env::set_var("PATH", dir.path().join("nothing-here"));
    let error = AzureCliCredential::new().get_token(&request).unwrap_err();
    assert!(error.to_string().contains("not found on PATH"), "{error}");
    std::env::set_var("PATH", original_path);
}
