"""Datasets: the bundled default and a seeded synthetic generator."""

from importlib.resources import files

DEFAULT_TARGET = "churned"


def bundled_dataset_path() -> str:
    """Path of the dataset shipped with the package (5,000 rows of synthetic churn data)."""
    return str(files("portway.datasets") / "churn.csv")
