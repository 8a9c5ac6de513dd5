#!/usr/bin/env bash
# Starts a real Kubernetes control plane on loopback for tests: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok (simulated Ready nodes; pods become Ready,
# Job pods succeed). State under .local/cluster; admin kubeconfig at .local/cluster/kubeconfig.
#   hack/cluster/up.sh                start whatever is not running (a no-op when all is up)
#   hack/cluster/up.sh etcd kube-apiserver   start only these (used to restart them in tests)
# Ports: ETCD_PORT ETCD_PEER_PORT APISERVER_PORT CONTROLLER_MANAGER_PORT SCHEDULER_PORT KWOK_PORT.
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=cluster; source "$(dirname "$0")/common.sh"

wanted=("$@"); (( ${#wanted[@]} )) || wanted=("${COMPONENTS[@]}")
for c in "${wanted[@]}"; do is_component "$c" || die "unknown component '$c' (known: ${COMPONENTS[*]})"; done

for t in "${wanted[@]}" kubectl; do
  [[ -x "$TOOLS_BIN/$t" ]] || die "$TOOLS_BIN/$t is missing: run 'make tools' first (builds it from its Go module)"
done
command -v openssl >/dev/null || die "openssl is needed for the cluster certificates (apt-get install -y openssl)"
command -v curl >/dev/null || die "curl is needed to probe the apiserver (apt-get install -y curl)"

# ---------------------------------------------------------------- certificates and keys
# sign NAME SUBJECT [SAN]: a key and a CA-signed certificate, valid one year, unless present.
sign() {
  local name="$1" subject="$2" san="${3:-}" ext="$PKI_DIR/$1.ext"
  [[ -f "$PKI_DIR/$name.crt" ]] && return 0
  openssl genrsa -out "$PKI_DIR/$name.key" 2048 2>/dev/null
  openssl req -new -key "$PKI_DIR/$name.key" -subj "$subject" -out "$PKI_DIR/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ -n "$san" ]]; then echo "extendedKeyUsage=serverAuth"; echo "subjectAltName=$san"
    else echo "extendedKeyUsage=clientAuth"; fi
  } >"$ext"
  openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" \
    -CAcreateserial -days 365 -sha256 -extfile "$ext" -out "$PKI_DIR/$name.crt" 2>/dev/null
  rm -f "$PKI_DIR/$name.csr" "$ext"
}

make_pki() {
  mkdir -p "$PKI_DIR"; chmod 700 "$PKI_DIR"
  [[ -f "$PKI_DIR/ca.crt" && -f "$PKI_DIR/sa.pub" && -f "$PKI_DIR/kwok.crt" && -f "$PKI_DIR/front-proxy-client.crt" ]] && return 0
  log "generating the cluster CA, certificates and service-account keys in $PKI_DIR"
  if [[ ! -f "$PKI_DIR/ca.crt" ]]; then
    openssl genrsa -out "$PKI_DIR/ca.key" 2048 2>/dev/null
    openssl req -x509 -new -key "$PKI_DIR/ca.key" -subj "/CN=esp-local-ca" -days 365 -sha256 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -out "$PKI_DIR/ca.crt" 2>/dev/null
  fi
  sign apiserver "/CN=kube-apiserver" \
    "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  sign admin "/O=system:masters/CN=kubernetes-admin"
  sign kube-controller-manager "/CN=system:kube-controller-manager"
  sign kube-scheduler "/CN=system:kube-scheduler"
  # The apiserver's client certificate towards aggregated APIs (metrics-server and the like).
  sign front-proxy-client "/CN=front-proxy-client"
  # kwok writes node and pod status for every simulated node, as kwokctl's own setup does with admin.
  sign kwok "/O=system:masters/CN=kwok"
  if [[ ! -f "$PKI_DIR/sa.pub" ]]; then
    openssl genrsa -out "$PKI_DIR/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
  fi
}

# write_kubeconfig FILE USER: certificates embedded so the file works from any directory.
write_kubeconfig() {
  local file="$1" user="$2"
  cat >"$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: esp-local
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $(base64 -w0 "$PKI_DIR/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$PKI_DIR/$user.crt")
    client-key-data: $(base64 -w0 "$PKI_DIR/$user.key")
contexts:
- name: esp-local
  context: {cluster: esp-local, user: $user}
current-context: esp-local
EOF
  chmod 600 "$file.tmp"; mv "$file.tmp" "$file"
}

# ---------------------------------------------------------------- components
start_component() {
  case "$1" in
    etcd)
      # No fsync: test data is disposable and fsync dominates etcd latency on shared disks.
      start_process etcd --name=esp --data-dir="$CLUSTER_DIR/etcd" \
        --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
        --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster="esp=http://127.0.0.1:$ETCD_PEER_PORT" \
        --unsafe-no-fsync --quota-backend-bytes=$((2 * 1024 * 1024 * 1024)) --log-level=warn
      wait_for "etcd on 127.0.0.1:$ETCD_PORT (log: $LOG_DIR/etcd.log)" 30 \
        curl -fsS --max-time 1 "http://127.0.0.1:$ETCD_PORT/health"
      ;;
    kube-apiserver)
      # The apiserver advertises the default route's address (only published in the kubernetes
      # Service's endpoints). Without a default route it cannot pick one and refuses to start.
      local advertise=()
      if ! awk 'NR > 1 && $2 == "00000000" {found = 1} END {exit !found}' /proc/net/route 2>/dev/null; then
        warn "no default route: advertising 127.0.0.1 (the kubernetes Service gets no endpoints)"
        advertise=(--advertise-address=127.0.0.1 --endpoint-reconciler-type=none)
      fi
      # RBAC on, admission plugins left at the release defaults (no --enable-admission-plugins).
      start_process kube-apiserver --bind-address=127.0.0.1 --secure-port="$APISERVER_PORT" "${advertise[@]}" \
        --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
        --tls-cert-file="$PKI_DIR/apiserver.crt" --tls-private-key-file="$PKI_DIR/apiserver.key" \
        --client-ca-file="$PKI_DIR/ca.crt" --authorization-mode=Node,RBAC --allow-privileged=true \
        --service-account-issuer=https://kubernetes.default.svc.cluster.local \
        --service-account-key-file="$PKI_DIR/sa.pub" --service-account-signing-key-file="$PKI_DIR/sa.key" \
        --service-cluster-ip-range="$SERVICE_CIDR" \
        --requestheader-client-ca-file="$PKI_DIR/ca.crt" --requestheader-allowed-names=front-proxy-client \
        --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
        --requestheader-extra-headers-prefix=X-Remote-Extra- \
        --proxy-client-cert-file="$PKI_DIR/front-proxy-client.crt" --proxy-client-key-file="$PKI_DIR/front-proxy-client.key" \
        --profiling=false --v=1
      wait_for "kube-apiserver /readyz on $APISERVER_URL (log: $LOG_DIR/kube-apiserver.log)" 120 apiserver_ready
      ;;
    kube-controller-manager)
      # All controllers that are on by default: garbage collector, namespace, deployment,
      # replicaset, job, HPA, serviceaccount and its token controller, node lifecycle, ...
      start_process kube-controller-manager --kubeconfig="$CLUSTER_DIR/kube-controller-manager.kubeconfig" \
        --authentication-kubeconfig="$CLUSTER_DIR/kube-controller-manager.kubeconfig" \
        --authorization-kubeconfig="$CLUSTER_DIR/kube-controller-manager.kubeconfig" \
        --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
        --bind-address=127.0.0.1 --secure-port="$CONTROLLER_MANAGER_PORT" --controllers='*' \
        --use-service-account-credentials=true --leader-elect=false \
        --service-account-private-key-file="$PKI_DIR/sa.key" --root-ca-file="$PKI_DIR/ca.crt" \
        --cluster-signing-cert-file="$PKI_DIR/ca.crt" --cluster-signing-key-file="$PKI_DIR/ca.key" \
        --concurrent-gc-syncs=20 --horizontal-pod-autoscaler-sync-period=5s --v=1
      ;;
    kube-scheduler)
      start_process kube-scheduler --kubeconfig="$CLUSTER_DIR/kube-scheduler.kubeconfig" \
        --authentication-kubeconfig="$CLUSTER_DIR/kube-scheduler.kubeconfig" \
        --authorization-kubeconfig="$CLUSTER_DIR/kube-scheduler.kubeconfig" \
        --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
        --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false --v=1
      ;;
    kwok)
      start_process kwok --kubeconfig="$CLUSTER_DIR/kwok.kubeconfig" --config="$CLUSTER_SRC/kwok/kwok.yaml" \
        --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
        --node-lease-duration-seconds=40 --server-address="127.0.0.1:$KWOK_PORT"
      ;;
  esac
}

# The simulated nodes: spread over three zones so topology spread and PDBs have something to do.
apply_nodes() {
  local i manifest=""
  for ((i = 0; i < KWOK_NODES; i++)); do
    manifest+="
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: \"0\"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: kwok-node-$i
    node-role.kubernetes.io/agent: \"\"
    topology.kubernetes.io/zone: zone-$((i % 3))
    type: kwok
status:
  allocatable: {cpu: \"16\", memory: 64Gi, pods: \"110\"}
  capacity: {cpu: \"16\", memory: 64Gi, pods: \"110\"}
  addresses:
  - {type: InternalIP, address: 10.250.0.$((i + 10))}
  - {type: Hostname, address: kwok-node-$i}
"
  done
  kc apply -f - <<<"$manifest" >/dev/null
}

controllers_started() {
  curl -fsSk --max-time 2 "https://127.0.0.1:$CONTROLLER_MANAGER_PORT/healthz" >/dev/null \
    && kc get serviceaccount default --namespace default >/dev/null
}

nodes_ready() {
  local ready
  ready="$(kc get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')"
  (( ready >= 1 ))
}

# ---------------------------------------------------------------- main
start=$SECONDS
to_start=()
for c in "${wanted[@]}"; do
  pid_of "$c" >/dev/null || to_start+=("$c")
done
if (( ${#to_start[@]} == 0 )) && apiserver_ready; then
  log "already running: ${wanted[*]} (nothing to do)"
  echo "export KUBECONFIG=$KUBECONFIG_PATH"
  exit 0
fi

# Report every busy port by name before starting anything.
for c in "${to_start[@]}"; do
  for pv in $(ports_of "$c"); do port_free "${pv%%:*}" "$c (${pv#*:})"; done
done

mkdir -p "$CLUSTER_DIR" "$LOG_DIR" "$PID_DIR"
make_pki
write_kubeconfig "$KUBECONFIG_PATH" admin
for u in kube-controller-manager kube-scheduler kwok; do write_kubeconfig "$CLUSTER_DIR/$u.kubeconfig" "$u"; done

for c in "${to_start[@]}"; do
  start_component "$c"
done
# A component that exits at once (bad flag, port race) is reported with the end of its log.
sleep 1
for c in "${to_start[@]}"; do
  pid_of "$c" >/dev/null || { tail -n 5 "$LOG_DIR/$c.log" >&2; die "$c exited right after starting (log: $LOG_DIR/$c.log)"; }
done

if [[ " ${wanted[*]} " == *" kube-apiserver "* ]] || pid_of kube-apiserver >/dev/null; then
  wait_for "kube-apiserver /readyz on $APISERVER_URL (log: $LOG_DIR/kube-apiserver.log)" 120 apiserver_ready
fi
# kube-controller-manager exits if the apiserver goes away while it is still starting, so "up"
# means its controllers run: it serves /healthz and the serviceaccount controller has acted.
if [[ " ${to_start[*]} " == *" kube-controller-manager "* ]]; then
  wait_for "kube-controller-manager to start its controllers (log: $LOG_DIR/kube-controller-manager.log)" 90 \
    controllers_started
fi
if [[ " ${to_start[*]} " == *" kube-scheduler "* ]]; then
  wait_for "kube-scheduler /healthz (log: $LOG_DIR/kube-scheduler.log)" 60 \
    curl -fsSk --max-time 2 "https://127.0.0.1:$SCHEDULER_PORT/healthz"
fi
if pid_of kwok >/dev/null; then
  apply_nodes
  wait_for "a Ready node (kwok log: $LOG_DIR/kwok.log)" 90 nodes_ready
fi
log "cluster up in $((SECONDS - start))s: $APISERVER_URL, $(kc get nodes --no-headers 2>/dev/null | wc -l) node(s)"
echo "export KUBECONFIG=$KUBECONFIG_PATH"
