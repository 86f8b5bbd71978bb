"""The chain tooling's settings: where things live, which node, which keys (``ChainSettings``).

Every value can be set by an environment variable with the ``SCF_`` prefix (``SCF_RPC_URL``,
``SCF_DATA_DIR`` ...) or in a ``.env`` file. The gateway's settings (``api.settings``) extend these:
one ``Settings`` composes both, so one environment configures the whole project.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Anvil's first deterministic development account (mnemonic "test test ... junk"). Public
#: knowledge: used only for the local chain, never for an external node.
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#: Anvil's dev account #9: the local verifier (attesting) account.
ANVIL_VERIFIER_KEY = "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6"


class ChainSettings(BaseSettings):
    """Chain configuration. Paths that are relative are taken from the project root."""

    model_config = SettingsConfigDict(env_prefix="SCF_", env_file=".env", extra="ignore")

    # --- where things live -------------------------------------------------------------
    project_root: Path = PROJECT_ROOT
    data_dir: Path = Field(default=Path("data"), description="Chain state, database and PID files.")
    artifacts_dir: Path = Field(default=Path("build/contracts"), description="Compiler artifacts.")
    deployments_dir: Path = Field(
        default=Path("build/deployments"), description="Per-chain-id files with the deployed addresses."
    )

    # --- the chain ---------------------------------------------------------------------
    rpc_url: str | None = Field(
        default=None,
        description="JSON-RPC URL of an external EVM node (Besu, Quorum...). Unset: the local Anvil chain.",
    )
    rpc_timeout: float = Field(default=10.0, description="Seconds to wait for one JSON-RPC answer.")
    deployer_key: SecretStr | None = Field(
        default=None, description="Private key of the deploying/operator account. Unset: Anvil's dev key."
    )
    gas_price: int | None = Field(
        default=None,
        description="Fixed legacy gas price in wei (0 for gas-free permissioned networks). Unset: EIP-1559.",
    )
    anvil_host: str = "127.0.0.1"
    anvil_port: int = 8545
    anvil_chain_id: int = 31337
    anvil_state_interval: int = Field(default=1, description="Seconds between Anvil state dumps.")

    def path(self, p: Path) -> Path:
        """``p`` made absolute against the project root."""
        return p if p.is_absolute() else self.project_root / p

    @property
    def data_path(self) -> Path:
        return self.path(self.data_dir)

    @property
    def anvil_state_file(self) -> Path:
        return self.data_path / "anvil-state.json"

    @property
    def deployments_path(self) -> Path:
        return self.path(self.deployments_dir)

    @property
    def artifacts_path(self) -> Path:
        return self.path(self.artifacts_dir)

    @property
    def local_rpc_url(self) -> str:
        return f"http://{self.anvil_host}:{self.anvil_port}"

    @property
    def effective_rpc_url(self) -> str:
        return self.rpc_url or self.local_rpc_url

    @property
    def effective_deployer_key(self) -> str:
        if self.deployer_key is not None:
            return self.deployer_key.get_secret_value()
        if self.rpc_url is not None:
            raise ValueError("SCF_DEPLOYER_KEY must be set when SCF_RPC_URL points at an external node")
        return ANVIL_DEV_KEY
