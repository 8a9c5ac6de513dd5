# The service's observability tier: metrics scraped by a real Prometheus, bounded labels, health
# checks (Redis stopped, a blocked event loop), sanitised config, and traces exported over OTLP.
# Its own ports, so it runs next to the other tiers and worktrees; below 32768, outside Linux's
# ephemeral range, where an outgoing connection can hold a port and make a server fail to bind.
.PHONY: test-observability
OBS_PG_PORT ?= 31460
OBS_REDIS_PORT ?= 31461
OBS_PROMETHEUS_PORT ?= 31462

test-observability: build ## observability tests: Prometheus scrape, label bounds, health, config, OTLP traces
	@PG_PORT=$(OBS_PG_PORT) REDIS_PORT=$(OBS_REDIS_PORT) PROMETHEUS_PORT=$(OBS_PROMETHEUS_PORT) \
	  hack/with-deps.sh postgres redis -- hack/service-test-observability.sh

TEST_TIERS_INTEGRATION += test-observability
