"""Run every benchmark with its defaults (``make bench``).

    .venv/bin/python bench/run_all.py [api_bench options, e.g. --sizes 10000]

The API benchmark (arguments are passed on to it), then the SLA benchmark, which runs
in its own process because it configures Django for its own database.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from bench import api_bench  # noqa: E402 - needs the path above


def main(argv: list[str] | None = None) -> int:
    status = api_bench.main(sys.argv[1:] if argv is None else argv)
    sla = subprocess.run([sys.executable, str(BENCH / "sla_bench.py")], check=False)
    return status or sla.returncode


if __name__ == "__main__":
    sys.exit(main())
