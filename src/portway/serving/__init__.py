"""Serving a registered model locally with MLServer (the runtime KServe uses for XGBoost)."""
