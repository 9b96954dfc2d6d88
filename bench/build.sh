#!/usr/bin/env bash
# bench/build.sh [buildbench options] — dockyard build (native driver) beside docker-buildkit and
# buildah on the buildbench fixtures, in one run; ratios against docker-buildkit.
#
#   bench/build.sh                         # all fixtures, 3 rounds
#   bench/build.sh --rounds 1 --fixtures node-app,multistage
#
# dockyard's image stays in its own store (as BuildKit's stays in dockerd): the untimed export for
# the checks is `dockyard save`, the timed push is `dockyard push` (copy() to the registry). Before
# each cold build (untimed) bench/build-warm.sh puts the fixture's bases in dockyard's store with
# their layers unpacked, as buildbench pre-pulls them into dockerd for BuildKit.
# Needs root, runc, the docker engine at DOCKER_HOST, buildah, skopeo (see buildbench's README).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BB=""
d=$(cd .. && pwd)
while :; do
  if [[ -x $d/shared/tools/buildbench/buildbench.sh ]]; then BB=$d/shared/tools/buildbench; break; fi
  [[ $d == / ]] && break
  d=$(dirname "$d")
done
[[ -n $BB ]] || { echo "bench/build: ../shared/tools/buildbench not found" >&2; exit 2; }
# ../shared may be read-only (0444 files) where a git checkout has 0644: buildbench copies fixture
# contexts with `cp -a`, and copy-flags expects the checkout's modes (/srv/data/a.csv 644). So the
# harness runs from a fresh copy with owner write added, its fixtures exactly as in a checkout.
if [[ -n $(find "$BB/fixtures" ! -perm -u+w -print -quit) ]]; then
  copy=${BUILDBENCH_WORK:-/tmp/buildbench}/harness
  rm -rf "$copy" && mkdir -p "$(dirname "$copy")" && cp -r "$BB" "$copy" && chmod -R u+w "$copy"
  BB=$copy
fi
export DOCKER_HOST=${DOCKER_HOST:-unix:///run/dockyard-test/docker.sock}
export BUILDAH_RUNTIME=${BUILDAH_RUNTIME:-runc}   # its default crun refuses this host's hybrid cgroups
export DOCKYARD_HOME=${DOCKYARD_BENCH_HOME:-/tmp/buildbench/dockyard-home}
[[ -f dist/src/cli/main.js ]] || npm run build >&2
"$BB/setup-bases.sh" >&2
export BUILDBENCH_CUSTOM_RESET="$ROOT/bench/build-warm.sh $BB {fixture}"
export BUILDBENCH_CUSTOM_EXPORT="$ROOT/bin/dockyard save -o {archive} {tag}"
export BUILDBENCH_CUSTOM_PUSH="$ROOT/bin/dockyard push --progress plain {tag} docker://{push_tag}"
exec "$BB/buildbench.sh" --baseline docker-buildkit "$@" docker-buildkit buildah \
  "dockyard=custom:$ROOT/bin/dockyard build {nocache} --progress plain --network {network} -t {tag} -f {dockerfile} {context}"
