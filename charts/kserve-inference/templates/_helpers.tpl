{{/*
The InferenceService name: nameOverride, else the registry model group.
KServe derives "<name>-predictor" and Knative "<name>-predictor-00001-deployment" from it,
and each must stay a 63-character DNS label, hence the 45-character cap in the schema.
*/}}
{{- define "kserve-inference.name" -}}
{{- default .Values.model.group .Values.nameOverride | trunc 45 | trimSuffix "-" -}}
{{- end -}}

{{- define "kserve-inference.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kserve-inference.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (printf "%s-sa" (include "kserve-inference.name" .)) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Kubernetes' recommended labels plus the registry coordinates of the served model. */}}
{{- define "kserve-inference.labels" -}}
helm.sh/chart: {{ include "kserve-inference.chart" . }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: inference
app.kubernetes.io/part-of: portway
app.kubernetes.io/managed-by: {{ .Release.Service }}
portway.dev/model-group: {{ .Values.model.group | quote }}
{{- with .Values.model.version }}
portway.dev/model-version: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Cross-field rules that a JSON schema cannot say clearly; each fails with what to change. */}}
{{- define "kserve-inference.validate" -}}
{{- $mode := .Values.deploymentMode -}}
{{- $a := .Values.autoscaling -}}
{{- if and (not (kindIs "invalid" .Values.canaryTrafficPercent)) (eq $mode "Standard") -}}
{{- fail (printf "canaryTrafficPercent=%v is set but deploymentMode is Standard: KServe supports canary rollout only in Knative mode. Unset canaryTrafficPercent, or set deploymentMode=Knative (which needs Knative Serving in the cluster)." .Values.canaryTrafficPercent) -}}
{{- end -}}
{{- if gt (int $a.minReplicas) (int $a.maxReplicas) -}}
{{- fail (printf "autoscaling.minReplicas=%v is greater than autoscaling.maxReplicas=%v; set minReplicas <= maxReplicas." $a.minReplicas $a.maxReplicas) -}}
{{- end -}}
{{- $hpaMetric := has $a.scaleMetric (list "cpu" "memory") -}}
{{- if and (eq $mode "Standard") (not $hpaMetric) -}}
{{- fail (printf "autoscaling.scaleMetric=%s needs Knative's autoscaler, but deploymentMode is Standard, which scales with a HorizontalPodAutoscaler on cpu or memory. Set scaleMetric to cpu or memory, or deploymentMode=Knative." $a.scaleMetric) -}}
{{- end -}}
{{- if and $hpaMetric (eq (int $a.minReplicas) 0) -}}
{{- fail (printf "autoscaling.minReplicas=0 with scaleMetric=%s: a HorizontalPodAutoscaler cannot scale to zero. Set minReplicas >= 1, or use deploymentMode=Knative with scaleMetric=concurrency or rps for scale-to-zero." $a.scaleMetric) -}}
{{- end -}}
{{- if and (eq $a.scaleMetric "cpu") (gt (int $a.scaleTarget) 100) -}}
{{- fail (printf "autoscaling.scaleTarget=%v with scaleMetric=cpu is a utilisation percentage; it must be between 1 and 100." $a.scaleTarget) -}}
{{- end -}}
{{- if and .Values.s3.credentialsSecret .Values.serviceAccount.irsaRoleArn -}}
{{- fail "Both s3.credentialsSecret and serviceAccount.irsaRoleArn are set; the predictor reads S3 either with static keys (MinIO) or through an IAM role (EKS). Set only one." -}}
{{- end -}}
{{- if and (not .Values.serviceAccount.create) (or .Values.serviceAccount.irsaRoleArn .Values.s3.credentialsSecret .Values.s3.endpoint) -}}
{{- fail "serviceAccount.create=false, but serviceAccount.irsaRoleArn, s3.credentialsSecret or s3.endpoint is set: those are written onto the service account this chart creates. Set serviceAccount.create=true, or put them on your own service account and unset them here." -}}
{{- end -}}
{{- end -}}
