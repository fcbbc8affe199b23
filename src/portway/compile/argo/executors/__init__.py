"""One builder per KFP executor kind: container (container components and Python function components,
python.py tells them apart) and importer."""
