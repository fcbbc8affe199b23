"""Why an InferenceService is not Ready, in words, from its status, its pods and their events.

Pure functions over the API's JSON (dicts as the API server sends them), so every case is
tested without a cluster. KServe reports a failed model download (the `storage-initializer`
init container) as modelStatus.lastFailureInfo ModelLoadFailed with the container's exit
code; an image that cannot be pulled and a pod that no node can take (no GPU node) show
only on the pods, so those are read too.
"""

from __future__ import annotations

STORAGE_INITIALIZER = "storage-initializer"
MODEL_CONTAINER = "kserve-container"
IMAGE_PULL_REASONS = {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"}
# KServe's transitionStatus values after which waiting longer does not help.
TERMINAL_TRANSITIONS = {"BlockedByFailedLoad", "InvalidSpec"}
MAX_EVENTS_PER_POD = 3


def condition(obj: dict, kind: str) -> dict | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def is_ready(isvc: dict) -> bool:
    # In Standard mode KServe copies the Deployment's Available condition into Ready, so during
    # a rolling update Ready stays True for the old pods; KServe gives no finer signal.
    ready = condition(isvc, "Ready")
    transition = ((isvc.get("status") or {}).get("modelStatus") or {}).get("transitionStatus", "")
    return bool(ready and ready.get("status") == "True") and transition not in ("InProgress", *TERMINAL_TRANSITIONS)


def has_failed(isvc: dict) -> bool:
    """True when KServe says the model cannot load (no point waiting for the timeout)."""
    transition = ((isvc.get("status") or {}).get("modelStatus") or {}).get("transitionStatus", "")
    return transition in TERMINAL_TRANSITIONS


def status_reasons(isvc: dict) -> list[str]:
    status = isvc.get("status") or {}
    reasons = []
    failure = (status.get("modelStatus") or {}).get("lastFailureInfo") or {}
    if failure:
        exit_code = f", exit code {failure['exitCode']}" if failure.get("exitCode") is not None else ""
        reasons.append(f"the model failed to load ({failure.get('reason', '?')}{exit_code}): "
                       f"{failure.get('message', '').strip() or 'no message'}")
        if failure.get("reason") == "ModelLoadFailed":
            storage = ((isvc.get("spec") or {}).get("predictor") or {}).get("model", {}).get("storageUri", "")
            reasons.append(f"check that {storage or 'the storageUri'} exists and that the predictor's service account "
                           "can read it (IRSA role or the S3 credentials secret)")
        if failure.get("reason") in ("NoSupportingRuntime", "RuntimeNotRecognized", "RuntimeDisabled"):
            reasons.append("no ServingRuntime serves this model format and protocol: install KServe's "
                           "kserve-mlserver ClusterServingRuntime or set model.runtime")
    for cond in status.get("conditions") or []:
        if cond.get("status") == "False" and (cond.get("reason") or cond.get("message")):
            reasons.append(f"{cond['type']} is False ({cond.get('reason', 'no reason')}): "
                           f"{(cond.get('message') or '').strip()}".rstrip(": "))
    return reasons


def _container_reasons(pod_name: str, statuses: list[dict], init: bool) -> list[str]:
    reasons = []
    for cs in statuses or []:
        name = cs.get("name", "?")
        state = cs.get("state") or {}
        waiting, terminated = state.get("waiting") or {}, state.get("terminated") or {}
        last = (cs.get("lastState") or {}).get("terminated") or {}
        if waiting.get("reason") in IMAGE_PULL_REASONS:
            reasons.append(f"pod {pod_name}: cannot pull image {cs.get('image', '?')} for {name} "
                           f"({waiting['reason']}): {waiting.get('message', '').strip()}".rstrip(": "))
        elif init and name == STORAGE_INITIALIZER and (
                (terminated and terminated.get("exitCode", 0) != 0) or waiting.get("reason") == "CrashLoopBackOff"):
            failed = terminated or last
            reasons.append(f"pod {pod_name}: the storage initializer could not download the model (exit code "
                           f"{failed.get('exitCode', '?')}): {(failed.get('message') or '').strip() or 'see its log'}")
        elif waiting.get("reason") == "CrashLoopBackOff":
            reasons.append(f"pod {pod_name}: {name} keeps crashing (last exit code {last.get('exitCode', '?')}): "
                           f"{(last.get('message') or '').strip() or 'see kubectl logs'}")
    return reasons


def pod_reasons(pod: dict, gpu_resource: str = "nvidia.com/gpu") -> list[str]:
    name = (pod.get("metadata") or {}).get("name", "?")
    status = pod.get("status") or {}
    reasons = []
    scheduled = condition(pod, "PodScheduled")
    if scheduled and scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        message = (scheduled.get("message") or "").strip()
        reasons.append(f"pod {name} cannot be scheduled: {message}")
        requests_gpu = any(gpu_resource in ((c.get("resources") or {}).get("limits") or {})
                           for c in (pod.get("spec") or {}).get("containers") or [])
        if requests_gpu or gpu_resource in message:
            reasons.append(f"no node offers {gpu_resource}: install the GPU node pool (charts/gpu-nodepool) and the "
                           "NVIDIA device plugin, or deploy without gpu.enabled")
    reasons += _container_reasons(name, status.get("initContainerStatuses"), init=True)
    reasons += _container_reasons(name, status.get("containerStatuses"), init=False)
    return reasons


def event_reasons(pod_name: str, events: list[dict]) -> list[str]:
    warnings = [e for e in events if e.get("type") == "Warning"]
    warnings.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    seen, lines = set(), []
    for event in reversed(warnings):
        text = f"{event.get('reason', '?')}: {(event.get('message') or '').strip()}"
        if text not in seen:
            seen.add(text)
            lines.append(f"pod {pod_name} event {text}")
        if len(lines) == MAX_EVENTS_PER_POD:
            break
    return lines


def explain(isvc: dict, pods: list[dict], events_by_pod: dict[str, list[dict]]) -> list[str]:
    """Every reason found, most specific first, without repeats."""
    reasons = []
    for pod in pods:
        reasons += pod_reasons(pod)
    reasons += status_reasons(isvc)
    for pod_name, events in events_by_pod.items():
        reasons += event_reasons(pod_name, events)
    unique = list(dict.fromkeys(reasons))
    if not unique:
        unique = ["KServe reports no reason yet (no pods, no failed condition): check the KServe controller's log"
                  if not pods else "its pods are still starting"]
    return unique
