"""Reconciliation: the read model compared, row by row, with the chain's current state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from chain.contracts import Platform
from readmodel.tables import (
    RmCreditGrant,
    RmCreditLine,
    RmGreenLabel,
    RmGreenProgramme,
    RmHolding,
    RmLoan,
    RmLoanCollateral,
    RmOffer,
    RmParticipant,
    RmPrice,
    RmReceivable,
    RmTokenBalance,
    RmWarehouseReceipt,
)
from readmodel.warehouse import code_text


def compare_with_chain(platform: Platform, engine: Engine) -> list[str]:
    """Differences between the read model and the chain's current state (empty when they agree).

    Reads, through the contracts' views, every receivable, holding, offer, credit line, participant
    and settlement-token balance the read model knows, plus the counters (``receivableCount``,
    ``offerCount``, ``totalSupply``) and, per receivable, the sum of stored balances — which catches
    holders the read model would not know. Compare against a chain that is not moving (or at the
    indexer's cursor), otherwise differences are expected.
    """
    diffs: list[str] = []

    def check(what: str, ours: Any, theirs: Any) -> None:
        if ours != theirs:
            diffs.append(f"{what}: read model {ours!r} != chain {theirs!r}")

    ledger, market = platform.ledger, platform.market
    with Session(engine) as s:
        receivables = s.exec(select(RmReceivable).order_by(col(RmReceivable.id))).all()
        count = ledger.receivable_count()
        check("receivableCount", [r.id for r in receivables], list(range(1, count + 1)))
        holdings: dict[int, list[RmHolding]] = {}
        for h in s.exec(select(RmHolding)).all():
            holdings.setdefault(h.receivable_id, []).append(h)
        for r in receivables:
            c = ledger.receivable(r.id)
            w = f"receivable {r.id}"
            check(f"{w} token", r.token, c.token)
            check(f"{w} face_value", int(r.face_value), c.face_value)
            check(f"{w} debtor", r.debtor, c.debtor)
            check(f"{w} creditor", r.creditor, c.creditor)
            check(f"{w} issue_date", r.issue_date, c.issue_date)
            check(f"{w} due_date", r.due_date, c.due_date)
            check(f"{w} status", r.status, c.status.name)
            check(f"{w} disputed", r.disputed, c.disputed)
            check(f"{w} repaid", int(r.repaid), c.repaid)
            check(f"{w} diluted", int(r.diluted), c.diluted)
            check(f"{w} redeemed", int(r.redeemed), c.redeemed)
            check(f"{w} settled_repaid", int(r.settled_repaid), c.settled_repaid)
            check(f"{w} remainder_pool", int(r.remainder_pool), c.remainder_pool)
            check(f"{w} bundle_hash", r.bundle_hash, "0x" + c.bundle_hash.hex())
            check(
                f"{w} fingerprint",
                r.id,
                ledger.receivable_id_by_fingerprint(bytes.fromhex(r.fingerprint[2:])),
            )
            stored_total = 0
            for h in holdings.get(r.id, []):
                hw = f"{w} holder {h.holder}"
                check(f"{hw} balance", int(h.balance), ledger.balance_of(h.holder, r.id))
                check(f"{hw} stored_balance", int(h.stored_balance), ledger.stored_balance_of(h.holder, r.id))
                check(f"{hw} remainder", int(h.rem), ledger.remainder_of(r.id, h.holder))
                check(f"{hw} redeemable", int(h.redeemable), ledger.owed(r.id, h.holder))
                stored_total += int(h.stored_balance)
            # units are constant until settlement: any holder the read model missed shows here
            if c.status.name in ("PENDING", "CONFIRMED"):
                check(f"{w} sum of stored balances", stored_total, c.face_value)
            elif c.status.name == "REJECTED":
                check(f"{w} sum of stored balances", stored_total, 0)

        offers = s.exec(select(RmOffer).order_by(col(RmOffer.offer_id))).all()
        check("offerCount", [o.offer_id for o in offers], list(range(1, int(market.call("offerCount")) + 1)))
        for o in offers:
            co = market.offer(o.offer_id)
            w = f"offer {o.offer_id}"
            check(f"{w} maker", o.maker, co.maker)
            check(f"{w} receivable_id", o.receivable_id, co.receivable_id)
            check(f"{w} max_amount", int(o.max_amount), co.max_amount)
            check(f"{w} rate_bps", o.rate_bps, co.rate_bps)
            check(f"{w} expiry", o.expiry, co.expiry)
            check(f"{w} filled", int(o.filled), co.filled)
            check(f"{w} cancelled", o.cancelled, co.cancelled)

        for line in s.exec(select(RmCreditLine)).all():
            w = f"credit line {line.debtor} in {line.token}"
            check(w, (int(line.credit_limit), int(line.used)), ledger.credit_line(line.debtor, line.token))
            cap = None if line.platform_cap is None else int(line.platform_cap)
            check(
                f"platform limit {line.debtor} in {line.token}",
                (cap, int(line.granted)),
                ledger.platform_limit(line.debtor, line.token),
            )
        for g in s.exec(select(RmCreditGrant)).all():
            check(
                f"credit line of {g.grantor} to {g.debtor} in {g.token}",
                int(g.credit_limit),
                ledger.credit_line_of(g.debtor, g.grantor, g.token),
            )

        for p in s.exec(select(RmParticipant)).all():
            cp = platform.registry.participant(p.address)
            w = f"participant {p.address}"
            check(f"{w} role", p.role, cp.role.chain_code if cp.role is not None else 0)
            check(f"{w} status", p.status, cp.status.name)
            check(f"{w} identity_hash", p.identity_hash, "0x" + cp.identity_hash.hex())

        supply: dict[str, int] = {}
        for b in s.exec(select(RmTokenBalance)).all():
            currency = platform.currency_at(b.token)
            if currency is None:
                diffs.append(f"token balance of {b.holder} in unknown token {b.token}")
                continue
            check(
                f"{currency} balance {b.holder}",
                int(b.balance),
                platform.tokens[currency].balance_of(b.holder),
            )
            supply[currency] = supply.get(currency, 0) + int(b.balance)
        for currency, token in platform.tokens.items():
            check(f"{currency} totalSupply", supply.get(currency, 0), token.total_supply())
        _compare_warehouse(platform, s, check)
        _compare_green(platform, s, check)
    return diffs


def _compare_green(platform: Platform, s: Session, check: Callable[[str, Any, Any], None]) -> None:
    """Every green label and programme of the read model against the ``GreenLabels`` views, and each
    offer's green preference against its stored rate (the rate it prices at is the applied one)."""
    green = platform.green
    for g in s.exec(select(RmGreenLabel).order_by(col(RmGreenLabel.receivable_id))).all():
        c = green.label_of(g.receivable_id)
        w = f"green label {g.receivable_id}"
        check(f"{w} certifier", g.certifier, c.certifier)
        check(
            f"{w} codes",
            (g.catalogue, g.category),
            (code_text("0x" + c.catalogue.hex()), code_text("0x" + c.category.hex())),
        )
        check(
            f"{w} hashes",
            (g.evidence_hash, g.attestation_hash),
            ("0x" + c.evidence_hash.hex(), "0x" + c.attestation_hash.hex()),
        )
        check(
            f"{w} terms",
            (g.valid_until, int(g.benefit_kg), g.withdrawn),
            (c.valid_until, c.benefit_kg, c.withdrawn),
        )
    for p in s.exec(select(RmGreenProgramme)).all():
        check(
            f"green programme {p.financier} -> {p.debtor}",
            p.discount_bps,
            green.programme(p.financier, p.debtor),
        )
    for o in s.exec(select(RmOffer).where(RmOffer.green_discount_bps > 0)).all():
        standard = o.standard_rate_bps or 0
        check(f"offer {o.offer_id} green rate", o.rate_bps, max(0, standard - o.green_discount_bps))


def _compare_warehouse(platform: Platform, s: Session, check: Callable[[str, Any, Any], None]) -> None:
    """Every warehouse receipt, loan (with its collateral) and price of the read model against the
    ``WarehouseReceipts`` views."""
    wh = platform.warehouse
    for r in s.exec(select(RmWarehouseReceipt).order_by(col(RmWarehouseReceipt.receipt_id))).all():
        w = f"warehouse receipt {r.receipt_id}"
        check(f"{w} fingerprint", r.receipt_id, wh.receipt_by_fingerprint(bytes.fromhex(r.fingerprint[2:])))
        c = wh.receipt(r.receipt_id)
        if c is None:
            check(f"{w} surrendered", r.surrendered, True)
            continue
        check(f"{w} surrendered", r.surrendered, False)
        check(f"{w} owner", r.owner, c.owner)
        check(f"{w} warehouse", r.warehouse, c.warehouse)
        check(f"{w} quantity", int(r.quantity), c.quantity)
        check(f"{w} loan_id", r.loan_id or 0, c.loan_id)
        check(f"{w} frozen", r.frozen, c.frozen)
        check(f"{w} open_alerts", r.open_alerts, c.open_alerts)
        check(f"{w} alerts_recorded", r.alerts_recorded, c.alerts_recorded)
    collateral: dict[int, list[int]] = {}
    for row in s.exec(select(RmLoanCollateral).order_by(col(RmLoanCollateral.block_number))).all():
        collateral.setdefault(row.loan_id, []).append(row.receipt_id)
    for loan in s.exec(select(RmLoan).order_by(col(RmLoan.loan_id))).all():
        cl = wh.loan(loan.loan_id)
        w = f"warehouse loan {loan.loan_id}"
        check(f"{w} lender", loan.lender, cl.lender)
        check(f"{w} receipt_id", loan.receipt_id, cl.receipt_id)
        check(f"{w} state", loan.state, cl.state.name)
        check(
            f"{w} terms",
            (int(loan.principal), loan.rate_bps, loan.maturity),
            (cl.principal, cl.rate_bps, cl.maturity),
        )
        check(
            f"{w} limits", (loan.ltv_limit_bps, loan.margin_call_bps), (cl.ltv_limit_bps, cl.margin_call_bps)
        )
        check(f"{w} due, repaid", (int(loan.due), int(loan.repaid)), (cl.due, cl.repaid))
        check(f"{w} margin_deadline", loan.margin_deadline or 0, cl.margin_deadline)
        if loan.state == "ACTIVE":
            check(
                f"{w} collateral",
                sorted(collateral.get(loan.loan_id, [])),
                sorted(wh.collateral(loan.loan_id)),
            )
    for price in s.exec(select(RmPrice)).all():
        check(
            f"price of {price.commodity} in {price.unit}",
            (int(price.per_thousand), price.observed_at),
            wh.price(price.commodity.encode().ljust(16, b"\0"), price.unit.encode().ljust(4, b"\0")),
        )
