#!/usr/bin/env bash
# The full test suite, as CI runs it: peers installed and a private dockerd started by
# scripts/test-env.sh, then every unit, integration and interop test (`npm test`) with peers
# required (a missing peer fails instead of skipping). Stops the dockerd it started.
set -euo pipefail
cd "$(dirname "$0")/.."
# Stop dockerd at the end only if this run started it (a developer's engine stays up).
started_here=1
if [[ -f /run/dockyard-test/dockerd.pid ]] && kill -0 "$(cat /run/dockyard-test/dockerd.pid)" 2>/dev/null; then started_here=0; fi
eval "$(scripts/test-env.sh)"
cleanup() { ((started_here)) && scripts/test-env.sh --stop || true; }
trap cleanup EXIT
export DOCKYARD_REQUIRE_PEERS=${DOCKYARD_REQUIRE_PEERS:-1}
npm test
