# Redis-backed primitives of the service: locks, rate limits, cache, event bus, flags.
.PHONY: test-redis
TEST_TIERS_INTEGRATION += test-redis
# Ports of this tier's private Redis and PostgreSQL (the other tiers have their own).
REDIS_TEST_PORT ?= 56402
PG_TEST_PORT ?= 55402
REDIS_TEST_ARGS ?=

test-redis: deps ## Redis tier: locks, rate limits, cache, event bus, outbox, flags against real Redis + PostgreSQL
	@npx tsc -b service
	@REDIS_PORT=$(REDIS_TEST_PORT) PG_PORT=$(PG_TEST_PORT) hack/with-deps.sh redis postgres -- \
	  node --experimental-vm-modules node_modules/jest/bin/jest.js -c service/test/redis/jest.config.js $(REDIS_TEST_ARGS)
