#!/usr/bin/env bash
# bench/build-warm.sh BUILDBENCH_DIR FIXTURE — run (untimed) before each cold build: the fixture's
# base images in dockyard's store with their layers unpacked, as they are in dockerd for BuildKit
# (buildbench pre-pulls bases into the engine the same way).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASES=""
# shellcheck disable=SC1090
. "$1/fixtures/$2/fixture.conf"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for b in $BASES; do
  printf 'FROM %s\nRUN true\n' "$b" >"$tmp/Dockerfile"
  "$ROOT/bin/dockyard" build --progress quiet --network none -t dockyard-bench-warm:latest "$tmp" >/dev/null
done
