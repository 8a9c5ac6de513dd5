{{/* The release's full name: the release name, with the chart name appended unless it contains it. */}}
{{- define "expressapp-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "expressapp-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "expressapp-operator.labels" -}}
{{ include "expressapp-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "expressapp-operator.serviceAccountName" -}}
{{- default (include "expressapp-operator.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/*
The controller's rules, as in manifests/rbac/role.yaml (make test-operator-chart compares them):
informers list and watch; server-side apply is a patch (and a create); status and finalizers are
patches; owned objects are deleted when no longer wanted; Events are created.
*/}}
{{- define "expressapp-operator.rules" -}}
- apiGroups: [platform.sqlize.dev]
  resources: [expressapps]
  verbs: [list, watch, patch]
- apiGroups: [platform.sqlize.dev]
  resources: [expressapps/status]
  verbs: [patch]
- apiGroups: [platform.sqlize.dev]
  resources: [expressapps/finalizers]
  verbs: [update]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [list, watch, patch]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [list, watch, create, patch, delete]
- apiGroups: ['']
  resources: [configmaps]
  verbs: [list, watch, create, patch, delete]
- apiGroups: ['']
  resources: [secrets]
  verbs: [list, watch]
- apiGroups: ['']
  resources: [events]
  verbs: [create]
{{- end -}}

{{/* The one cluster-scoped read: whether a namespace is terminating, so a finalizer never blocks it. */}}
{{- define "expressapp-operator.namespaceRule" -}}
- apiGroups: ['']
  resources: [namespaces]
  verbs: [get]
{{- end -}}
