"""Alembic migrations: one linear history that builds exactly the schema the models declare, and goes
down and up again; databases migrated by the old, branched history (``migrations/legacy/``) upgrade to
the same schema a new database gets, on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from api.db import (
    LEGACY_DIR,
    LEGACY_HEAD,
    SQUASHED,
    alembic_config,
    current_revision,
    head_revisions,
    legacy_config,
    legacy_revisions,
    upgrade,
)
from tests.pg import PgCluster

#: The old history's files, which migrated existing databases: they must never change. These are the
#: hashes of ``api/db/migrations/versions/*.py`` at commit 729e9b5, the last one before the squash.
LEGACY_SHA256 = {
    "0001_baseline.py": "ba6dadb50b4b2ab5bede6e392fa01eac23ac61c46e3ba9211c0aba22af51d00b",
    "0002_gateway.py": "3f1a649c107a8ee9c8527c2c5e21b0f28aefb8506e04e498b94ea66dac3b7649",
    "0003_custody.py": "c103bb3a24a425c272879044c68e5642e8440c52a3fcbba2bd9b005012076507",
    "0003_read_model.py": "e234ef08f7a483b9b226b63193c1eaf2a53bfd87339a9e600e210286e530f806",
    "0004_merge.py": "b84dc5eb8ca41826255374f503cab4e4cd426d34c3d33380928f76192a3ebd3b",
    "0005_exact_ledger.py": "af32cd8c4661275977be09a4b27941289743eb5f5d26f4e816c9b12eccf76788",
    "0006_quantity.py": "4c0f2391836208506fadc5f0ed557b6de0ded870f33ce4eb02845857a9def01c",
}

#: Every state the old history could leave a database in: each revision, and both 0003 branches
#: applied without their merge.
OLD_STATES: list[tuple[str, ...]] = [
    ("0001_baseline",),
    ("0002_gateway",),
    ("0003_custody",),
    ("0003_read_model",),
    ("0003_custody", "0003_read_model"),
    ("0004_merge",),
    ("0005_exact_ledger",),
    ("0006_quantity",),
]


def old_database(url: str, state: tuple[str, ...]) -> dict[str, list[tuple[Any, ...]]]:
    """Migrate an empty database with the old files to ``state`` and put a row in the tables that exist
    (an upgrade must keep them: 0005 rebuilds ``rm_receivable`` on SQLite). Returns what the upgraded
    database must hold."""
    for rev in state:
        command.upgrade(legacy_config(url), rev)
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    expected: dict[str, list[tuple[Any, ...]]] = {"participant": [], "rm_receivable": []}
    with engine.begin() as conn:
        if "participant" in tables:
            conn.execute(
                text(
                    "INSERT INTO participant (id, legal_name, registration_id, role, chain_address, status,"
                    " certificate_pem, certificate_serial, identity_hash, api_key_hash, created_at) VALUES"
                    " ('p1', 'Old AB', 'SE1', 'supplier', '0x01', 'active', 'pem', 's1', '0x02', 'k1',"
                    " '2026-11-28 00:00:00')"
                )
            )
            expected["participant"] = [("p1", "Old AB")]
        if "rm_receivable" in tables:
            columns = [c["name"] for c in inspect(engine).get_columns("rm_receivable")]
            row: dict[str, Any] = {c: "0" for c in columns} | {
                "id": 7,
                "disputed": False,
                "fingerprint": "0xf",
            }
            names = ", ".join(columns)
            conn.execute(text(f"INSERT INTO rm_receivable ({names}) VALUES (:{', :'.join(columns)})"), row)
            # before 0005 the row gets its defaults for the new columns
            expected["rm_receivable"] = [(7, "0", row.get("delivery_hash", "0x" + "00" * 32))]
    engine.dispose()
    assert set(current_heads(url)) == set(state)
    return expected


def current_heads(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return (current_revision(engine) or "").split(",")
    finally:
        engine.dispose()


def schema(url: str) -> dict[str, Any]:
    """Tables, columns (in order, with type, nullability and server default), keys, indexes and unique
    constraints, as SQLAlchemy reflects them."""
    engine = create_engine(url)
    insp = inspect(engine)
    out: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        if table == "alembic_version":
            continue
        out[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"), c.get("autoincrement"))
                for c in insp.get_columns(table)
            ],
            "primary_key": insp.get_pk_constraint(table),
            "foreign_keys": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                for fk in insp.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (str(ix["name"]), tuple(map(str, ix["column_names"])), bool(ix["unique"]))
                for ix in insp.get_indexes(table)
            ),
            "unique": sorted(
                (str(u["name"]), tuple(u["column_names"])) for u in insp.get_unique_constraints(table)
            ),
        }
    engine.dispose()
    return out


def check_upgrades_like_a_new_database(url: str, new_schema: dict[str, Any], state: tuple[str, ...]) -> None:
    expected = old_database(url, state)
    upgrade(url)
    assert current_heads(url) == [head_revisions()]
    command.check(alembic_config(url))  # the models equal the upgraded schema
    assert schema(url) == new_schema
    engine = create_engine(url)
    with engine.connect() as conn:
        participants = conn.execute(text("SELECT id, legal_name FROM participant")).all()
        receivables = conn.execute(text("SELECT id, remainder_pool, delivery_hash FROM rm_receivable")).all()
        cursors = conn.execute(text("SELECT name FROM rm_cursor")).all()
    engine.dispose()
    assert [tuple(r) for r in participants] == expected["participant"]
    # s0009 empties the read model (its events had no block times): the indexer reads the chain again
    assert receivables == [] and cursors == []
    upgrade(url)  # a second time: nothing to do
    assert current_heads(url) == [head_revisions()]


# ------------------------------------------------------------------------------------------ history


def test_the_history_is_linear() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    revisions = list(script.walk_revisions())
    assert len(script.get_bases()) == 1 and len(script.get_heads()) == 1
    assert not [r.revision for r in revisions if r.is_merge_point or r.is_branch_point]
    assert revisions[-1].revision == SQUASHED
    cfg = alembic_config("sqlite://")
    cfg.stdout = io.StringIO()
    command.heads(cfg)
    command.history(cfg)
    out = cfg.stdout.getvalue().splitlines()
    assert len(out) == 1 + len(revisions), out  # one head, then one line per revision
    assert not (set(r.revision for r in revisions) & legacy_revisions())


def test_the_old_history_is_kept_unchanged() -> None:
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(LEGACY_DIR.glob("*.py"))}
    assert files == LEGACY_SHA256, "the old migrations migrated existing databases: never edit them"
    script = ScriptDirectory.from_config(legacy_config("sqlite://"))
    assert script.get_heads() == [LEGACY_HEAD]
    assert {r for state in OLD_STATES for r in state} == legacy_revisions()


# ------------------------------------------------------------------------------------------ SQLite


def test_migrations_match_models_and_round_trip(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    command.check(cfg)  # raises if the models differ from the migrated schema
    engine = create_engine(url)
    assert current_revision(engine) == head_revisions()
    command.downgrade(cfg, "base")
    assert current_revision(engine) is None
    assert inspect(engine).get_table_names() == ["alembic_version"]
    command.upgrade(cfg, "head")
    assert current_revision(engine) == head_revisions()


@pytest.fixture(scope="module")
def new_sqlite(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The schema of a new database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('new') / 'new.db'}"
    upgrade(url)
    return schema(url)


@pytest.mark.parametrize("state", OLD_STATES, ids=lambda s: "+".join(s))
def test_a_database_of_the_old_history_upgrades_like_a_new_one(
    tmp_path: Path, new_sqlite: dict[str, Any], state: tuple[str, ...]
) -> None:
    check_upgrades_like_a_new_database(f"sqlite:///{tmp_path / 'old.db'}", new_sqlite, state)


def test_plain_alembic_on_an_old_database_says_how_to_upgrade_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(legacy_config(url), "0002_gateway")
    with pytest.raises(Exception, match=r"0002_gateway of the old migration history.*api\.db\.upgrade"):
        command.upgrade(alembic_config(url), "head")
    assert current_heads(url) == ["0002_gateway"]


# ------------------------------------------------------------------------------------------ PostgreSQL


@pytest.fixture(scope="module")
def pg() -> Iterator[PgCluster]:
    cluster = PgCluster.start()
    yield cluster
    cluster.stop()


def pg_database(pg: PgCluster, name: str) -> str:
    admin = create_engine(pg.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return pg.url.rsplit("/", 1)[0] + "/" + name


def test_postgres_old_databases_upgrade_like_a_new_one(pg: PgCluster) -> None:
    new = pg_database(pg, "new")
    upgrade(new)
    command.check(alembic_config(new))
    new_schema = schema(new)
    for i, state in enumerate(OLD_STATES):
        check_upgrades_like_a_new_database(pg_database(pg, f"old{i}"), new_schema, state)


def test_every_request_body_in_the_openapi_document_has_an_example(tmp_path: Path) -> None:
    from api.main import create_app
    from api.settings import Settings

    spec = create_app(Settings(data_dir=tmp_path)).openapi()
    schemas = spec["components"]["schemas"]
    missing = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            body = op.get("requestBody")
            if body is None:
                continue
            ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            if not schemas[ref].get("examples"):
                missing.append(f"{method.upper()} {path} ({ref})")
    assert missing == []
