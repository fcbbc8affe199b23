"""What `portway compile --target argo` can be told, with its defaults and checks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from portway.compile.argo import limits
from portway.config import DEFAULT_IMAGE
from portway.errors import ParameterError

KINDS = ("Workflow", "WorkflowTemplate", "CronWorkflow")
DEFAULT_ARTIFACT_ROOT = "s3://portway-artifacts/pipelines"
DEFAULT_SERVICE_ACCOUNT = "portway-pipeline-runner"
DEFAULT_CACHE_CONFIGMAP = "portway-step-cache"  # prefix: one ConfigMap per step (caching.py)
# SageMaker's CacheConfig.expire_after; KFP caches forever. Keep the artifact bucket's lifecycle
# rule longer than this, or a cache hit may point at deleted objects.
DEFAULT_CACHE_MAX_AGE = "168h"
DEFAULT_TEAM = "unassigned"


@dataclass
class ArgoOptions:
    image: str = DEFAULT_IMAGE
    kind: str = "Workflow"
    name: str | None = None
    namespace: str | None = None
    schedule: str | None = None
    timezone: str | None = None
    service_account: str = DEFAULT_SERVICE_ACCOUNT
    team: str = DEFAULT_TEAM
    artifact_root: str = DEFAULT_ARTIFACT_ROOT
    cache_configmap: str = DEFAULT_CACHE_CONFIGMAP
    cache_max_age: str = DEFAULT_CACHE_MAX_AGE
    active_deadline_seconds: int = 24 * 3600
    ttl_after_success_seconds: int = 24 * 3600
    ttl_after_failure_seconds: int = 7 * 24 * 3600
    s3_secret: str | None = None
    s3_endpoint: str | None = None
    parameters: dict = field(default_factory=dict)

    @property
    def bucket(self) -> str:
        return self.artifact_root[len("s3://"):].split("/", 1)[0]

    @property
    def prefix(self) -> str:
        """The key prefix under the bucket (no leading or trailing '/')."""
        return self.artifact_root[len("s3://"):].partition("/")[2].strip("/")

    def check(self) -> None:
        from portway.names import validate_name

        if self.kind not in KINDS:
            raise ParameterError(f"--kind {self.kind!r} is not supported; expected one of {', '.join(KINDS)}.")
        if self.kind == "CronWorkflow" and not self.schedule:
            raise ParameterError('--kind CronWorkflow needs --schedule, a cron expression such as "0 3 * * *".')
        if self.schedule and self.kind != "CronWorkflow":
            raise ParameterError(f"--schedule applies to --kind CronWorkflow, not {self.kind}.")
        if self.schedule:
            limits.check_schedule(self.schedule)
        if self.timezone is not None:
            _check_timezone(self.timezone)
        if not isinstance(self.active_deadline_seconds, int) or self.active_deadline_seconds < 1:
            raise ParameterError(f"--active-deadline-seconds must be a positive whole number of seconds, got "
                                 f"{self.active_deadline_seconds!r}.")
        if not re.fullmatch(r"\d+(s|m|h)", self.cache_max_age):
            raise ParameterError(f"--cache-max-age {self.cache_max_age!r} is not a duration such as 168h, 90m or 3600s.")
        if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s{}]*)?", self.artifact_root):
            raise ParameterError(f"--artifact-root {self.artifact_root!r} must be an s3://bucket/prefix URI "
                                 "(a valid bucket name, no spaces or braces).")
        for value, what in ((self.team, "--team"), (self.service_account, "--service-account")):
            validate_name(value, what)
        if not limits.LABEL_VALUE.fullmatch(self.team) or len(self.team) > limits.MAX_LABEL_VALUE:
            raise ParameterError(f"--team {self.team!r} is not a Kubernetes label value: at most 63 letters, digits, "
                                 "'-', '_' or '.', starting and ending with a letter or digit.")
        if self.name:
            limits.check_object_name(self.name, self.kind, "--name")
        for value, what in ((self.namespace, "--namespace"), (self.s3_secret, "--s3-secret"),
                            (self.cache_configmap, "cache ConfigMap prefix")):
            if value and not limits.DNS_LABEL.fullmatch(value):
                raise ParameterError(f"{what} {value!r} is not a Kubernetes name: use at most 63 lowercase letters, "
                                     "digits and '-', starting and ending with a letter or digit.")


def _check_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ParameterError(f"--timezone {name!r} is not an IANA time zone such as Europe/Paris "
                             "(Argo checks it with time.LoadLocation).") from None
