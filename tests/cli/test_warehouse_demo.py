"""`scf demo --story warehouse` walks the warehouse story through the HTTP API and exits 0; when a step
misbehaves it says which and exits 1 (issue 13)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import cli.warehouse_demo
from cli.demo import DemoFailure
from cli.scf import app


def test_the_warehouse_story_runs_every_step() -> None:
    result = CliRunner().invoke(app, ["demo", "--story", "warehouse"])
    out = result.output
    assert result.exit_code == 0, out[-4000:]
    for step in ("1. onboard", "2. goods in", "3. pledge", "4. readings", "5. the price falls", "6. theft"):
        assert step in out
    assert "refused: CHAIN_DUPLICATE_LOT" in out
    # 1,500,000.00 at 6.50 % for 120 days: 1,500,000.00 x 650 x 120 / 3,650,000 = 32,054.79 interest
    assert "due 1,532,054.79 CNY" in out
    assert "loan-to-value 87.55 % > 80 %: margin called" in out
    assert "WEIGHT_BELOW_RECEIPT" in out and "SEAL_OPENED" in out
    assert "the trader repaid 1,532,054.79 CNY" in out
    assert "demo finished: every step behaved." in out


def test_a_misbehaving_step_fails_the_story_with_exit_code_1(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_: cli.warehouse_demo.WarehouseStory) -> None:
        raise DemoFailure("the price drop did not call the margin")

    steps = [(n, broken if n.startswith("5.") else f) for n, f in cli.warehouse_demo.STEPS]
    monkeypatch.setattr(cli.warehouse_demo, "STEPS", steps)
    result = CliRunner().invoke(app, ["demo", "--story", "warehouse"])
    assert result.exit_code == 1
    assert "demo failed: the price drop did not call the margin" in result.output
    assert "6. theft" not in result.output
