"""One process of the cross-process nonce test: threads sending from one shared account."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import create_engine

from api.nonces import DbNonceSender
from chain.client import connect


def main() -> None:
    rpc_url, db_url, key, per_thread, threads = (
        sys.argv[1],
        sys.argv[2],
        sys.argv[3],
        int(sys.argv[4]),
        int(sys.argv[5]),
    )
    w3 = connect(rpc_url)
    engine = create_engine(db_url, pool_size=threads + 2)
    sender = DbNonceSender(w3, key, engine)

    def burst(t: int) -> list[int]:
        nonces = []
        for i in range(per_thread):
            receipt = sender.send({"to": sender.address, "value": t * 1000 + i})  # type: ignore[typeddict-item]
            nonces.append(w3.eth.get_transaction(receipt["transactionHash"])["nonce"])
        return nonces

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for nonces in pool.map(burst, range(threads)):
            print(*nonces)


if __name__ == "__main__":
    main()
