#!/usr/bin/env python3
"""Mutation check: plant named faults in the contracts and the verification rules, one at a time, and
require the test suite to kill (fail on) every one of them.

Each mutant is an exact text replacement in one source file. The tool copies the checkout (the files
git knows, tracked or not, plus a link to node_modules) into a temporary folder per mutant, applies
the replacement there, and runs the part of the suite that guards that file. The working tree is
never touched, so the check can run beside other work.

    python tools/mutants.py            # every mutant; exit 1 if any survives
    python tools/mutants.py --list     # the mutants and the suite each one runs
    python tools/mutants.py --only NAME [--only NAME ...]

A mutant whose text no longer appears exactly once in its file is reported as STALE (exit 2): the
code changed and the mutant must be updated, rather than silently passing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
FORGE = ["node_modules/.bin/forge", "test", "--use", "tools/solc", "--offline", "--fail-fast"]
RULES = [PY, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadfile"]

#: The suites a mutant can be killed by (each run from the mutated copy's root).
SUITES: dict[str, list[str]] = {
    "forge": FORGE,
    "rules": [
        *RULES,
        "tests/domain",
        "tests/api/test_consumption.py",
        "tests/api/test_bundles.py",
        "tests/api/test_bundle_integrity.py",
    ],
}


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    old: str
    new: str
    suite: str
    what: str


L = "contracts/ReceivableLedger.sol"
T = "contracts/SettlementToken.sol"
M = "contracts/DiscountMarket.sol"
RP = "domain/rules/parties.py"
RA = "domain/rules/amounts.py"
RD = "domain/rules/dates.py"
RX = "domain/rules/duplicates.py"
N = "domain/documents/numbers.py"
S = "api/services/bundles.py"
C = "api/services/consumption.py"

MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "ledger-receiver-checkpoint-not-set",
        L,
        "if (t.mark != repaid) t.mark = repaid;",
        "(repaid);",
        "forge",
        "a new holder's checkpoint stays at 0: it claims a share of repayments made before it held units",
    ),
    Mutant(
        "ledger-receiver-not-settled",
        L,
        "            if (t.balance != 0) {",
        "            if (false) {",
        "forge",
        "a receiver that already holds units is not settled before more arrive",
    ),
    Mutant(
        "ledger-drop-fingerprint-check",
        L,
        "if (existing != 0) revert DuplicateFingerprint(fingerprint, existing);",
        "",
        "forge",
        "an invoice fingerprint can be registered twice",
    ),
    Mutant(
        "ledger-round-cash-up",
        L,
        "if (face != 0) (cash, rem) = (total / face, total % face);",
        "if (face != 0) (cash, rem) = ((total + face - 1) / face, total % face);",
        "forge",
        "a holder's cash is rounded up instead of down",
    ),
    Mutant(
        "ledger-drop-remainder-pool",
        L,
        "cash += (pool + rem) / face - pool / face;",
        "",
        "forge",
        "remainders are never paid out: the sum redeemed falls short of the amount repaid",
    ),
    Mutant(
        "ledger-skip-credit-check",
        L,
        "if (before + amount > available) "
        "revert CreditLineExceeded(debtor, token, available, before, amount);",
        "",
        "forge",
        "registration does not check the debtor's available credit",
    ),
    Mutant(
        "ledger-rejection-keeps-credit",
        L,
        "emit Rejected(id, debtor, creditor, amount, bySig, _releaseCredit(debtor, r.tokenIndex, amount));",
        "emit Rejected(id, debtor, creditor, amount, bySig, _credit[debtor][r.tokenIndex].used);",
        "forge",
        "a rejected receivable keeps its credit reserved",
    ),
    Mutant(
        "ledger-credit-across-tokens",
        L,
        "uint32 tokenIndex = _tokenIndex[invoice.token]; "
        "// 0: no line was ever set in it, so no credit either",
        "uint32 tokenIndex = 1; // every invoice on the first token's lines",
        "forge",
        "an invoice reserves credit on the lines of another currency",
    ),
    Mutant(
        "ledger-market-replaceable",
        L,
        "if (current != address(0)) revert MarketAlreadySet(current);",
        "",
        "forge",
        "the admin can point the market at another address",
    ),
    Mutant(
        "ledger-admin-moves-units",
        L,
        "if (_msgSender() != _market) revert NotMarket(_msgSender());",
        "if (_msgSender() != _market && !hasRole(DEFAULT_ADMIN_ROLE, _msgSender())) "
        "revert NotMarket(_msgSender());",
        "forge",
        "the ledger admin moves a holder's units without its consent",
    ),
    Mutant(
        "ledger-anyone-sets-credit-lines",
        L,
        "if (_role(grantor) != IParticipantRegistry.Role.Financier) revert NotActiveFinancier(grantor);",
        "",
        "forge",
        "a non-financier (the operator, a supplier) grants credit lines",
    ),
    Mutant(
        "ledger-suspended-debtor-cannot-repay",
        L,
        "(IParticipantRegistry.Role role,) = _registration(caller);",
        "IParticipantRegistry.Role role = _registry.activeRole(caller);",
        "forge",
        "a suspended debtor can no longer repay its debt",
    ),
    Mutant(
        "ledger-endorsement-ignores-bundle",
        L,
        "                r.bundleHash,\n                accept,",
        "                bytes32(0),\n                accept,",
        "forge",
        "the EIP-712 endorsement does not bind the bundle hash",
    ),
    Mutant(
        "market-fills-cancelled-offer",
        M,
        "        if (o.cancelled) revert OfferCancelled(offerId);\n        uint256 expiry = o.expiry;",
        "        uint256 expiry = o.expiry;",
        "forge",
        "the market fills an offer its maker cancelled (no consent)",
    ),
    Mutant(
        "token-mint-without-cap",
        T,
        "if (issued + amount > cap) revert IssuerCapExceeded(financier, cap, issued, amount);",
        "",
        "forge",
        "a financier mints settlement money beyond (or without) its issuer cap",
    ),
    Mutant(
        "rules-drop-duplicate-invoice-check",
        RX,
        "    if any(ctx.is_fingerprint_tokenized(fp) for fp in fingerprints):",
        "    if False:",
        "rules",
        "the gateway does not look for an earlier invoice with the same (normalized) number",
    ),
    Mutant(
        "rules-no-confusable-skeleton",
        N,
        'return unicodedata.normalize("NFD", "".join(UTS39_CONFUSABLES.get(ch, ch) for ch in decomposed))',
        "return decomposed",
        "rules",
        "look-alike invoice numbers (letter O for zero) are not folded together",
    ),
    Mutant(
        "rules-skip-credit-check",
        RA,
        "    if face > ctx.unused_credit_minor:",
        "    if False:",
        "rules",
        "the gateway does not check the debtor's unused credit",
    ),
    Mutant(
        "rules-skip-delivery-consumption",
        C,
        "        if remaining > 0:\n            documents = ",
        "        if False:\n            documents = ",
        "rules",
        "a delivery already financed can be invoiced and financed again",
    ),
    Mutant(
        "rules-skip-order-consumption",
        C,
        "if use.invoiced > open_on_order and use.invoiced <= use.ordered:",
        "if False:",
        "rules",
        "an order line already financed can be financed again",
    ),
    Mutant(
        "rules-party-conflict-ignored",
        RP,
        "        if resolution.conflict:",
        "        if False:",
        "rules",
        "a party carrying two participants' identifiers is resolved to one of them",
    ),
    Mutant(
        "rules-future-invoice-accepted",
        RD,
        "    if inv.issue_date > latest_issue:",
        "    if False:",
        "rules",
        "an invoice dated in the future is accepted",
    ),
    Mutant(
        "rules-matured-invoice-accepted",
        RD,
        "    if inv.due_date <= utc_date(ctx.now):",
        "    if False:",
        "rules",
        "an invoice already due is accepted",
    ),
    Mutant(
        "rules-wall-clock",
        S,
        "            self._now = datetime.fromtimestamp(self.state.chain_now(), UTC)",
        "            self._now = datetime.now(UTC)",
        "rules",
        "the date rules judge by the gateway machine's clock instead of the chain's",
    ),
    Mutant(
        "rules-duplicate-attachment-names",
        S,
        "    for name in sorted({n for n in names if names.count(n) > 1}):",
        "    for name in []:",
        "rules",
        "two attachments with one name ride on one signature",
    ),
)


def _copy_checkout(dest: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for raw in files:
        if not raw:
            continue
        rel = raw.decode()
        src = ROOT / rel
        if not src.is_file():
            continue  # deleted in the working tree
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    os.symlink(ROOT / "node_modules", dest / "node_modules")


def _run(suite: str, workdir: Path, log: Path) -> tuple[bool, float]:
    started = time.monotonic()
    env = {**os.environ, "PATH": f"{ROOT / 'node_modules' / '.bin'}:{os.environ.get('PATH', '')}"}
    with log.open("wb") as out:
        rc = subprocess.run(SUITES[suite], cwd=workdir, stdout=out, stderr=subprocess.STDOUT, env=env)
    return rc.returncode == 0, time.monotonic() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--only", action="append", default=[], help="run only this mutant (repeatable)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary copies and logs")
    args = ap.parse_args()

    chosen = [m for m in MUTANTS if not args.only or m.name in args.only]
    unknown = set(args.only) - {m.name for m in MUTANTS}
    if unknown:
        print(f"error: unknown mutant(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    if args.list:
        for m in chosen:
            print(f"{m.name:<40} {m.suite:<6} {m.path}: {m.what}")
        return 0

    stale = [m for m in chosen if (ROOT / m.path).read_text().count(m.old) != 1]
    if stale:
        for m in stale:
            print(f"STALE  {m.name}: its text is not found exactly once in {m.path}", file=sys.stderr)
        return 2

    base = Path(tempfile.mkdtemp(prefix="scf-mutants-"))
    print(f"copies and logs in {base}")
    # the unmutated suites must pass first, or a "kill" would mean nothing
    for suite in sorted({m.suite for m in chosen}):
        work = base / f"baseline-{suite}"
        _copy_checkout(work)
        ok, secs = _run(suite, work, base / f"baseline-{suite}.log")
        print(f"baseline {suite:<6} {'passes' if ok else 'FAILS'} ({secs:.0f} s)")
        if not ok:
            print(
                f"error: the unmutated {suite} suite fails; see {base}/baseline-{suite}.log", file=sys.stderr
            )
            return 2
        if not args.keep:
            shutil.rmtree(work)

    rows = []
    for m in chosen:
        work = base / m.name
        _copy_checkout(work)
        target = work / m.path
        target.write_text(target.read_text().replace(m.old, m.new, 1))
        passed, secs = _run(m.suite, work, base / f"{m.name}.log")
        rows.append((m, not passed, secs))
        print(f"{'killed ' if not passed else 'SURVIVED'} {m.name:<40} {m.suite:<6} {secs:5.0f} s")
        if not args.keep:
            shutil.rmtree(work)

    print()
    print("| mutant | file | fault | suite | result |")
    print("|---|---|---|---|---|")
    for m, killed, _ in rows:
        print(
            f"| `{m.name}` | `{m.path}` | {m.what} | {m.suite} | {'killed' if killed else '**survived**'} |"
        )
    survivors = [m.name for m, killed, _ in rows if not killed]
    print(f"\n{len(rows) - len(survivors)} of {len(rows)} mutants killed")
    if survivors:
        print(f"survivors: {', '.join(survivors)} (logs in {base})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
