"""The demo is the end-to-end test: `scf demo` runs the whole story and exits 0."""

from __future__ import annotations

import subprocess
import sys

from chain.settings import PROJECT_ROOT


def test_scf_demo_runs_the_whole_story() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "cli.scf", "demo"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    out = res.stdout
    for step in ("1. Onboarding", "2. Tokenizing", "3. Endorsement", "4. Maturity", "Summary"):
        assert step in out
    # the forged bundle was refused with its reasons, the real one tokenized
    assert "SIG_INVALID" in out and "SIG_ROLE_MISMATCH" in out
    assert "receivable #1: 3,090.50 EUR" in out
    # every holder redeemed its share and the financier earned the discount
    assert "Fabrikant Metall AB redeemed 1,854.30 EUR" in out
    assert "Hansa Trade Finance redeemed 1,236.20 EUR" in out
    assert "demo finished: every step behaved." in out
