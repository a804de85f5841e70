"""Programme statistics for N generated cases: counting, and rendering the console page.

    .venv/bin/python -m bench.stats [--cases 10000] [--rounds 5]

The cases are CaseRows made by tests.admin.stats.cases.generate_cases (seeded,
so every run counts the same data). Timed, best and median of the rounds:
(a) admin.stats.counting.compute_stats over all cases; (b) the whole /stats page
through the Flask test client, on a console unlocked with a stub vault that
hands out the generated answers and case states (no decryption: reading the
vault is measured by bench.sync). (b) includes (a), the translated view, the
nine SVG charts and the Jinja page. The target is under 2 s for (b).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import admin.stats.case_rows
from admin.console.app import create_console
from admin.stats.counting import compute_stats
from bench.timing import timed
from crypto.keys import ReviewerKey
from tests.admin.stats.cases import StubVault, generate_cases

TARGET_SECONDS = 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    rows = generate_cases(args.cases, seed=2021)
    by_id = {r.report_id: r for r in rows}
    admin.stats.case_rows.case_state_of = lambda _vault, report_id: by_id[report_id].case  # type: ignore[assignment]

    counting = timed(lambda: compute_stats(rows, None, None), args.rounds)
    with tempfile.TemporaryDirectory() as folder:
        app = create_console(Path(folder) / "none.key", Path(folder) / "vault", None)
        unlocked = app.extensions["amanat_console"].keyring.unlock(
            ReviewerKey.generate("bench"), StubVault(rows)
        )
        client = app.test_client()
        with client.session_transaction() as session:
            session["sid"] = unlocked.session_id

        def page() -> None:
            response = client.get("/stats")
            assert response.status_code == 200 and b"<svg" in response.data

        page()  # warm-up: templates compiled, catalogs loaded
        rendering = timed(page, args.rounds)
    for name, times in (("compute_stats", counting), ("/stats page", rendering)):
        print(
            f"{name:<14} {args.cases} cases: best {min(times) * 1000:.0f} ms, "
            f"median {statistics.median(times) * 1000:.0f} ms over {args.rounds}"
        )
    verdict = "meets" if min(rendering) < TARGET_SECONDS else "misses"
    print(f"target: /stats page under {TARGET_SECONDS:.0f} s: {verdict}")
    return 0 if min(rendering) < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
