#!/usr/bin/env bash
# The Python Azure SDK (azure-keyvault-certificates, versions pinned in requirements.txt)
# end to end against kvcerts-emulator.
#
#   bash scripts/python-sdk-e2e/run.sh
#
# 1. Creates (or reuses, while requirements.txt is unchanged) a venv under
#    <target>/python-sdk-e2e/venv and installs requirements.txt into it.
# 2. Uses <target>/debug/kvcerts-emulator (as built by `cargo test`), building it with
#    `cargo build -p kvcerts-emulator` when it is missing.
# 3. Starts it on a free port (--port 0) over HTTPS with its CA written to a temp dir, waits
#    until it answers GET /_emulator/health, runs e2e.py against it, and always stops it.
#
# Exits 0 when every step passed, non-zero otherwise (the emulator's log is printed then).
#
# Environment (all optional):
#   PYTHON                 interpreter for the venv (default: python3)
#   CARGO_TARGET_DIR       cargo's target dir (default: <repo>/target)
#   KVCERTS_PY_VENV        venv directory (default: <target>/python-sdk-e2e/venv)
#   KVCERTS_EMULATOR_BIN   emulator binary (default: <target>/debug/kvcerts-emulator)
#   KVCERTS_E2E_TIMEOUT    seconds e2e.py may run (default: 180)

set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="${KVCERTS_PY_VENV:-$target/python-sdk-e2e/venv}"
python="${PYTHON:-python3}"
emulator="${KVCERTS_EMULATOR_BIN:-$target/debug/kvcerts-emulator}"
e2e_timeout="${KVCERTS_E2E_TIMEOUT:-180}"

# Prints a progress line on stderr.
log() { printf '[python-sdk-e2e] %s\n' "$*" >&2; }

# Prints why the run failed and exits 1 (the EXIT trap then stops the emulator).
die() {
    log "FAILED: $*"
    exit 1
}

# --- 1. the venv -----------------------------------------------------------------------
requirements="$here/requirements.txt"
wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
stamp="$venv/.kvcerts-requirements.sha256"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]]; then
    log "creating the venv in $venv"
    command -v "$python" >/dev/null || die "no Python interpreter '$python' (set PYTHON)"
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv" || die "cannot create a venv with $python"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --timeout 60 \
        -r "$requirements" || die "pip install -r $requirements failed"
    echo "$wanted" >"$stamp"
else
    log "reusing the venv in $venv"
fi

# --- 2. the emulator binary -------------------------------------------------------------
if [[ ! -x "$emulator" ]]; then
    log "building kvcerts-emulator (no $emulator yet)"
    (cd "$root" && cargo build -p kvcerts-emulator) || die "cargo build -p kvcerts-emulator failed"
    [[ -x "$emulator" ]] || die "the build did not produce $emulator"
fi

# --- 3. start it, always stop it --------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/kvcerts-python-sdk-e2e.XXXXXX")"
emulator_log="$work/emulator.log"
ca="$work/emulator-ca.pem"
emulator_pid=""

# Stops the emulator this script started (by its pid only): Ctrl-C first, as its CLI expects,
# then SIGTERM, then SIGKILL.
stop_emulator() {
    [[ -n "$emulator_pid" ]] || return 0
    local signal waited
    for signal in INT TERM KILL; do
        kill -0 "$emulator_pid" 2>/dev/null || break
        kill -s "$signal" "$emulator_pid" 2>/dev/null || true
        for waited in $(seq 1 30); do
            kill -0 "$emulator_pid" 2>/dev/null || break
            sleep 0.1
        done
    done
    wait "$emulator_pid" 2>/dev/null || true
    emulator_pid=""
}

# On every exit: stop the emulator, show its log when the run failed, remove the temp dir.
on_exit() {
    local status=$?
    stop_emulator
    if [[ $status -ne 0 && -s "$emulator_log" ]]; then
        log "emulator log ($emulator_log):"
        sed 's/^/    /' "$emulator_log" >&2 || true
    fi
    rm -rf "$work"
    exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting $emulator"
"$emulator" --port 0 --ca-out "$ca" --create-delay-ms 200 --delete-delay-ms 200 --recover-delay-ms 200 \
    >"$emulator_log" 2>&1 &
emulator_pid=$!

deadline=$((SECONDS + 30))
until grep -q '^ready' "$emulator_log" 2>/dev/null; do
    kill -0 "$emulator_pid" 2>/dev/null || die "the emulator exited before it was ready"
    ((SECONDS < deadline)) || die "the emulator was not ready within 30 s"
    sleep 0.1
done
vault_url="$(sed -n 's/^vault URL: //p' "$emulator_log" | head -n 1)"
[[ -n "$vault_url" && -s "$ca" ]] || die "the emulator printed no vault URL or wrote no CA file"

"$venv/bin/python" - "$vault_url" "$ca" <<'PY' || die "the emulator does not answer GET /_emulator/health"
import json, ssl, sys, time, urllib.request
url, ca = sys.argv[1], sys.argv[2]
context = ssl.create_default_context(cafile=ca)
deadline = time.monotonic() + 15
while True:
    try:
        with urllib.request.urlopen(url + "/_emulator/health", context=context, timeout=5) as r:
            if json.load(r).get("status") == "ok":
                break
    except OSError as e:
        if time.monotonic() > deadline:
            sys.exit(f"health check failed: {e}")
        time.sleep(0.1)
PY
log "emulator ready at $vault_url"

# --- 4. the SDK -------------------------------------------------------------------------
set +e
timeout --kill-after=10 "$e2e_timeout" "$venv/bin/python" "$here/e2e.py" --vault-url "$vault_url" --ca "$ca"
status=$?
set -e
case $status in
0) log "passed" ;;
124 | 137) die "e2e.py did not finish within $e2e_timeout s" ;;
*) die "e2e.py failed (exit $status)" ;;
esac
