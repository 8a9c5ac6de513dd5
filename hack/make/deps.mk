# Local PostgreSQL and Redis on loopback (Debian's packages), for development and the test tiers.
.PHONY: deps-up deps-down deps-status

deps-up: ## start the local PostgreSQL and Redis used by integration tests (idempotent)
	@hack/postgres.sh up
	@hack/redis.sh up

deps-down: ## stop the local PostgreSQL and Redis and delete their data
	@hack/postgres.sh down
	@hack/redis.sh down

deps-status: ## say whether the local PostgreSQL and Redis run
	@hack/postgres.sh status || true
	@hack/redis.sh status || true
