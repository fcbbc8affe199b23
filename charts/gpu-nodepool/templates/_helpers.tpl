{{/* Name of the NodePool and the EC2NodeClass. */}}
{{- define "gpu-nodepool.name" -}}
{{- default .Release.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gpu-nodepool.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Kubernetes' recommended labels. */}}
{{- define "gpu-nodepool.labels" -}}
helm.sh/chart: {{ include "gpu-nodepool.chart" . }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: gpu-node-pool
app.kubernetes.io/part-of: portway
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The AMI alias: Karpenter resolves <family>@<version> to the NVIDIA variant on GPU instances. */}}
{{- define "gpu-nodepool.amiAlias" -}}
{{- printf "%s@%s" (lower .Values.ami.family) .Values.ami.version -}}
{{- end -}}

{{/* Cross-field rules; each fails with what to change. */}}
{{- define "gpu-nodepool.validate" -}}
{{- if and .Values.role .Values.instanceProfile -}}
{{- fail (printf "Both role (%s) and instanceProfile (%s) are set; an EC2NodeClass takes exactly one. Set role to let Karpenter manage the instance profile, or instanceProfile to use an existing one, and leave the other empty." .Values.role .Values.instanceProfile) -}}
{{- end -}}
{{- if not (or .Values.role .Values.instanceProfile) -}}
{{- fail "Neither role nor instanceProfile is set; an EC2NodeClass needs exactly one. Set role to the nodes' IAM role name (e.g. KarpenterNodeRole-<cluster>), or instanceProfile to an existing instance profile." -}}
{{- end -}}
{{- if and .Values.instanceFamilies .Values.instanceTypes -}}
{{- fail (printf "Both instanceFamilies %v and instanceTypes %v are set; set one of the two (families such as g5, g6, g6e, p4d, p5, or exact types such as g6.2xlarge)." .Values.instanceFamilies .Values.instanceTypes) -}}
{{- end -}}
{{- if not (or .Values.instanceFamilies .Values.instanceTypes) -}}
{{- fail "instanceFamilies and instanceTypes are both empty, so the pool could launch no instance. Set instanceFamilies (e.g. [g5, g6, g6e, p4d, p5]) or instanceTypes (e.g. [g6.2xlarge])." -}}
{{- end -}}
{{- if and .Values.nvidiaDevicePlugin.enabled (eq .Values.ami.family "Bottlerocket") -}}
{{- fail "nvidiaDevicePlugin.enabled=true with ami.family=Bottlerocket: Bottlerocket's NVIDIA AMIs run the NVIDIA device plugin already, and a second one would advertise the same GPUs twice. Set nvidiaDevicePlugin.enabled=false, or use ami.family=AL2023." -}}
{{- end -}}
{{- if and (eq .Values.ami.family "AL2023") (not .Values.nvidiaDevicePlugin.enabled) (not .Values.externalDevicePlugin) -}}
{{- fail "ami.family=AL2023 without a device plugin: the AL2023 NVIDIA AMI has the driver but no Kubernetes device plugin, so no pod could request nvidia.com/gpu. Set nvidiaDevicePlugin.enabled=true (after `helm dependency update`), or externalDevicePlugin=true if the NVIDIA GPU Operator already runs one." -}}
{{- end -}}
{{- end -}}
