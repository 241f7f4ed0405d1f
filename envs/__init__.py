"""agentgym.envs: every agentgym env, registered with Gymnasium under ``agentgym/``.

Each family (a subpackage: robotics, text, web, ...) makes its own ``register()`` calls
in its ``__init__``, with lazy ``"module:Class"`` entry points; importing this package
imports every family, so no hand-kept list of families exists.
"""

from __future__ import annotations

import importlib
import pkgutil

NAMESPACE = "agentgym"


def _import_families() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg:
            importlib.import_module(f"{__name__}.{info.name}")


_import_families()
