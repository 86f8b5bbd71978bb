#!/usr/bin/env bash
# CI check of the brownie deployment path (docs/brownie.md):
#   1. make sure .venv-brownie is set up (tools/setup-brownie.sh);
#   2. start a fresh Anvil on a free port, in a temp dir;
#   3. `brownie run scripts/deploy.py --network scf-rpc` against it;
#   4. verify over plain JSON-RPC that every contract of chain/plan.py has code at its recorded
#      address, and that the code still hashes to the recorded bytecode_hash;
#   5. run the deployment again and verify that nothing new happened: same addresses, no
#      contract creation, no transaction at all (the wiring calls are idempotent too);
#   6. stop Anvil (also on failure: trap on EXIT). Prints timings; exits non-zero on any failure.
#
# Deployment records go to a temp dir (SCF_DEPLOYMENTS_DIR), not to build/deployments/.
# SCF_PLAN_FILE is passed through (to try a reduced plan). KEEP_TMP=1 keeps the temp dir.
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
VENV="$ROOT/.venv-brownie"
ANVIL="$ROOT/node_modules/.bin/anvil"
# Anvil's first deterministic development key (mnemonic "test test ... junk"): public knowledge,
# only ever used against the throw-away Anvil started here.
ANVIL_DEV_KEY="0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

log() { printf '[brownie-deploy-check] %s\n' "$*"; }
fail() { log "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

T0=$(now)
TMP="$(mktemp -d "${TMPDIR:-/tmp}/brownie-deploy-check.XXXXXX")"
ANVIL_PID=""
RUN_ROOT="$ROOT"  # where `brownie run` runs: a dot-free copy when the checkout's path has a dot
cleanup() {
  local rc=$?
  [[ "$RUN_ROOT" != "$ROOT" ]] && rm -rf "$RUN_ROOT"
  if [[ -n "$ANVIL_PID" ]] && kill -0 "$ANVIL_PID" 2>/dev/null; then
    kill "$ANVIL_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$ANVIL_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$ANVIL_PID" 2>/dev/null || true
    log "anvil (pid $ANVIL_PID) stopped"
  fi
  if [[ "${KEEP_TMP:-0}" == 1 || $rc -ne 0 ]]; then
    log "logs kept in $TMP"
  else
    rm -rf "$TMP"
  fi
  log "total $(since "$T0"), exit $rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------------------ 1. environment
t=$(now)
bash "$ROOT/tools/setup-brownie.sh" || fail "tools/setup-brownie.sh failed"
T_SETUP=$(since "$t")
log "setup: $T_SETUP"
PY="$VENV/bin/python"
[[ -x "$ANVIL" ]] || fail "$ANVIL missing: run 'npm ci'"
# brownie's own records of live deployments (label "scf" of the scf-rpc network) are reloaded on
# connect and make it fail on a fresh chain; scripts/deploy.py never writes them, but a manual
# brownie session may have. They are a cache nothing of ours reads.
if compgen -G "$ROOT/build/brownie/deployments/scf/*.json" >/dev/null; then
  log "removing brownie's stale live-network records in build/brownie/deployments/scf"
  rm -rf "$ROOT/build/brownie/deployments/scf"
fi

# brownie imports a script under a module name built from its absolute path ("tmp.x.y.scripts.deploy"),
# so a dot anywhere in the checkout's path breaks `brownie run`. Run it from a dot-free copy of what
# it needs (the plan, the contracts, the script, the config; node_modules linked) instead.
if [[ "$ROOT" == *.* ]]; then
  RUN_ROOT="$(mktemp -d /tmp/scf-brownie-XXXXXX)"
  cp -r "$ROOT/brownie-config.yaml" "$ROOT/contracts" "$ROOT/scripts" "$RUN_ROOT/"
  mkdir -p "$RUN_ROOT/chain" "$RUN_ROOT/build/brownie"
  cp "$ROOT/chain/__init__.py" "$ROOT/chain/plan.py" "$RUN_ROOT/chain/"
  ln -s "$ROOT/node_modules" "$RUN_ROOT/node_modules"
  log "the checkout's path has a dot, which brownie cannot import scripts from: running from $RUN_ROOT"
fi

# ------------------------------------------------------------------------------ 2. anvil
t=$(now)
rpc() {  # rpc METHOD PARAMS_JSON -> result JSON on stdout
  "$PY" - "$RPC_URL" "$1" "$2" <<'EOF'
import json, sys, urllib.request
url, method, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=5) as r:
    answer = json.load(r)
if "error" in answer:
    sys.exit(f"{method}: {answer['error']}")
print(json.dumps(answer["result"]))
EOF
}
for attempt in 1 2 3; do
  PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  RPC_URL="http://127.0.0.1:$PORT"
  (cd "$TMP" && exec "$ANVIL" --host 127.0.0.1 --port "$PORT" >"$TMP/anvil.log" 2>&1) &
  ANVIL_PID=$!
  for _ in $(seq 100); do
    if rpc eth_chainId '[]' >/dev/null 2>&1; then break; fi
    kill -0 "$ANVIL_PID" 2>/dev/null || break
    sleep 0.1
  done
  if rpc eth_chainId '[]' >/dev/null 2>&1; then break; fi
  log "anvil did not come up on port $PORT (attempt $attempt): $(tail -3 "$TMP/anvil.log" 2>/dev/null)"
  kill "$ANVIL_PID" 2>/dev/null || true
  wait "$ANVIL_PID" 2>/dev/null || true
  ANVIL_PID=""
  [[ $attempt == 3 ]] && fail "could not start anvil"
done
CHAIN_ID=$(( $(rpc eth_chainId '[]' | tr -d '"') ))
T_ANVIL=$(since "$t")
log "anvil $("$ANVIL" --version | head -1) pid $ANVIL_PID at $RPC_URL (chain $CHAIN_ID): $T_ANVIL"

export SCF_RPC_URL="$RPC_URL"
export SCF_DEPLOYER_KEY="$ANVIL_DEV_KEY"
export SCF_DEPLOYMENTS_DIR="$TMP/deployments"
unset SCF_GAS_PRICE
DEPLOYMENTS="$SCF_DEPLOYMENTS_DIR/$CHAIN_ID.json"

# ------------------------------------------------------------------------------ verification
cat >"$TMP/verify.py" <<'EOF'
"""verify.py DEPLOYMENTS_FILE RPC_URL ROOT SNAPSHOT [--again]: check the deployment over JSON-RPC."""
import importlib.util, json, os, sys, urllib.request
from pathlib import Path

from eth_utils import keccak

deployments, url, root, snapshot = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
again = "--again" in sys.argv


def rpc(method, *params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        answer = json.load(r)
    if "error" in answer:
        raise SystemExit(f"FAIL: {method}: {answer['error']}")
    return answer["result"]


plan_file = Path(os.environ.get("SCF_PLAN_FILE") or root / "chain" / "plan.py")
spec = importlib.util.spec_from_file_location("scf_plan_for_check", plan_file)
plan = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = plan
spec.loader.exec_module(plan)
names = [d.contract for d in plan.DEPLOYS]

errors = []
if not deployments.exists():
    raise SystemExit(f"FAIL: no deployments file {deployments}")
data = json.loads(deployments.read_text())
chain_id = int(rpc("eth_chainId"), 16)
if data.get("chain_id") != chain_id:
    errors.append(f"deployments file chain_id {data.get('chain_id')} != node chain id {chain_id}")
contracts = data.get("contracts", {})
for name in names:
    entry = contracts.get(name)
    if not entry:
        errors.append(f"{name}: not recorded")
        continue
    missing = [k for k in ("address", "tx_hash", "block_number", "bytecode_hash") if k not in entry]
    if missing:
        errors.append(f"{name}: entry lacks {missing}")
        continue
    code = bytes.fromhex(rpc("eth_getCode", entry["address"], "latest")[2:])
    digest = "0x" + keccak(code).hex()
    receipt = rpc("eth_getTransactionReceipt", entry["tx_hash"])
    state = "ok"
    if not code:
        state = "NO CODE"
    elif digest != entry["bytecode_hash"]:
        state = "CODE HASH MISMATCH"
    elif not receipt or (receipt.get("contractAddress") or "").lower() != entry["address"].lower():
        state = "TX DID NOT CREATE IT"
    elif int(receipt["blockNumber"], 16) != entry["block_number"]:
        state = "BLOCK NUMBER MISMATCH"
    print(f"  {name:<22} {entry['address']}  {len(code):>6} bytes  {state}")
    if state != "ok":
        errors.append(f"{name}: {state}")

head = int(rpc("eth_blockNumber"), 16)
addresses = {n: contracts.get(n, {}).get("address") for n in names}
if not again:
    snapshot.write_text(json.dumps({"addresses": addresses, "block": head}))
    print(f"  chain head after the first run: block {head}")
else:
    before = json.loads(snapshot.read_text())
    if before["addresses"] != addresses:
        errors.append(f"addresses changed on the second run: {before['addresses']} -> {addresses}")
    creations, txs = [], []
    for n in range(before["block"] + 1, head + 1):
        block = rpc("eth_getBlockByNumber", hex(n), True)
        for tx in block["transactions"]:
            txs.append(tx["hash"])
            if tx.get("to") is None:
                creations.append(tx["hash"])
    print(f"  second run: blocks {before['block']} -> {head}, {len(txs)} transactions, {len(creations)} contract creations")
    if creations:
        errors.append(f"the second run created contracts: {creations}")
    if txs:
        errors.append(f"the second run sent transactions (a wiring check is not idempotent?): {txs}")

if errors:
    for e in errors:
        print(f"FAIL: {e}")
    sys.exit(1)
print(f"  OK: {len(names)} contracts of the plan verified")
EOF

run_deploy() {  # run_deploy N
  local out="$TMP/run$1.log"
  (cd "$RUN_ROOT" && "$VENV/bin/brownie" run scripts/deploy.py --network scf-rpc) >"$out" 2>&1 \
    || { sed 's/\x1b\[[0-9;]*m//g' "$out" | tail -40; fail "brownie run #$1 failed (log: $out)"; }
  sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -E '^(SCF deploy|  (deploy|reuse|stale|call|done) )' || true
  if grep -q "Exception in thread" "$out"; then
    sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -A12 "Exception in thread" | head -20
    fail "brownie run #$1 raised in a background thread"
  fi
}

# ------------------------------------------------------------------------------ 3./4. first run
t=$(now)
log "first deployment (brownie run scripts/deploy.py --network scf-rpc)"
run_deploy 1
T_RUN1=$(since "$t")
t=$(now)
"$PY" "$TMP/verify.py" "$DEPLOYMENTS" "$RPC_URL" "$ROOT" "$TMP/snapshot.json" || fail "verification after the first run"
T_VERIFY1=$(since "$t")

# ------------------------------------------------------------------------------ 5. second run
t=$(now)
log "second deployment: must change nothing"
run_deploy 2
T_RUN2=$(since "$t")
t=$(now)
"$PY" "$TMP/verify.py" "$DEPLOYMENTS" "$RPC_URL" "$ROOT" "$TMP/snapshot.json" --again \
  || fail "verification after the second run"
T_VERIFY2=$(since "$t")

log "timings: setup $T_SETUP, anvil $T_ANVIL, deploy #1 $T_RUN1, verify #1 $T_VERIFY1, deploy #2 $T_RUN2, verify #2 $T_VERIFY2"
log "PASS"
