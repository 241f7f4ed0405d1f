"""Helpers for tests, ours and users': real parts at toy size.

- ``openai_server``: a scripted OpenAI-compatible chat server on loopback, so the real
  ``openai`` client is exercised (faults, latency, usage);
- ``tiny_clip``: a random-weight CLIP with a hand-written vocabulary, saved and loaded back
  through ``from_pretrained``;
- ``tiny_lm`` / ``tiny_llama``: tiny causal LMs (word-level for an env's commands, and a
  byte-level BPE Llama with a chat template);
- ``tiny_ppo``: a PPOConfig that trains on CPU in seconds, for smoke tests.

Import the module you need (``from agentgym.testing.openai_server import
ScriptedOpenAIServer``); nothing here is imported by agentgym itself.
"""
