# express-sqlize-platform: every entry point a person or CI uses. `make help` lists them.
# Area-specific targets live in hack/make/*.mk and are included at the end.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

include hack/versions.env
CACHE_ROOT ?= $(or $(ESP_CACHE_DIR),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/express-sqlize-platform)
# Node 24 from the tool cache comes first on PATH when hack/node.sh had to provision it.
NODE_BIN := $(CACHE_ROOT)/node-$(NODE_VERSION)/bin
export PATH := $(NODE_BIN):$(PATH)
export ESP_CACHE_DIR := $(CACHE_ROOT)

INSTALL_STAMP := node_modules/.install-stamp
WORKSPACE_MANIFESTS := $(wildcard */package.json)

# Test tiers run by `make test`, in DESIGN.md's order; each hack/make/*.mk appends its targets to
# the class they belong to: unit (no process), integration (PostgreSQL/Redis), cluster (the local
# control plane), e2e (any cluster). Static checks (lint) run first; TEST_TIERS holds anything unclassified.
TEST_TIERS :=
TEST_TIERS_UNIT :=
TEST_TIERS_INTEGRATION :=
TEST_TIERS_CLUSTER :=
TEST_TIERS_E2E :=

.PHONY: help node deps build lint format typecheck run dev migrate test clean

help: ## list every target with a one-line description
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_.-]+:.*## / {printf "  \033[36m%-20s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

node: ## provision Node.js 24 into the tool cache when the system Node is older than 22
	@hack/node.sh >/dev/null

$(INSTALL_STAMP): package.json package-lock.json $(WORKSPACE_MANIFESTS)
	@hack/node.sh >/dev/null
	@echo "[deps] npm ci with node $$(node --version)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(INSTALL_STAMP) ## install npm dependencies of every workspace (only when package-lock.json changed)

build: deps ## compile every workspace with tsc into its dist/
	@npx tsc -b

typecheck: deps ## type-check every workspace without emitting
	@npx tsc -b --noEmit 2>/dev/null || npx tsc -b

lint: deps ## eslint and prettier over the whole repo, plus the type-check
	@npx eslint .
	@npx prettier --check . --log-level=warn
	@npx tsc -b

format: deps ## rewrite files with prettier and eslint --fix
	@npx prettier --write . --log-level=warn
	@npx eslint . --fix

run: build ## serve on http://localhost:3000 with the embedded defaults (SQLite, in-process fallbacks)
	@npm run --silent -w service start

dev: deps ## the developer loop: rebuild and restart on change, service/.env read, coloured logs
	@npm run --silent -w service dev

migrate: build ## apply pending database migrations for the configured database
	@npm run --silent -w service migrate

test: deps ## run every test tier with the dependencies it needs, started and stopped here
	@hack/test.sh lint $(TEST_TIERS_UNIT) $(TEST_TIERS) $(TEST_TIERS_INTEGRATION) $(TEST_TIERS_CLUSTER) $(TEST_TIERS_E2E)

clean: ## remove build output and local state (databases, cluster data); keeps the tool cache
	@rm -rf */dist coverage */coverage .local

include $(sort $(wildcard hack/make/*.mk))
