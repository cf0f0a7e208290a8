#!/usr/bin/env bash
# `npm test`: build what changed, type-check everything (including what can't run here),
# run the native op tests, then every unit, integration and e2e test in one node test run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PADDOCK_TESTDATA="${PADDOCK_TESTDATA:-$(cd .. && pwd)/shared/testdata}"

step() { echo; echo "== $*"; }

step "native build (incremental)"
npm run -s build:native >/dev/null
step "type-check + emit electron/ (tsc)"
npx tsc -p tsconfig.json
npx tsc -p test/tsconfig.json
step "type-check renderer/ (svelte-check)"
npx svelte-check --workspace renderer --tsconfig ./tsconfig.json --threshold error --output human
step "build renderer"
npm run -s build:renderer >/dev/null
step "native tests (ctest)"
ctest --test-dir native/build --output-on-failure
step "unit + integration + e2e tests (node --test)"
node --import tsx --test --test-concurrency=1 --test-timeout=300000 \
  test/unit/*.test.ts test/integration/*.test.ts test/e2e/*.test.ts
