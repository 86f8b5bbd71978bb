"""Commodity prices: a price source's signed observation, verified and recorded on chain by the verifier;
then the margin of every active loan the new price puts above its threshold is called (issue 13).

The observation is checked by ``domain.warehouse.prices.verify_price_observation`` against the platform CA,
the revoked certificates and the chain's clock, and must be signed by the calling price source itself. The
contract records only a newer observation; sending the same observation again answers with the price as
recorded (nothing is sent twice).
"""

from __future__ import annotations

from functools import partial

from sqlmodel import Session, col, select

from api.errors import ApiError
from api.models import Participant
from api.schemas.warehouse import PriceOut
from api.services.participants import revocation_check
from api.services.txerrors import on_chain
from api.state import AppState
from chain.contracts import LoanState
from chain.plan import WAREHOUSE_CURRENCY
from domain.maths import margin_callable
from domain.warehouse.errors import WarehouseError
from domain.warehouse.prices import VerifiedPrice, commodity_bytes16, unit_bytes4, verify_price_observation
from readmodel.tables import RmLoan, RmLoanCollateral, RmWarehouseReceipt

#: How far after the latest block's time an observation may be: the block that records it is later still (a
#: block's time is after its parent's and, on a running network, the proposer's clock), and the contract
#: refuses one from after its own block (``StalePrice``, 409).
PRICE_SKEW_S = 30


def verify(state: AppState, session: Session, source: Participant, token: str) -> VerifiedPrice:
    """The verified observation (422 with its ``PRICE_*`` code otherwise), signed by ``source``."""
    try:
        price = verify_price_observation(
            token,
            ca_root=state.ca().certificate,
            revoked=revocation_check(session),
            now=state.chain_now(),
            max_skew_s=PRICE_SKEW_S,
            currency=WAREHOUSE_CURRENCY,
        )
    except WarehouseError as exc:
        raise ApiError(422, exc.code.value, str(exc)) from exc
    if price.source.chain_address.lower() != source.chain_address.lower():
        raise ApiError(
            422, "PRICE_SOURCE_NOT_CALLER", "The observation is signed by another price source than you."
        )
    return price


def record(state: AppState, session: Session, source: Participant, token: str) -> PriceOut:
    """Verify and record a price, then call the margins it breaks (``call_margins``)."""
    price = verify(state, session, source, token)
    chain = state.chain()
    wh = chain.platform.warehouse
    commodity, unit = commodity_bytes16(price.commodity), unit_bytes4(price.unit)
    recorded = wh.price(commodity, unit)
    if recorded != (price.per_thousand, price.observed_at):
        receipt = on_chain(
            lambda: wh.record_price(
                chain.verifier, commodity, unit, price.per_thousand, price.observed_at, price.digest
            )
        )
        block = int(receipt["blockNumber"])
    else:  # the same observation, recorded already (a retry)
        block = chain.w3.eth.block_number
    call_margins(state, session, price.commodity, price.unit)
    return PriceOut(
        commodity=price.commodity,
        unit=price.unit,
        per_thousand=price.per_thousand,
        observed_at=price.observed_at,
        source_hash="0x" + price.digest.hex(),
        block_number=block,
    )


def call_margins(state: AppState, session: Session, commodity: str, unit: str) -> list[int]:
    """Call, from the verifier's account, the margin of every active loan with collateral in ``commodity``
    and ``unit`` whose outstanding is now above its threshold and has no call open; the loans called.

    The candidates come from the read model (loans active when it was last indexed); each is checked on
    the chain before its call is sent, so a stale row sends nothing."""
    state.catch_up()
    loans = session.exec(
        select(RmLoan.loan_id)
        .join(RmLoanCollateral, col(RmLoanCollateral.loan_id) == col(RmLoan.loan_id))
        .join(RmWarehouseReceipt, col(RmWarehouseReceipt.receipt_id) == col(RmLoanCollateral.receipt_id))
        .where(col(RmLoan.state) == "ACTIVE")
        .where(col(RmWarehouseReceipt.commodity) == commodity)
        .where(col(RmWarehouseReceipt.unit) == unit)
        .distinct()
    ).all()
    chain = state.chain()
    wh = chain.platform.warehouse
    called = []
    for loan_id in loans:
        loan = wh.loan(loan_id)
        if loan.state != LoanState.ACTIVE or loan.margin_deadline != 0:
            continue
        value = wh.collateral_value(loan_id)
        if value is None:  # another commodity of its collateral has no price yet
            continue
        if margin_callable(loan.due - loan.repaid, value, loan.margin_call_bps):
            on_chain(partial(wh.call_margin, chain.verifier, loan_id))
            called.append(loan_id)
    return called
