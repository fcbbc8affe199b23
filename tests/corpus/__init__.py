"""A corpus of ordinary KFP v2 pipelines, and the differential harness that runs each through
kfp.local (KFP's own semantics, the reference) and its compiled Argo workflow through the local
Argo engine, then compares what they did. `index.py` lists every pipeline."""
