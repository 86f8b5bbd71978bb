#!/usr/bin/env bash
# Set up the brownie deployment path: its own virtualenv `.venv-brownie` (never the main `.venv`:
# eth-brownie pins exact old versions of web3, hypothesis, pydantic, pytest, ...), the project's
# pinned solc (tools/solc, solc-js 0.8.37) made visible to brownie as solc 0.8.37, and a brownie
# network `scf-rpc` for deploying to an already-running node given by $SCF_RPC_URL.
#
# Idempotent and fast when everything is in place. Needs python3 (3.11), node and `npm ci` done;
# reaches nothing but PyPI (through pip).
#
# Environment:
#   SCF_BROWNIE_PYTHON   interpreter for the venv (default: python3.11, else python3)
#   SCF_BROWNIE_FORCE=1  recreate the venv from scratch
set -euo pipefail

BROWNIE_VERSION="1.22.2"
COINCURVE_VERSION="21.0.0"
SOLC_VERSION="0.8.37"
NETWORK_ID="scf-rpc"

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
VENV="$ROOT/.venv-brownie"
SOLCX_DIR="$VENV/solcx"
SHIM="$SOLCX_DIR/solc-v$SOLC_VERSION"
MARKER="$VENV/.scf-setup"
STAMP="brownie=$BROWNIE_VERSION coincurve=$COINCURVE_VERSION solc=$SOLC_VERSION root=$ROOT network=$NETWORK_ID v3"

log() { printf 'setup-brownie: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
t0=$(date +%s.%N)
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}s')" "$t0" "$(date +%s.%N)" 2>/dev/null || echo "?"; }

# One setup at a time per checkout (CI check and a developer may start it together).
if command -v flock >/dev/null 2>&1; then
  lock="${TMPDIR:-/tmp}/scf-setup-brownie-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1).lock"
  exec 9>"$lock"
  flock 9
fi

[[ -f "$ROOT/tools/solc-wrapper.js" ]] || die "tools/solc-wrapper.js is missing"
command -v node >/dev/null 2>&1 || die "node is not on PATH"
[[ -d "$ROOT/node_modules/solc" ]] || die "node_modules/solc is missing: run 'npm ci' in $ROOT first"
[[ -x "$ROOT/node_modules/.bin/anvil" ]] || die "node_modules/.bin/anvil is missing: run 'npm ci' in $ROOT first"

# brownie creates its project folders without parents: build/brownie needs build/ to exist.
mkdir -p "$ROOT/build/brownie"

# ---------------------------------------------------------------- fast path
if [[ "${SCF_BROWNIE_FORCE:-0}" != 1 && -x "$VENV/bin/python" && -x "$SHIM" && -f "$MARKER" ]] \
   && [[ "$(cat "$MARKER")" == "$STAMP" ]] \
   && "$VENV/bin/python" - "$BROWNIE_VERSION" "$COINCURVE_VERSION" "$NETWORK_ID" <<'EOF' 2>/dev/null
import sys, pathlib, importlib.metadata as md
import yaml
want_brownie, want_cc, net = sys.argv[1:4]
assert md.version("eth-brownie") == want_brownie
assert md.version("coincurve") == want_cc
import os
assert "scf_brownie_env" in sys.modules  # the .pth hook ran at startup
root = sys.modules["scf_brownie_env"].ROOT
assert os.environ["SOLCX_BINARY_PATH"] == os.path.join(root, ".venv-brownie", "solcx")
cfg = yaml.safe_load(pathlib.Path.home().joinpath(".brownie", "network-config.yaml").read_text())
ids = [n["id"] for env in cfg["live"] for n in env["networks"]]
assert net in ids
EOF
then
  log "already set up ($STAMP) in $(elapsed)"
  exit 0
fi

# ---------------------------------------------------------------- virtualenv
PY="${SCF_BROWNIE_PYTHON:-}"
if [[ -z "$PY" ]]; then
  if command -v python3.11 >/dev/null 2>&1; then PY=python3.11; else PY=python3; fi
fi
command -v "$PY" >/dev/null 2>&1 || die "no python interpreter '$PY'"

if [[ "${SCF_BROWNIE_FORCE:-0}" == 1 && -d "$VENV" ]]; then
  log "SCF_BROWNIE_FORCE=1: removing $VENV"
  rm -rf "$VENV"
fi
# A venv copied from elsewhere, or whose interpreter vanished, is rebuilt.
if [[ -d "$VENV" ]] && ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.prefix == sys.argv[1] else 1)' "$VENV" 2>/dev/null; then
  log "$VENV is broken or was moved: recreating it"
  rm -rf "$VENV"
fi
if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating $VENV with $("$PY" --version 2>&1)"
  "$PY" -m venv "$VENV"
fi

installed() { "$VENV/bin/python" -c 'import sys, importlib.metadata as m; sys.exit(0 if m.version(sys.argv[1]) == sys.argv[2] else 1)' "$1" "$2" 2>/dev/null; }
if installed eth-brownie "$BROWNIE_VERSION" && installed coincurve "$COINCURVE_VERSION"; then
  log "eth-brownie $BROWNIE_VERSION and coincurve $COINCURVE_VERSION already installed"
else
  log "installing eth-brownie==$BROWNIE_VERSION coincurve==$COINCURVE_VERSION into $VENV"
  "$VENV/bin/python" -m pip install --disable-pip-version-check \
    "eth-brownie==$BROWNIE_VERSION" "coincurve==$COINCURVE_VERSION" >"$VENV/pip-install.log" 2>&1 \
    || { tail -30 "$VENV/pip-install.log" >&2; die "pip install failed (log: $VENV/pip-install.log)"; }
fi
"$VENV/bin/python" -m pip check >/dev/null 2>&1 || log "warning: 'pip check' reports conflicts in $VENV"

# ---------------------------------------------------------------- solc 0.8.37 for brownie
# brownie 1.22.2 asks py-solc-x for `<install folder>/solc-v<version>`; the folder is ~/.solcx
# unless $SOLCX_BINARY_PATH is set. We keep it inside this venv (nothing global, one per checkout)
# and put a shim there that runs the project's wrapper.
# --version is answered from a line recorded here (while node_modules/solc is still 0.8.37):
# py-solc-x asks for it ~25 times per `brownie compile`, and each node start of solc-js costs ~0.7 s.
mkdir -p "$SOLCX_DIR"
got="$(SCF_PROJECT_ROOT="$ROOT" "$ROOT/tools/solc" --version 2>&1 || true)"
[[ "$got" == *"Version: $SOLC_VERSION+"* ]] || die "tools/solc does not report solc $SOLC_VERSION: $got"
version_line="$(printf '%s\n' "$got" | grep '^Version: ')"
cat >"$SHIM.tmp" <<EOF
#!/usr/bin/env bash
# Generated by tools/setup-brownie.sh: solc $SOLC_VERSION for py-solc-x/brownie = the project's
# solc-js wrapper (tools/solc), run with SCF_PROJECT_ROOT set to this checkout.
root="\${SCF_PROJECT_ROOT:-$ROOT}"
if [[ "\$*" == "--version" ]] && grep -q '"version": "$SOLC_VERSION"' "\$root/node_modules/solc/package.json" 2>/dev/null; then
  printf 'solc, the solidity compiler commandline interface\n%s\n' '$version_line'
  exit 0
fi
SCF_PROJECT_ROOT="\$root" exec "$ROOT/tools/solc" "\$@"
EOF
chmod +x "$SHIM.tmp"
mv -f "$SHIM.tmp" "$SHIM"
got="$("$SHIM" --version 2>&1 || true)"
[[ "$got" == *"Version: $SOLC_VERSION+"* ]] || die "the solc shim $SHIM does not report $SOLC_VERSION: $got"
out="$(printf '{"language":"Solidity","sources":{"t.sol":{"content":"pragma solidity ^0.8.0; contract T {}"}},"settings":{"outputSelection":{"*":{"*":["abi"]}}}}' | "$SHIM" --standard-json 2>&1 || true)"
[[ "$out" == *'"T"'* ]] || die "the solc shim $SHIM does not compile: $out"

# Every interpreter start in this venv (so `.venv-brownie/bin/brownie ...` with or without
# activation) gets SOLCX_BINARY_PATH and the project's node_modules/.bin (anvil) on PATH.
site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cat >"$site/scf_brownie_env.py" <<EOF
"""Generated by tools/setup-brownie.sh: environment for brownie in $VENV."""
import os

ROOT = $("$VENV/bin/python" -c 'import sys; print(repr(sys.argv[1]))' "$ROOT")
os.environ["SOLCX_BINARY_PATH"] = os.path.join(ROOT, ".venv-brownie", "solcx")
_bin = os.path.join(ROOT, "node_modules", ".bin")
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")
EOF
printf 'import scf_brownie_env\n' >"$site/scf_brownie_env.pth"

# Check what brownie will see, from inside the venv.
"$VENV/bin/python" - "$SOLC_VERSION" <<'EOF' || die "py-solc-x in the venv does not see solc $SOLC_VERSION"
import sys, shutil, solcx
want = sys.argv[1]
versions = [str(v) for v in solcx.get_installed_solc_versions()]
assert want in versions, versions
solcx.set_solc_version(want, silent=True)
assert str(solcx.get_solc_version()) == want
assert shutil.which("anvil"), "anvil not on PATH inside the venv"
EOF

# ---------------------------------------------------------------- networks
# `development` (brownie's default) already launches `anvil` on 127.0.0.1:8545 (or attaches to a
# node there). Add a live network for any running node: its host is expanded from $SCF_RPC_URL when
# brownie connects. Brownie's network list is per user (~/.brownie/network-config.yaml).
if ! "$VENV/bin/python" - "$NETWORK_ID" <<'EOF' 2>/dev/null
import sys, pathlib, yaml
cfg = yaml.safe_load(pathlib.Path.home().joinpath(".brownie", "network-config.yaml").read_text())
sys.exit(0 if any(n["id"] == sys.argv[1] for env in cfg["live"] for n in env["networks"]) else 1)
EOF
then
  log "adding brownie network $NETWORK_ID (host \$SCF_RPC_URL)"
  (cd "${TMPDIR:-/tmp}" && "$VENV/bin/brownie" networks add SCF "$NETWORK_ID" \
      'host=$SCF_RPC_URL' chainid=scf name="SCF node at \$SCF_RPC_URL" timeout=60 >/dev/null) \
    || die "could not add brownie network $NETWORK_ID"
fi

printf '%s' "$STAMP" >"$MARKER"
log "ready: $VENV (eth-brownie $BROWNIE_VERSION, solc $SOLC_VERSION via tools/solc) in $(elapsed)"
