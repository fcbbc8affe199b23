# syntax=docker/dockerfile:1
# The one image every Portway component runs in, on Kubeflow Pipelines and on bare Argo:
# the KFP IR's executors name it, and the Argo target runs those executors' own commands in it
# (KFP's executor, python3 -m kfp.dsl.executor_main; nothing of Portway wraps them).
#
#   make image    # docker build -t ghcr.io/portway-ml/portway:<package version> .
#
# The tag is the package version (portway.config.DEFAULT_IMAGE); `portway compile --image`
# points the compiled pipelines at another tag or at a digest.

# Pinned base: CPython 3.11 on Debian 12 "bookworm", slim. Pin by digest in CI
# (PYTHON_IMAGE=python:3.11.11-slim-bookworm@sha256:...) to make rebuilds byte-for-byte repeatable.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY components ./components
COPY pipelines ./pipelines
# Only what the components import (KFP's executor, XGBoost, Arrow, S3, the report's plots);
# the CLI-only dependencies (MLServer, Helm SDK, hera, kubernetes client) stay out of the image.
# Keep these ranges equal to pyproject.toml's (tests/compile/test_image.py checks).
RUN python -m venv /opt/portway \
 && /opt/portway/bin/pip install --no-deps . \
 && /opt/portway/bin/pip install \
      "kfp==2.17.0" \
      "xgboost>=3.0,<3.3" \
      "pyarrow>=18,<27" \
      "numpy>=1.26,<2.5" \
      "boto3>=1.35,<2" \
      "PyYAML>=6,<7" \
      "requests>=2.31,<3" \
      "matplotlib>=3.8,<3.12"

FROM ${PYTHON_IMAGE}
ARG PORTWAY_VERSION=0.0.0
LABEL org.opencontainers.image.title="portway" \
      org.opencontainers.image.description="Portway pipeline components (KFP and Argo Workflows)" \
      org.opencontainers.image.source="https://github.com/portway-ml/portway" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${PORTWAY_VERSION}"
# Non-root, with a fixed UID the compiled pods' securityContext names (runAsUser 10001).
RUN groupadd --gid 10001 portway && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin portway
COPY --from=build /opt/portway /opt/portway
# The root filesystem is read-only in the pods: no bytecode writes, HOME and matplotlib's cache in /tmp (an emptyDir).
ENV PATH=/opt/portway/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib
USER 10001:10001
WORKDIR /tmp
# No ENTRYPOINT or CMD: the compiled pipeline gives every container its command.
