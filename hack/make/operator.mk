# Operator: the ExpressApp CRD generated from operator/src/api, the controller, its tests and
# benchmark. Cluster tiers use the local control plane (make cluster-up) or any KUBECONFIG.
OPERATOR_KUBECONFIG ?= $(or $(KUBECONFIG),$(LOCAL_KUBECONFIG))
OPERATOR_JEST := node --experimental-vm-modules $(CURDIR)/node_modules/jest/bin/jest.js

.PHONY: manifests verify-manifests install-yaml verify-install-yaml operator-chart-docs test-operator-chart run-operator test-operator-unit test-operator bench-operator

operator-build: deps
	@npx tsc -b operator

manifests: operator-build ## regenerate manifests/crd from the zod types in operator/src/api
	@node operator/dist/cli/generate-crd.js --root=$(CURDIR)

verify-manifests: operator-build ## fail when the committed CRD YAML is stale (run make manifests)
	@node operator/dist/cli/generate-crd.js --root=$(CURDIR) --check

# kubectl (its kustomize renders install.yaml) comes from the tool cache; `make tools` builds it once.
$(TOOLS_BIN)/kubectl:
	@$(MAKE) tools

install-yaml: $(TOOLS_BIN)/kubectl ## render manifests/ (kubectl kustomize) into manifests/install.yaml, the versioned one-file install
	@hack/operator/install-yaml.sh

verify-install-yaml: $(TOOLS_BIN)/kubectl ## fail when manifests/install.yaml is stale (run make install-yaml)
	@hack/operator/install-yaml.sh --check

operator-chart-docs: deps ## regenerate the values table of operator/chart/README.md from the comments in its values.yaml
	@node hack/chart/values-docs.ts --chart=operator/chart

test-operator-chart: $(HELM3) $(HELM4) $(KUBECONFORM) $(TOOLS_BIN)/kubectl deps ## operator/chart: helm lint --strict (Helm 3 and 4), RBAC equal to manifests/, rendered metrics options, values table and install.yaml fresh
	@hack/operator/chart-check.sh

run-operator: operator-build ## run the operator as a local process against the current KUBECONFIG (CRD applied first)
	@KUBECONFIG=$(OPERATOR_KUBECONFIG) hack/operator-run.sh

test-operator-unit: deps ## operator unit tests: work queue, backoff, informer traps, CRD, desired state (no cluster)
	@cd operator && $(OPERATOR_JEST) --runInBand test/unit

test-operator: operator-build tools ## operator against the local control plane (started and stopped here unless running): behaviours, failover, restarts
	@hack/cluster/with-cluster.sh hack/operator-test.sh

bench-operator: build tools ## print operator figures: convergence p50/p99, idle writes, 200 apps to Ready, RSS, flag propagation to 3 service replicas p50/max
	@hack/cluster/with-cluster.sh hack/operator-bench.sh

TEST_TIERS += test-operator-chart
TEST_TIERS_UNIT += test-operator-unit
TEST_TIERS_CLUSTER += test-operator
