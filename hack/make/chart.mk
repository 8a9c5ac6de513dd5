# Helm chart (chart/) and its static checks; the container images and local tooling around them.
# Tools come from the tool cache filled by `make tools` (the local-cluster area); HELM3, HELM4 and
# KUBECONFORM may point elsewhere.
TOOLS_BIN ?= $(CACHE_ROOT)/bin
HELM3 ?= $(TOOLS_BIN)/helm3
HELM4 ?= $(TOOLS_BIN)/helm4
KUBECONFORM ?= $(TOOLS_BIN)/kubeconform
export HELM3 HELM4 KUBECONFORM
CHART_CI_VALUES := $(sort $(wildcard chart/ci/*.yaml))

CHART_VERSION := $(shell sed -n 's/^version: //p' chart/Chart.yaml)
CHART_PACKAGE_DIR ?= .local/chart
CHART_PACKAGE := $(CHART_PACKAGE_DIR)/express-sqlize-$(CHART_VERSION).tgz

.PHONY: chart-lint chart-template-check chart-schema-test chart-render-test chart-docs chart-docs-check chart-package chart-package-check chart-flags-watch-check test-chart

# A missing binary is built on its own (not the whole of `make tools`), so on a fresh machine the
# chart checks wait for Helm and kubeconform only, not for the Kubernetes build running beside them.
$(HELM3) $(HELM4) $(KUBECONFORM):
	@hack/tools.sh $(notdir $@)

chart-lint: $(HELM3) $(HELM4) ## helm lint --strict of chart/ with Helm 3 and Helm 4, defaults and every chart/ci/*.yaml
	@for helm in $(HELM3) $(HELM4); do \
	  for values in "" $(CHART_CI_VALUES); do \
	    $$helm lint --strict --quiet chart $${values:+-f $$values} >/dev/null \
	      || { $$helm lint --strict chart $${values:+-f $$values}; exit 1; }; \
	  done; \
	  echo "[chart-lint] $$($$helm version --template '{{.Version}}'): lint --strict clean with defaults and $(words $(CHART_CI_VALUES)) ci values files"; \
	done

chart-template-check: $(HELM3) $(HELM4) $(KUBECONFORM) deps ## helm template of every chart/ci/*.yaml (Helm 3 and 4) through kubeconform -strict with our CRD and Prometheus Operator schemas
	@hack/chart/template-check.sh

chart-schema-test: $(HELM3) $(HELM4) ## prove that values.schema.json and the chart refuse typos and bad values with readable messages
	@hack/chart/schema-test.sh

chart-render-test: $(HELM3) $(HELM4) deps ## assert what helm template renders: extension points, migration Job, GitOps-stable JWT secret, HTTPRoute, ServiceMonitor, alerts, use as a dependency
	@node --test --test-reporter=spec hack/chart/render-test.ts

chart-docs: deps ## regenerate the values table of chart/README.md from the comments in chart/values.yaml
	@node hack/chart/values-docs.ts

chart-docs-check: deps ## fail when chart/README.md's values table is stale or a value lacks a description
	@node hack/chart/values-docs.ts --check

chart-package: $(HELM4) ## package chart/ into .local/chart/express-sqlize-<version>.tgz, the file `helm push` takes to an OCI registry
	@mkdir -p $(CHART_PACKAGE_DIR)
	@$(HELM4) package chart --destination $(CHART_PACKAGE_DIR) >/dev/null
	@echo "[chart-package] $(CHART_PACKAGE); publish with: helm push $(CHART_PACKAGE) oci://REGISTRY/charts"

chart-package-check: chart-package ## the packaged chart renders exactly as chart/ does, with every ci/ values file
	@hack/chart/package-check.sh $(CHART_PACKAGE)

chart-flags-watch-check: $(HELM3) $(HELM4) deps ## featureFlags.watch renders a Role for <name>-flags only, a token in the app pods only, API egress; nothing when off
	@node hack/chart/flags-watch-check.ts

test-chart: chart-lint chart-template-check chart-schema-test chart-render-test chart-docs-check chart-package-check chart-flags-watch-check ## every static check of the chart
TEST_TIERS += test-chart

# Container images. No registry is reachable here: `docker-base` builds a local stand-in for the
# official node:24-bookworm-slim (skipped when a real one is present), so the real Dockerfile builds.
IMAGE_VERSION := $(shell node -p 'require("./package.json").version' 2>/dev/null || echo 0.0.0-dev)
IMAGE_TAG ?= dev
SERVICE_IMAGE ?= express-sqlize/service:$(IMAGE_TAG)
# Named as in manifests/manager/deployment.yaml, so a locally built image replaces the published one.
OPERATOR_IMAGE ?= ghcr.io/express-sqlize/expressapp-operator:$(IMAGE_TAG)
IMAGE_BUILD_ARGS = --build-arg VERSION=$(IMAGE_VERSION) \
  --build-arg GIT_SHA=$$(git rev-parse --short HEAD 2>/dev/null || echo unknown) \
  --build-arg BUILD_DATE=$$(date -u +%Y-%m-%dT%H:%M:%SZ)
export SERVICE_IMAGE

.PHONY: docker-base image-build image-build-service image-build-operator image-push test-image test-publish

docker-base: ## start a Docker engine if none answers and build the local node:24-bookworm-slim stand-in
	@hack/docker-base.sh

# image_build WORKSPACE IMAGE: the root Dockerfile builds either workspace (build arg WORKSPACE).
define image_build
	@test -d $(1)/src || { echo "[image] $(1)/src is missing: $(1) has not landed on this branch (git merge main)"; exit 1; }
	@echo "[image] building $(2) from Dockerfile (WORKSPACE=$(1))"
	@docker build -q --build-arg WORKSPACE=$(1) $(IMAGE_BUILD_ARGS) -t $(2) . >/dev/null
	@echo "[image] $(2): $$(docker image inspect $(2) --format '{{.Size}}' | awk '{printf "%d MB", $$1/1e6}')"
endef

image-build-service: docker-base
	$(call image_build,service,$(SERVICE_IMAGE))

image-build-operator: docker-base
	$(call image_build,operator,$(OPERATOR_IMAGE))

image-build: image-build-service $(if $(wildcard operator/src),image-build-operator) ## build the service and operator images (the operator's once operator/src exists)

# make image-push REGISTRY=registry.example.com[/path]: both images, retagged under REGISTRY with the
# paths the chart and the operator manifests expect, so `--set image.registry=REGISTRY` finds them.
ifneq ($(filter image-push,$(MAKECMDGOALS)),)
ifeq ($(strip $(REGISTRY)),)
$(error image-push needs REGISTRY, e.g. make image-push REGISTRY=registry.example.com IMAGE_TAG=$(IMAGE_VERSION))
endif
endif
# image_push IMAGE: IMAGE retagged as REGISTRY/<IMAGE without its registry> and pushed.
define image_push
	@target="$(REGISTRY)/$$(echo '$(1)' | sed -E 's#^[^/]+\.[^/]+/##')"; \
	  echo "[image] pushing $(1) as $$target"; \
	  docker tag $(1) "$$target" && docker push -q "$$target"
endef

image-push: image-build ## build both images and push them to REGISTRY (make image-push REGISTRY=registry.example.com IMAGE_TAG=0.1.0)
	$(call image_push,$(SERVICE_IMAGE))
	$(call image_push,$(OPERATOR_IMAGE))

test-image: image-build-service ## run the service image read-only and non-root: migrate, GET /health and /ready = 200, clean exit on SIGTERM
	@hack/test-image.sh $(SERVICE_IMAGE)
TEST_TIERS_INTEGRATION += test-image

test-publish: $(HELM4) ## a release against a throw-away OCI registry on loopback: make image-push and helm push of both charts, pulled back and checked
	@hack/test-publish.sh
TEST_TIERS_INTEGRATION += test-publish

.PHONY: test-e2e-chart
test-e2e-chart: deps tools ## the chart on the local control plane with Helm 3 and 4: install shape, governed hand-over, uninstall
	@hack/cluster/with-cluster.sh npm run --silent -w e2e test:chart
TEST_TIERS_E2E += test-e2e-chart
