"""The fields of a config dataclass: their one-line docstrings.

A config (``PPOConfig``, ``AgentPPOConfig``, ``SynthesisConfig``, ...) documents each
field with the string literal under it, as CleanRL/tyro configs do; ``field_docs`` reads
them, so ``agentgym train --help`` and the docs come from that one place.
"""

from __future__ import annotations

import ast
import inspect
import textwrap


def field_docs(cls: type) -> dict[str, str]:
    """Field name -> its docstring (the string literal under the field), whitespace folded.

    Fields of dataclass bases come first, as in ``dataclasses.fields``; a field without a
    docstring is absent.
    """
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if "__dataclass_fields__" not in vars(klass):
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        body = tree.body[0].body  # type: ignore[attr-defined]
        for node, after in zip(body, body[1:], strict=False):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = " ".join(after.value.value.split())
    return docs
