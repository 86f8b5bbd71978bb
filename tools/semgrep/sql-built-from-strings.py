"""Examples for tools/semgrep/sql-built-from-strings.yaml (`make sast` runs `semgrep --test`)."""

from typing import Any

from sqlalchemy import text


def by_fstring(conn: Any, name: str) -> Any:
    # ruleid: scf-sql-built-from-strings
    return conn.execute(text(f"SELECT * FROM participant WHERE legal_name = '{name}'"))


def by_concatenation(conn: Any, table: str) -> Any:
    query = "DELETE FROM " + table
    # ruleid: scf-sql-built-from-strings
    return conn.exec_driver_sql(query)


def by_format(cursor: Any, rid: str) -> Any:
    # ruleid: scf-sql-built-from-strings
    return cursor.execute("SELECT * FROM rm_receivable WHERE id = {}".format(rid))


def by_percent(cursor: Any, rid: str) -> Any:
    # ruleid: scf-sql-built-from-strings
    return cursor.execute("SELECT * FROM rm_receivable WHERE id = %s" % rid)


def with_parameters(conn: Any, name: str) -> Any:
    # ok: scf-sql-built-from-strings
    return conn.execute(text("SELECT * FROM participant WHERE legal_name = :name"), {"name": name})


def with_a_constant(conn: Any) -> Any:
    statement = text("UPDATE alembic_version SET version_num = version_num")
    # ok: scf-sql-built-from-strings
    return conn.execute(statement)


def driver_parameters(cursor: Any, rid: int) -> Any:
    # ok: scf-sql-built-from-strings
    return cursor.execute("SELECT * FROM rm_receivable WHERE id = ?", (rid,))
