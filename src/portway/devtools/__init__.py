"""Developer tooling that runs from a checkout (chart linting); not used by pipelines."""
