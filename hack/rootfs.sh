#!/usr/bin/env bash
# Debian bookworm root filesystems for the images built here (no image registry is reachable): the
# minbase variant from Debian's mirror (debootstrap), optionally with packages added by apt in a
# chroot. Each is a tar in the tool cache, built once and keyed by its package list.
#   hack/rootfs.sh                    print the path of the minbase tar, building it when missing
#   hack/rootfs.sh PKG...             the same with PKG... installed (no recommends, no apt lists)
# Progress goes to stderr; stdout is only the path, so callers can `tar -xf "$(hack/rootfs.sh ...)"`.
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=rootfs; source "$(dirname "$0")/lib.sh"

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ROOTFS_DIR="$CACHE_ROOT/rootfs"
# Part of every tar's identity: a change of how they are made must rebuild them.
ROOTFS_REVISION=1
mkdir -p "$ROOTFS_DIR"

# One build per tar at a time: kind's node image and add-on images may ask for the same base at once.
exec 8>"$ROOTFS_DIR/.lock"
flock 8

need() { command -v "$1" >/dev/null || apt_install "$2"; }

# slim DIR: what no container needs, as the official slim images leave out.
slim() {
  rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb \
    "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/info/* "$1"/var/log/*.log
}

minbase="$ROOTFS_DIR/bookworm-minbase-r$ROOTFS_REVISION.tar"
if [[ ! -f "$minbase" ]]; then
  need debootstrap debootstrap
  log "debootstrap --variant=minbase bookworm from $MIRROR (about a minute, cached in $minbase)"
  tmp="$(mktemp -d "$ROOTFS_DIR/minbase.XXXX")"
  timed "debootstrap" debootstrap --variant=minbase bookworm "$tmp" "$MIRROR" >"$ROOTFS_DIR/debootstrap.log" 2>&1 \
    || { rm -rf "$tmp"; die "debootstrap failed: see $ROOTFS_DIR/debootstrap.log"; }
  slim "$tmp"
  tar -C "$tmp" -cf "$minbase.partial" . && mv "$minbase.partial" "$minbase"
  rm -rf "$tmp"
fi
(( $# )) || { echo "$minbase"; exit 0; }

packages="$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')"
key="$(printf '%s r%s' "$packages" "$ROOTFS_REVISION" | sha256sum | cut -c1-12)"
out="$ROOTFS_DIR/bookworm-$key.tar"
if [[ ! -f "$out" ]]; then
  log "adding ${packages% } to bookworm in a chroot (cached in $out)"
  tmp="$(mktemp -d "$ROOTFS_DIR/chroot.XXXX")"
  unmount() { umount "$tmp/proc" "$tmp/dev" 2>/dev/null || true; }
  trap 'unmount; rm -rf "$tmp"' EXIT
  tar -C "$tmp" -xf "$minbase"
  mount -t proc proc "$tmp/proc"
  mount --bind /dev "$tmp/dev"
  cp /etc/resolv.conf "$tmp/etc/resolv.conf"
  # No service starts inside the chroot (postinst scripts ask invoke-rc.d, which asks this).
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d" && chmod +x "$tmp/usr/sbin/policy-rc.d"
  start=$SECONDS
  {
    chroot "$tmp" apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive chroot "$tmp" apt-get install -y -q --no-install-recommends "$@" &&
      chroot "$tmp" apt-get clean
  } >"$out.log" 2>&1 || { tail -n 20 "$out.log" >&2; die "apt-get install in the chroot failed (log: $out.log)"; }
  log "apt-get install took $((SECONDS - start))s"
  rm -f "$tmp/usr/sbin/policy-rc.d"
  : >"$tmp/etc/resolv.conf"
  unmount
  slim "$tmp"
  tar -C "$tmp" -cf "$out.partial" . && mv "$out.partial" "$out"
fi
echo "$out"
