{{- define "registry-ui.name" -}}
{{- default (printf "%s-registry-ui" .Release.Name) .Values.nameOverride | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "registry-ui.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "registry-ui.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "registry-ui.name" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "registry-ui.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "registry-ui.labels" -}}
helm.sh/chart: {{ include "registry-ui.chart" . }}
{{ include "registry-ui.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: registry-ui
app.kubernetes.io/part-of: portway
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* bucket and prefix of registry.uri, for the IAM policy in NOTES.txt */}}
{{- define "registry-ui.bucket" -}}
{{- regexReplaceAll "^s3://([^/]+).*$" .Values.registry.uri "${1}" -}}
{{- end -}}
{{- define "registry-ui.prefix" -}}
{{- regexReplaceAll "^s3://[^/]+/?" .Values.registry.uri "" | trimSuffix "/" -}}
{{- end -}}

{{/* Rules a JSON schema cannot say clearly; each fails with what to change. */}}
{{- define "registry-ui.validate" -}}
{{- if not .Values.registry.uri -}}
{{- fail "registry.uri is required: the registry root the UI reviews, e.g. --set registry.uri=s3://portway-models/registry (the same root `portway run --registry` registers into)." -}}
{{- end -}}
{{- if and .Values.s3.credentialsSecret .Values.serviceAccount.irsaRoleArn -}}
{{- fail "Both s3.credentialsSecret and serviceAccount.irsaRoleArn are set; the UI reads and writes the registry either with static keys (MinIO) or through an IAM role (EKS). Set only one." -}}
{{- end -}}
{{- if and (not .Values.serviceAccount.create) .Values.serviceAccount.irsaRoleArn -}}
{{- fail "serviceAccount.irsaRoleArn is set but serviceAccount.create=false: the role is annotated on the service account this chart creates. Set serviceAccount.create=true, or annotate your own service account and unset irsaRoleArn." -}}
{{- end -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.csrfSecret.existingSecret) -}}
{{- fail (printf "replicaCount=%v needs csrfSecret.existingSecret: each pod otherwise signs its forms' CSRF tokens with its own random secret, and a form served by one pod is refused by another. Create a Secret with a random value and set csrfSecret.existingSecret (and csrfSecret.key), or set replicaCount=1." .Values.replicaCount) -}}
{{- end -}}
{{- if and .Values.networkPolicy.enabled (not .Values.authProxy.podLabels) -}}
{{- fail "networkPolicy.enabled=true but authProxy.podLabels is empty: the policy would let nothing in. Set authProxy.podLabels to the labels of your auth proxy's pods (e.g. app.kubernetes.io/name: oauth2-proxy)." -}}
{{- end -}}
{{- end -}}
