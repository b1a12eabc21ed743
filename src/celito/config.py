"""Settings, read once from CELITO_* environment variables (and an optional .env file)."""

from __future__ import annotations

import socket
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("~/.local/share/celito")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CELITO_", env_file=".env", extra="ignore")

    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Holds celito.db and demo credentials.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; unset means SQLite at DATA_DIR/celito.db."
    )
    node_id: str = Field(default_factory=socket.gethostname)
    public_url: str = Field("", description="Base URL shown in docs; empty = the request's own.")

    access_token_seconds: int = 3600
    refresh_token_seconds: int = 30 * 24 * 3600
    jwt_seconds: int = 24 * 3600
    # A node keeps a resolved bearer for this long; a revocation made on another node is
    # seen everywhere within this window (on the revoking node it is immediate).
    caller_cache_seconds: float = 2.0

    scope_error_style: Literal["http403", "netsapiens"] = Field(
        "http403",
        description="'netsapiens' answers scope refusals with 401 'Invalid Scope [APP001]'.",
    )
    tos_version: str = "2026-11-01"
    tos_file: Path | None = Field(None, description="Markdown/text of the API terms of service.")
    support_contact: str = "your account executive"

    max_body_bytes: int = 1024 * 1024
    # The largest audio file (greeting, music on hold, voicemail); upload bodies may be larger
    # by base64's third (see audio.web.body_limits).
    audio_max_bytes: int = 10 * 1024 * 1024
    login_failure_window_seconds: int = 900
    login_max_failures_per_username: int = 5
    login_max_failures_per_ip: int = 30

    # OWASP's minimum Argon2id profile (19 MiB, 2 passes, 1 lane): ~20 ms a hash on one core,
    # which bounds a password grant's cost while keeping offline guessing expensive.
    argon2_memory_kib: int = 19 * 1024
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1

    webhook_allow_private: bool = Field(
        False, description="Allow webhook and URL-hook targets on private/loopback addresses."
    )
    webhook_timeout_seconds: float = 10.0
    # A node delivering a subscription holds it this long between renewals; if the node dies,
    # another takes over once the lease lapses.
    webhook_lease_seconds: float = 30.0
    event_retention_days: int = 7
    stream_heartbeat_seconds: float = 15.0
    api_version: str = "45.0.0"
    # Phones: where their SIP accounts send requests (host[:port]; empty = the SIP domain
    # itself), and the addresses Action URI requests come from (empty = the public URL's IP).
    sip_proxy: str = ""
    phone_control_ips: list[str] = Field(default_factory=list)
    phone_action_timeout_seconds: float = 5.0

    @cached_property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser()

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.resolved_data_dir / 'celito.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def apiversion_string(self) -> str:
        return f"Version: {self.api_version}"
