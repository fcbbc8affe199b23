"""What the Argo target and the local engine do with each corpus pipeline TODAY, where that is
not yet "compiles, runs, agrees with KFP". Each entry is asserted as it stands, never skipped:
when support lands the assertion fails and the entry is deleted here (the table only shrinks).

REFUSED: compiling raises a PortwayError; the value is a regex "<error class>: <message>" must match.
DIVERGES: the pipeline compiles but its run on the engine does not (yet) match KFP's result; the
value is a substring of the report (the engine's message, failed pods' log tails, differences).
Recorded 2026-12-01 against the working tree's src/portway/compile/argo and tests/argo_engine.
"""


REFUSED: dict[str, str] = {}


DIVERGES: dict[str, str] = {
    # A runtime value holding {{workflow.name}} is substituted by Argo (KFP passes it verbatim).
    "tricky_strings": "/tasks/echo-text[0]/parameters/Output",
}
