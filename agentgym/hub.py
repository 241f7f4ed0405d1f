"""The Hugging Face hub kept offline: agentgym never downloads weights at run time.

transformers' ``local_files_only=True`` is not enough: with it, ``from_pretrained`` of a
name missing from the cache still asks the hub for ``adapter_config.json`` (its PEFT
check) and retries for ~30 s before failing (issue #19). huggingface_hub's offline mode
stops every request at once, so a missing model fails in a fraction of a second with our
own message. Every place that loads weights (CLIP encoders, LM policies, the hf LLM
backend) calls ``keep_hub_offline()`` first.
"""

from __future__ import annotations

import os
import sys

OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def keep_hub_offline() -> None:
    """Put huggingface_hub (and transformers, open_clip through it) in offline mode for
    this process: names resolve from the local cache or fail at once, nothing is fetched."""
    for name in OFFLINE_VARIABLES:
        os.environ[name] = "1"
    # huggingface_hub reads the variable once, when it is first imported; when something
    # imported it before us, its module constant is what its requests check.
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = True
