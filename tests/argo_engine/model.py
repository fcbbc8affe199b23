"""The engine's public records: node statuses as Argo's `status.nodes`, and how an image runs here."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

# Argo NodePhase values (pkg/apis/workflow/v1alpha1/workflow_types.go).
SUCCEEDED, FAILED, ERROR, SKIPPED, OMITTED, RUNNING = "Succeeded", "Failed", "Error", "Skipped", "Omitted", "Running"
FULFILLED = (SUCCEEDED, FAILED, ERROR, SKIPPED, OMITTED)


@dataclass
class ImageEnvironment:
    """How an image reference runs on this machine: PATH directories first, extra env, and the image's
    ENTRYPOINT+CMD used when a container template gives no `command` (as the container runtime does)."""

    path_dirs: list[str]
    env: dict[str, str] = field(default_factory=dict)
    entrypoint: list[str] | None = None


@dataclass
class NodeResult:
    id: str
    name: str
    display_name: str
    type: str
    template_name: str | None
    phase: str
    message: str = ""
    inputs: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    children: list[str] = field(default_factory=list)
    boundary: str = ""
    memoized: bool = False
    pod_name: str | None = None
    attempts: int = 0
    started: float = 0.0
    finished: float = 0.0
    hooked: bool = False
    log: str = ""
    outbound: list[str] = field(default_factory=list)  # OutboundNodes of a DAG/Steps node

    @property
    def fulfilled(self) -> bool:
        return self.phase in FULFILLED


@dataclass
class WorkflowResult:
    workflow_name: str
    phase: str
    message: str
    nodes: list[NodeResult]
    outputs: dict = field(default_factory=dict)

    def nodes_by_display(self, name: str) -> list[NodeResult]:
        return [n for n in self.nodes if n.display_name == name]

    def node(self, name: str) -> NodeResult:
        """The node with this display name (or full Argo node name); one must match."""
        found = [n for n in self.nodes if n.name == name] or self.nodes_by_display(name)
        if len(found) != 1:
            raise KeyError(f"{len(found)} nodes named {name!r}; nodes: {sorted(n.name for n in self.nodes)}")
        return found[0]

    def by_id(self, node_id: str) -> NodeResult:
        return next(n for n in self.nodes if n.id == node_id)


class NodeStore:
    """status.nodes, shared by the threads of one run."""

    def __init__(self):
        self.lock = threading.RLock()
        self.by_name: dict[str, NodeResult] = {}

    def add(self, node: NodeResult) -> NodeResult:
        with self.lock:
            self.by_name[node.name] = node
            return node

    def get(self, name: str) -> NodeResult | None:
        with self.lock:
            return self.by_name.get(name)

    def by_id(self, node_id: str) -> NodeResult | None:
        with self.lock:
            return next((n for n in self.by_name.values() if n.id == node_id), None)

    def add_child(self, parent: str, child_id: str) -> None:
        with self.lock:
            node = self.by_name.get(parent)
            if node is not None and child_id not in node.children:
                node.children.append(child_id)
