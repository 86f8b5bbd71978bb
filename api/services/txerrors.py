"""Turning chain failures into API errors: a revert becomes 409/422 with a code, never a bare 500."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from web3.exceptions import TimeExhausted, Web3RPCError

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
    "IncompleteLot",
    "InvalidMaturity",
    "InvalidLoanToValue",
    "InvalidValidity",
    "InvalidDiscount",
    "ZeroHash",
    "BenefitTooLarge",
}


#: The ledger's invoice errors that replaced ``InvalidInvoice(bytes32 reason)`` (issue 9), with the reason
#: code the old error carried. The API answers each exactly as it answered ``InvalidInvoice``: 422
#: ``CHAIN_INVALID_INVOICE``, details ``{"error": "InvalidInvoice", "args": {"reason": <bytes32 code>}}``.
INVALID_INVOICE_REASONS = {
    "ZeroFaceValue": "ZERO_FACE",
    "FaceValueTooLarge": "FACE_TOO_LARGE",
    "DueDateNotAfterIssue": "BAD_DATES",
    "DueDateTooLate": "BAD_DATES",
    "TokenNotContract": "BAD_TOKEN",
    "ZeroFingerprint": "ZERO_FINGERPRINT",
}


def _snake(name: str) -> str:
    """``DuplicateLot`` -> ``DUPLICATE_LOT``; an acronym stays one word: ``ERC20InsufficientBalance`` ->
    ``ERC20_INSUFFICIENT_BALANCE``, ``ECDSAInvalidSignature`` -> ``ECDSA_INVALID_SIGNATURE``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).upper()


def _reported(exc: TransactionReverted) -> tuple[str, dict[str, Any], str]:
    """The error name, arguments and text the API reports: the contract's own, except for an error
    that replaced an older one, which is reported as the older one was."""
    reason = INVALID_INVOICE_REASONS.get(exc.revert.name)
    if reason is None:
        return exc.revert.name, exc.revert.args, str(exc.revert)
    args = {"reason": "0x" + reason.encode().ljust(32, b"\0").hex()}
    return "InvalidInvoice", args, f"InvalidInvoice(reason={args['reason']!r})"


def revert_to_api_error(exc: TransactionReverted) -> ApiError:
    name, args, text = _reported(exc)
    status = 422 if name in UNPROCESSABLE else 409
    return ApiError(
        status,
        f"CHAIN_{_snake(name)}",
        f"The ledger refused the transaction: {text}.",
        {"error": name, "args": args, "tx_hash": exc.tx_hash},
    )


def on_chain(action: Callable[[], T]) -> T:
    """Run ``action`` (which sends transactions); map reverts and an unreachable node to API errors."""
    try:
        return action()
    except TransactionReverted as exc:
        raise revert_to_api_error(exc) from exc
    except (ChainUnavailableError, requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        # the node's URL (in ``exc``) is not repeated: it may carry credentials
        raise ApiError(503, "CHAIN_UNAVAILABLE", "The ledger node does not answer; retry shortly.") from exc
    except Web3RPCError as exc:  # the node refused to take the transaction (its pool): nothing ran
        raise ApiError(
            503,
            "CHAIN_REJECTED",
            "The ledger node did not accept the transaction; retry shortly.",
            str(exc)[:300],
        ) from exc
    except TimeExhausted as exc:
        raise ApiError(
            503,
            "CHAIN_TIMEOUT",
            "The transaction was sent but not mined in time; retry with the same Idempotency-Key to learn"
            f" its outcome ({exc}).",
        ) from exc
