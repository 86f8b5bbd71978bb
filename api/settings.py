"""The gateway's settings, and ``Settings``: the one configuration of the whole project.

``Settings`` composes the chain tooling's ``ChainSettings`` (node, keys, paths) with the gateway's own
fields below; both read ``SCF_*`` environment variables (``DATABASE_URL`` is also read without the
prefix) or a ``.env`` file. Chain code takes a ``ChainSettings``; gateway and CLI code take ``Settings``.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from chain.files import FILE_MODE, private_dir, tighten
from chain.settings import ANVIL_VERIFIER_KEY, PROJECT_ROOT, ChainSettings
from domain.credit import DEFAULT_TABLE, PointsTable, load_table
from domain.profiles import PROFILES, MarketProfile, ProfileName


class Settings(ChainSettings):
    """All configuration: the chain's (inherited) and the gateway's."""

    model_config = SettingsConfigDict(env_prefix="SCF_", env_file=".env", extra="ignore")

    # --- the gateway -------------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SCF_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL. Unset: a SQLite file in the data folder.",
    )

    # --- gateway security and rules ------------------------------------------------------
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Master secret (>= 32 bytes) from which the keys that seal documents, the CA key and custodial "
            "chain keys are derived. Unset: a random one is generated once into the data folder (local only)."
        ),
    )
    operator_api_key: SecretStr | None = Field(
        default=None,
        description="Bearer token of the platform operator. Unset: generated once into the data folder.",
    )
    verifier_key: SecretStr | None = Field(
        default=None,
        description="Private key of the gateway's attesting (verifier) account. Unset: Anvil dev key #9.",
    )
    custodial_funding_wei: int = Field(
        default=10**18, description="Native coin sent to each new custodial account when gas is not free."
    )
    profile: ProfileName = Field(
        default="cn",
        description=(
            "The market profile (domain.profiles): the default currency, and the tenor rules unless set"
            " below."
            " cn: CNY, 6 months in principle, 1 year at most; eu: EUR, 180 days."
        ),
    )
    max_tenor_days: int | None = Field(
        default=None,
        ge=1,
        description="Longest allowed time from invoice date to due date, in days. Unset: the profile's.",
    )
    principle_tenor_days: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Tenor in principle, in days: an invoice due later (up to the maximum) is accepted and flagged."
            " Unset: the profile's."
        ),
    )
    issue_date_skew_hours: int = Field(
        default=14,
        ge=0,
        description=(
            "How far an invoice's issue date (a calendar date in the issuer's time zone) may run ahead of the"
            " gateway's UTC clock before it counts as dated in the future (UTC+14 is the furthest time zone)."
        ),
    )
    max_request_bytes: int = Field(default=8 * 1024 * 1024, description="Largest accepted request body.")
    max_json_depth: int = Field(
        default=32, ge=4, description="Deepest nesting of arrays and objects accepted in a JSON request body."
    )
    max_document_bytes: int = Field(default=2 * 1024 * 1024, description="Largest accepted single document.")
    request_lease_seconds: float = Field(
        default=180.0,
        gt=0,
        description=(
            "How long a request with an Idempotency-Key holds its key: a retry after that (or after its"
            " process died) finishes it from the chain. Longer than the wait for a receipt (120 s)."
        ),
    )
    max_signature_age_hours: int = Field(default=24 * 30, description="Oldest accepted claimed signing time.")
    db_pool_size: int = Field(default=20, description="Database connections kept open per process.")
    db_max_overflow: int = Field(
        default=60,
        description="Extra connections under load (a request may hold one while its nonce takes another).",
    )
    db_busy_timeout: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description=(
            "Seconds a statement waits for a locked database (SQLite's busy timeout, PostgreSQL's"
            " lock_timeout) before the gateway gives up and answers 503 DATABASE_BUSY with Retry-After."
        ),
    )
    portal_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="A portal session ends after this long without a request."
    )
    portal_max_hours: int = Field(
        default=12,
        ge=1,
        le=24 * 7,
        description="A portal session ends this long after its sign-in, used or not.",
    )
    web_assets_dir: Path | None = Field(
        default=None,
        description=(
            "Where the pinned npm packages that /docs and the portal serve live (swagger-ui-dist, redoc,"
            " axe-core). Unset: the project's node_modules (installed by `make setup`)."
        ),
    )
    db_health_timeout: float = Field(
        default=1.0, gt=0, le=10, description="Seconds /health's write probe of the database may wait."
    )

    # --- webhooks (docs/webhooks.md) -----------------------------------------------------
    webhook_allow_insecure_loopback: bool = Field(
        default=True,
        description=(
            "Let webhooks point at this host (loopback addresses, over http or https), for local demos."
            " Production sets it false: then only https URLs of public addresses are accepted."
        ),
    )
    webhook_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Seconds one delivery attempt may wait to connect and to read."
    )
    webhook_max_attempts: int = Field(
        default=8, ge=1, le=20, description="Attempts to deliver one message before it is given up (failed)."
    )
    webhook_retry_base_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Delay after the first failed attempt; each further one is 4 times longer (plus jitter).",
    )
    webhook_retry_max_seconds: float = Field(
        default=6 * 3600.0, gt=0, description="The longest delay between two attempts."
    )
    webhook_worker_interval_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often the delivery worker looks for due messages."
    )
    webhook_concurrency: int = Field(
        default=4, ge=1, le=64, description="Deliveries a gateway process makes at the same time."
    )
    webhook_max_subscriptions: int = Field(
        default=20, ge=1, le=1000, description="Active webhooks one participant may have."
    )
    webhook_secret_overlap_seconds: int = Field(
        default=24 * 3600,
        ge=0,
        description="After a secret rotation, how long payloads are also signed with the previous secret.",
    )

    # --- warehouse receipts (docs/warehouse.md) -------------------------------------------
    warehouse_silence_check_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often the background indexer's leader looks for devices silent past a heartbeat.",
    )

    # --- credit profiles (docs/credit.md) ----------------------------------------------------
    credit_table_file: Path | None = Field(
        default=None,
        description=(
            "The scorecard's points table, a JSON file (domain.credit.table_json's form), checked at start. "
            "Unset: the platform's default table (expert priors, docs/credit.md)."
        ),
    )

    @field_validator("credit_table_file")
    @classmethod
    def _credit_table_loads(cls, path: Path | None) -> Path | None:
        if path is not None:
            try:
                _table_at(path)  # read and checked once: the table the gateway then uses
            except OSError as exc:
                raise ValueError(f"SCF_CREDIT_TABLE_FILE: cannot read {path}: {exc.strerror}") from None
            except ValueError as exc:
                raise ValueError(f"SCF_CREDIT_TABLE_FILE {path}: {exc}") from None
        return path

    @property
    def credit_table(self) -> PointsTable:
        """The scorecard's points table: the file's, else the default (read once per path)."""
        return DEFAULT_TABLE if self.credit_table_file is None else _table_at(self.credit_table_file)

    @property
    def market(self) -> MarketProfile:
        """The market profile's defaults."""
        return PROFILES[self.profile]

    @property
    def effective_max_tenor_days(self) -> int:
        return self.max_tenor_days or self.market.max_tenor_days

    @property
    def effective_principle_tenor_days(self) -> int:
        return min(
            self.principle_tenor_days or self.market.principle_tenor_days, self.effective_max_tenor_days
        )

    @property
    def effective_verifier_key(self) -> str:
        if self.verifier_key is not None:
            return self.verifier_key.get_secret_value()
        if self.rpc_url is not None:
            raise ValueError("SCF_VERIFIER_KEY must be set when SCF_RPC_URL points at an external node")
        return ANVIL_VERIFIER_KEY

    def _local_secret(self, name: str, value: SecretStr | None) -> str:
        """``value``, or a random secret generated once into the data folder (mode 0600)."""
        if value is not None:
            return value.get_secret_value()
        if self.rpc_url is not None:
            raise ValueError(f"SCF_{name.upper()} must be set when SCF_RPC_URL points at an external node")
        path = private_dir(self.data_path) / f"{name}.secret"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            with os.fdopen(fd, "w") as f:
                f.write(("scf_" if name == "operator_api_key" else "") + secrets.token_urlsafe(32))
        tighten(path, FILE_MODE)
        return path.read_text().strip()

    @property
    def effective_secret_key(self) -> str:
        return self._local_secret("secret_key", self.secret_key)

    @property
    def effective_operator_api_key(self) -> str:
        return self._local_secret("operator_api_key", self.operator_api_key)

    @property
    def effective_web_assets_dir(self) -> Path:
        return self.web_assets_dir or PROJECT_ROOT / "node_modules"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_path / 'scf.db'}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (read once from the environment)."""
    return Settings()


@lru_cache(maxsize=8)
def _table_at(path: Path) -> PointsTable:
    return load_table(path.read_text(encoding="utf-8"))
