#!/usr/bin/env bash
# The Kubernetes path with standard tools (kind, kubectl, helm, podman or docker):
#
#   scripts/k8s.sh kind-up      create the kind cluster (kind/cluster.yaml) unless it exists
#   scripts/k8s.sh kind-down    delete it
#   scripts/k8s.sh kind-load    load the images `make images` built into the cluster
#   scripts/k8s.sh up           kind-up, kind-load, the manifests of k8s/, helm upgrade --install --wait
#   scripts/k8s.sh test         helm test, then the end-to-end suite through port-forward
#   scripts/k8s.sh down         helm uninstall, then kind-down
#   scripts/k8s.sh stats        memory of every container of the release, threads in the node
#
# Environment: KIND_CLUSTER (saga), K8S_NAMESPACE (saga-orders), RELEASE (saga),
# CONTAINER_ENGINE (podman when present, else docker), IMAGE_PREFIX (localhost/saga-orders),
# IMAGE_TAG (0.1.0), KIND_NODE_IMAGE (the node image, when set), K8S_VALUES (values files,
# space-separated; default helm/saga-orders/values-local.yaml: the infrastructure images that
# `make images` builds), K8S_HELM_ARGS (more helm arguments; default two order and two
# inventory pods, so that k8s-test shows several instances ending each saga exactly once),
# K8S_WAIT (helm's --timeout, 10m).
# Each step prints how long it took.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

KIND_CLUSTER="${KIND_CLUSTER:-saga}"
K8S_NAMESPACE="${K8S_NAMESPACE:-saga-orders}"
RELEASE="${RELEASE:-saga}"
IMAGE_PREFIX="${IMAGE_PREFIX:-localhost/saga-orders}"
IMAGE_TAG="${IMAGE_TAG:-0.1.0}"
K8S_VALUES="${K8S_VALUES-helm/saga-orders/values-local.yaml}"
K8S_HELM_ARGS="${K8S_HELM_ARGS---set order.replicas=2 --set inventory.replicas=2}"
K8S_WAIT="${K8S_WAIT:-10m}"
CHART=helm/saga-orders
CONTEXT="kind-$KIND_CLUSTER"
if [ -z "${CONTAINER_ENGINE:-}" ]; then
    if command -v podman >/dev/null 2>&1; then CONTAINER_ENGINE=podman; else CONTAINER_ENGINE=docker; fi
fi
# kind talks to the same engine
[ "$CONTAINER_ENGINE" = podman ] && export KIND_EXPERIMENTAL_PROVIDER=podman

note() { printf 'k8s: %s\n' "$*"; }
die() {
    printf 'k8s: error: %s\n' "$*" >&2
    exit 1
}
# timed NAME CMD...: runs CMD and prints how long it took
timed() {
    local name="$1" t0=$SECONDS rc=0
    shift
    "$@" || rc=$?
    note "$name: $((SECONDS - t0)) s$([ "$rc" -eq 0 ] || echo " (FAILED, exit $rc)")"
    return "$rc"
}

need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || die "$c not found on PATH (see README, Kubernetes)"
    done
}

kc() { kubectl --context "$CONTEXT" "$@"; }

cluster_exists() { kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; }

# the images the chart runs (scripts/images.sh list prints them)
images() { scripts/images.sh list; }

# ---------------------------------------------------------------- steps

kind_up() {
    need kind kubectl
    # a cluster whose node container is gone or stopped (the machine restarted) is
    # listed but never answers: start it again from scratch
    if cluster_exists && ! { kind export kubeconfig --name "$KIND_CLUSTER" >/dev/null 2>&1 &&
        kc get nodes --request-timeout=15s >/dev/null 2>&1; }; then
        note "cluster $KIND_CLUSTER exists but does not answer: deleting it"
        kind delete cluster --name "$KIND_CLUSTER"
    fi
    if cluster_exists; then
        note "cluster $KIND_CLUSTER exists"
    else
        local args=(create cluster --name "$KIND_CLUSTER" --config kind/cluster.yaml --wait 180s)
        [ -z "${KIND_NODE_IMAGE:-}" ] || args+=(--image "$KIND_NODE_IMAGE")
        kind "${args[@]}"
    fi
    kind export kubeconfig --name "$KIND_CLUSTER" >/dev/null
    kc wait --for=condition=Ready node --all --timeout=180s >/dev/null
}

kind_down() {
    need kind
    if cluster_exists; then kind delete cluster --name "$KIND_CLUSTER"; else note "no cluster $KIND_CLUSTER"; fi
}

kind_load() {
    need kind "$CONTAINER_ENGINE"
    local list=() archive=build/images/kind-load.tar
    mapfile -t list < <(images)
    [ "${#list[@]}" -gt 0 ] || die "no images to load"
    if [ "$CONTAINER_ENGINE" = docker ]; then
        kind load docker-image --name "$KIND_CLUSTER" "${list[@]}"
    else
        # kind does not find podman's localhost/ images by name: go through an archive
        mkdir -p build/images
        rm -f "$archive"
        podman save -q -m --format docker-archive -o "$archive" "${list[@]}"
        kind load image-archive --name "$KIND_CLUSTER" "$archive"
        rm -f "$archive"
    fi
}

# A default StorageClass without a provisioner (kubernetes.io/no-provisioner) binds only
# PersistentVolumes that exist: give it hostPath volumes on the node, world-writable
# because the pods run as non-root users and fsGroup does not apply to hostPath.
static_volumes() {
    local prov i node="$KIND_CLUSTER-control-plane"
    prov="$(kc get storageclass -o \
        jsonpath='{range .items[?(@.metadata.annotations.storageclass\.kubernetes\.io/is-default-class=="true")]}{.provisioner}{end}')"
    [ "$prov" = kubernetes.io/no-provisioner ] || return 0
    note "the default StorageClass has no provisioner: creating hostPath volumes on $node"
    for i in 1 2 3 4 5 6; do
        "$CONTAINER_ENGINE" exec "$node" mkdir -p -m 0777 "/var/local-pv/pv$i"
        "$CONTAINER_ENGINE" exec "$node" chmod 0777 "/var/local-pv/pv$i"
        cat <<EOF
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $KIND_CLUSTER-local-pv$i
  labels: {app.kubernetes.io/part-of: saga-orders}
spec:
  capacity: {storage: 20Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: standard
  hostPath: {path: /var/local-pv/pv$i, type: Directory}
---
EOF
    done | kc apply -f - >/dev/null
}

helm_install() {
    need helm
    local args=(upgrade --install "$RELEASE" "$CHART" --kube-context "$CONTEXT"
        --namespace "$K8S_NAMESPACE" --wait --wait-for-jobs --timeout "$K8S_WAIT") f
    for f in $K8S_VALUES; do args+=(-f "$f"); done
    # shellcheck disable=SC2206  # K8S_HELM_ARGS is a list of words by design
    args+=($K8S_HELM_ARGS)
    helm "${args[@]}"
}

cmd_up() {
    timed "kind-up" kind_up
    timed "kind-load (images)" kind_load
    timed "manifests (k8s/)" kc apply -k k8s/
    timed "volumes" static_volumes
    timed "helm install --wait" helm_install
    kc -n "$K8S_NAMESPACE" get pods -o wide
}

cmd_test() {
    need helm kubectl python3
    timed "helm test" helm test "$RELEASE" --kube-context "$CONTEXT" -n "$K8S_NAMESPACE" --logs
    timed "e2e through port-forward" env K8S_NAMESPACE="$K8S_NAMESPACE" RELEASE="$RELEASE" \
        KUBECTL_CONTEXT="$CONTEXT" scripts/k8s-test.sh
}

# memory (working set) of every container of the namespace and the node's thread count,
# read from the node's CRI (no metrics-server needed); written to build/k8s-stats.txt too
cmd_stats() {
    local node="$KIND_CLUSTER-control-plane"
    need "$CONTAINER_ENGINE" python3
    mkdir -p build
    {
        "$CONTAINER_ENGINE" exec "$node" crictl stats -o json | python3 -c '
import json, sys
ns = sys.argv[1]
rows = []
for s in json.load(sys.stdin)["stats"]:
    labels = s["attributes"].get("labels", {})
    if labels.get("io.kubernetes.pod.namespace") != ns:
        continue
    mem = int(s.get("memory", {}).get("workingSetBytes", {}).get("value", 0)) / 1e6
    rows.append((labels.get("io.kubernetes.pod.name"), s["attributes"]["metadata"]["name"], mem))
for pod, container, mem in sorted(rows):
    print("%-42s %-22s %8.1f MB" % (pod, container, mem))
print("%-65s %8.1f MB" % ("all containers of namespace " + ns, sum(r[2] for r in rows)))
' "$K8S_NAMESPACE"
        printf 'threads in the node (pids cgroup): %s\n' \
            "$("$CONTAINER_ENGINE" exec "$node" sh -c 'cat /sys/fs/cgroup/pids/pids.current 2>/dev/null ||
                cat /sys/fs/cgroup/pids.current' | tr -d '\r')"
    } | tee build/k8s-stats.txt
}

cmd_down() {
    if cluster_exists && helm status "$RELEASE" --kube-context "$CONTEXT" -n "$K8S_NAMESPACE" >/dev/null 2>&1; then
        timed "helm uninstall" helm uninstall "$RELEASE" --kube-context "$CONTEXT" -n "$K8S_NAMESPACE" --wait
    fi
    timed "kind-down" kind_down
}

case "${1:-}" in
kind-up) timed kind-up kind_up ;;
kind-down) kind_down ;;
kind-load) timed kind-load kind_load ;;
up) timed "k8s-up (all)" cmd_up ;;
test) timed "k8s-test (all)" cmd_test ;;
down) timed "k8s-down (all)" cmd_down ;;
stats) cmd_stats ;;
*)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
