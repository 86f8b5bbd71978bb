"""The report and provenance services, paging and CSV, without a chain: exact portfolio yield, the
provenance query's SQL pre-filter, one paging convention, OpenAPI truth about CSV, thin routers."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session, SQLModel, create_engine

import api.models  # noqa: F401  (every table on the metadata)
from api.csvout import csv_response, page_or_csv
from api.deps import MAX_LIMIT, Paging, PagingDep
from api.main import create_app
from api.schemas.reports import PartyRefOut, PortfolioLine
from api.services.provenance import events
from api.settings import Settings
from domain.maths import annual_yield_bps, discount_price, portfolio_yield_bps
from readmodel.tables import RmEvent, RmOffer
from tests.pg import PgCluster, pg_bin

# ------------------------------------------------------------------------------------ portfolio yield


def _old_float_yield(fills: list[tuple[int, int, int]]) -> float:
    """The float computation the portfolio used before (kept here to show where it was wrong)."""
    bought = sum(f for f, _, _ in fills)
    price = sum(p for _, p, _ in fills)
    weighted_days = sum(d * p for _, p, d in fills) / price if price else 0
    yield_bps = (bought - price) / price * 365 / weighted_days * 10_000 if price and weighted_days else 0.0
    return round(yield_bps, 2)


def _reference(fills: list[tuple[int, int, int]]) -> Fraction:
    bought = sum(f for f, _, _ in fills)
    price = sum(p for _, p, _ in fills)
    weighted_days = Fraction(sum(d * p for _, p, d in fills), price)
    return Fraction(bought - price, price) * Fraction(365) / weighted_days * 10_000


def test_portfolio_yield_is_exact_where_the_float_code_was_not() -> None:
    # 40,003 earned on 2,000,000 over a year: exactly 200.015 bp, half to even 200.02
    fills = [(2_040_003, 2_000_000, 365)]
    assert _reference(fills) == Fraction(40_003, 200)
    assert portfolio_yield_bps(fills) == Decimal("200.02")
    assert _old_float_yield(fills) == 200.01  # the float quotient fell just below the half


@pytest.mark.parametrize(
    "fills",
    [
        [(123_620, 122_803, 48)],
        [(50_000, 49_657, 50), (20_000, 19_921, 29)],
        [(10**12 + 7, 10**12 - 3_333_333, 1), (3, 2, 365)],
        [(2_000_001, 2_000_000, 365)],  # 0.005 bp: half to even is 0.00
    ],
)
def test_portfolio_yield_equals_the_fraction_reference_rounded_once(
    fills: list[tuple[int, int, int]],
) -> None:
    exact = _reference(fills) * 100
    assert portfolio_yield_bps(fills) == Decimal(round(exact)) / 100
    assert abs(portfolio_yield_bps(fills) * 100 - Decimal(exact.numerator) / exact.denominator) <= Decimal(
        "0.5"
    )


def test_one_purchase_agrees_with_the_reference_yield_of_domain_maths() -> None:
    due, now = 90 * 86_400 + 5, 0
    price, days = discount_price(1_000_000, 650, due, now)
    exact = annual_yield_bps(price, 1_000_000, days)
    assert portfolio_yield_bps([(1_000_000, price, days)]) == Decimal(round(exact * 100)) / 100


def test_nothing_paid_is_a_zero_yield() -> None:
    assert portfolio_yield_bps([]) == Decimal("0.00")


def test_the_yield_is_a_json_number_with_the_decimal_digits() -> None:
    line = PortfolioLine(
        receivable_id=1,
        debtor=PartyRefOut(address="0x" + "11" * 20),
        currency="EUR",
        bought_minor=2_040_003,
        purchase_price_minor=2_000_000,
        yield_bps=portfolio_yield_bps([(2_040_003, 2_000_000, 365)]),
        holding_minor=0,
        redeemed_minor=0,
        due_date=date(2030, 1, 1),
        overdue=False,
        overdue_exposure_minor=0,
    )
    assert '"yield_bps":200.02' in line.model_dump_json()
    assert json.loads(line.model_dump_json())["yield_bps"] == 200.02
    row = next(csv.DictReader(io.StringIO(bytes(csv_response([line], "p").body).decode())))
    assert row["yield_bps"] == "200.02" and row["debtor"] == "0x" + "11" * 20


# ------------------------------------------------------------------------------------------ provenance


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    if pg_bin() is None:
        pytest.skip("PostgreSQL server binaries not found")
    cluster = PgCluster.start()
    yield cluster.url
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def session(request: pytest.FixtureRequest) -> Iterator[Session]:
    """An empty database of each kind (the provenance query's LIKE must mean the same on both)."""
    url = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgres")
    engine = create_engine(url)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def _event(s: Session, n: int, event: str, **args: object) -> None:
    s.add(
        RmEvent(
            block_number=n,
            block_hash="0x" + "00" * 32,
            block_timestamp=1_700_000_000 + n,
            tx_hash=f"0x{n:064x}",
            tx_index=0,
            log_index=0,
            address="0x" + "22" * 20,
            contract="x",
            event=event,
            args=json.dumps({k: str(v) for k, v in args.items()}, separators=(",", ":")),
        )
    )


def _offer(s: Session, offer_id: int, rid: int) -> None:
    s.add(
        RmOffer(
            offer_id=offer_id,
            receivable_id=rid,
            maker="0x" + "33" * 20,
            max_amount="1",
            rate_bps=1,
            expiry=1,
            made_block=1,
            made_tx="0x" + "00" * 32,
        )
    )


def test_provenance_asks_only_for_this_receivables_events(session: Session) -> None:
    a, b, zero = "0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "00" * 20
    _offer(session, 7, rid=5)
    _offer(session, 8, rid=15)
    _event(session, 1, "InvoiceRegistered", id=5)
    _event(session, 2, "InvoiceRegistered", id=15)  # another receivable whose id ends alike
    _event(session, 3, "TransferSingle", operator=a, **{"from": zero, "to": a}, id=5, value=9)  # a mint
    _event(session, 4, "Endorsed", id=5, debtor=b, amount=9)
    _event(session, 5, "TransferSingle", operator=a, **{"from": a, "to": b}, id=5, value=4)
    _event(session, 6, "TransferSingle", operator=a, **{"from": a, "to": b}, id=55, value=4)
    _event(session, 7, "OfferMade", offerId=7, receivableId=5, maker=b)
    _event(session, 8, "OfferMade", offerId=5, receivableId=15, maker=b)  # offer 5 is not receivable 5
    _event(session, 9, "OfferCancelledBy", offerId=8, maker=b, unfilled=1)  # receivable 15's offer
    _event(session, 10, "OfferCancelledBy", offerId=7, maker=b, unfilled=1)
    _event(session, 11, "Repaid", id=5, debtor=b, amount=1)
    _event(session, 12, "HolderSettled", id=5, holder=a)  # not shown in provenance
    session.commit()
    got = [(e.block_number, e.kind) for e in events(session, 5)]
    assert got == [
        (1, "tokenized"),
        (4, "endorsed"),
        (5, "transfer"),
        (7, "offer"),
        (10, "offer_cancelled"),
        (11, "repayment"),
    ]
    assert [e.kind for e in events(session, 15)] == ["tokenized", "offer", "offer_cancelled"]


# ------------------------------------------------------------------------------------- paging and CSV


def test_one_paging_convention() -> None:
    app = FastAPI()

    @app.get("/rows")
    def rows(paging: PagingDep) -> dict[str, object]:
        return paging.page(list(range(1_000))).model_dump()

    async def get(**params: int) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/rows", params=params)

    def call(**params: int) -> httpx.Response:
        return asyncio.run(get(**params))

    assert call().json() == {"items": list(range(100)), "total": 1000, "limit": 100, "offset": 0}
    page = call(limit=MAX_LIMIT, offset=900).json()
    assert page["items"] == list(range(900, 1000)) and page["limit"] == 500
    assert call(limit=MAX_LIMIT + 1).status_code == 422
    assert call(limit=0).status_code == 422
    assert call(offset=-1).status_code == 422
    assert Paging(limit=2, offset=1).page_of(["b", "c"], total=9).model_dump() == {
        "items": ["b", "c"],
        "total": 9,
        "limit": 2,
        "offset": 1,
    }


def test_csv_has_every_row_json_one_page() -> None:
    line = PartyRefOut(address="0x1", name="A")
    rows = [line] * 3
    assert page_or_csv(rows, Paging(limit=1), "json", "x").items == [line]  # type: ignore[union-attr]
    body = bytes(page_or_csv(rows, Paging(limit=1), "csv", "x").body).decode()  # type: ignore[union-attr]
    assert body.splitlines() == ["address,participant_id,name", "0x1,,A", "0x1,,A", "0x1,,A"]


LIST_PATHS = ["/receivables", "/payables", "/payables/calendar", "/holdings", "/discountable", "/offers"]


def test_the_openapi_document_tells_the_paging_and_the_csv_alternative(tmp_path: Path) -> None:
    spec = create_app(Settings(data_dir=tmp_path)).openapi()
    for path in [*LIST_PATHS, "/portfolio"]:
        get = spec["paths"][path]["get"]
        assert set(get["responses"]["200"]["content"]) == {"application/json", "text/csv"}, path
        params = {p["name"]: p["schema"] for p in get["parameters"]}
        assert params["format"]["enum"] == ["json", "csv"], path
        if path in LIST_PATHS:
            assert (params["limit"]["maximum"], params["limit"]["default"]) == (MAX_LIMIT, 100), path
    assert spec["components"]["schemas"]["PortfolioLine"]["properties"]["yield_bps"]["type"] == "number"
