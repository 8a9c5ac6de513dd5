#!/usr/bin/env bash
# Builds kind's node image on this machine, for where kindest/node cannot be pulled. It does what
# `kind build node-image` does, from parts that are reachable here: `kind build node-image` itself
# fetches etcd, CoreDNS, pause, kindnetd and local-path-provisioner with `ctr content fetch`.
#   1. the root filesystem: Debian bookworm with kind's base packages (hack/rootfs.sh), kind's own
#      base files (systemd units, entrypoint, containerd config) from the kind module pinned in
#      hack/versions.env, containerd and crictl from their Go modules, kubelet/kubeadm/kubectl from
#      the same k8s.io/kubernetes wrapper module as the local control plane, a ptp CNI config;
#   2. the images kubeadm and the kind tier's add-ons run (images.sh: control plane, etcd, CoreDNS,
#      pause, kube-proxy, Traefik, metrics-server, kube-router, the monitoring add-on's Prometheus
#      Operator, config reloader, kube-state-metrics and Prometheus), imported into the node's containerd
#      and pinned, so kubeadm never pulls;
#   3. `docker commit` with kind's entrypoint, into the project's Docker engine (hack/docker-base.sh).
# The image is named by a hash of everything it is made of, so a change of any version or file here
# builds a new one and an unchanged tree reuses the image already in the engine (seconds).
#   hack/cluster/kind/node-image.sh          build unless present; prints the image name
#   hack/cluster/kind/node-image.sh --name   print the name only
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=kind-image; source "$(dirname "$0")/../common.sh"

KIND_SRC="$CLUSTER_SRC/kind"

# Packages of kind's base image (images/base/Dockerfile) that a single-node test cluster uses, plus
# the runc, CNI plugins and ipset that kind builds from source; storage-test packages are left out.
NODE_PACKAGES=(systemd conntrack iptables nftables iproute2 ethtool util-linux mount kmod libseccomp2
  pigz bash ca-certificates curl jq procps runc containernetworking-plugins ipset)

# What goes into the image: the pinned versions and the scripts and files that lay it out.
image_key() {
  cat "$HACK_DIR/versions.env" "$HACK_DIR/rootfs.sh" "$KIND_SRC/node-image.sh" "$KIND_SRC/images.sh" "$KIND_SRC"/node/* \
    | sha256sum | cut -c1-12
}
NODE_IMAGE="esp.local/kind/node:$KUBERNETES_VERSION-$(image_key)"
if [[ "${1:-}" == --name ]]; then echo "$NODE_IMAGE"; exit 0; fi

"$HACK_DIR/docker-base.sh" privileged
# One build at a time: make test starts one in the background, and the kind tier waits for it.
mkdir -p "$CACHE_ROOT/kind"
exec 7>"$CACHE_ROOT/kind/.node-image.lock"
flock -n 7 || { log "another build of the node image is running; waiting for it"; flock 7; }
if docker image inspect "$NODE_IMAGE" >/dev/null 2>&1; then
  log "$NODE_IMAGE is already built"; echo "$NODE_IMAGE"; exit 0
fi

start_all=$SECONDS
log "building $NODE_IMAGE (the parts are cached: a rebuild after a change takes a minute or two)"
# Traefik first, the longest build, and the commands of k8s.io/kubernetes last: in make test the
# control plane's build holds their lock at the start, and these need not wait for it.
"$HACK_DIR/tools.sh" traefik prometheus-operator containerd crictl coredns metrics-server kube-router \
  kube-state-metrics prometheus prometheus-config-reloader etcd \
  kubelet kubeadm kube-proxy kubectl kube-apiserver kube-controller-manager kube-scheduler
kind_module="$(module_dir "sigs.k8s.io/kind@$KIND_VERSION")"
base_files="$kind_module/images/base/files"
[[ -d "$base_files" ]] || die "kind's base image files are missing from $kind_module"

work="$(mktemp -d "${TMPDIR:-/tmp}/esp-kind-node.XXXX")"
build_container=""
cleanup() {
  [[ -z "$build_container" ]] || docker rm -f -v "$build_container" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# 1. The images, saved into one archive for the node's containerd.
images_tar="$work/images.tar"
"$KIND_SRC/images.sh" node "$images_tar"

# 2. The root filesystem.
root="$work/rootfs"; mkdir -p "$root"
tar -C "$root" -xf "$("$HACK_DIR/rootfs.sh" "${NODE_PACKAGES[@]}")"
log "laying out kind's base files and the node's binaries"
install -m 0755 "$base_files"/usr/local/bin/* "$root/usr/local/bin/"
mkdir -p "$root/kind/bin" "$root/etc/containerd" "$root/etc/systemd/system/kubelet.service.d" \
  "$root/etc/sysctl.d" "$root/etc/default" "$root/etc/kubernetes/manifests" "$root/opt/cni/bin" "$root/etc/cni/net.d"
install -m 0755 "$base_files"/kind/bin/* "$root/kind/bin/"
install -m 0644 "$base_files"/etc/crictl.yaml "$root/etc/"
install -m 0644 "$base_files"/etc/default/* "$root/etc/default/"
install -m 0644 "$base_files"/etc/sysctl.d/* "$root/etc/sysctl.d/"
install -m 0644 "$base_files"/etc/systemd/system/*.service "$base_files"/etc/systemd/system/*.slice "$root/etc/systemd/system/"
install -m 0644 "$base_files"/etc/systemd/system/kubelet.service.d/* "$root/etc/systemd/system/kubelet.service.d/"
# kind's containerd config with this machine's needs (see node/containerd-config.patch.sh).
"$KIND_SRC/node/containerd-config.sh" "$base_files/etc/containerd/config.toml" >"$root/etc/containerd/config.toml"
for bin in containerd containerd-shim-runc-v2 ctr; do install -m 0755 "$CACHE_ROOT/containerd-$CONTAINERD_VERSION/$bin" "$root/usr/local/bin/"; done
install -m 0755 "$KIND_BIN/crictl" "$root/usr/local/bin/"
install -m 0755 "$KIND_BIN/kubelet" "$KIND_BIN/kubeadm" "$TOOLS_BIN/kubectl" "$root/usr/bin/"
# Debian installs the CNI plugins in /usr/lib/cni; containerd looks in /opt/cni/bin.
for plugin in ptp host-local loopback portmap bridge; do ln -sf "/usr/lib/cni/$plugin" "$root/opt/cni/bin/$plugin"; done
install -m 0644 "$KIND_SRC/node/10-ptp.conflist" "$root/etc/cni/net.d/"
echo "$KUBERNETES_VERSION" >"$root/kind/version"
# As kind's base image: the OCI spec every pod starts from, with kind's product-uuid hook.
"$root/usr/local/bin/ctr" oci spec \
  | jq '.hooks.createContainer[.hooks.createContainer | length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
  | jq 'del(.process.rlimits)' >"$root/etc/containerd/cri-base.json"
# As kind's base image: systemd as PID 1 with only the units a node needs.
find "$root/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
rm -f "$root"/lib/systemd/system/multi-user.target.wants/* "$root"/etc/systemd/system/*.wants/* \
  "$root"/lib/systemd/system/local-fs.target.wants/* "$root"/lib/systemd/system/sockets.target.wants/*udev* \
  "$root"/lib/systemd/system/sockets.target.wants/*initctl* "$root"/lib/systemd/system/basic.target.wants/*
echo "ReadKMsg=no" >>"$root/etc/systemd/journald.conf"
ln -sf /usr/lib/systemd/systemd "$root/sbin/init"
chroot "$root" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
chroot "$root" systemctl mask systemd-binfmt.service >/dev/null 2>&1

# 3. Into the engine, images imported into its containerd, committed with kind's entrypoint.
base_image="esp.local/kind/node-base:$(basename "$NODE_IMAGE" | cut -d: -f2)"
log "importing the root filesystem as $base_image"
tar -C "$root" -c . | docker import --change 'ENV container=docker' - "$base_image" >/dev/null
rm -rf "$root"
build_container="$(docker run -d --privileged --entrypoint sleep "$base_image" infinity)"
docker cp "$images_tar" "$build_container:/kind/images.tar"
log "importing the images into the node's containerd (pinned, so the kubelet never removes them)"
docker exec "$build_container" bash -euc '
  nohup containerd >/tmp/containerd.log 2>&1 &
  for i in $(seq 1 50); do [[ -S /run/containerd/containerd.sock ]] && ctr version >/dev/null 2>&1 && break; sleep 0.2; done
  ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - </kind/images.tar >/dev/null
  # ctr names the archive itself import-<date>@sha256:...; only the images are of interest.
  ctr --namespace=k8s.io images list -q | grep "^import-" | xargs -r ctr --namespace=k8s.io images rm >/dev/null
  ctr --namespace=k8s.io images list -q | grep -v "^sha256:" | sort >/kind/images
  pkill containerd; while pgrep -x containerd >/dev/null; do sleep 0.2; done
  rm -f /kind/images.tar /tmp/containerd.log'
docker exec "$build_container" cat /kind/images | sed 's/^/  /' >&2
docker commit "$build_container" "$base_image" >/dev/null
# systemd exits on SIGRTMIN+3 (SIGTERM re-executes it); neither import nor commit can set a stop
# signal, a build step without RUN can.
mkdir -p "$work/final"
printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\nENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]\n' "$base_image" >"$work/final/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t "$NODE_IMAGE" "$work/final" >/dev/null 2>"$work/final/build.log" \
  || { cat "$work/final/build.log" >&2; die "docker build of $NODE_IMAGE failed"; }
docker rmi "$base_image" >/dev/null
log "built $NODE_IMAGE in $((SECONDS - start_all))s ($(docker image inspect "$NODE_IMAGE" --format '{{.Size}}' | awk '{printf "%d MB", $1/1e6}'))"
echo "$NODE_IMAGE"
