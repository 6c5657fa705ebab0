# The two commands the README promises, and the ones behind them.
# `make test` is what CI runs (.ci/run). Beside the Rust toolchain it needs Java 17,
# Node and Python 3: on first use it installs DynamoDB Local (npm) and the SAM CLI,
# moto and cargo-lambda (PyPI) into .tools/.

CARGO ?= cargo

.PHONY: demo test lint unit mutants-changed mutants bench bench-node load outage cold-start warm fuzz events

## The product on this machine: DynamoDB Local, the tables, a demo number, the
## webhooks on http://127.0.0.1:3000 (PORT=...), three simulated calls. Ctrl-C stops it.
demo:
	$(CARGO) build --quiet -p calltrack
	scripts/with-dynamodb-local scripts/with-moto scripts/demo

## Every test: formatting, lints, unit, integration (on DynamoDB Local), property
## and doc tests, Twilio REST requests against a Prism mock of its OpenAPI description, the bad-input corpus, a 200-call load test and the storage-outage
## test, each criterion benchmark run once as a smoke test, and mutation testing of
## what the last commit changed in the pure crates.
test: lint unit mutants-changed

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	scripts/python-tools sam validate --lint
	scripts/python-tools python3 scripts/deployer-policy.py --check
	scripts/checkov

unit:
	scripts/with-dynamodb-local scripts/with-moto scripts/with-prism $(CARGO) test --workspace --all-targets --locked
	$(CARGO) test --workspace --doc --locked

mutants-changed:
	scripts/mutants --changed

## Mutation testing of every line of the pure crates, calltrack-twilio and calltrack-core.
mutants:
	scripts/mutants

## Criterion benchmarks, measured (reports in target/criterion/).
bench:
	$(CARGO) bench --workspace --locked

## Our decode + verify, then twilio-node's querystring.parse + validateRequest on the
## same input, one after the other, and the ratio.
bench-node:
	$(CARGO) bench --locked -p calltrack-twilio --bench parse_verify -- parse_verify/decode_and_verify
	cd shared/twilio/benches/twilio-node && npm ci --no-audit --no-fund --silent && node compare.js

## The load test at full size on release builds: 2000 calls, 32 at once (BENCHMARKS.md).
load:
	LOAD_CALLS=$${LOAD_CALLS:-2000} scripts/with-dynamodb-local scripts/with-moto $(CARGO) test --release --locked -p calltrack --test load -- --nocapture

## The storage-outage test at full size on release builds: 500 calls, 16 at once,
## DynamoDB Local stopped for 20 s, no redelivery (BENCHMARKS.md).
outage:
	OUTAGE_CALLS=$${OUTAGE_CALLS:-500} OUTAGE_CONCURRENCY=$${OUTAGE_CONCURRENCY:-16} OUTAGE_SECONDS=$${OUTAGE_SECONDS:-20} \
	  scripts/with-dynamodb-local scripts/with-moto $(CARGO) test --release --locked -p calltrack --test faults -- --nocapture

## Cold start and peak memory of the release functions against a local Runtime API
## (cli/examples/cold_start.rs; COLD_START_RUNS and its other settings pass through).
cold-start:
	nice $(CARGO) build --release --locked -p answer -p status -p recording
	$(CARGO) build --quiet --locked -p calltrack
	$(CARGO) build --quiet --locked -p calltrack --example cold_start
	scripts/with-dynamodb-local $(CARGO) run --quiet --locked -p calltrack --example cold_start

## CPU and time per warm invocation of the release functions, beside a Node.js peer doing the
## seed's job (cli/examples/warm.rs; WARM_INVOCATIONS and its other settings pass through).
warm:
	nice $(CARGO) build --release --locked -p answer -p status -p recording
	$(CARGO) build --quiet --locked -p calltrack
	$(CARGO) build --quiet --locked -p calltrack --example warm
	cd shared/service/benches/node-peer && npm ci --no-audit --no-fund --silent
	scripts/with-dynamodb-local $(CARGO) run --quiet --locked -p calltrack --example warm

## Each fuzz target for FUZZ_SECONDS (60) seconds; needs the nightly toolchain.
fuzz:
	scripts/fuzz

## Signs the sample events in events/ again after one was edited.
events:
	$(CARGO) run --quiet -p calltrack-service --example sign_events
