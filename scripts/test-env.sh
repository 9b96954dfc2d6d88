#!/usr/bin/env bash
# Prepares the machine for the interop tests and prints `export` lines for their environment:
# installs the Debian peers (docker.io, skopeo, buildah, notary, runc, …) when missing, starts a
# private dockerd on unix:///run/dockyard-test/docker.sock (no bridge, no iptables), and imports a
# busybox base image from Debian's busybox-static. Safe to run again: it reuses what is there.
#
#   eval "$(scripts/test-env.sh)"     # then DOCKER_HOST points at the test engine
#   scripts/test-env.sh --stop        # stops the dockerd this script started
set -euo pipefail
RUN_DIR=/run/dockyard-test
SOCK=$RUN_DIR/docker.sock
DATA_ROOT=${DOCKYARD_TEST_DOCKER_ROOT:-/var/lib/dockyard-test-docker}
PACKAGES=(docker.io skopeo buildah umoci runc crun containerd notary docker-registry shellcheck
  busybox-static jq curl gnupg debootstrap openssl apache2-utils tar gzip iproute2 attr libcap2-bin)

log() { echo "test-env: $*" >&2; }

if [[ ${1:-} == --stop ]]; then
  if [[ -f $RUN_DIR/dockerd.pid ]]; then
    kill "$(cat $RUN_DIR/dockerd.pid)" 2>/dev/null || true
    rm -f $RUN_DIR/dockerd.pid
  fi
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  log "not root: skipping package installs and dockerd (interop tests will skip or fail)"
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

mkdir -p "$RUN_DIR" "$DATA_ROOT"
export DOCKER_HOST=unix://$SOCK
if ! /usr/bin/docker version >/dev/null 2>&1; then
  log "starting dockerd on $SOCK"
  # setsid: its own session, so a kill of the caller's process group (a job stopped by Ctrl-C) leaves it running
  setsid nohup /usr/sbin/dockerd --host "unix://$SOCK" --data-root "$DATA_ROOT" --exec-root "$RUN_DIR/exec" \
    --pidfile "$RUN_DIR/dockerd.pid" --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    --storage-driver=overlay2 >"$RUN_DIR/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    /usr/bin/docker version >/dev/null 2>&1 && break
    sleep 0.5
  done
  /usr/bin/docker version >/dev/null 2>&1 || { tail -20 "$RUN_DIR/dockerd.log" >&2; log "dockerd did not start"; exit 1; }
fi

if ! /usr/bin/docker image inspect busybox:local >/dev/null 2>&1; then
  log "importing busybox:local from busybox-static"
  tmp=$(mktemp -d)
  mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/etc" "$tmp/rootfs/tmp" "$tmp/rootfs/root"
  cp /bin/busybox "$tmp/rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do [[ $applet == busybox ]] || ln -sf busybox "$tmp/rootfs/bin/$applet"; done
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$tmp/rootfs/etc/passwd"
  printf 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n' >"$tmp/rootfs/etc/group"
  chmod 1777 "$tmp/rootfs/tmp"
  tar -C "$tmp/rootfs" -c . | /usr/bin/docker import -c 'CMD ["sh"]' - busybox:local >/dev/null
  rm -rf "$tmp"
fi

echo "export DOCKER_HOST=unix://$SOCK"
