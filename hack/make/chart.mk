# Helm chart (chart/) and its static checks; the container images and local tooling around them.
# Tools come from the tool cache filled by `make tools` (the local-cluster area); HELM3, HELM4 and
# KUBECONFORM may point elsewhere.
TOOLS_BIN ?= $(CACHE_ROOT)/bin
HELM3 ?= $(TOOLS_BIN)/helm3
HELM4 ?= $(TOOLS_BIN)/helm4
KUBECONFORM ?= $(TOOLS_BIN)/kubeconform
export HELM3 HELM4 KUBECONFORM
CHART_CI_VALUES := $(sort $(wildcard chart/ci/*.yaml))

.PHONY: chart-lint chart-template-check chart-schema-test chart-docs chart-docs-check test-chart

# A missing binary is built by `make tools`; present ones cost nothing.
$(HELM3) $(HELM4) $(KUBECONFORM):
	@$(MAKE) tools

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

chart-docs: deps ## regenerate the values table of chart/README.md from the comments in chart/values.yaml
	@node hack/chart/values-docs.ts

chart-docs-check: deps ## fail when chart/README.md's values table is stale or a value lacks a description
	@node hack/chart/values-docs.ts --check

test-chart: chart-lint chart-template-check chart-schema-test chart-docs-check ## every static check of the chart
TEST_TIERS += test-chart
