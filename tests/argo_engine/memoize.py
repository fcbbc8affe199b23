"""Memoization: a step's outputs cached in a ConfigMap under a key, as Argo's controller does.

Source: argo-workflows docs/memoization.md and workflow/controller/cache/configmap_cache.go:
- the cache is the ConfigMap `memoize.cache.configMap.name`; an entry holds the node's outputs
  and when it was saved; only a node that Succeeded is saved (operator.go, after the node ends);
- a hit gives a Succeeded node with the cached outputs, no pod runs;
- `maxAge` (Go duration): an entry older than it is a miss (cache.go GetOutputsWithMaxAge);
- keys must be valid ConfigMap keys (`[-._a-zA-Z0-9]+`, at most 253 characters), else the node errors.
The cache lives in the engine object, so it survives across runs as ConfigMaps would.
"""

from __future__ import annotations

import copy
import re
import threading
import time

from .retry import parse_duration

_KEY = re.compile(r"[-._a-zA-Z0-9]+")


class MemoizeError(Exception):
    pass


class MemoCache:
    def __init__(self, clock=time.time):
        self.clock = clock
        self.lock = threading.Lock()
        self.config_maps: dict[str, dict[str, dict]] = {}

    @staticmethod
    def check_key(key: str) -> None:
        if not key or len(key) > 253 or not _KEY.fullmatch(key):
            raise MemoizeError(f"invalid memoization key {key!r}: a ConfigMap key must match [-._a-zA-Z0-9]+ "
                               "and be at most 253 characters")

    def load(self, cache_name: str, key: str, max_age: str | None) -> dict | None:
        self.check_key(key)
        with self.lock:
            entry = self.config_maps.get(cache_name, {}).get(key)
        if entry is None:
            return None
        if max_age and self.clock() - entry["saved"] > parse_duration(max_age):
            return None
        return copy.deepcopy(entry["outputs"])

    def save(self, cache_name: str, key: str, node_id: str, outputs: dict) -> None:
        self.check_key(key)
        with self.lock:
            self.config_maps.setdefault(cache_name, {})[key] = {
                "nodeID": node_id, "outputs": copy.deepcopy(outputs), "saved": self.clock()}
