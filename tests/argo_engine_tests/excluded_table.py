"""Conformance files not run through the engine, each with a one-line reason (reviewed by hand)."""

EXCLUDED = {
    "examples/retry-container.yaml":
        "random outcome: fails 2 in 3 per attempt with 10 retries (about 1% of runs fail, in Argo too)",
    "examples/retry-script.yaml":
        "random outcome: fails 2 in 3 per attempt with 10 retries (about 1% of runs fail, in Argo too)",
    "examples/arguments-artifacts.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/artifact-disable-archive.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: flaky)",
    "examples/artifact-passing-explicit-plugin.yaml":
        "artifact driver plugin (only S3 is emulated)",
    "examples/artifactory-artifact.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/artifacts-workflowtemplate.yaml":
        "a WorkflowTemplate, not a Workflow (the engine runs templates of one given as workflow_templates)",
    "examples/buildkit-template.yaml":
        "a WorkflowTemplate, not a Workflow (the engine runs templates of one given as workflow_templates)",
    "examples/ci-output-artifact.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/ci-workflowtemplate.yaml":
        "a WorkflowTemplate, not a Workflow (the engine runs templates of one given as workflow_templates)",
    "examples/ci.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/colored-logs.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: duration)",
    "examples/continue-on-fail.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: expected-failure)",
    "examples/cron-backfill.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/cron-when.yaml":
        "a CronWorkflow, not a Workflow: scheduling is the cron controller's",
    "examples/cron-workflow-multiple-schedules.yaml":
        "a CronWorkflow, not a Workflow: scheduling is the cron controller's",
    "examples/cron-workflow.yaml":
        "a CronWorkflow, not a Workflow: scheduling is the cron controller's",
    "examples/custom-metrics.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: flaky)",
    "examples/daemon-nginx.yaml":
        "daemon step serving HTTP to later steps (daemons and pod networking are not emulated)",
    "examples/daemon-step.yaml":
        "daemon step serving InfluxDB to later steps (daemons and pod networking are not emulated)",
    "examples/daemoned-stateful-set-with-service.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/dag-coinflip.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: duration)",
    "examples/dag-continue-on-fail.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: expected-failure)",
    "examples/dag-daemon-retry-strategy.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: duration)",
    "examples/dag-daemon-task.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: duration)",
    "examples/dag-disable-failFast.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: expected-failure)",
    "examples/dag-inline-clusterworkflowtemplate.yaml":
        "a ClusterWorkflowTemplate, not a Workflow (the engine runs templates of one given as workflow_templates)",
    "examples/dag-inline-cronworkflow.yaml":
        "a CronWorkflow, not a Workflow: scheduling is the cron controller's",
    "examples/dag-inline-workflowtemplate.yaml":
        "a WorkflowTemplate, not a Workflow (the engine runs templates of one given as workflow_templates)",
    "examples/dag-nested.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: flaky)",
    "examples/dag-task-level-timeout.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: expected-failure)",
    "examples/data-transformations.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/exit-handler-dag-level.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: flaky)",
    "examples/exit-handler-slack.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/exit-handlers.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: expected-failure)",
    "examples/fibonacci-seq-conditional-param.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/forever.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: duration)",
    "examples/fun-with-gifs.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/handle-large-output-results.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: flaky)",
    "examples/hdfs-artifact.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/hello-hybrid.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/hello-windows.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/http-hello-world.yaml":
        "HTTP template calling the internet",
    "examples/http-success-condition.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: flaky)",
    "examples/image-pull-secrets.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/influxdb-ci.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: duration)",
    "examples/input-artifact-azure.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/input-artifact-gcs.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/input-artifact-git.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/input-artifact-http.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/input-artifact-oss.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/input-artifact-s3.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/intermediate-parameters.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/k8s-jobs.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/k8s-orchestration.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/k8s-patch-json-pod.yaml":
        "patches its own running Pod object through the Kubernetes API",
    "examples/k8s-patch-json-workflow.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/k8s-patch-merge-pod.yaml":
        "patches its own running Pod object through the Kubernetes API",
    "examples/k8s-patch-pod.yaml":
        "patches its own running Pod object through the Kubernetes API",
    "examples/k8s-resource-log-selector.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/k8s-set-owner-reference.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/k8s-wait-wf.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: flaky)",
    "examples/life-cycle-hooks-wf-level.yaml":
        "its hooks are HTTP templates calling the internet",
    "examples/loops-arbitrary-sequential-steps.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/loops-dag.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/loops-maps.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/loops-param-argument.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/loops-param-result.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: duration)",
    "examples/loops-sequence.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/nested-workflow.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/node-selector.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/output-artifact-azure.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/output-artifact-gcs.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/output-artifact-s3.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/parallelism-limit.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: duration)",
    "examples/parallelism-nested-dag.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: duration)",
    "examples/parallelism-nested-workflow.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: duration)",
    "examples/parallelism-nested.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: duration)",
    "examples/parallelism-template-limit.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/pod-gc-strategy-with-label-selector.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/pod-gc-strategy.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/recursive-for-loop.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: flaky)",
    "examples/resource-claims-template-override.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/resource-claims.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/resource-delete-with-flags.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/resource-flags.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/resubmit.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/retry-backoff.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: duration)",
    "examples/retry-conditional.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/retry-container-to-completion.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: duration)",
    "examples/retry-on-error.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/retry-with-steps.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: flaky)",
    "examples/secrets.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/sidecar-dind.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/sidecar-nginx.yaml":
        "sidecar nginx reached over the pod network with curl (image and networking not emulated)",
    "examples/sidecar.yaml":
        "sidecar InfluxDB server reached over the pod network (image and networking not emulated)",
    "examples/step-level-timeout.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/steps-daemon-retry-strategy.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: duration)",
    "examples/suspend-template-outputs.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/suspend-template.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/synchronization-db-mutex-tmpl-level.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/synchronization-db-mutex-wf-level.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/synchronization-db-tmpl-level.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/synchronization-db-wf-level.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/synchronization-mutex-tmpl-level.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/synchronization-tmpl-level.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/synchronization-wf-level.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/template-defaults.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: expected-failure)",
    "examples/template-on-exit.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/testvolume.yaml":
        "a PersistentVolumeClaim, not a Workflow",
    "examples/timeouts-step.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: expected-failure)",
    "examples/timeouts-workflow.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/variables-showcase.yaml":
        "serves a TCP port with nc for another step (pod networking not emulated)",
    "examples/webhdfs-input-output-artifacts.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/work-avoidance.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/workflow-count-resourcequota.yaml":
        "a ResourceQuota, not a Workflow",
    "examples/workflow-level-executor-plugin.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "examples/workflow-of-workflows.yaml":
        "upstream examples_test.go skips it (workflows.argoproj.io/no-test: environment)",
    "test/e2e/functional/arguments-artifacts.yaml":
        "HTTP artifact fetched from the internet (only S3 is emulated)",
    "test/e2e/functional/artifact-disable-archive.yaml":
        "uploads the image's whole /etc (here thousands of host files; upstream no-test: flaky)",
    "test/e2e/functional/ci-output-artifact.yaml":
        "git artifact cloned from GitHub and a Go toolchain image",
    "test/e2e/functional/ci.yaml":
        "git artifact cloned from GitHub and a Go toolchain image",
    "test/e2e/functional/daemon-nginx.yaml":
        "daemon step serving HTTP to later steps (daemons and pod networking are not emulated)",
    "test/e2e/functional/daemon-step.yaml":
        "daemon step serving InfluxDB to later steps (daemons and pod networking are not emulated)",
    "test/e2e/functional/dag-daemon-task.yaml":
        "daemon task serving InfluxDB to later tasks (daemons and pod networking are not emulated)",
    "test/e2e/functional/dag-empty-param.yaml":
        "TestDAGEmptyParam (functional_test.go:452): same argosay script-output contradiction as loops-empty-param",
    "test/e2e/functional/dag-with-retries.yaml":
        "random outcome: exit $RANDOM%5 with a retry limit",
    "test/e2e/functional/entrypointName-template.yaml":
        "a WorkflowTemplate, not a Workflow: given to the engine as workflow_templates for TestEntrypointName",
    "test/e2e/functional/git-clone-test.yaml":
        "git artifacts cloned from GitHub and a Go toolchain image",
    "test/e2e/functional/global-param-sub-with-artifacts.yaml":
        "HTTP artifact fetched from the internet (only S3 is emulated)",
    "test/e2e/functional/input-artifact-http.yaml":
        "HTTP artifact fetched from the internet (only S3 is emulated)",
    "test/e2e/functional/input-artifact-optional.yaml":
        "HTTP artifact fetched from the internet (only S3 is emulated)",
    "test/e2e/functional/json-argument.yaml":
        "runs the argoexec image's own binary",
    "test/e2e/functional/k8s-jobs.yaml":
        "creates a batch/v1 Job that a real Job controller must run to completion",
    "test/e2e/functional/k8s-orchestration.yaml":
        "creates batch/v1 Jobs that a real Job controller must run to completion",
    "test/e2e/functional/loop-sequence-many-long-pods.yaml":
        "sleeps 600 s per pod",
    "test/e2e/functional/loops-empty-param.yaml":
        "TestLoopEmptyParam (functional_test.go:436) needs argosay's script output to be '[]'; the image's source writes it to the appended script path instead (see standins/argosay)",
    "test/e2e/functional/loops-param-result.yaml":
        "sleeps up to minutes per item (upstream no-test: duration)",
    "test/e2e/functional/output-jqfilter-parameters.yaml":
        "checks its values with the argoexec image's own binary",
    "test/e2e/functional/parallelism-limit.yaml":
        "sleeps per item to show the limit (upstream no-test: duration); parallelism is unit-tested",
    "test/e2e/functional/parallelism-nested.yaml":
        "sleeps per item to show the limit (upstream no-test: duration); parallelism is unit-tested",
    "test/e2e/functional/param-sub-with-artifacts.yaml":
        "HTTP artifact fetched from the internet (only S3 is emulated)",
    "test/e2e/functional/pause-after.yaml":
        "TestPauseAfter (functional_test.go:1393) needs a user to release the debug pause with kubectl exec",
    "test/e2e/functional/pause-before-after.yaml":
        "TestPauseAfterAndBefore (functional_test.go:1403) needs a user to release the debug pauses",
    "test/e2e/functional/pause-before.yaml":
        "TestPauseBefore (functional_test.go:1383) needs a user to release the debug pause with kubectl exec",
    "test/e2e/functional/resource-template.yaml":
        "waits for the status of a Workflow that a real controller runs",
    "test/e2e/functional/retry-container.yaml":
        "random outcome: fails 2 in 3 with 10 retries (upstream example no-test)",
    "test/e2e/functional/retry-script.yaml":
        "random outcome: fails 2 in 3 with 10 retries",
    "test/e2e/functional/retry-with-steps.yaml":
        "random outcome: fails 2 in 3 with 10 retries (upstream no-test: flaky)",
    "test/e2e/functional/script-with-input-art.yaml":
        "HTTP artifact fetched from the internet (only S3 is emulated)",
    "test/e2e/functional/sidecar-dind.yaml":
        "Docker-in-Docker sidecar (needs a Docker engine)",
    "test/e2e/functional/sidecar-nginx.yaml":
        "sidecar nginx reached over the pod network with curl (image and networking not emulated)",
    "test/e2e/functional/sidecar-volumes.yaml":
        "runs argosay's `sh` command, which the argosay image's source does not have",
    "test/e2e/functional/sidecar.yaml":
        "sidecar InfluxDB server reached over the pod network (image and networking not emulated)",
    "test/e2e/functional/stop-terminate-2.yaml":
        "signals_test.go: needs a user to stop/terminate the workflow",
    "test/e2e/functional/stop-terminate-daemon.yaml":
        "signals_test.go: needs a user to stop/terminate the workflow (and a daemon)",
    "test/e2e/functional/stop-terminate.yaml":
        "signals_test.go: needs a user to stop/terminate the workflow",
    "test/e2e/functional/success-event.yaml":
        "TestEventOnWorkflowSuccess (functional_test.go:351) asserts Kubernetes Events, which the engine does not emit",
    "test/e2e/functional/suspend-dag-template.yaml":
        "indefinite suspend resumed by a user",
    "test/e2e/functional/suspend-template.yaml":
        "indefinite suspend resumed by a user",
    "test/e2e/functional/template_level_host_aliases.yaml":
        "resolves a host name through DNS (nslookup) with hostAliases",
    "test/e2e/functional/testvolume.yaml":
        "a PersistentVolumeClaim, not a Workflow",
    "test/e2e/functional/tty.yaml":
        "TestTTY (functional_test.go:1711) needs a terminal attached to the container (tty: true)",
    "test/e2e/functional/workflow-exit-handler-sleep.yaml":
        "TestTerminateWorkflowWhileOnExitHandlerRunning (functional_test.go:1766) needs a user to terminate the workflow",
    "test/e2e/functional/workflow_level_host_aliases.yaml":
        "resolves a host name through DNS (nslookup) with hostAliases",
    "test/e2e/functional/workflow_template_level_host_aliases.yaml":
        "resolves a host name through DNS (nslookup) with hostAliases",
}
