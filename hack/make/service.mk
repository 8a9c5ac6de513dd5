# The service's test tiers. Unit tests need nothing running; the integration tier needs
# PostgreSQL, which hack/with-deps.sh starts (and stops again only if it started it).
.PHONY: test-unit test-integration test-service-cluster

test-unit: deps ## service unit tests (no external process)
	@cd service && node --experimental-vm-modules ../node_modules/jest/bin/jest.js --selectProjects unit

test-integration: build ## service integration + fault tests on SQLite and PostgreSQL, coverage gate >= 85% lines
	@hack/with-deps.sh postgres -- hack/service-test-integration.sh

test-service-cluster: build tools ## service against the local control plane: flags ConfigMap watch on 3 replicas, API restart, file fallback
	@hack/cluster/with-cluster.sh hack/service-test-cluster.sh

TEST_TIERS_UNIT += test-unit
TEST_TIERS_INTEGRATION += test-integration
TEST_TIERS_CLUSTER += test-service-cluster

.PHONY: docs-screenshot
docs-screenshot: build ## re-take service/docs/api-docs.png: /docs in headless chromium (DOCS_PORT, default 3900)
	@hack/docs-screenshot.sh
