"""Turning chain failures into API errors: a revert becomes 409/422 with a code, never a bare 500."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import requests
from web3.exceptions import TimeExhausted

from api.errors import ApiError
from chain.client import ChainUnavailableError, TransactionReverted

T = TypeVar("T")

#: Custom errors that mean "the request's input is wrong" (422); every other revert is a
#: conflict with the ledger's current state (409).
UNPROCESSABLE = {
    "ZeroAddress",
    "ZeroAmount",
    "InvalidRole",
    "InvalidInvoice",
    "InvalidRate",
    "InvalidExpiry",
    "AmountTooLarge",
    "ExpiredSignature",
    "InvalidSigner",
    "ECDSAInvalidSignature",
    "ECDSAInvalidSignatureLength",
    "ECDSAInvalidSignatureS",
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def revert_to_api_error(exc: TransactionReverted) -> ApiError:
    name = exc.revert.name
    status = 422 if name in UNPROCESSABLE else 409
    return ApiError(
        status,
        f"CHAIN_{_snake(name)}",
        f"The ledger refused the transaction: {exc.revert}.",
        {"error": name, "args": exc.revert.args, "tx_hash": exc.tx_hash},
    )


def on_chain(action: Callable[[], T]) -> T:
    """Run ``action`` (which sends transactions); map reverts and an unreachable node to API errors."""
    try:
        return action()
    except TransactionReverted as exc:
        raise revert_to_api_error(exc) from exc
    except (ChainUnavailableError, requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise ApiError(503, "CHAIN_UNAVAILABLE", f"The ledger node does not answer: {exc}") from exc
    except TimeExhausted as exc:
        raise ApiError(503, "CHAIN_TIMEOUT", f"No receipt in time: {exc}") from exc
