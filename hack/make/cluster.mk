# Local Kubernetes for tests (hack/tools.sh, hack/cluster/): control-plane tools built from their
# Go modules into the cache, a loopback cluster with kwok nodes, and kind where Docker works.
.PHONY: tools cluster-up cluster-down cluster-status env kind-tools kind-image kind-up kind-deploy kind-down kind-status test-cluster

# For other .mk files: the tool binaries (kubectl, helm, helm3, helm4, kubeconform, kind, ...)
# and the local cluster's admin kubeconfig (named so a KUBECONFIG from the environment survives).
TOOLS_BIN := $(CACHE_ROOT)/bin
LOCAL_STATE := $(or $(ESP_STATE_DIR),$(CURDIR)/.local)
LOCAL_KUBECONFIG := $(LOCAL_STATE)/cluster/kubeconfig
KIND_KUBECONFIG := $(LOCAL_STATE)/kind/kubeconfig

tools: ## build kube-apiserver, etcd, kwok, kubectl, helm 3/4, kubeconform, kind into the tool cache (skips what is there)
	@hack/tools.sh

cluster-up: tools ## start the local control plane with kwok nodes (no-op when up); prints the KUBECONFIG export
	@hack/cluster/up.sh

cluster-down: ## stop the local control plane (only its recorded pids) and delete its data
	@hack/cluster/down.sh

cluster-status: ## say which local control-plane processes run and whether the API is ready
	@hack/cluster/status.sh || true

env: ## print PATH and KUBECONFIG exports for the cached tools and the local cluster: eval "$(make env)"
	@echo 'export PATH="$(TOOLS_BIN):$$PATH"'
	@echo 'export KUBECONFIG="$(LOCAL_KUBECONFIG)"'

kind-tools: ## build what kind's node image and the kind add-ons need (containerd, kubelet, CoreDNS, Traefik, ...) into the tool cache
	@hack/tools.sh @kind

kind-image: ## build kind's node image here (cached; for where kindest/node cannot be pulled)
	@hack/cluster/kind/node-image.sh >/dev/null

kind-up: ## create the kind cluster with real pods (node image pulled or built here; Traefik, metrics-server, kube-router); prints the KUBECONFIG export
	@hack/cluster/kind.sh up

kind-deploy: ## build and load the images, then install the chart on the kind cluster (release express-sqlize, served through its Ingress on 127.0.0.1:8080)
	@OPERATOR_IMAGE=$(OPERATOR_IMAGE) hack/cluster/kind/deploy.sh app

kind-down: ## delete the kind cluster (the node image stays in Docker's image store)
	@hack/cluster/kind.sh down

kind-status: ## say whether the kind cluster exists and its node is Ready
	@hack/cluster/kind.sh status

test-cluster: deps tools ## smoke suite against the local control plane (started and stopped here unless already running)
	@hack/cluster/with-cluster.sh npm run --silent -w e2e test:smoke

TEST_TIERS_CLUSTER += test-cluster

# `make clean` deletes .local; stop the cluster first so no process keeps running on deleted data.
clean: cluster-down
