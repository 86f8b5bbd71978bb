"""Examples for tools/semgrep/secret-in-log.yaml (`make sast` runs `semgrep --test`)."""

import logging
from typing import Any

log = logging.getLogger(__name__)


def leaks(settings: Any, api_key: str, password: str, token: str) -> None:
    # ruleid: scf-secret-in-log
    log.info("operator key is %s", settings.operator_api_key)
    # ruleid: scf-secret-in-log
    log.debug(f"new participant key {api_key}")
    # ruleid: scf-secret-in-log
    print("password:", password)
    # ruleid: scf-secret-in-log
    logging.getLogger("scf").warning("token %s refused", token)


def fine(address: str, participant_id: str, record: Any, tokenized: Any) -> None:
    # ok: scf-secret-in-log
    log.warning("released request %s of %s", record.key, participant_id)
    # ok: scf-secret-in-log
    print(f"tx {tokenized['tx_hash']}")
    # ok: scf-secret-in-log
    log.info("custodial account %s created for %s", address, participant_id)
    # ok: scf-secret-in-log
    log.warning("the API key is not valid")
    # ok: scf-secret-in-log
    print("operator API key: in data/operator_api_key.secret")
