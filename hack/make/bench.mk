# make bench: our service and its Redis primitives next to their peers, in one run (hack/bench/).
.PHONY: bench
BENCH_ARGS ?=

bench: build ## benchmark the service against node:http, Express, Fastify, NestJS and raw pg (BENCH_ARGS="--only express,ours")
	@command -v wrk >/dev/null || { echo "[bench] installing wrk"; DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null; }
	@hack/with-deps.sh postgres redis -- node hack/bench/dist/harness/main.js $(BENCH_ARGS)
