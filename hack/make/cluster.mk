# Local Kubernetes for tests (hack/tools.sh, hack/cluster/): control-plane tools built from their
# Go modules into the cache, a loopback cluster with kwok nodes, and kind where Docker works.
.PHONY: tools cluster-up cluster-down cluster-status env kind-up kind-down test-cluster

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

kind-up: ## create the kind cluster (needs Docker and kind's node image); otherwise says why and points to cluster-up
	@hack/cluster/kind.sh up

kind-down: ## delete the kind cluster
	@hack/cluster/kind.sh down

test-cluster: deps tools ## smoke suite against the local control plane (started and stopped here unless already running)
	@hack/cluster/with-cluster.sh npm run --silent -w e2e test:smoke

TEST_TIERS_CLUSTER += test-cluster

# `make clean` deletes .local; stop the cluster first so no process keeps running on deleted data.
clean: cluster-down
