# The Kubernetes path (README, "Kubernetes"): images, the kind cluster, the Helm chart.
#   make images                 every image (scripts/images.sh); CONTAINER_ENGINE=podman|docker
#   make kind-up / kind-down    the kind cluster of kind/cluster.yaml
#   make kind-load              the images into the cluster
#   make k8s-up                 kind-up, images, kind-load, k8s/ manifests, helm install --wait
#   make k8s-test               helm test + the end-to-end suite through kubectl port-forward
#   make k8s-load RATE= DURATION=   the load generator as a Job in the cluster
#   make k8s-down               helm uninstall, kind-down
#   make k8s-stats              memory of every container, threads in the node
#   make chaos [SCENARIO=name]  the chaos scenarios against the running release (docs/chaos.md)
.PHONY: images kind-up kind-down kind-load k8s-up k8s-test k8s-down k8s-load k8s-stats helm-lint \
        chaos

RATE     ?= 100
DURATION ?= 60

# images are built from the optimised binaries, whatever SAN says
images:
	$(MAKE) SAN=0 all
	scripts/images.sh build

kind-up:
	scripts/k8s.sh kind-up
kind-down:
	scripts/k8s.sh kind-down
kind-load:
	scripts/k8s.sh kind-load

k8s-up: images
	scripts/k8s.sh up
k8s-test:
	scripts/k8s.sh test
k8s-down:
	scripts/k8s.sh down
k8s-stats:
	scripts/k8s.sh stats
k8s-load:
	RATE=$(RATE) DURATION=$(DURATION) scripts/k8s-load.sh

# the images first (the chaos image with this checkout's runner and scenarios) unless
# CHAOS_IMAGES=0; build/bin/chaos writes the report
CHAOS_IMAGES ?= 1
chaos:
ifneq ($(CHAOS_IMAGES),0)
	$(MAKE) images
	scripts/k8s.sh kind-load
endif
	$(MAKE) SAN=0 build/bin/chaos
	SCENARIO="$(SCENARIO)" scripts/chaos.sh

helm-lint:
	helm lint helm/saga-orders
	helm lint helm/saga-orders -f helm/saga-orders/values-local.yaml
