# The two commands of the README: `make demo` and `make test`.

.PHONY: demo test soak bench bench-compare proto consul

## demo: the umbrella example on seven OS-process nodes: a minute of traffic, a kill -9 and its failover, a report (docs/umbrella.md)
demo:
	go run ./examples/umbrella

## test: install Consul and chromium if missing, then go vet and go test -race ./..., in the root module, bench/ and dashboard/browsertest/
test:
	scripts/test.sh

## soak: Consul and five OS-process nodes under load and seeded faults for SOAK_DURATION (default 5m, SOAK_SEED replays), the history checked (docs/soak.md)
soak:
	scripts/soak.sh

## bench: Call against protoactor's RequestFuture, and request-response through an exchange
bench:
	go test -run '^$$' -bench . -benchmem ./actor
	go test -run '^$$' -bench Exchange -benchtime 100000x ./patterns

## bench-compare: the seed benchmark and the durable-task shapes beside RabbitMQ and NATS (installed with apt-get if missing), about ten minutes; writes bench/out/ and docs/benchmarks.md
bench-compare:
	bench/compare.sh

## proto: regenerate the protobuf code (pinned protoc-gen-go, Debian's protoc)
proto:
	scripts/proto.sh

## consul: build bin/consul from tools/go.mod
consul:
	scripts/consul.sh
