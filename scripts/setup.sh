#!/usr/bin/env bash
# Installs what Berth needs on a Debian 12 host, idempotently, and says what it does.
# Run as root. Safe to run again: it only acts on what is missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and Berth manages containers)"

# lxc/lxc-dev: liblxc 5 and its headers (the bindings and their layout probe); busybox-static: the tiny
# test and demo image; debootstrap: Debian images; gcc: the start helper and the layout probe;
# uidmap: unprivileged containers; maven: the build; hyperfine: whole-command benchmarks;
# openssh-client: berth --remote; openssh-server: the remote tests run their own sshd on 127.0.0.1;
# crun and catatonit: the app container's runtime and its zombie-reaping init (used inside containers);
# rsync: liblxc copies a directory-backed container with it (clone, rename); a fresh Debian has none;
# puppet: the host side of the Puppet bridge (the berth module's types, and the bridge's own tests).
packages=(lxc lxc-dev busybox-static debootstrap gcc libc6-dev uidmap iproute2 maven hyperfine openssh-client openssh-server
  crun catatonit rsync puppet)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Packages are installed, not started: openssh-server is here for the tests' own sshd, so the
  # host's ssh service is not started (nor enabled) by this script.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
  fi
  status=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  [ -n "$policy" ] && rm -f "$policy"
  [ $status -eq 0 ] || die "apt-get install failed ($status)"
  if printf '%s\n' "${missing[@]}" | grep -qx openssh-server && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
  fi
else
  say "Debian packages present: ${packages[*]}"
fi

use_jdk25
say "JDK 25: $JAVA_HOME"

# Unprivileged containers: each gets its own 65,536 host ids from root's subordinate range (as LXD sets
# up); the first 65,536 at 100000 stay for containers made before ranges were per container.
for f in /etc/subuid /etc/subgid; do
  if ! grep -q '^root:100000:65536$' "$f" 2>/dev/null; then
    say "Adding root:100000:65536 to $f"
    echo 'root:100000:65536' >> "$f"
  fi
  if ! grep -q '^root:1000000:1000000000$' "$f" 2>/dev/null; then
    say "Adding root:1000000:1000000000 to $f (one range of 65,536 ids per unprivileged container)"
    echo 'root:1000000:1000000000' >> "$f"
  fi
done

mkdir -p /var/lib/berth/containers
say "Host ready"
