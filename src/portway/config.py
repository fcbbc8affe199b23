"""The pipeline's portable configuration: one resource spec per step, the image, the GPU pool.

Every target reads resources from here: the KFP IR (set_cpu_request, set_accelerator_*,
kfp-kubernetes toleration and node selector), the Argo target, and the Helm chart that makes
the GPU node pool, whose label and taint must match what a GPU step tolerates and selects.
"""

from __future__ import annotations

from dataclasses import dataclass

from portway import __version__

IMAGE_REPOSITORY = "ghcr.io/portway-ml/portway"
# One image for every component, tagged with the package version (see Dockerfile).
DEFAULT_IMAGE = f"{IMAGE_REPOSITORY}:{__version__.split('+')[0]}"

# The GPU node pool contract, shared with charts/gpu-nodepool.
NODE_POOL_LABEL = "portway.dev/node-pool"
GPU_NODE_POOL = "gpu"
GPU_RESOURCE = "nvidia.com/gpu"
GPU_TAINT = {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}


@dataclass(frozen=True)
class ResourceSpec:
    """What one step asks of the cluster."""

    cpu: str
    memory: str
    gpu: int = 0
    gpu_type: str = GPU_RESOURCE
    node_pool: str | None = None
    cpu_limit: str | None = None
    memory_limit: str | None = None

    @property
    def limits(self) -> tuple[str, str]:
        return self.cpu_limit or self.cpu, self.memory_limit or self.memory


DEFAULT_RESOURCES: dict[str, ResourceSpec] = {
    "process": ResourceSpec(cpu="1", memory="4Gi", cpu_limit="2", memory_limit="8Gi"),
    "train": ResourceSpec(cpu="4", memory="16Gi", gpu=1, node_pool=GPU_NODE_POOL, cpu_limit="8", memory_limit="32Gi"),
    "evaluate": ResourceSpec(cpu="1", memory="2Gi", cpu_limit="2", memory_limit="4Gi"),
    "register": ResourceSpec(cpu="250m", memory="512Mi", cpu_limit="500m", memory_limit="1Gi"),
    "gate-failed": ResourceSpec(cpu="100m", memory="128Mi", cpu_limit="250m", memory_limit="256Mi"),
}

# Retries (SageMaker's RetryPolicy): steps that read or write remote storage, or may be
# preempted on a spot GPU node, are retried with exponential backoff.
RETRIES = {"process": 3, "train": 2}
RETRY_BACKOFF_SECONDS = 30
RETRY_BACKOFF_FACTOR = 2.0
RETRY_BACKOFF_MAX_SECONDS = 600
# On one machine (kfp.local) a failure is rarely transient: S3 calls already retry inside the
# client, and a bad input fails the same way every time. A short backoff keeps the retries
# without making a user wait minutes for a bad file's error.
LOCAL_RETRY_BACKOFF_SECONDS = 1
