"""``python benchmarks/workload``: see :mod:`workload.cli`."""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a folder (python benchmarks/workload): the package is found next to it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workload.cli import main

sys.exit(main())
