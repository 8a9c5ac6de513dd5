# The API against its own OpenAPI document: schemathesis (from PyPI, pinned in
# hack/api-fuzz/requirements.txt, in a virtualenv in the tool cache) generates requests from
# /openapi.json and checks every answer against it. The built service runs on SQLite with the
# embedded defaults, on its own port (below 32768, outside the ephemeral range) and a throwaway
# state directory. API_FUZZ_EXAMPLES and API_FUZZ_SEED change the run; API_FUZZ_ARGS adds options.
.PHONY: test-api
API_FUZZ_PORT ?= 31470
API_FUZZ_ARGS ?=

test-api: build ## schemathesis run /openapi.json --checks all as admin: every operation, fixed examples and seed; any failure fails
	@API_FUZZ_PORT=$(API_FUZZ_PORT) hack/api-fuzz/run.sh $(API_FUZZ_ARGS)

TEST_TIERS_INTEGRATION += test-api
