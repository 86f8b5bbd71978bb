"""Run the gateway's bundle verification (``prepare``) in a fresh process, against a running test stack.

Used to show that verification does not depend on the process's hash seed: the test starts this
worker once per ``PYTHONHASHSEED`` and compares the answers. Reads JSON from stdin:
``{"settings": {...}, "supplier_id": "...", "bodies": {"<name>": {...}, ...}}``; prints, per name, the
violation codes and messages and the debtor's participant id as JSON.
"""

from __future__ import annotations

import json
import sys

from sqlmodel import Session

from api.db import make_engine
from api.models import Participant
from api.schemas.bundles import BundleIn
from api.services.bundles import prepare
from api.settings import Settings
from api.state import AppState


def main() -> None:
    job = json.load(sys.stdin)
    settings = Settings(**job["settings"])
    engine = make_engine(settings)
    state = AppState(settings, engine)
    out = {}
    for name, body in job["bodies"].items():
        with Session(engine) as session:
            supplier = session.get(Participant, job["supplier_id"])
            assert supplier is not None
            p = prepare(state, session, supplier, BundleIn.model_validate(body))
            out[name] = {
                "codes": sorted(v.code for v in p.violations),
                "messages": sorted(v.message for v in p.violations),
                "debtor": p.debtor.id if p.debtor else None,
            }
    engine.dispose()
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
