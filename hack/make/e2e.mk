# The e2e suite that drives the operator and the chart together (e2e/platform/), on the local control
# plane or, with `make e2e E2E_CLUSTER=kind`, on a kind cluster where pods are real.
E2E_CLUSTER ?= local
.PHONY: test-e2e-platform test-e2e-kind e2e

test-e2e-platform: deps tools operator-build ## operator from manifests/ (a local process) + chart with Helm 3 and 4 on the local control plane: ExpressApp take-over, rollouts, upgrade, restore, uninstall
	@hack/cluster/with-cluster.sh npm run --silent -w e2e test:platform
TEST_TIERS_E2E += test-e2e-platform

e2e: deps tools ## the chart and platform e2e suites on E2E_CLUSTER=local (default) or kind (real pods: adds helm test, an Ingress request, the operator as its Deployment)
	@OPERATOR_IMAGE=$(OPERATOR_IMAGE) hack/e2e.sh $(E2E_CLUSTER)

# The kind tier of `make test`: the same suites with real pods, plus e2e/platform/kind/. It creates
# the kind cluster (building the node image on a machine where it cannot be pulled) and deletes it
# afterwards unless it was already there. It fails, never skips, when kind cannot run.
test-e2e-kind: deps tools ## the chart and platform suites plus e2e/platform/kind/ on a kind cluster with real pods
	@KIND_KEEP=0 OPERATOR_IMAGE=$(OPERATOR_IMAGE) hack/e2e.sh kind
TEST_TIERS_E2E += test-e2e-kind
