"""Pure logic of audio and voicemail: what a file is (from its bytes), base64 bodies, the upload
paths' body limit, PIN rules."""

from __future__ import annotations

import base64
import re
import struct

import pytest

from celito.audio.media import UnsupportedMediaType, inspect, sniff
from celito.audio.web import UPLOAD_PATHS, body_limits, decode_base64
from celito.config import Settings
from celito.errors import PayloadTooLarge, Unprocessable
from celito.voicemail.service import check_folder, pin_problem
from tests.support.audiofiles import mp3, truncated, wav_g711, wav_pcm, wav_with_tag

BIG = 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("data", "codec", "ms", "rate", "channels"),
    [
        (wav_pcm(2.5), "pcm", 2500, 8000, 1),
        (wav_pcm(1, rate=16000, channels=2), "pcm", 1000, 16000, 2),
        (wav_pcm(0.5, width=1), "pcm", 500, 8000, 1),
        (wav_g711(3.0), "mulaw", 3000, 8000, 1),
        (wav_g711(0.5001, tag=6, fact=False), "alaw", 500, 8000, 1),
        (mp3(100), "mp3", 2606, 44100, 1),
    ],
)
def test_duration_and_format_come_from_the_file(
    data: bytes, codec: str, ms: int, rate: int, channels: int
) -> None:
    info = inspect(data, max_bytes=BIG)
    assert (info.codec, info.duration_ms, info.sample_rate, info.channels) == (
        codec,
        ms,
        rate,
        channels,
    )
    assert info.size == len(data)
    assert info.content_type == ("audio/mpeg" if codec == "mp3" else "audio/wav")
    assert info.duration_seconds == (ms + 500) // 1000


def test_the_spec_example_greeting_is_accepted() -> None:
    """NetSapiens' own example upload: a µ-law WAV with a fact chunk."""
    fmt = struct.pack("<HHIIHHH", 7, 1, 8000, 8000, 1, 8, 0)
    body = b"WAVEfmt " + struct.pack("<I", 18) + fmt + b"fact" + struct.pack("<II", 4, 15209)
    body += b"data" + struct.pack("<I", 15209) + b"\xff" * 15209 + b"\x00"
    info = inspect(b"RIFF" + struct.pack("<I", len(body)) + body, max_bytes=BIG)
    assert (info.codec, info.duration_ms) == ("mulaw", 1901)


@pytest.mark.parametrize(
    ("data", "error", "needle"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, UnsupportedMediaType, "PNG"),
        (b"OggS" + b"\x00" * 64, UnsupportedMediaType, "Ogg"),
        (b"RIFX" + b"\x00" * 64, UnsupportedMediaType, "big-endian"),
        (b"RIFF\x10\x00\x00\x00AVI LIST", UnsupportedMediaType, "not WAVE"),
        (b"\xff\xf1\x50\x80" + b"\x00" * 64, UnsupportedMediaType, "AAC"),
        (b"hello world", UnsupportedMediaType, "not an audio file"),
        (wav_with_tag(2), UnsupportedMediaType, "ADPCM"),
        (wav_with_tag(3), UnsupportedMediaType, "float"),
        (wav_with_tag(0x1234), UnsupportedMediaType, "0x1234"),
        (b"", Unprocessable, "empty"),
        (truncated(wav_pcm(1)), Unprocessable, "runs past the end"),
        (b"RIFF\x04\x00\x00\x00WAVE", Unprocessable, "no format"),
        (b"RIFF\x00\x00\x00\x00WAVE", Unprocessable, "declares no content"),
        (wav_pcm(1)[:36] + b"LIST\x00\x00\x00\x00", Unprocessable, "no audio"),
        (b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 64, Unprocessable, "MP3"),
        (b"\xff\xfb\x90\xc4" + b"junk", Unprocessable, "MP3"),
    ],
)
def test_what_is_refused_and_why(data: bytes, error: type[Exception], needle: str) -> None:
    with pytest.raises(error, match=needle):
        inspect(data, max_bytes=BIG)


def _wav_fmt(**change: int) -> bytes:
    values = {"tag": 1, "channels": 1, "rate": 8000, "byte_rate": 16000, "align": 2, "bits": 16}
    values.update(change)
    fmt = struct.pack("<HHIIHH", *values.values())
    body = b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 8) + b"\x00" * 8
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"channels": 0}, "0 channels"),
        ({"rate": 100, "byte_rate": 200}, "sample rate"),
        ({"bits": 12}, "bits per sample"),
        ({"byte_rate": 1234}, "do not match"),
        ({"tag": 7, "bits": 16}, "bits per sample"),
    ],
)
def test_impossible_formats_are_damaged_files(change: dict[str, int], needle: str) -> None:
    assert inspect(_wav_fmt(), max_bytes=BIG).codec == "pcm"  # the unchanged one is fine
    with pytest.raises(Unprocessable, match=needle):
        inspect(_wav_fmt(**change), max_bytes=BIG)


def test_size_limit() -> None:
    data = wav_pcm(1)
    assert inspect(data, max_bytes=len(data)).size == len(data)
    with pytest.raises(PayloadTooLarge, match=f"limit is {len(data) - 1} bytes"):
        inspect(data, max_bytes=len(data) - 1)


def test_sniff_reads_only_the_magic() -> None:
    assert sniff(wav_pcm(0.1)) == "wav"
    assert sniff(mp3(2)) == "mp3"
    assert sniff(b"ID3\x04") == "mp3"
    assert sniff(b"\xff\xf1") is None  # AAC (layer bits 00)
    assert sniff(b"RIFF\x00\x00\x00\x00AVI ") is None
    assert sniff(b"") is None


def test_base64_bodies() -> None:
    data = wav_pcm(0.1)
    plain = base64.b64encode(data).decode()
    assert decode_base64(plain, max_bytes=BIG) == data
    assert decode_base64(f"data:audio/wav;base64,{plain}", max_bytes=BIG) == data
    assert decode_base64(plain[:40] + "\n" + plain[40:], max_bytes=BIG) == data
    with pytest.raises(Unprocessable, match="base64"):
        decode_base64("not base64 at all!", max_bytes=BIG)
    with pytest.raises(PayloadTooLarge):
        decode_base64(plain, max_bytes=len(data) // 2)


def test_upload_paths_and_their_limit() -> None:
    pattern = re.compile(UPLOAD_PATHS)
    for path in (
        "/ns-api/v2/domains/acme/users/1001/greetings",
        "/ns-api/v2/domains/~/users/~/greetings/2",
        "/ns-api/v2/domains/acme/moh",
        "/ns-api/v2/domains/acme/moh/0",
        "/ns-api/v2/domains/acme/users/1001/moh/2/",
        "/ns-api/v2/domains/acme/msg/1",
    ):
        assert pattern.fullmatch(path), path
    for path in (
        "/ns-api/v2/domains/acme/users/1001",
        "/ns-api/v2/domains/acme/users",
        "/ns-api/v2/domains/acme/users/1001/voicemails/new",
        "/ns-api/v2/domains/acme/users/1001/greetings/1/x/y",
        "/ns-api/v2/domains/acme/contacts",
        "/ns-api/oauth2/token",
    ):
        assert not pattern.fullmatch(path), path
    ((_, limit, kinds),) = body_limits(Settings(audio_max_bytes=3 * 1024 * 1024))
    assert limit == 4 * 1024 * 1024 + 64 * 1024 and kinds == ("multipart/form-data",)


@pytest.mark.parametrize(
    ("pin", "extension", "problem"),
    [
        ("730519", "1001", None),
        ("90210", "1001", None),
        ("1111", "1001", "repeated"),
        ("1234", "1001", "consecutive"),
        ("98765", "1001", "consecutive"),
        ("7890", "1001", "consecutive"),
        ("1001", "1001", "extension"),
        ("5510017", "1001", "extension"),
        ("123", "1001", "4 to 12"),
        ("12a45", "1001", "4 to 12"),
        ("٣٤٥٦٧", "1001", "4 to 12"),  # Arabic-Indic digits are digits, but not these
    ],
)
def test_pin_rules(pin: str, extension: str, problem: str | None) -> None:
    found = pin_problem(pin, extension)
    assert (found is None) if problem is None else (problem in (found or "")), found


def test_folders() -> None:
    assert [check_folder(f) for f in ("new", "save", "trash")] == ["new", "save", "trash"]
    for bad in ("inbox", "NEW", "..", "new/../save", ""):
        with pytest.raises(Exception, match="Unknown voicemail folder"):
            check_folder(bad)
