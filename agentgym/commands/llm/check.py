"""Send one short chat to an LLM and print the model, latency and tokens.

The round trip bypasses the cache (it checks the server, not the disk) but goes through
the same retry policy and error messages as every run: a bad key, an unknown model or a
wrong URL is named. Exit status 0 when the model answered, 1 otherwise."""

from __future__ import annotations

import argparse

HELP = "one round trip to an LLM: model, latency, tokens"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--llm",
        default=None,
        help="LLM spec, e.g. openai:gpt-4o-mini or openai:MODEL@http://127.0.0.1:8011/v1 "
        "(default: $AGENTGYM_LLM)",
    )
    parser.add_argument(
        "--prompt", default="Reply with the single word: ready.", help="the user message to send"
    )
    parser.add_argument("--max-tokens", type=int, default=16, help="most tokens to generate")
    parser.add_argument("--attempts", type=int, default=3, help="attempts on transient faults")
    parser.add_argument(
        "--json",
        action="store_true",
        help='print the result as one JSON object, a failure too ({"ok": false, "message": ...})',
    )


def run(args: argparse.Namespace) -> int:
    import json
    import time

    from rich.console import Console

    from agentgym.llm import LLMError, LLMSpecError, RetryPolicy, make_backend, parse_spec
    from agentgym.llm.client import LLMClient

    console = Console(soft_wrap=True)
    try:
        spec = parse_spec(args.llm)
        backend = make_backend(spec)
        client = LLMClient(
            backend, cache=None, retry=RetryPolicy(max_attempts=args.attempts), checks=()
        )
        start = time.perf_counter()
        [reply] = client.chat(
            [{"role": "user", "content": args.prompt}], temperature=0.0, max_tokens=args.max_tokens
        )
        latency = time.perf_counter() - start
    except (LLMError, LLMSpecError) as err:
        if args.json:  # a script reading --json output must get JSON on failure too
            failure = {
                "ok": False,
                "spec": args.llm,
                "error": type(err).__name__,
                "cause": getattr(err, "cause", "") or getattr(err, "kind", ""),
                "message": str(err),
            }
            print(json.dumps(failure))
            return 1
        console.print(f"[red]error:[/red] {err}", highlight=False)
        return 1
    result = {
        "ok": True,
        "spec": str(spec),
        "model": reply.model,
        "latency_s": round(latency, 3),
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "finish_reason": reply.finish_reason,
        "attempts": client.usage.max_attempts_seen,
        "reply": reply.text,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    console.print(f"[green]ok[/green] {spec}", highlight=False)
    for key in (
        "model",
        "latency_s",
        "prompt_tokens",
        "completion_tokens",
        "finish_reason",
        "attempts",
    ):
        console.print(f"  {key:<18} {result[key]}", highlight=False)
    console.print(f"  {'reply':<18} {reply.text.strip()[:200]!r}", highlight=False)
    return 0
