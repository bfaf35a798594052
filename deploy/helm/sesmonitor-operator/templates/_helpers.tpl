{{/*
The chart's name, truncated to 63 characters (the limit of a label value).
*/}}
{{- define "sesmonitor-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name: "<release>-<chart>", or the release name alone when it already contains
the chart's name.
*/}}
{{- define "sesmonitor-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sesmonitor-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sesmonitor-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sesmonitor-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The standard labels of every object (YAML).
*/}}
{{- define "sesmonitor-operator.standardLabels" -}}
{{- dict
  "helm.sh/chart" (include "sesmonitor-operator.chart" .)
  "app.kubernetes.io/name" (include "sesmonitor-operator.name" .)
  "app.kubernetes.io/instance" .Release.Name
  "app.kubernetes.io/version" .Chart.AppVersion
  "app.kubernetes.io/managed-by" .Release.Service
  "app.kubernetes.io/part-of" "sesmonitor" | toYaml }}
{{- end }}

{{/*
The labels of every object: the standard ones, and commonLabels, which may add labels but never
replace a standard one.
*/}}
{{- define "sesmonitor-operator.labels" -}}
{{- merge (fromYaml (include "sesmonitor-operator.standardLabels" .)) (deepCopy (.Values.commonLabels | default dict)) | toYaml }}
{{- end }}

{{/*
"repository:tag", or "repository@digest" when a digest is given (the digest wins).
Argument: dict "image" <map with repository, tag, digest> "default" <map used for empty fields>
"context" $ "what" <the values path, for error messages>.
*/}}
{{- define "sesmonitor-operator.imageRef" -}}
{{- $image := .image }}
{{- $default := .default }}
{{- $repository := $image.repository | default $default.repository }}
{{- if or (contains "@" $repository) (contains ":" (last (splitList "/" $repository))) }}
{{- fail (printf "%s.repository %q carries a tag or digest: put the repository alone there and the rest in %s.tag or %s.digest" .what $repository .what .what) }}
{{- end }}
{{- $digest := $image.digest }}
{{- $tag := $image.tag }}
{{- if not $image.repository }}
{{- $digest = $image.digest | default $default.digest }}
{{- $tag = $image.tag | default $default.tag }}
{{- end }}
{{- if $digest }}
{{- printf "%s@%s" $repository $digest }}
{{- else }}
{{- printf "%s:%s" $repository ($tag | default .context.Chart.AppVersion) }}
{{- end }}
{{- end }}

{{- define "sesmonitor-operator.image" -}}
{{- include "sesmonitor-operator.imageRef" (dict "image" .Values.image "default" .Values.image "context" . "what" "image") }}
{{- end }}

{{/*
The exporters' image: exporter.image, or the operator's own image when exporter.image.repository is empty.
*/}}
{{- define "sesmonitor-operator.exporterImage" -}}
{{- include "sesmonitor-operator.imageRef" (dict "image" .Values.exporter.image "default" .Values.image "context" . "what" "exporter.image") }}
{{- end }}

{{- define "sesmonitor-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sesmonitor-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
What the operator does in a namespace it watches, and nothing more. Shared by the ClusterRole (all
namespaces) and the per-namespace Roles (watchNamespaces).
*/}}
{{- define "sesmonitor-operator.namespacedRules" -}}
# kopf lists and watches SesMonitors; each reconcile reads one afresh. patch: kopf's bookkeeping
# annotations (the last handled spec; the progress of a retried handler).
- apiGroups: ["sesmonitor.io"]
  resources: ["sesmonitors"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["sesmonitor.io"]
  resources: ["sesmonitors/status"]
  verbs: ["patch"]
# Children carry an owner reference with blockOwnerDeletion, which clusters running the
# OwnerReferencesPermissionEnforcement admission plugin allow only with this.
- apiGroups: ["sesmonitor.io"]
  resources: ["sesmonitors/finalizers"]
  verbs: ["update"]
# The children: read one, create it when missing, server-side apply it when it differs from what
# was rendered. Never listed, watched or deleted: garbage collection removes them with their owner.
- apiGroups: [""]
  resources: ["configmaps", "services"]
  verbs: ["get", "create", "patch"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "create", "patch"]
- apiGroups: ["monitoring.coreos.com"]
  resources: ["servicemonitors", "prometheusrules"]
  verbs: ["get", "create", "patch"]
# The exporter's pods, read only while its /status cannot be, to say why in the SesMonitor's status
# (ImagePullBackOff, Unschedulable, CrashLoopBackOff and the last exit). Read-only: no watch, no logs,
# no exec, no writes.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list"]
# Events on SesMonitors: rate conditions changing, reconciles failing.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end }}

{{/*
kopf peering: read the peering object and write this replica's heartbeat into its status.
*/}}
{{- define "sesmonitor-operator.peeringRules" -}}
- apiGroups: ["kopf.dev"]
  resources: [{{ . | quote }}]
  verbs: ["get", "list", "watch", "patch"]
{{- end }}

{{/*
The operator's metrics Service; prometheus-operator names the scrape job after it (the `job` label
the operator's alerts select).
*/}}
{{- define "sesmonitor-operator.metricsService" -}}
{{- printf "%s-metrics" (include "sesmonitor-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
