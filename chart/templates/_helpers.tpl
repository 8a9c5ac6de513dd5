{{/*
Object names follow docs/contract.md: the release name (or fullnameOverride), never release-chart, so
the operator finds `<target>`, `<target>-flags` and `<target>-redis` by the ExpressApp's target name.
*/}}
{{- define "express-sqlize.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 53 | trimSuffix "-" -}}
{{- end -}}

{{- define "express-sqlize.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The app.kubernetes.io/name label: the chart name, or nameOverride. Object names stay the release name
(docs/contract.md); nameOverride only renames the label, and since a Deployment's selector is
immutable it can only be set at install.
*/}}
{{- define "express-sqlize.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels never change for the life of a release (a Deployment's selector is immutable). */}}
{{- define "express-sqlize.selectorLabels" -}}
app.kubernetes.io/name: {{ include "express-sqlize.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object: commonLabels first, the chart's own labels win a clash. */}}
{{- define "express-sqlize.labels" -}}
{{- include "express-sqlize.objectLabels" (dict "root" .) -}}
{{- end -}}

{{/*
The same with an object's own `extra` labels (e.g. a ServiceMonitor's selector labels) between the two.
Called with (dict "root" $ "extra" MAP "component" NAME), extra and component optional.
*/}}
{{- define "express-sqlize.objectLabels" -}}
{{- $root := .root -}}
{{- $own := dict
  "helm.sh/chart" (include "express-sqlize.chart" $root)
  "app.kubernetes.io/version" (include "express-sqlize.imageTag" $root | trunc 63)
  "app.kubernetes.io/managed-by" $root.Release.Service
  "app.kubernetes.io/part-of" "express-sqlize" -}}
{{- with .component }}{{ $_ := set $own "app.kubernetes.io/component" . }}{{ end -}}
{{- $own = merge $own (include "express-sqlize.selectorLabels" $root | fromYaml) -}}
{{- toYaml (merge $own (deepCopy (default dict .extra)) (deepCopy $root.Values.commonLabels)) -}}
{{- end -}}

{{/*
Labels of a pod template: the selector labels (and component) win over `extra` (podLabels), which win
over commonLabels. Called with (dict "root" $ "extra" MAP "component" NAME), component optional.
*/}}
{{- define "express-sqlize.podLabels" -}}
{{- $own := include "express-sqlize.selectorLabels" .root | fromYaml -}}
{{- with .component }}{{ $_ := set $own "app.kubernetes.io/component" . }}{{ end -}}
{{- toYaml (merge $own (deepCopy (default dict .extra)) (deepCopy .root.Values.commonLabels)) -}}
{{- end -}}

{{/*
An `annotations:` block of `extra` over commonAnnotations, or nothing when both are empty. Called
with (dict "root" $ "extra" MAP).
*/}}
{{- define "express-sqlize.annotations" -}}
{{- with merge (deepCopy (default dict .extra)) (deepCopy .root.Values.commonAnnotations) -}}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end -}}
{{- end -}}

{{- define "express-sqlize.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{/* global.imageRegistry (a parent chart's mirror) wins over image.registry, as in Bitnami charts. */}}
{{- define "express-sqlize.image" -}}
{{- $registry := default .Values.image.registry ((.Values.global).imageRegistry) -}}
{{- $repository := ternary (printf "%s/%s" $registry .Values.image.repository) .Values.image.repository (ne $registry "") -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (include "express-sqlize.imageTag" .) -}}
{{- end -}}
{{- end -}}

{{- define "express-sqlize.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "express-sqlize.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "express-sqlize.migrationServiceAccountName" -}}
{{- if .Values.migration.serviceAccount.create -}}
{{- default (printf "%s-migrate" (include "express-sqlize.fullname" .)) .Values.migration.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.migration.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The chart's HPA exists only while the chart owns scaling. */}}
{{- define "express-sqlize.hpaEnabled" -}}
{{- if and .Values.autoscaling.enabled (not .Values.expressApp.governed) -}}true{{- end -}}
{{- end -}}

{{/* The chart's own scaling, recorded for the operator to restore (docs/contract.md). */}}
{{- define "express-sqlize.chartReplicas" -}}
{{- if .Values.autoscaling.enabled -}}{{ .Values.autoscaling.minReplicas }}{{- else -}}{{ .Values.replicaCount }}{{- end -}}
{{- end -}}

{{- define "express-sqlize.redisKeyPrefix" -}}
{{- default (printf "%s:" (include "express-sqlize.fullname" .)) .Values.redis.keyPrefix -}}
{{- end -}}

{{- define "express-sqlize.metricsPortName" -}}
{{- if .Values.metrics.port -}}metrics{{- else -}}http{{- end -}}
{{- end -}}

{{/* Whether the chart renders Secret `<name>` (database and JWT values given inline). */}}
{{- define "express-sqlize.appSecretNeeded" -}}
{{- if or (and .Values.jwt.secret (not .Values.jwt.existingSecret)) (and (not .Values.database.existingSecret) (or .Values.database.password .Values.database.url)) -}}true{{- end -}}
{{- end -}}

{{/*
Whether the JWT signing secret is generated in the cluster: no value and no existingSecret. A hook Job
then creates Secret `<name>-jwt` once, only when it is absent, so every render of the chart is the same
(a random value in a template would change on every `helm template`, and every GitOps sync would log
every user out).
*/}}
{{- define "express-sqlize.jwtGenerated" -}}
{{- if and (not .Values.jwt.secret) (not .Values.jwt.existingSecret) -}}true{{- end -}}
{{- end -}}

{{- define "express-sqlize.jwtGeneratedSecretName" -}}
{{- printf "%s-jwt" (include "express-sqlize.fullname" .) -}}
{{- end -}}

{{/* Names of the environment the chart sets itself; extraEnvVars and config.extra may not repeat them. */}}
{{- define "express-sqlize.reservedEnv" -}}
{{- $names := list "NODE_ENV" "PORT" "LOG_LEVEL" "SERVICE_NAME" "REGION" "ZONE" "TRUST_PROXY" "CORS_ORIGINS" "SHUTDOWN_DELAY_MS" "SHUTDOWN_TIMEOUT_MS" "FEATURE_FLAGS_FILE" "FEATURE_FLAGS_CONFIGMAP" "METRICS_PORT" "DB_DIALECT" "DB_HOST" "DB_PORT" "DB_NAME" "DB_USER" "DB_PASSWORD" "DATABASE_URL" "DB_STORAGE" "JWT_SECRET" "JWT_EXPIRES_IN" "REDIS_HOST" "REDIS_PORT" "REDIS_DB" "REDIS_TLS" "REDIS_KEY_PREFIX" "REDIS_PASSWORD" "POD_NAME" "POD_NAMESPACE" "NODE_NAME" "MIGRATE_ON_BOOT" "METRICS_PREFIX" "ADMIN_EMAIL" "ADMIN_PASSWORD" "REDIS_URL" -}}
{{- $names = append $names "RATE_LIMIT_INSURANCE_DIVISOR" -}}
{{- toJson $names -}}
{{- end -}}

{{/* Every check that JSON schema cannot express, failing with a message that names the value. */}}
{{- define "express-sqlize.validate" -}}
{{- $reserved := include "express-sqlize.reservedEnv" . | fromJsonArray -}}
{{- $seen := dict -}}
{{- range .Values.extraEnvVars -}}
{{- if has .name $reserved -}}
{{- fail (printf "extraEnvVars: %s is set by the chart itself; use the matching chart value instead (see README), since a repeated env name breaks server-side apply" .name) -}}
{{- end -}}
{{- if hasKey $seen .name -}}
{{- fail (printf "extraEnvVars: %s appears twice; each env name may appear once (Helm 4 applies server-side and refuses duplicate keys)" .name) -}}
{{- end -}}
{{- $_ := set $seen .name true -}}
{{- end -}}
{{- range $name, $_ := .Values.config.extra -}}
{{- if has $name $reserved -}}
{{- fail (printf "config.extra: %s is set by the chart itself; use the matching chart value instead (see README)" $name) -}}
{{- end -}}
{{- if hasKey $seen $name -}}
{{- fail (printf "config.extra.%s and extraEnvVars both set %s; keep one" $name $name) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.expressApp.create (not .Values.expressApp.governed) -}}
{{- fail "expressApp.create is true but expressApp.governed is false: an ExpressApp may only govern a release that cedes its fields; set expressApp.governed=true" -}}
{{- end -}}
{{- if and .Values.expressApp.governed .Values.redis.existingSecret (ne .Values.redis.existingSecretPasswordKey "REDIS_PASSWORD") -}}
{{- fail (printf "redis.existingSecretPasswordKey is %q, but a governed release reads redis.existingSecret through envFrom, so the key must be REDIS_PASSWORD" .Values.redis.existingSecretPasswordKey) -}}
{{- end -}}
{{- if and .Values.database.existingSecret (not .Values.database.existingSecretPasswordKey) (not .Values.database.existingSecretUrlKey) -}}
{{- fail "database.existingSecret is set but neither database.existingSecretPasswordKey nor database.existingSecretUrlKey names a key in it" -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- fail (printf "autoscaling.minReplicas (%d) is larger than autoscaling.maxReplicas (%d)" (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (not .Values.autoscaling.targetCPUUtilizationPercentage) (not .Values.autoscaling.targetMemoryUtilizationPercentage) -}}
{{- fail "autoscaling.enabled is true but both targetCPUUtilizationPercentage and targetMemoryUtilizationPercentage are 0; set at least one" -}}
{{- end -}}
{{- if and (include "express-sqlize.jwtGenerated" .) (not .Values.jwt.generate.enabled) -}}
{{- fail "jwt: no signing secret: jwt.generate.enabled is false, so set jwt.existingSecret (a Secret you manage, e.g. from External Secrets or Sealed Secrets) or jwt.secret (at least 32 characters)" -}}
{{- end -}}
{{- if and .Values.jwt.secret (lt (len .Values.jwt.secret) 32) -}}
{{- fail (printf "jwt.secret has %d characters; the service refuses fewer than 32 in production" (len .Values.jwt.secret)) -}}
{{- end -}}
{{- if eq (int .Values.metrics.port) 3000 -}}
{{- fail "metrics.port 3000 is the API port (http); choose another port, or 0 to serve /metrics on the API port" -}}
{{- end -}}
{{- if and (eq .Values.database.dialect "sqlite") (gt (int (include "express-sqlize.chartReplicas" .)) 1) -}}
{{- fail "database.dialect=sqlite keeps data inside one pod; set replicaCount=1 and autoscaling.enabled=false (or use PostgreSQL)" -}}
{{- end -}}
{{- end -}}

{{/* envFrom entries of extraEnvVarsCM and extraEnvVarsSecret (app and migration containers). */}}
{{- define "express-sqlize.extraEnvFrom" -}}
{{- with .Values.extraEnvVarsCM }}
- configMapRef:
    name: {{ tpl . $ }}
{{- end }}
{{- with .Values.extraEnvVarsSecret }}
- secretRef:
    name: {{ tpl . $ }}
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by the Deployment, the migration Job and the test pod. */}}
{{- define "express-sqlize.podSecurity" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end -}}

{{/*
Secret env of the service (database, JWT), all via secretKeyRef. Called with
(dict "root" $ "secretName" NAME): NAME is the chart-rendered Secret holding the values not taken
from an existingSecret (the release's Secret, or the migration hook's own Secret).
*/}}
{{- define "express-sqlize.secretEnv" -}}
{{- $root := .root -}}
{{- $secretName := .secretName -}}
{{- $db := $root.Values.database -}}
{{- if $db.existingSecret }}
{{- if $db.existingSecretUrlKey }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $db.existingSecret }}
      key: {{ $db.existingSecretUrlKey }}
{{- end }}
{{- if $db.existingSecretPasswordKey }}
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $db.existingSecret }}
      key: {{ $db.existingSecretPasswordKey }}
{{- end }}
{{- else }}
{{- if $db.url }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: DATABASE_URL
{{- end }}
{{- if $db.password }}
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: DB_PASSWORD
{{- end }}
{{- end }}
{{- with $root.Values.bootstrapAdmin.existingSecret }}
- name: ADMIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $root.Values.bootstrapAdmin.existingSecretPasswordKey }}
{{- end }}
- name: JWT_SECRET
  valueFrom:
    secretKeyRef:
{{- if $root.Values.jwt.existingSecret }}
      name: {{ $root.Values.jwt.existingSecret }}
      key: {{ $root.Values.jwt.existingSecretKey }}
{{- else if $root.Values.jwt.secret }}
      name: {{ $secretName }}
      key: JWT_SECRET
{{- else }}
      name: {{ include "express-sqlize.jwtGeneratedSecretName" $root }}
      key: JWT_SECRET
{{- end }}
{{- end -}}

{{/* Data of a chart-rendered Secret for database and JWT (only what no existingSecret provides). */}}
{{- define "express-sqlize.secretData" -}}
{{- if not .Values.database.existingSecret }}
{{- with .Values.database.url }}
DATABASE_URL: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.database.password }}
DB_PASSWORD: {{ . | b64enc | quote }}
{{- end }}
{{- end }}
{{- if and .Values.jwt.secret (not .Values.jwt.existingSecret) }}
JWT_SECRET: {{ .Values.jwt.secret | b64enc | quote }}
{{- end }}
{{- end -}}

{{/* Non-secret settings of the service as NAME: value (ConfigMap `<name>-config`, and the migration Job). */}}
{{- define "express-sqlize.configData" -}}
NODE_ENV: {{ .Values.config.nodeEnv | quote }}
PORT: "3000"
LOG_LEVEL: {{ .Values.config.logLevel | quote }}
SERVICE_NAME: {{ .Values.config.serviceName | default (include "express-sqlize.fullname" .) | quote }}
{{- with .Values.config.region }}
REGION: {{ . | quote }}
{{- end }}
{{- with .Values.config.zone }}
ZONE: {{ . | quote }}
{{- end }}
TRUST_PROXY: {{ .Values.config.trustProxy | quote }}
{{- /* During a Redis outage each replica limits on its own: divided by the most replicas there can be, the fleet stays within the limits. */}}
RATE_LIMIT_INSURANCE_DIVISOR: {{ ternary .Values.autoscaling.maxReplicas .Values.replicaCount .Values.autoscaling.enabled | quote }}
{{- with .Values.config.corsOrigins }}
CORS_ORIGINS: {{ . | quote }}
{{- end }}
SHUTDOWN_DELAY_MS: {{ mul .Values.shutdown.delaySeconds 1000 | quote }}
SHUTDOWN_TIMEOUT_MS: {{ mul .Values.shutdown.timeoutSeconds 1000 | quote }}
FEATURE_FLAGS_FILE: "/etc/express-sqlize/flags/flags.json"
{{- if .Values.featureFlags.watch }}
FEATURE_FLAGS_CONFIGMAP: {{ printf "%s-flags" (include "express-sqlize.fullname" .) | quote }}
{{- end }}
METRICS_PREFIX: {{ .Values.metrics.prefix | quote }}
{{- if .Values.metrics.port }}
METRICS_PORT: {{ .Values.metrics.port | quote }}
{{- end }}
{{- /* With the hook Job migrating before every install and upgrade, pods need not migrate at boot. */}}
MIGRATE_ON_BOOT: {{ ternary "false" "true" .Values.migration.enabled | quote }}
{{- with .Values.bootstrapAdmin.email }}
ADMIN_EMAIL: {{ . | quote }}
{{- end }}
DB_DIALECT: {{ .Values.database.dialect | quote }}
{{- if eq .Values.database.dialect "sqlite" }}
DB_STORAGE: "/tmp/express-sqlize.sqlite"
{{- else }}
DB_HOST: {{ .Values.database.host | quote }}
DB_PORT: {{ .Values.database.port | quote }}
DB_NAME: {{ .Values.database.name | quote }}
DB_USER: {{ .Values.database.user | quote }}
{{- end }}
JWT_EXPIRES_IN: {{ .Values.jwt.expiresIn | quote }}
{{- range $k, $v := .Values.config.extra }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end -}}

{{/* Redis settings as NAME: value (ConfigMap `<name>-redis`). */}}
{{- define "express-sqlize.redisData" -}}
REDIS_HOST: {{ .Values.redis.host | quote }}
REDIS_PORT: {{ .Values.redis.port | quote }}
REDIS_DB: {{ .Values.redis.db | quote }}
REDIS_TLS: {{ .Values.redis.tls | quote }}
REDIS_KEY_PREFIX: {{ include "express-sqlize.redisKeyPrefix" . | quote }}
{{- end -}}

{{- define "express-sqlize.terminationGracePeriodSeconds" -}}
{{- if .Values.shutdown.terminationGracePeriodSeconds -}}
{{- .Values.shutdown.terminationGracePeriodSeconds -}}
{{- else -}}
{{- add (mul .Values.shutdown.delaySeconds 2) .Values.shutdown.timeoutSeconds 5 -}}
{{- end -}}
{{- end -}}

{{- /*
For NOTES.txt: a warning after an existingSecret that the namespace lacks, since the pods cannot start
without it. `lookup` sees nothing under `helm template` or a client-side dry run, hence "when rendered".
Called with (list $ secretName).
*/}}
{{- define "express-sqlize.notes.missingSecret" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- if not (lookup "v1" "Secret" $root.Release.Namespace $name) -}}
{{- printf "\n     WARNING: no Secret %s in namespace %s (when rendered): pods cannot start until it exists" $name $root.Release.Namespace -}}
{{- end -}}
{{- end -}}
