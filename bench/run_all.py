"""Run every benchmark with its defaults (``make bench``).

    .venv/bin/python bench/run_all.py [api_bench options, e.g. --sizes 10000]

Today that is the API benchmark; arguments are passed on to it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import api_bench


def main(argv: list[str] | None = None) -> int:
    return api_bench.main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
