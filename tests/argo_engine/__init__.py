"""A local Argo Workflows v4 engine for tests: a Workflow in, node statuses out.

A test double that follows Argo's documented rules; each module cites the Argo source or doc it
implements, and tests/argo_engine_tests runs Argo v4.1.2's own e2e workflows and examples through it.

    from argo_engine import ArgoEngine, ImageEnvironment, WorkflowResult, NodeResult
    engine = ArgoEngine(workdir, images, artifact_repository=None, secrets=None, configmaps=None,
                        resource_controllers=None, parallelism=2, namespace="argo", workflow_templates=None)
    result = engine.run(workflow_dict, parameters=None, timeout=600)

- images: `{image ref: ImageEnvironment}` (exact ref, else the ref without tag) or a callable;
  `ImageEnvironment(path_dirs, env={}, entrypoint=None)` (entrypoint: the image's ENTRYPOINT+CMD,
  used when a template gives no command); images.standard_image maps argosay, busybox, alpine,
  debian, python, node to stand-ins on this machine.
- artifact_repository: Argo's ArtifactRepository shape ({"s3": {...}}); secrets/configmaps: the
  namespace's, by name; resource_controllers: {"group/version/Kind": controller(action, manifest) ->
  object}; workflow_templates: (Cluster)WorkflowTemplate objects for templateRef/workflowTemplateRef.
- Invalid workflows end Failed with "invalid spec: ..." and no nodes, as the controller marks them.
- The memoization cache, mutexes and semaphores live in the engine object across runs.

Modules: expressions.py + functions.py (expr-lang, Argo's functions, Sprig subset, JSONPath),
govaluate_when.py, substitution.py, validate.py, dag.py + dag_runner.py, steps.py, loops.py,
retry.py, memoize.py, outputs.py, artifacts.py (S3 via boto3), pods.py (chroot in a private mount
namespace, overlay system folders), resources.py (fake controllers, in-memory object store),
synchronization.py, engine.py (executeTemplate, exit handlers, hooks, WorkflowTemplates).

Not emulated, each refused with a clear node error: daemon templates, HTTP/git/GCS/OSS/Azure/
HDFS/Artifactory/plugin artifacts, HTTP/data/plugin/containerSet templates, suspend without a
duration (needs a user), database-backed synchronization, fieldRef env other than the pod's name and
namespace, volumes other than emptyDir/PVC/Secret/ConfigMap. Pods share the host's network (no pod
IPs or Services). Ignored because they change nothing on one machine: resources, node selectors,
tolerations, affinity, pod metadata, podSpecPatch, dnsConfig, hostAliases, priority, TTL/GC
strategies, metrics. `outputs.result` is recorded for every container/script node (Argo records it
only when a later reference needs it).
"""

from .engine import ArgoEngine
from .model import ImageEnvironment, NodeResult, WorkflowResult

__all__ = ["ArgoEngine", "ImageEnvironment", "NodeResult", "WorkflowResult"]
