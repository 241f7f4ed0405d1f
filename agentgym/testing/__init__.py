"""Helpers for tests, ours and users': real parts at toy size.

- ``openai_server``: a scripted OpenAI-compatible chat server on loopback, so the real
  ``openai`` client is exercised (faults, latency, usage);
- ``canary``: a loopback TCP server that counts connections and bytes (``CanaryServer``);
- ``tiny``: real models and configs at toy size, built from a config with random weights and
  loaded back through the real loading code: ``build_tiny_clip``, ``build_tiny_lm_for_env``,
  ``build_tiny_llama``, ``tiny_ppo_config``.

Import what you need (``from agentgym.testing.openai_server import ScriptedOpenAIServer``,
``from agentgym.testing.tiny import build_tiny_clip``); nothing here is imported by agentgym itself.
"""
