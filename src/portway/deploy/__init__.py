"""Deploying a registered model to KServe: the InferenceService from the kserve-inference chart.

    manifest.py   registry record -> chart values -> rendered InferenceService (+ ServiceAccount)
    kube.py       create or merge-patch them through the Kubernetes API, wait for Ready
    diagnose.py   why it is not Ready, from its status, its pods and their events

Only Approved versions deploy unless forced: the approval is the gate between training and
production, as in SageMaker's model registry.
"""

from __future__ import annotations

from portway.errors import RegistryError

DEFAULT_TIMEOUT_SECONDS = 600


def check_deployable(record: dict, force: bool) -> str | None:
    """None if the version may deploy; with force, the warning to print instead of refusing."""
    from portway.registry import APPROVED

    status = record.get("approval_status")
    if status == APPROVED:
        return None
    ref = f"{record['group']}:{record['version']}"
    message = f"{ref} is {status}; only Approved versions deploy"
    if not force:
        raise RegistryError(f"{message}. Approve it first (portway models approve {ref} --reason \"...\"), deploy "
                            f"{record['group']}:approved, or pass --force.")
    return f"warning: {message}; deploying anyway because of --force"


def deploy_model(
    record: dict,
    namespace: str,
    *,
    overrides: dict | None = None,
    force: bool = False,
    dry_run: bool = False,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    wait: bool = True,
    api_client=None,
    in_cluster: bool | None = None,
    poll_seconds: float = 5.0,
    say=print,
) -> dict:
    """Render, apply and wait. Returns {"name", "namespace", "manifests", "actions", "ready", "url"}."""
    from portway.deploy import kube
    from portway.deploy.manifest import manifests_for

    # A dry run only prints: it may show an unapproved version, and says what a real run would need.
    warning = check_deployable(record, force=force or dry_run)
    manifests = manifests_for(record, namespace, overrides)
    isvc, account = manifests["inference_service"], manifests["service_account"]
    name = isvc["metadata"]["name"]
    result = {"name": name, "namespace": namespace, "model": f"{record['group']}:{record['version']}",
              "manifests": [m for m in (account, isvc) if m], "actions": {}, "ready": False, "url": None}
    if warning:
        say(warning.replace("deploying anyway because of --force", "a real deploy needs --force")
            if dry_run and not force else warning)
    if dry_run:
        return result
    api_client = api_client or kube.load_api_client(in_cluster=in_cluster)
    if account is not None:
        result["actions"]["ServiceAccount"] = kube.apply_service_account(api_client, account)
    result["actions"]["InferenceService"] = kube.apply_inference_service(api_client, isvc)
    say(f"InferenceService {namespace}/{name} {result['actions']['InferenceService']} "
        f"({result['model']}, {record.get('approval_status')})")
    if wait:
        live = kube.wait_until_ready(api_client, name, namespace, timeout, poll_seconds=poll_seconds)
        result["ready"] = True
        result["url"] = (live.get("status") or {}).get("url")
    return result
