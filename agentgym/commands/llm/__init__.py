"""LLM clients: check that a model answers (``agentgym llm check --llm SPEC``).

Specs: openai:MODEL[@BASE_URL] (OpenAI, vLLM server, llama.cpp, Ollama), vllm:MODEL,
hf:PATH (a local folder or a .gguf file). $AGENTGYM_LLM holds the default."""

HELP = "LLM clients: check a model spec with one round trip"
