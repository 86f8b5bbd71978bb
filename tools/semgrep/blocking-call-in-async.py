"""Examples for tools/semgrep/blocking-call-in-async.yaml (`make sast` runs `semgrep --test`)."""

import asyncio
from typing import Any

from sqlmodel import Session


async def reads_a_block(state: Any) -> int:
    # ruleid: scf-blocking-call-in-async
    return int(state.w3().eth.block_number)


async def indexes(state: Any) -> None:
    # ruleid: scf-blocking-call-in-async
    state.catch_up()


async def commits(engine: Any, row: Any) -> None:
    # ruleid: scf-blocking-call-in-async
    with Session(engine) as session:
        session.add(row)
        # ruleid: scf-blocking-call-in-async
        session.commit()


async def sends(contract: Any) -> None:
    # ruleid: scf-blocking-call-in-async
    contract.functions.pause().transact()


def sync_route(state: Any) -> int:
    # ok: scf-blocking-call-in-async
    return int(state.chain_now())


def work(state: Any) -> int:
    # ok: scf-blocking-call-in-async
    return int(state.chain_now())


async def hands_it_to_a_thread(state: Any) -> int:
    # ok: scf-blocking-call-in-async
    now = await asyncio.to_thread(work, state)
    # ok: scf-blocking-call-in-async
    return now + await asyncio.to_thread(lambda: int(state.chain_now()))


async def awaits_an_async_client(client: Any) -> Any:
    # ok: scf-blocking-call-in-async
    return await client.eth.get_block("latest")
