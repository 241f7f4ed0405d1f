"""Serve the embedded default model on loopback with an OpenAI-compatible API (pulling the
model and the server's runtime first when missing), print the base URL, and run until
Ctrl-C or SIGTERM, when the server is stopped."""

from __future__ import annotations

import argparse

HELP = "serve the embedded default model on 127.0.0.1 (OpenAI-compatible) until Ctrl-C"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)"
    )


def run(args: argparse.Namespace) -> int:
    import signal
    import threading

    from rich.console import Console
    from rich.markup import escape

    from agentgym.commands.llm.pull import PullProgress
    from agentgym.llm.embedded import ChecksumError, start_embedded

    console = Console(soft_wrap=True)
    err = Console(stderr=True, soft_wrap=True)
    if not 0 <= args.port <= 65535:
        err.print(f"[red]error:[/red] --port must be in [0, 65535], got {args.port}")
        return 2
    try:
        with PullProgress(console) as progress:
            server = start_embedded(
                port=args.port,
                on_pull=progress.update,
                on_runtime=lambda step: console.print(f"runtime: {step}"),
                on_reply=lambda tokens, seconds, prompt: console.print(
                    f"reply: {tokens} tokens in {seconds:.1f} s "
                    f"({tokens / max(seconds, 1e-9):.1f} tokens/s, after a {prompt}-token prompt)"
                ),
            )
    except (ChecksumError, RuntimeError, OSError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console.print(f"serving {server.name} at {server.base_url}", highlight=False)
    console.print(f"  AGENTGYM_LLM='{server.spec}'", highlight=False)
    console.print(
        f"  (OPENAI_BASE_URL={server.base_url} works too, with the client's default 120 s "
        "timeout: too short for several samples per request on a busy CPU)",
        highlight=False,
    )
    try:
        while not stop.wait(0.5):
            if server.process is None or server.process.poll() is not None:
                err.print(f"[red]error:[/red] the server exited; log: {server.log_path}")
                return 1
    except KeyboardInterrupt:
        pass  # Ctrl-C ends the server: a normal stop
    finally:
        server.stop()
        console.print("server stopped")
    return 0
