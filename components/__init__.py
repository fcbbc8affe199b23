"""Reusable KFP v2 components: thin wrappers over portway.steps."""
