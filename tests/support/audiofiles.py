"""Small audio files made on the spot: PCM and µ-law WAV, MP3 frames, and broken variants."""

from __future__ import annotations

import asyncio
import io
import math
import struct
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.config import Settings
from celito.db import Database
from celito.domains.models import Domain


def wav_pcm(seconds: float = 1.0, *, rate: int = 8000, channels: int = 1, width: int = 2) -> bytes:
    """A 440 Hz tone (16-bit) or silence (other widths), `seconds` long."""
    frames = int(seconds * rate)
    if width == 2:
        second = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) * channels
            for i in range(rate)
        )
    else:
        second = b"\x80" * width * channels * rate
    data = (second * (frames // rate + 1))[: frames * width * channels]
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(data)
    return buf.getvalue()


def wav_g711(seconds: float = 1.0, *, rate: int = 8000, tag: int = 7, fact: bool = True) -> bytes:
    """µ-law (tag 7) or A-law (tag 6) WAV as telephony records it (fmt chunk of 18 bytes)."""
    samples = int(seconds * rate)
    fmt = struct.pack("<HHIIHHH", tag, 1, rate, rate, 1, 8, 0)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if fact:
        body += b"fact" + struct.pack("<I", 4) + struct.pack("<I", samples)
    data = bytes((0xFF if i % 2 else 0x7F) for i in range(samples))
    body += b"data" + struct.pack("<I", len(data)) + data
    if len(data) % 2:
        body += b"\x00"
    return b"RIFF" + struct.pack("<I", len(body)) + body


def wav_with_tag(tag: int) -> bytes:
    """A WAV of some other encoding (e.g. 2 = ADPCM): well formed, but not playable here."""
    fmt = struct.pack("<HHIIHH", tag, 1, 8000, 4000, 256, 4)
    data = b"\x00" * 1024
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def mp3(frames: int = 100) -> bytes:
    """MPEG-1 Layer III frames, 128 kbps, 44.1 kHz, mono (silent payload): ~26 ms each."""
    header = bytes([0xFF, 0xFB, 0x90, 0xC4])
    size = 144 * 128000 // 44100
    return (header + b"\x00" * (size - 4)) * frames


def truncated(wav: bytes, keep: int = 200) -> bytes:
    """The first bytes of a WAV: its data chunk then claims more than there is."""
    return wav[:keep]


# ---------------------------------------------------------------------------------------------
# Reaching the live server's database and data directory from a test, as the telephony plane
# would: its own connection, its own transaction.

T = TypeVar("T")


def in_db(
    settings: Settings, work: Callable[[AsyncSession], Awaitable[T]], *, commit: bool = True
) -> T:
    async def go() -> T:
        db = Database(settings.resolved_database_url)
        try:
            async with db.writer() as session:
                try:
                    result = await work(session)
                except BaseException:
                    await session.rollback()
                    raise
                if commit:
                    await session.commit()
                else:
                    await session.rollback()
                return result
        finally:
            await db.dispose()

    return asyncio.run(go())


def domain_id(settings: Settings, name: str) -> int:
    async def work(session: AsyncSession) -> int:
        found = await session.scalar(select(Domain.id).where(Domain.name == name))
        assert found is not None
        return int(found)

    return in_db(settings, work)


def stored_files(settings: Settings, area: str, domain: int) -> set[str]:
    """The names of the audio files on disk for a domain (`prompts` or `voicemail`)."""
    folder = Path(settings.resolved_data_dir) / "audio" / area / str(domain)
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def events(settings: Settings, model: str, domain: str) -> list[dict[str, Any]]:
    from celito.events.models import Event

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        rows = await session.scalars(
            select(Event).where(Event.model == model, Event.domain == domain).order_by(Event.id)
        )
        return [{"action": e.action, "user": e.user, **e.payload} for e in rows.all()]

    return in_db(settings, work)
