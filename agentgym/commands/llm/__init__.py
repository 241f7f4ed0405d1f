"""LLM clients: check that a model answers (``agentgym llm check --llm SPEC``); pull and
serve the embedded default model (``agentgym llm pull``, ``agentgym llm serve``).

Specs: openai:MODEL[@BASE_URL] (OpenAI, vLLM server, llama.cpp, Ollama), vllm:MODEL,
hf:PATH (a local folder or a .gguf file). $AGENTGYM_LLM holds the default."""

HELP = "LLM clients: check a spec; pull and serve the embedded default model"
