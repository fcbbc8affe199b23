"""Deploying a registered model to KServe: the InferenceService from the kserve-inference chart."""
