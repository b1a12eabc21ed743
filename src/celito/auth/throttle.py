"""Failed credential checks, counted per name and per address, for every login-like door
(the token endpoint, phone provisioning): one table, one rule, one place."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auth.models import LoginFailure
from celito.config import Settings
from celito.db import utcnow


async def retry_after(session: AsyncSession, settings: Settings, key: str, ip: str) -> int | None:
    """Seconds until `key` or `ip` may try again, or None when neither is throttled."""
    since = utcnow() - timedelta(seconds=settings.login_failure_window_seconds)
    for column, value, limit in (
        (LoginFailure.username, key, settings.login_max_failures_per_username),
        (LoginFailure.ip, ip, settings.login_max_failures_per_ip),
    ):
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(LoginFailure.at)).where(
                    column == value, LoginFailure.at >= since
                )
            )
        ).one()
        if count >= limit and oldest is not None:
            return max(1, int((oldest - since).total_seconds()) + 1)
    return None


async def record_failure(session: AsyncSession, settings: Settings, key: str, ip: str) -> None:
    session.add(LoginFailure(username=key[:255], ip=ip))
    cutoff = utcnow() - timedelta(seconds=settings.login_failure_window_seconds)
    await session.execute(delete(LoginFailure).where(LoginFailure.at < cutoff))


async def forget(session: AsyncSession, key: str) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.username == key))
