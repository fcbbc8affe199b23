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
    # A value holding {{workflow.name}} is substituted by Argo (KFP passes it verbatim); Argo has no
    # escape for "{{". The compile warns about it by name (WARNED), `--param` refuses such a value.
    "tricky_strings": "/tasks/echo-text[0]/parameters/Output",
}


# What Argo cannot express, warned about by name at compile time (the rule): each divergence
# above must be one of these, with the text its warning carries.
WARNED: dict[str, str] = {
    "tricky_strings": "the default of pipeline parameter 'text' holds {{inputs.parameters.text}}, {{workflow.name}}, "
                      "which Argo substitutes inside parameter values",
}
