"""Entry point: `python -m bench [--quick] [--scenarios ...]`."""

from bench.cli import main

raise SystemExit(main())
