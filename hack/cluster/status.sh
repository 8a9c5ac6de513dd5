#!/usr/bin/env bash
# Says which local cluster processes run, whether the apiserver is ready and how many nodes are.
# Exit status 0 when every component runs and /readyz answers, 1 otherwise.
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=cluster; source "$(dirname "$0")/common.sh"

all=0
for c in "${COMPONENTS[@]}"; do
  if pid="$(pid_of "$c")"; then
    printf '  %-24s running  pid %-8s %s\n' "$c" "$pid" "$(ports_of "$c" | sed 's/:[A-Z_]*//g')"
  else
    printf '  %-24s stopped\n' "$c"; all=1
  fi
done
if [[ -f "$PKI_DIR/ca.crt" ]] && apiserver_ready; then
  nodes="$(kc get nodes --no-headers 2>/dev/null || true)"
  printf '  %-24s ready at %s, %s node(s), %s Ready\n' "apiserver" "$APISERVER_URL" \
    "$(grep -c . <<<"$nodes" || true)" "$(grep -c ' Ready ' <<<"$nodes" || true)"
  echo "  export KUBECONFIG=$KUBECONFIG_PATH"
else
  printf '  %-24s not ready\n' "apiserver"; all=1
fi
exit "$all"
