"""Alembic migrations: they build exactly the schema the models declare, and go down and up again."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from api.db import alembic_config, current_revision, head_revisions


def test_migrations_match_models_and_round_trip(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "heads")
    command.check(cfg)  # raises if the models differ from the migrated schema
    engine = create_engine(url)
    assert current_revision(engine) == head_revisions()
    command.downgrade(cfg, "base")
    assert current_revision(engine) is None
    command.upgrade(cfg, "heads")
    assert current_revision(engine) == head_revisions()


def test_every_request_body_in_the_openapi_document_has_an_example(tmp_path: Path) -> None:
    from api.main import create_app
    from chain.settings import Settings

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
