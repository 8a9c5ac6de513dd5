#!/usr/bin/env bash
# Proves that values.schema.json and the chart's own checks refuse typos and bad values with a
# message that names the value, under Helm 3 and Helm 4. Each case: a name, the message expected
# (a fixed substring of Helm's error), and the --set arguments that must fail. A control case
# proves that the same invocation succeeds on good values, so the test can tell "refused" from "broken".
set -euo pipefail
LOG_TAG=chart-schema; source "$(dirname "$0")/../lib.sh"; source "$HACK_DIR/chart/tools.sh"
need_tools "$HELM3" "$HELM4"

cases=(
  "typo at the top level|additional properties 'replicaCont' not allowed|--set replicaCont=3"
  "typo in a nested key|additional properties 'pullpolicy' not allowed|--set image.pullpolicy=Always"
  "typo in a deep key|additional properties 'enable' not allowed|--set metrics.serviceMonitor.enable=true"
  "unknown pull policy|'/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'|--set image.pullPolicy=Sometimes"
  "string where a number belongs|'/replicaCount': got string, want integer|--set-string replicaCount=two"
  "port out of range|'/redis/port': maximum: got 70,000, want 65,535|--set redis.port=70000"
  "root user id|'/securityContext/runAsUser': minimum: got 0, want 10,001|--set securityContext.runAsUser=0"
  "privilege escalation|'/securityContext/allowPrivilegeEscalation': value must be false|--set securityContext.allowPrivilegeEscalation=true"
  "unknown log level|'/config/logLevel': value must be one of|--set config.logLevel=loud"
  "bad feature flag name|'Bad_Flag' does not match pattern '^[a-z][a-zA-Z0-9_.-]{0,62}$'|--set featureFlags.values.Bad_Flag=true"
  "non-boolean feature flag|'/featureFlags/values/beta': got string, want boolean|--set-string featureFlags.values.beta=yes"
  "bad ingress path type|'/ingress/hosts/0/paths/0/pathType': value must be one of|--set ingress.hosts[0].host=a.example.com,ingress.hosts[0].paths[0].path=/,ingress.hosts[0].paths[0].pathType=Wildcard"
  "malformed image digest|'/image/digest'|--set image.digest=latest"
  "release name override too long|'/fullnameOverride': maxLength|--set fullnameOverride=a-very-long-name-that-is-longer-than-fifty-three-characters-x"
  "env name the chart sets|extraEnvVars: DB_HOST is set by the chart itself|--set extraEnvVars[0].name=DB_HOST,extraEnvVars[0].value=x"
  "env name twice|extraEnvVars: FOO appears twice|--set extraEnvVars[0].name=FOO,extraEnvVars[0].value=a,extraEnvVars[1].name=FOO,extraEnvVars[1].value=b"
  "the former name extraEnv|additional properties 'extraEnv' not allowed|--set extraEnv[0].name=FOO,extraEnv[0].value=a"
  "sidecar without a name|missing property 'name'|--set sidecars[0].image=busybox"
  "volume mount without a path|missing property 'mountPath'|--set extraVolumeMounts[0].name=data"
  "top-level enabled that is not a boolean|'/enabled': got string, want boolean|--set-string enabled=yes"
  "image registry with a scheme|'/global/imageRegistry'|--set global.imageRegistry=https://mirror.example.com"
  "HTTPRoute parentRef typo|additional properties 'sectionname' not allowed|--set httpRoute.parentRefs[0].name=gw,httpRoute.parentRefs[0].sectionname=http"
  "unknown alert|additional properties 'highErrorRat' not allowed|--set metrics.prometheusRule.alerts.highErrorRat.enabled=false"
  "alert threshold that is not a number|'/metrics/prometheusRule/alerts/highErrorRate/threshold': got string, want number|--set-string metrics.prometheusRule.alerts.highErrorRate.threshold=high"
  "migration ServiceAccount typo|additional properties 'annotation' not allowed|--set migration.serviceAccount.annotation.a=b"
  "no JWT secret while generation is off|jwt: no signing secret: jwt.generate.enabled is false|--set jwt.generate.enabled=false"
  "config.extra repeats a chart variable|config.extra: PORT is set by the chart itself|--set-string config.extra.PORT=8080"
  "ExpressApp without governed|expressApp.create is true but expressApp.governed is false|--set expressApp.create=true"
  "governed Redis secret with another key|a governed release reads redis.existingSecret through envFrom, so the key must be REDIS_PASSWORD|--set expressApp.governed=true,redis.host=r,redis.existingSecret=s,redis.existingSecretPasswordKey=pw"
  "HPA minimum above maximum|autoscaling.minReplicas (5) is larger than autoscaling.maxReplicas (3)|--set autoscaling.minReplicas=5,autoscaling.maxReplicas=3"
  "HPA without targets|both targetCPUUtilizationPercentage and targetMemoryUtilizationPercentage are 0|--set autoscaling.targetCPUUtilizationPercentage=0,autoscaling.targetMemoryUtilizationPercentage=0"
  "short JWT secret|'/jwt/secret': minLength: got 5, want 32|--set jwt.secret=short"
  "SQLite with several replicas|database.dialect=sqlite keeps data inside one pod|--set database.dialect=sqlite"
  "metrics port equal to the API port|metrics.port 3000 is the API port|--set metrics.port=3000"
)

passed=0; failed=0
for helm in "$HELM3" "$HELM4"; do
  label="helm $("$helm" version --template '{{.Version}}')"
  # Control: the same command line with good values renders.
  if "$helm" template orders "$CHART_DIR" --set replicaCount=3 >/dev/null 2>&1; then
    passed=$((passed + 1))
  else
    warn "$label: the control case (good values) fails to render"; failed=$((failed + 1))
  fi
  for case in "${cases[@]}"; do
    IFS='|' read -r name expected args <<<"$case"
    read -r -a argv <<<"$args"
    if out="$("$helm" template orders "$CHART_DIR" "${argv[@]}" 2>&1)"; then
      warn "$label: '$name' ($args) was accepted"; failed=$((failed + 1))
    elif [[ "$out" != *"$expected"* ]]; then
      warn "$label: '$name' ($args) failed without the expected message [$expected]:"
      echo "$out" | head -5 >&2; failed=$((failed + 1))
    else
      passed=$((passed + 1))
    fi
  done
done
echo "chart schema tests: $passed passed, $failed failed"
((failed == 0))
