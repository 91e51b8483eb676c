"""The Python Azure SDK (azure-keyvault-certificates) against a running kvcerts-emulator.

Run by run.sh, which starts the emulator; by hand:

    python e2e.py --vault-url https://127.0.0.1:PORT --ca /path/to/emulator-ca.pem

Walks one certificate through create -> get -> update properties -> list -> delete ->
recover -> delete -> purge, and a second one through backup -> delete -> purge -> restore,
asserting what the SDK returns at each step. Prints one line per step; on the first failure
prints what failed (with the service's status and error code when there is one) and exits 1.
"""

import argparse
import sys
import time
import traceback
import uuid

from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.certificates import CertificateClient, CertificatePolicy, KeyVaultCertificate

# The emulator accepts any bearer token.
TOKEN = "kvcerts-python-sdk-e2e"
# How often the SDK's pollers poll (its private test knob; the defaults are 5 s and 2 s).
POLL_INTERVAL = 0.2
# The longest any poller may take.
POLL_TIMEOUT = 60


class FixedTokenCredential:
    """A credential that always hands out the same token, valid for an hour.

    Implements both protocols azure-core knows: TokenCredential (get_token) and
    SupportsTokenInfo (get_token_info).
    """

    def __init__(self, token):
        self._token = token

    def get_token(self, *scopes, claims=None, tenant_id=None, enable_cae=False, **kwargs):
        """The token, for azure-core's TokenCredential protocol."""
        return AccessToken(self._token, int(time.time()) + 3600)

    def get_token_info(self, *scopes, options=None):
        """The token, for azure-core's SupportsTokenInfo protocol."""
        return AccessTokenInfo(self._token, int(time.time()) + 3600)

    def close(self):
        """Nothing to release."""


class StepFailed(Exception):
    """An assertion about what the SDK returned did not hold."""


def check(condition, message):
    """Fails the current step with `message` unless `condition` holds."""
    if not condition:
        raise StepFailed(message)


def wait(poller, what):
    """Waits for an SDK poller (at most POLL_TIMEOUT seconds) and returns its result.

    Works for both kinds the SDK hands out: the create poller (an LROPoller) and the
    delete/recover pollers, whose result() returns at once and whose wait() blocks.
    """
    poller.wait(timeout=POLL_TIMEOUT)
    check(poller.done(), f"{what} did not finish within {POLL_TIMEOUT} s (status {poller.status()!r})")
    return poller.result()


def run_step(number, name, action):
    """Runs one step, printing its outcome; on failure prints why and exits 1."""
    started = time.monotonic()
    try:
        detail = action()
    except StepFailed as e:
        fail(number, name, f"assertion failed: {e}")
    except HttpResponseError as e:
        code = getattr(getattr(e, "error", None), "code", None)
        fail(number, name, f"the service answered {e.status_code} ({code}): {e.message}")
    except Exception as e:  # anything else: transport errors, SDK bugs, timeouts
        fail(number, name, f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
    elapsed = time.monotonic() - started
    suffix = f": {detail}" if detail else ""
    print(f"[ok] {number:2d}. {name} ({elapsed:.2f} s){suffix}", flush=True)
    return detail


def fail(number, name, why):
    """Reports a failed step and exits 1."""
    print(f"[FAILED] {number:2d}. {name}: {why}", file=sys.stderr, flush=True)
    sys.exit(1)


def same_certificate(a: KeyVaultCertificate, b: KeyVaultCertificate):
    """Whether two SDK certificates are the same version of the same certificate."""
    return a.name == b.name and a.properties.version == b.properties.version and bytes(a.cer) == bytes(b.cer)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vault-url", required=True, help="the emulator's vault URL")
    parser.add_argument("--ca", required=True, help="PEM file of the emulator's test CA")
    args = parser.parse_args()

    client = CertificateClient(
        args.vault_url,
        FixedTokenCredential(TOKEN),
        verify_challenge_resource=False,  # 127.0.0.1 is not a *.vault.azure.net host
        connection_verify=args.ca,
        connection_timeout=10,
        read_timeout=30,
        retry_total=2,  # fail fast instead of retrying for minutes
    )
    suffix = uuid.uuid4().hex[:8]
    name = f"py-e2e-{suffix}"
    backup_name = f"py-e2e-backup-{suffix}"
    state = {}
    print(f"Python SDK e2e against {args.vault_url} (certificates {name}, {backup_name})", flush=True)

    def create():
        policy = CertificatePolicy.get_default()
        poller = client.begin_create_certificate(name, policy, _polling_interval=POLL_INTERVAL)
        cert = wait(poller, "the create poller")
        check(isinstance(cert, KeyVaultCertificate), f"the create poller returned {type(cert).__name__}")
        check(cert.name == name, f"name {cert.name!r}")
        check(cert.properties.version, "no version")
        check(cert.cer and len(cert.cer) > 100, "no DER certificate")
        check(cert.policy is not None and cert.policy.issuer_name == "Self", f"policy {cert.policy!r}")
        check(cert.properties.enabled is True, f"enabled {cert.properties.enabled!r}")
        state["created"] = cert
        return f"version {cert.properties.version}"

    def get():
        cert = client.get_certificate(name)
        check(same_certificate(cert, state["created"]), "get returned another version or certificate")
        check(cert.policy is not None and cert.policy.subject == "CN=DefaultPolicy", f"policy {cert.policy!r}")
        check(cert.properties.x509_thumbprint, "no x5t")
        return f"thumbprint {bytes(cert.properties.x509_thumbprint).hex()}"

    def update():
        updated = client.update_certificate_properties(name, enabled=False, tags={"suite": "python-sdk-e2e"})
        check(same_certificate(updated, state["created"]), "the update answered another version or certificate")
        props = updated.properties
        check(props.enabled is False, f"enabled {props.enabled!r}")
        check(props.tags == {"suite": "python-sdk-e2e"}, f"tags {props.tags!r}")
        again = client.get_certificate(name)
        check(again.properties.enabled is False and again.properties.tags == props.tags, "the update did not stick")
        return "disabled, tagged"

    def list_properties():
        found = [p for p in client.list_properties_of_certificates() if p.name == name]
        check(len(found) == 1, f"{name} listed {len(found)} times")
        check(found[0].tags == {"suite": "python-sdk-e2e"}, f"listed tags {found[0].tags!r}")
        check(found[0].enabled is False, f"listed enabled {found[0].enabled!r}")
        return "listed once, with its tags"

    def delete():
        deleted = wait(client.begin_delete_certificate(name, _polling_interval=POLL_INTERVAL), "the delete poller")
        check(deleted.name == name, f"deleted name {deleted.name!r}")
        check(deleted.recovery_id, "no recovery id (soft delete)")
        check(deleted.deleted_on and deleted.scheduled_purge_date, "no deletion dates")
        check(client.get_deleted_certificate(name).name == name, "not listed as deleted")
        return f"recoverable until {deleted.scheduled_purge_date:%Y-%m-%d}"

    def recover():
        poller = client.begin_recover_deleted_certificate(name, _polling_interval=POLL_INTERVAL)
        cert = wait(poller, "the recover poller")
        check(cert.name == name, f"recovered name {cert.name!r}")
        check(same_certificate(client.get_certificate(name), state["created"]), "the recovered certificate differs")
        return "back under /certificates"

    def delete_again():
        wait(client.begin_delete_certificate(name, _polling_interval=POLL_INTERVAL), "the delete poller")
        return "deleted"

    def purge():
        client.purge_deleted_certificate(name)
        try:
            client.get_deleted_certificate(name)
        except ResourceNotFoundError:
            return "gone"
        raise StepFailed("still deleted-but-recoverable after purge")

    def backup_restore():
        policy = CertificatePolicy.get_default()
        poller = client.begin_create_certificate(backup_name, policy, _polling_interval=POLL_INTERVAL)
        original = wait(poller, "the create poller")
        blob = client.backup_certificate(backup_name)
        check(isinstance(blob, bytes) and len(blob) > 100, f"backup of {len(blob or b'')} bytes")
        wait(client.begin_delete_certificate(backup_name, _polling_interval=POLL_INTERVAL), "the delete poller")
        client.purge_deleted_certificate(backup_name)
        try:
            client.get_certificate(backup_name)
            raise StepFailed("the certificate still exists after delete and purge")
        except ResourceNotFoundError:
            pass
        restored = client.restore_certificate_backup(blob)
        check(same_certificate(restored, original), "the restored certificate differs from the backed-up one")
        check(same_certificate(client.get_certificate(backup_name), original), "get after restore differs")
        return f"{len(blob)}-byte backup restored"

    steps = [
        ("begin_create_certificate + result", create),
        ("get_certificate", get),
        ("update_certificate_properties", update),
        ("list_properties_of_certificates", list_properties),
        ("begin_delete_certificate + wait", delete),
        ("begin_recover_deleted_certificate + wait", recover),
        ("begin_delete_certificate again", delete_again),
        ("purge_deleted_certificate", purge),
        ("backup_certificate / delete / purge / restore_certificate_backup", backup_restore),
    ]
    started = time.monotonic()
    for number, (step_name, action) in enumerate(steps, start=1):
        run_step(number, step_name, action)
    client.close()
    print(f"Python SDK e2e: {len(steps)} steps passed in {time.monotonic() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
