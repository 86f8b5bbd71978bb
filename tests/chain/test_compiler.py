"""The pinned compiler: the wrapper behaves like solc and agrees byte for byte with solc-js."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import solcx.wrapper

from chain.compiler import WRAPPER, compile_contracts, run_solc, source_files, standard_json_input
from chain.settings import PROJECT_ROOT

SOLCJS_DIRECT = """
const solc = require(process.argv[1] + '/node_modules/solc');
const fs = require('fs'); const path = require('path');
const root = process.argv[1];
const input = fs.readFileSync(0, 'utf8');
function findImports(p) {
  for (const base of [root, path.join(root, 'node_modules')]) {
    const f = path.join(base, p);
    if (fs.existsSync(f)) return { contents: fs.readFileSync(f, 'utf8') };
  }
  return { error: 'not found ' + p };
}
process.stdout.write(solc.compile(input, { import: findImports }));
"""


def test_version_is_pinned() -> None:
    out = subprocess.run([str(WRAPPER), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1].startswith("Version: 0.8.37+commit.f401782d")
    # py-solc-x parses the same line
    assert str(solcx.wrapper.get_solc_version(WRAPPER)) == "0.8.37"


def test_wrapper_output_is_identical_to_the_solcjs_api() -> None:
    # two contracts and their OpenZeppelin imports stand for all: the wrapper passes the input through
    # unchanged, whatever it holds (the whole set took two solc-js compiles of ~25 s each)
    contracts = PROJECT_ROOT / "contracts"
    compiler_input = standard_json_input(
        [contracts / "ParticipantRegistry.sol", contracts / "SettlementToken.sol"]
    )
    raw = json.dumps(compiler_input)
    # both compiles at once (each spends most of its time loading and running solc-js)
    wrapper = subprocess.Popen(
        [str(WRAPPER), "--standard-json"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    direct_proc = subprocess.Popen(
        ["node", "-e", SOLCJS_DIRECT, str(PROJECT_ROOT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    via_wrapper = json.loads(wrapper.communicate(raw)[0])
    direct = json.loads(direct_proc.communicate(raw)[0])
    names = [(s, c) for s in via_wrapper["contracts"] for c in via_wrapper["contracts"][s]]
    assert {"ParticipantRegistry", "SettlementToken"} <= {c for _, c in names}
    for source, contract in names:
        ours = via_wrapper["contracts"][source][contract]["evm"]
        theirs = direct["contracts"][source][contract]["evm"]
        assert ours["bytecode"]["object"] == theirs["bytecode"]["object"], contract
        assert ours["deployedBytecode"]["object"] == theirs["deployedBytecode"]["object"], contract


def test_wrapper_reads_sources_given_as_urls_like_forge_does(tmp_path: Path) -> None:
    src = PROJECT_ROOT / "contracts" / "ParticipantRegistry.sol"
    inline = standard_json_input([src])
    by_url = json.loads(json.dumps(inline))
    by_url["sources"]["contracts/ParticipantRegistry.sol"] = {"urls": [str(src)]}
    a = run_solc(inline)["contracts"]["contracts/ParticipantRegistry.sol"]["ParticipantRegistry"]
    b = run_solc(by_url)["contracts"]["contracts/ParticipantRegistry.sol"]["ParticipantRegistry"]
    assert a["evm"]["bytecode"]["object"] == b["evm"]["bytecode"]["object"]


def test_wrapper_refuses_what_it_does_not_support() -> None:
    res = subprocess.run([str(WRAPPER), "--bin", "x.sol"], capture_output=True, text=True)
    assert res.returncode == 2
    assert "unsupported argument" in res.stderr


def test_compile_is_cached_by_source_hash(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "contracts").mkdir(parents=True)
    shutil.copytree(PROJECT_ROOT / "contracts" / "interfaces", root / "contracts" / "interfaces")
    shutil.copy(PROJECT_ROOT / "contracts" / "ParticipantRegistry.sol", root / "contracts")
    (root / "node_modules").symlink_to(PROJECT_ROOT / "node_modules")
    out = tmp_path / "artifacts"

    first, ran1 = compile_contracts(out, root=root)
    second, ran2 = compile_contracts(out, root=root)
    assert (ran1, ran2) == (True, False)
    assert first["ParticipantRegistry"].bytecode == second["ParticipantRegistry"].bytecode

    reg = root / "contracts" / "ParticipantRegistry.sol"
    reg.write_text(reg.read_text() + "\n// a change\n")
    _, ran3 = compile_contracts(out, root=root)
    assert ran3 is True
    assert len(source_files(root / "contracts")) >= 2


def test_compile_error_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "contracts").mkdir(parents=True)
    (root / "contracts" / "Broken.sol").write_text("pragma solidity ^0.8.24; contract Broken { function f( }")
    from chain.compiler import CompileError

    try:
        compile_contracts(tmp_path / "a", root=root)
    except CompileError as exc:
        assert "Broken.sol" in str(exc)
    else:
        raise AssertionError("a syntax error must fail the compile")
