"""Run every benchmark module (``bench/bench_*.py``), or those named on the command line,
then write bench/results/summary.md (summary.py): every result against the physics ceiling.

    python -m bench                       # everything
    python -m bench vector ppo            # the modules whose names contain these words
    python -m bench --cpu-threads 2,all   # bench_ppo's thread-scaling counts
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

import bench
from bench.summary import write_summary


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="run the modules whose names contain these")
    parser.add_argument(
        "--cpu-threads",
        default="2,all",
        help="torch/env thread counts of bench_ppo's scaling measurement (integers or 'all')",
    )
    args = parser.parse_args(argv)
    os.environ["AGENTGYM_BENCH_CPU_THREADS"] = args.cpu_threads
    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    chosen = [n for n in names if not args.names or any(a in n for a in args.names)]
    if not chosen:
        print(f"no benchmark matches {args.names}; have {names}")
        return 2
    for name in chosen:
        print(f"== {name}", flush=True)
        importlib.import_module(f"bench.{name}").main()
    print(f"wrote {write_summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
