"""What an audio file really is, judged from its bytes (never from the client's claim).

`inspect(data, max_bytes)` answers an `AudioInfo` or refuses: 413 when it is too big, 415 when
it is not a WAV or MP3 file (or a WAV encoding a phone system cannot play), 422 when it says it
is WAV or MP3 but is broken. WAV is read with the stdlib `wave` module (PCM) and a small RIFF
reader for the G.711 encodings `wave` does not know (µ-law, A-law: what telephony records);
MP3 with mutagen. Nothing here touches the disk or the database.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from typing import Any

from mutagen import MutagenError
from mutagen.mp3 import MP3

from celito.errors import CelitoError, PayloadTooLarge, Unprocessable


class UnsupportedMediaType(CelitoError):
    status = 415


WAV = "audio/wav"
MP3_TYPE = "audio/mpeg"

# WAVE format tags (RIFF "fmt " chunk).
_PCM, _ALAW, _MULAW, _EXTENSIBLE = 0x0001, 0x0006, 0x0007, 0xFFFE
_CODECS = {_PCM: "pcm", _ALAW: "alaw", _MULAW: "mulaw"}
_OTHER_TAGS = {
    0x0002: "Microsoft ADPCM",
    0x0003: "IEEE float",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0055: "MP3 in WAV",
    0x0133: "G.729",
}
# Other things people upload by mistake, named in the refusal.
_SIGNATURES = (
    (b"OggS", "an Ogg file"),
    (b"fLaC", "a FLAC file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "an executable"),
    (b"RIFX", "a big-endian RIFF file"),
    (b"RF64", "an RF64 (64-bit WAV) file"),
    (b"FORM", "an AIFF file"),
    (b"#!", "a script"),
    (b"<", "a text/HTML/XML document"),
    (b"{", "a JSON document"),
)
ACCEPTED = "a WAV (PCM, µ-law or A-law) or MP3 file"


@dataclass(frozen=True)
class AudioInfo:
    content_type: str  # audio/wav | audio/mpeg
    extension: str  # wav | mp3
    codec: str  # pcm | mulaw | alaw | mp3
    duration_ms: int
    sample_rate: int
    channels: int
    bits_per_sample: int | None
    size: int

    @property
    def duration_seconds(self) -> int:
        return (self.duration_ms + 500) // 1000


def sniff(data: bytes) -> str | None:
    """`wav`, `mp3` or None, from the first bytes only."""
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3":
        return "mp3"
    # An MPEG audio frame sync (11 bits set) with layer bits 01 = Layer III.
    if len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x06 == 0x02:
        return "mp3"
    return None


def _describe(data: bytes) -> str:
    if not data:
        return "an empty file"
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            return what
    if data[:4] == b"RIFF":
        return "a RIFF file that is not WAVE"
    if len(data) >= 2 and data[0] == 0xFF and data[1] & 0xF0 == 0xF0:
        return "AAC or MPEG audio that is not MP3"
    return "not an audio file this system knows"


def inspect(data: bytes, *, max_bytes: int) -> AudioInfo:
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"The audio file is {len(data)} bytes; the limit is {max_bytes} bytes"
        )
    if not data:
        raise Unprocessable("The audio file is empty")
    kind = sniff(data)
    if kind is None:
        raise UnsupportedMediaType(
            f"The file is {_describe(data)}; send {ACCEPTED} (the type is read from the "
            "file itself, not from its name or the declared encoding)"
        )
    return _wav(data) if kind == "wav" else _mp3(data)


def _corrupt(what: str) -> Unprocessable:
    return Unprocessable(f"The WAV file is damaged: {what}")


def _chunks(data: bytes) -> tuple[bytes, int]:
    """The fmt chunk's body and the data chunk's size, checking every chunk fits the file."""
    riff_size = int.from_bytes(data[4:8], "little")
    if riff_size < 4:
        raise _corrupt("the RIFF header declares no content")
    pos, fmt, data_size = 12, None, None
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        start = pos + 8
        if start + size > len(data):
            raise _corrupt(f"the '{chunk.decode('latin-1')}' chunk runs past the end of the file")
        if chunk == b"fmt ":
            fmt = data[start : start + size]
        elif chunk == b"data":
            if fmt is None:
                raise _corrupt("the audio data comes before its format ('fmt ' chunk)")
            data_size = size
            break
        pos = start + size + (size & 1)
    if fmt is None:
        raise _corrupt("it has no format ('fmt ' chunk)")
    if data_size is None:
        raise _corrupt("it has no audio ('data' chunk)")
    return fmt, data_size


def _wav(data: bytes) -> AudioInfo:
    fmt, data_size = _chunks(data)
    if len(fmt) < 16:
        raise _corrupt("its format chunk is too short")
    tag = int.from_bytes(fmt[0:2], "little")
    channels = int.from_bytes(fmt[2:4], "little")
    rate = int.from_bytes(fmt[4:8], "little")
    byte_rate = int.from_bytes(fmt[8:12], "little")
    block_align = int.from_bytes(fmt[12:14], "little")
    bits = int.from_bytes(fmt[14:16], "little")
    if tag == _EXTENSIBLE:
        if len(fmt) < 26:
            raise _corrupt("its extensible format chunk is too short")
        tag = int.from_bytes(fmt[24:26], "little")  # the sub-format GUID's first two bytes
    if tag not in _CODECS:
        name = _OTHER_TAGS.get(tag, f"format 0x{tag:04x}")
        raise UnsupportedMediaType(
            f"WAV files encoded as {name} are not supported; send PCM, µ-law or A-law WAV, or MP3"
        )
    if not 1 <= channels <= 8:
        raise _corrupt(f"it declares {channels} channels")
    if not 4000 <= rate <= 192_000:
        raise _corrupt(f"it declares a sample rate of {rate} Hz")
    expected_bits = (8, 16, 24, 32) if tag == _PCM else (8,)
    if bits not in expected_bits:
        raise _corrupt(f"it declares {bits} bits per sample for {_CODECS[tag]}")
    if block_align != channels * bits // 8 or byte_rate != rate * block_align:
        raise _corrupt("its block size and byte rate do not match its format")
    if data_size == 0 or data_size < block_align:
        raise _corrupt("it holds no audio")
    if tag == _PCM and fmt[0:2] == b"\x01\x00":
        # Plain PCM: let the stdlib read it as a second opinion.
        try:
            with wave.open(io.BytesIO(data), "rb") as w:
                frames, rate, channels = w.getnframes(), w.getframerate(), w.getnchannels()
        except (wave.Error, EOFError) as exc:
            raise _corrupt(str(exc)) from exc
    else:
        frames = data_size // block_align
    return AudioInfo(
        content_type=WAV,
        extension="wav",
        codec=_CODECS[tag],
        duration_ms=frames * 1000 // rate,
        sample_rate=rate,
        channels=channels,
        bits_per_sample=bits,
        size=len(data),
    )


def _mp3(data: bytes) -> AudioInfo:
    try:
        info: Any = MP3(io.BytesIO(data)).info  # type: ignore[no-untyped-call]
    except (MutagenError, ValueError, OverflowError) as exc:
        raise Unprocessable(f"The MP3 file is damaged: {exc}") from exc
    if info.length <= 0 or not info.sample_rate:
        raise Unprocessable("The MP3 file is damaged: it holds no audio")
    return AudioInfo(
        content_type=MP3_TYPE,
        extension="mp3",
        codec="mp3",
        duration_ms=int(info.length * 1000),
        sample_rate=int(info.sample_rate),
        channels=int(info.channels),
        bits_per_sample=None,
        size=len(data),
    )
