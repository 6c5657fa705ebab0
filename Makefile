# The two commands the README promises, and the ones behind them.
# `make test` is what CI runs (.ci/run). Beside the Rust toolchain it needs Java 17,
# Node and Python 3: on first use it installs DynamoDB Local (npm) and the SAM CLI,
# moto and cargo-lambda (PyPI) into .tools/.

CARGO ?= cargo

.PHONY: demo test lint unit bench bench-node events

## The product on this machine: DynamoDB Local, the tables, a demo number, the
## webhooks on http://127.0.0.1:3000 (PORT=...), three simulated calls. Ctrl-C stops it.
demo:
	$(CARGO) build --quiet -p calltrack
	scripts/with-dynamodb-local scripts/demo

## Every test: formatting, lints, unit, integration (on DynamoDB Local), property
## and doc tests, and each criterion benchmark run once as a smoke test.
test: lint unit

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	scripts/python-tools sam validate --lint

unit:
	scripts/with-dynamodb-local scripts/with-moto $(CARGO) test --workspace --all-targets --locked
	$(CARGO) test --workspace --doc --locked

## Criterion benchmarks, measured (reports in target/criterion/).
bench:
	$(CARGO) bench --workspace --locked

## twilio-node's querystring.parse + validateRequest on the same input, for the ratio.
bench-node:
	cd shared/benches/twilio-node && npm ci --no-audit --no-fund --silent && node compare.js

## Signs the sample events in events/ again after one was edited.
events:
	$(CARGO) run --quiet -p calltrack-shared --example sign_events
