"""Start-up tasks of a gateway against a deployed ledger."""

from __future__ import annotations

import logging
import threading
import time

from sqlmodel import Session

from api.leader import Leadership
from api.services import notifications, readings
from api.settings import Settings
from api.state import NODE_UNREACHABLE, AppState
from chain.contracts import ParticipantStatus
from domain.roles import Role

log = logging.getLogger(__name__)


def ensure_verifier(state: AppState) -> str:
    """Register the gateway's attesting account as the ledger's Verifier if it is not yet."""
    chain = state.chain()
    registry = chain.platform.registry
    record = registry.participant(chain.verifier.address)
    if record.status == ParticipantStatus.NONE:
        registry.onboard(chain.operator, chain.verifier.address, Role.VERIFIER, b"\x00" * 32)
    elif record.role != Role.VERIFIER:
        raise ValueError(f"the verifier account {chain.verifier.address} is registered as {record.role}")
    return chain.verifier.address


def bootstrap(settings: Settings, state: AppState) -> None:
    """Everything a fresh gateway needs once the contracts are deployed."""
    ensure_verifier(state)
    state.ca()  # creates the platform CA on first start
    settings.effective_operator_api_key  # noqa: B018 - generated on first start (local only)


def start_background_indexer(
    state: AppState,
    stop: threading.Event,
    interval: float = 0.2,
    leadership: Leadership | None = None,
) -> threading.Thread:
    """Keep the read model close to the chain's head between requests: one ``run_once`` (after the
    lost-block check) every ``interval`` seconds, a local node's pace. While a background indexer runs,
    here or in another process, reads wait for the read model's cursor to reach their caller's own
    transactions (``AppState.read_after``) instead of indexing themselves.

    Every gateway process runs this loop; only the leader among the processes on one database indexes
    (``api.leader``): each turn the others try to take the leadership over, so the leader's death is
    followed within one ``interval``. The leadership is kept on ``state.leadership`` (``/health`` shows it).
    """
    leadership = leadership or Leadership(state.engine)
    state.leadership = leadership

    def loop() -> None:
        was_leader = False
        next_sweep = 0.0
        try:
            while not stop.is_set():
                try:
                    leads = leadership.try_lead()
                    if leads != was_leader:
                        log.info("background indexer: %s", "leading" if leads else "following")
                        was_leader = leads
                    if leads or leadership.held_elsewhere:  # someone keeps the cursor moving
                        state.background.set()
                    else:
                        state.background.clear()
                    if leads:
                        state.catch_up()
                        next_sweep = after_catch_up(state, next_sweep)
                except NODE_UNREACHABLE as exc:  # the node is down or restarting: an expected state
                    log.warning(
                        "background indexer: the node is unreachable (%s); retrying in %.1fs", exc, interval
                    )
                except Exception:  # anything else is a defect: keep trying, with its traceback
                    log.exception("background indexer: catch-up failed; retrying in %.1fs", interval)
                stop.wait(interval)
        finally:
            state.background.clear()
            leadership.release()

    thread = threading.Thread(target=loop, name="scf-indexer", daemon=True)
    thread.start()
    return thread


def after_catch_up(state: AppState, next_sweep: float) -> float:
    """The leader's chores once the read model is at the chain's head: queue the webhooks of new events
    (``api.services.notifications``), and every ``warehouse_silence_check_seconds`` raise DEVICE_SILENT on
    receipts whose devices fell silent (``api.services.readings.check_silence``). Returns when to sweep
    next (``time.monotonic()``)."""
    notifications.dispatch(state)
    if time.monotonic() < next_sweep:
        return next_sweep
    with Session(state.engine) as session:
        readings.check_silence(state, session)
    notifications.dispatch(state)
    return time.monotonic() + state.settings.warehouse_silence_check_seconds


def stop_background_indexer(stop: threading.Event, thread: threading.Thread, timeout: float = 30.0) -> None:
    """Stop the loop of ``start_background_indexer`` and wait for its current turn to end: a node stopped
    under a turn still running would fail that turn."""
    stop.set()
    thread.join(timeout)
