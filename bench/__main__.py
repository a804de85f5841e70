"""Run every benchmark: `make bench`, or `python -m bench --quick` for small sizes.

Each prints its figures and compares against its target or a baseline run
at the same time; docs/PERFORMANCE.md records the figures with the commands.
"""

import sys

from bench import envelope, inbox, link, load, slow_clients, stats, sync, upload, vault_save


def main() -> int:
    quick = "--quick" in sys.argv
    runs = [
        ("envelope", envelope.main, ["--mib", "64"] if quick else []),
        (
            "upload",
            upload.main,
            ["--mib", "64", "--pages", "200", "--logins", "3"] if quick else [],
        ),
        ("sync and inbox", sync.main, ["--reports", "100"] if quick else []),
        ("sync over a slow link", link.main, ["--reports", "100"] if quick else []),
        ("inbox and search", inbox.main, ["--reports", "1000"] if quick else []),
        (
            "vault index saves",
            vault_save.main,
            ["--sizes", "1000", "--sync", "2000"] if quick else [],
        ),
        ("statistics", stats.main, ["--cases", "1000", "--rounds", "2"] if quick else []),
        ("slow clients", slow_clients.main, ["--uploads", "10", "--seconds", "5"] if quick else []),
        ("load", load.main, ["--reports", "40"] if quick else []),
    ]
    for name, run, args in runs:
        print(f"\n== {name} ==", flush=True)
        run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
