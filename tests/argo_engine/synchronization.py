"""`synchronization`: mutexes and ConfigMap-sized semaphores, held by the engine across runs.

Source: argo-workflows docs/synchronization.md and workflow/sync/: a template-level lock is taken
before the node starts and released when it ends; a workflow-level one for the whole workflow.
`mutex`/`semaphore` (before v3.6) and `mutexes`/`semaphores` (v3.6+) are both accepted; a
semaphore's limit is the integer in `configMapKeyRef`. Database-backed locks (`database: true`)
need a database: refused.
"""

from __future__ import annotations

import contextlib
import threading


class SyncError(Exception):
    pass


class Locks:
    def __init__(self, configmaps: dict[str, dict[str, str]]):
        self.configmaps = configmaps
        self.guard = threading.Lock()
        self.locks: dict[str, threading.Semaphore] = {}

    def _get(self, key: str, limit: int) -> threading.Semaphore:
        with self.guard:
            if key not in self.locks:
                self.locks[key] = threading.BoundedSemaphore(limit)
            return self.locks[key]

    def resolve(self, sync: dict | None, namespace: str) -> list[threading.Semaphore]:
        if not sync:
            return []
        mutexes = list(sync.get("mutexes") or []) + ([sync["mutex"]] if sync.get("mutex") else [])
        semaphores = list(sync.get("semaphores") or []) + ([sync["semaphore"]] if sync.get("semaphore") else [])
        out = []
        for mutex in mutexes:
            if mutex.get("database"):
                raise SyncError(f"mutex {mutex.get('name')!r} is database-backed (not emulated)")
            out.append(self._get(f"mutex/{mutex.get('namespace') or namespace}/{mutex['name']}", 1))
        for sem in semaphores:
            if sem.get("database"):
                raise SyncError("database-backed semaphores are not emulated")
            ref = sem.get("configMapKeyRef") or {}
            try:
                limit = int(self.configmaps[ref["name"]][ref["key"]])
            except (KeyError, ValueError, TypeError):
                raise SyncError(f"semaphore ConfigMap {ref.get('name')!r} key {ref.get('key')!r} "
                                "is missing or not an integer") from None
            out.append(self._get(f"semaphore/{namespace}/{ref['name']}/{ref['key']}", limit))
        return out

    @contextlib.contextmanager
    def held(self, sync: dict | None, namespace: str):
        taken = self.resolve(sync, namespace)
        for lock in taken:
            lock.acquire()
        try:
            yield
        finally:
            for lock in reversed(taken):
                lock.release()
