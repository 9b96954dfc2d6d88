#!/usr/bin/env bash
# The full test suite, as CI runs it: peers installed and a private dockerd started by
# scripts/test-env.sh, then every unit, integration and interop test (`npm test`) with peers
# required (a missing peer fails instead of skipping). Stops the dockerd it started.
set -euo pipefail
cd "$(dirname "$0")/.."
started_here=0
[[ -f /run/dockyard-test/dockerd.pid ]] || started_here=1
eval "$(scripts/test-env.sh)"
cleanup() { ((started_here)) && scripts/test-env.sh --stop || true; }
trap cleanup EXIT
export DOCKYARD_REQUIRE_PEERS=${DOCKYARD_REQUIRE_PEERS:-1}
npm test
