"""The structured designer: the LLM writes a reward *sketch* (named terms over the
TaskSpec's state variables in a small typed expression language), which is checked
against the TaskSpec and compiled into an ordinary reward program.

``sketch`` holds the JSON schema, the parser of replies and the checks (coded
rejections); ``expressions`` the expression language; ``compiler`` the program it
becomes; ``designer`` the ``structured`` entry of ``DESIGNERS`` (prompts, structured
output, reflection, crossover).
"""

from __future__ import annotations

from agentgym.registry import lazy_exports

__all__ = [
    "SKETCH_SCHEMA",
    "Sketch",
    "SketchRejection",
    "StructuredDesigner",
    "Term",
    "check_sketch",
    "compile_sketch",
    "parse_sketch",
    "sketch_of_program",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "SKETCH_SCHEMA": "sketch",
        "Sketch": "sketch",
        "SketchRejection": "sketch",
        "Term": "sketch",
        "check_sketch": "sketch",
        "parse_sketch": "sketch",
        "compile_sketch": "compiler",
        "sketch_of_program": "compiler",
        "StructuredDesigner": "designer",
    },
)
