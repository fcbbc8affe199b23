"""`portway ui`: review and approve registered models in a browser.

A small FastAPI app, server-rendered with Jinja2 (autoescaped), over the same registry code the
CLI uses: listing and comparison come from portway.registry.views, decisions go through
ModelRegistry.transition (same rules, race safety, events and webhook). No scripts anywhere:
the pages' Content-Security-Policy has no script source, and a version's report.html is shown
in a sandboxed frame and served with a policy that forbids scripts and every load.
"""
