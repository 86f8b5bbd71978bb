"""A process that takes the indexer's leadership on a database, says so, and holds it until killed."""

from __future__ import annotations

import sys
import time

from sqlalchemy import create_engine

from api.leader import Leadership


def main() -> None:
    leadership = Leadership(create_engine(sys.argv[1]))
    while not leadership.try_lead():
        time.sleep(0.05)
    print("leading", flush=True)
    time.sleep(3600)


if __name__ == "__main__":
    main()
