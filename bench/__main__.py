"""Run every benchmark: `make bench` (or `python -m bench [--quick]`)."""

import sys

from bench import envelope


def main() -> int:
    quick = "--quick" in sys.argv
    envelope.main(["--mib", "64"] if quick else [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
