"""Corpus pipelines, written the way KFP's documentation writes them (one concern per module).

No `from __future__ import annotations` in these modules: KFP reads the annotations as types."""
