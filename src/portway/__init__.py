"""Portway: Kubernetes-native continuous-training pipelines."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("portway")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"
