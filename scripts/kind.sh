#!/usr/bin/env bash
# Portway on a kind cluster: `make kind-up`, `make kind-run`, `make kind-down` call this.
#
#   scripts/kind.sh up     create the cluster; install cert-manager, Argo Workflows, KServe
#                          (Standard mode), Kubeflow Trainer with its runtimes at pinned versions;
#                          make MinIO's keys; apply the overlay
#   scripts/kind.sh run    build and load the step image, upload the dataset to MinIO, compile
#                          the pipeline (CPU-sized: kind has no GPU), submit it, wait for it
#   scripts/kind.sh down   delete the cluster
#
# Needs docker (with a running engine), kind, helm and kubectl, plus network access to the
# release URLs below; it stops at once, saying which are missing, when they are not there.
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER="${KIND_CLUSTER:-portway}"
CONTEXT="kind-${CLUSTER}"
NAMESPACE="portway"
S3_SECRET="portway-s3-credentials"
MINIO_ENDPOINT="minio.${NAMESPACE}.svc.cluster.local:9000"
# Pinned versions (Argo matches the schemas the manifests are validated against).
ARGO_WORKFLOWS_VERSION="v4.1.2"
CERT_MANAGER_VERSION="v1.18.2"
KSERVE_VERSION="v0.20.0"
# Kubeflow Trainer (TrainJob + the xgboost-distributed runtime) for `--workers N`; its CRDs and
# runtime are the ones the rendered TrainJobs are validated against (../shared/schemas).
KUBEFLOW_TRAINER_VERSION="v2.3.0"
PY="${PY:-.venv/bin/python}"
RUN_TIMEOUT_SECONDS="${KIND_RUN_TIMEOUT_SECONDS:-2400}"

fail() { echo "error: $*" >&2; exit 2; }

require_tools() {
  local target="$1" missing=()
  for tool in docker kind helm kubectl; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if ((${#missing[@]})); then
    fail "make kind-${target} needs docker, kind, helm and kubectl on PATH; missing: ${missing[*]}." \
      "Install them (Docker Engine or Desktop, kind v0.29+, Helm v3.17+ or v4, kubectl v1.30+) on a" \
      "workstation with network access; CI machines have no Docker engine, so these targets do not run there."
  fi
  docker info >/dev/null 2>&1 ||
    fail "make kind-${target}: docker is installed but its engine does not answer ('docker info' failed);" \
      "start Docker (the docker service, or Docker Desktop) and run it again."
}

kctl() { kubectl --context "$CONTEXT" "$@"; }

cluster_exists() { kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; }

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

up() {
  require_tools up
  cluster_exists || kind create cluster --name "$CLUSTER" --config manifests/overlays/kind/kind-config.yaml --wait 180s

  echo "== cert-manager ${CERT_MANAGER_VERSION}"
  kctl apply -f "https://github.com/cert-manager/cert-manager/releases/download/${CERT_MANAGER_VERSION}/cert-manager.yaml"
  kctl -n cert-manager wait --for=condition=Available deployment --all --timeout=300s

  echo "== Argo Workflows ${ARGO_WORKFLOWS_VERSION}"
  kctl create namespace argo --dry-run=client -o yaml | kctl apply -f -
  # Server-side apply: the CRDs exceed the 256 KiB last-applied-configuration annotation limit.
  kctl apply --server-side -n argo \
    -f "https://github.com/argoproj/argo-workflows/releases/download/${ARGO_WORKFLOWS_VERSION}/install.yaml"
  kctl -n argo wait --for=condition=Available deployment/workflow-controller --timeout=300s

  echo "== KServe ${KSERVE_VERSION} (Standard mode)"
  helm --kube-context "$CONTEXT" upgrade --install kserve-crd oci://ghcr.io/kserve/charts/kserve-crd \
    --version "$KSERVE_VERSION" --namespace kserve --create-namespace --wait
  helm --kube-context "$CONTEXT" upgrade --install kserve oci://ghcr.io/kserve/charts/kserve \
    --version "$KSERVE_VERSION" --namespace kserve --set kserve.controller.deploymentMode=Standard \
    --wait --timeout 10m

  echo "== Kubeflow Trainer ${KUBEFLOW_TRAINER_VERSION} (controller, JobSet, then the runtimes)"
  kctl apply --server-side \
    -k "https://github.com/kubeflow/trainer.git/manifests/overlays/manager?ref=${KUBEFLOW_TRAINER_VERSION}"
  kctl -n kubeflow-system wait --for=condition=Available deployment --all --timeout=300s
  # The runtimes need the controller's validating webhook up; they include xgboost-distributed.
  kctl apply --server-side \
    -k "https://github.com/kubeflow/trainer.git/manifests/overlays/runtimes?ref=${KUBEFLOW_TRAINER_VERSION}"
  kctl get clustertrainingruntime xgboost-distributed >/dev/null

  echo "== Portway namespace, MinIO keys, kind overlay"
  kctl create namespace "$NAMESPACE" --dry-run=client -o yaml | kctl apply -f -
  if ! kctl -n "$NAMESPACE" get secret "$S3_SECRET" >/dev/null 2>&1; then
    # Random keys, made here and kept only in the cluster; MinIO's data was created with them.
    kctl -n "$NAMESPACE" create secret generic "$S3_SECRET" --from-env-file=<(
      printf 'AWS_ACCESS_KEY_ID=portway%s\nAWS_SECRET_ACCESS_KEY=%s\n' "$(random_hex 6)" "$(random_hex 24)")
  fi
  # KServe's storage initializer reads the endpoint settings from the Secret's annotations.
  kctl -n "$NAMESPACE" annotate secret "$S3_SECRET" --overwrite \
    serving.kserve.io/s3-endpoint="$MINIO_ENDPOINT" serving.kserve.io/s3-usehttps=0 \
    serving.kserve.io/s3-verifyssl=0 serving.kserve.io/s3-region=us-east-1
  kctl apply -k manifests/overlays/kind
  kctl -n "$NAMESPACE" rollout status deployment/minio --timeout=300s
  kctl -n "$NAMESPACE" wait --for=condition=Complete job/minio-create-bucket --timeout=300s
  echo "kind cluster ${CLUSTER} is ready: make kind-run runs the pipeline on it."
}

# Port-forward MinIO to a free local port for the duration of a command; prints the URL.
with_minio() {
  local port log pid
  port="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  log="$(mktemp)"
  kctl -n "$NAMESPACE" port-forward svc/minio "${port}:9000" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 50); do grep -q Forwarding "$log" && break; sleep 0.2; done
  AWS_ENDPOINT_URL="http://127.0.0.1:${port}" \
  AWS_ACCESS_KEY_ID="$(kctl -n "$NAMESPACE" get secret "$S3_SECRET" -o jsonpath='{.data.AWS_ACCESS_KEY_ID}' | base64 -d)" \
  AWS_SECRET_ACCESS_KEY="$(kctl -n "$NAMESPACE" get secret "$S3_SECRET" -o jsonpath='{.data.AWS_SECRET_ACCESS_KEY}' | base64 -d)" \
  AWS_DEFAULT_REGION=us-east-1 "$@" || { kill "$pid" 2>/dev/null; rm -f "$log"; return 1; }
  kill "$pid" 2>/dev/null || true
  rm -f "$log"
}

run() {
  require_tools run
  cluster_exists && kctl -n "$NAMESPACE" get deployment/minio >/dev/null 2>&1 ||
    fail "make kind-run: no kind cluster '${CLUSTER}' with Portway's overlay; run make kind-up first."
  [[ -f Dockerfile ]] || fail "make kind-run: no Dockerfile at the repository root to build the step image from."
  local image workflow name phase waited=0
  image="$("$PY" -c 'from portway.config import DEFAULT_IMAGE; print(DEFAULT_IMAGE)')"

  echo "== step image ${image}"
  docker build -t "$image" .
  kind load docker-image "$image" --name "$CLUSTER"

  echo "== dataset -> MinIO"
  with_minio "$PY" scripts/kind_workflow.py upload-data

  echo "== compile and submit"
  mkdir -p build
  workflow="build/kind-workflow.yaml"
  "$PY" scripts/kind_workflow.py compile --image "$image" --endpoint "http://${MINIO_ENDPOINT}" --secret "$S3_SECRET" \
    --namespace "$NAMESPACE" >"$workflow"
  name="$(kctl -n "$NAMESPACE" create -f "$workflow" -o jsonpath='{.metadata.name}')"
  echo "submitted workflow ${name}; waiting (at most ${RUN_TIMEOUT_SECONDS}s)"
  while :; do
    phase="$(kctl -n "$NAMESPACE" get workflow "$name" -o jsonpath='{.status.phase}')"
    case "$phase" in
      Succeeded) echo "workflow ${name} Succeeded"; break ;;
      Failed|Error)
        kctl -n "$NAMESPACE" get workflow "$name" -o jsonpath='{.status.message}{"\n"}' >&2
        echo "error: workflow ${name} ended ${phase}" >&2; exit 1 ;;
    esac
    ((waited >= RUN_TIMEOUT_SECONDS)) && { echo "error: workflow ${name} still ${phase:-Pending} after ${waited}s" >&2; exit 1; }
    sleep 10; waited=$((waited + 10))
  done
  echo "$name" >build/kind-last-workflow
}

down() {
  require_tools down
  if cluster_exists; then kind delete cluster --name "$CLUSTER"; else echo "no kind cluster named ${CLUSTER}"; fi
}

case "${1:-}" in
  up) up ;;
  run) run ;;
  down) down ;;
  check) require_tools "${2:-check}" ;;
  *) echo "usage: $0 up|run|down|check" >&2; exit 2 ;;
esac
