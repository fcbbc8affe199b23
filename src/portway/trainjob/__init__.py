"""Distributed train as a Kubeflow Trainer v2 `TrainJob` (runtime `xgboost-distributed`).

    render.py   the TrainJob object of a train step (numNodes, resources, GPU placement, labels)
    argo.py     the Argo `resource` template that creates it and waits, and the post-compile pass
    kube.py     the same through the Kubernetes API (the KFP target's train pod)
    local.py    N worker processes on 127.0.0.1 with the same DMLC_* variables (`portway run`)
    launch.py   the train step's body: one process, local workers, or a TrainJob from a pod
"""
