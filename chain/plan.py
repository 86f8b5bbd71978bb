"""The deployment plan: which contracts, in which order, and how they are wired.

Pure Python with no third-party imports, so that both deployment paths read the same plan:
``chain.deploy`` (web3.py, the gateway's environment) and ``scripts/deploy.py`` (brownie, its
own environment). Each step is idempotent: a ``Call`` says how to tell that it is already done.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Participant role numbers, as in ``IParticipantRegistry.Role``.
ROLE_SUPPLIER = 1
ROLE_CORE_ENTERPRISE = 2
ROLE_FINANCIER = 3
ROLE_VERIFIER = 4
ROLE_REGULATOR = 5
ROLE_SYSTEM = 6
ROLE_LOGISTICS = 7
ROLE_PRICE_SOURCE = 8

ZERO_BYTES32 = b"\x00" * 32


@dataclass(frozen=True)
class Ref:
    """The address of a contract deployed earlier in the plan."""

    contract: str


@dataclass(frozen=True)
class Deployer:
    """The address of the deploying account."""


Arg = Ref | Deployer | str | int | bytes | bool


@dataclass(frozen=True)
class Deploy:
    """Deploy the compiled contract ``artifact`` (default: ``contract``) with constructor ``args``, under the
    deployment name ``contract`` (what ``Ref`` and ``Call`` name, and the key of the deployment record): one
    artifact may be deployed more than once under different names (a settlement token per currency)."""

    contract: str
    args: tuple[Arg, ...] = ()
    artifact: str | None = None

    @property
    def source(self) -> str:
        """The name of the compiled contract this step deploys."""
        return self.artifact or self.contract


@dataclass(frozen=True)
class Call:
    """Call ``contract.function(*args)`` unless ``check`` (a view call) already returns ``expect``.

    ``check_index`` picks one value out of a view that returns a tuple.
    """

    contract: str
    function: str
    args: tuple[Arg, ...]
    check: str
    check_args: tuple[Arg, ...]
    expect: Arg | None = None
    expect_not: Arg | None = None
    check_index: int | None = None
    description: str = field(default="")


#: The settlement currencies of a deployment: ISO 4217 code -> its minor unit (the token's decimals).
#: Each gets one ``SettlementToken``, deployed as ``SettlementToken<code>`` (``token_name``).
SETTLEMENT_CURRENCIES: dict[str, int] = {"CNY": 2, "EUR": 2, "USD": 2}

#: The currency warehouse-receipt loans are made and repaid in (``WarehouseReceipts`` takes one token).
WAREHOUSE_CURRENCY = "CNY"


def token_name(currency: str) -> str:
    """The deployment name of the settlement token of ``currency``."""
    return f"SettlementToken{currency}"


def _token(currency: str, decimals: int) -> Deploy:
    args: tuple[Arg, ...] = (
        f"Tokenized Deposit {currency}",
        f"t{currency}",
        currency.encode("ascii"),
        decimals,
        Ref("ParticipantRegistry"),
    )
    return Deploy(token_name(currency), args, artifact="SettlementToken")


DEPLOYS: tuple[Deploy, ...] = (
    Deploy("ParticipantRegistry", (Deployer(),)),
    *(_token(code, decimals) for code, decimals in SETTLEMENT_CURRENCIES.items()),
    Deploy("ReceivableLedger", (Ref("ParticipantRegistry"),)),
    Deploy("GreenLabels", (Ref("ParticipantRegistry"), Ref("ReceivableLedger"))),
    Deploy("DiscountMarket", (Ref("ReceivableLedger"), Ref("ParticipantRegistry"), Ref("GreenLabels"))),
    Deploy(
        "WarehouseReceipts", (Ref("ParticipantRegistry"), Ref(token_name(WAREHOUSE_CURRENCY)), Deployer())
    ),
)

CALLS: tuple[Call, ...] = (
    Call(
        "ParticipantRegistry",
        "onboard",
        (Ref("ReceivableLedger"), ROLE_SYSTEM, ZERO_BYTES32),
        check="participant",
        check_args=(Ref("ReceivableLedger"),),
        check_index=1,
        expect_not=0,
        description="register the ledger as a system participant (it escrows repayments)",
    ),
    Call(
        "ParticipantRegistry",
        "onboard",
        (Ref("DiscountMarket"), ROLE_SYSTEM, ZERO_BYTES32),
        check="participant",
        check_args=(Ref("DiscountMarket"),),
        check_index=1,
        expect_not=0,
        description="register the discount market as a system participant",
    ),
    Call(
        "ParticipantRegistry",
        "onboard",
        (Ref("WarehouseReceipts"), ROLE_SYSTEM, ZERO_BYTES32),
        check="participant",
        check_args=(Ref("WarehouseReceipts"),),
        check_index=1,
        expect_not=0,
        description="register the warehouse receipts as a system participant (repayments pass through it)",
    ),
    Call(
        "ReceivableLedger",
        "setMarket",
        (Ref("DiscountMarket"),),
        check="market",
        check_args=(),
        expect=Ref("DiscountMarket"),
        description="let the discount market deliver receivables against payment",
    ),
)

#: Deployment names in deployment order.
CONTRACT_NAMES: tuple[str, ...] = tuple(d.contract for d in DEPLOYS)

#: Deployment name -> the compiled contract deployed under it.
ARTIFACT_OF: dict[str, str] = {d.contract: d.source for d in DEPLOYS}
