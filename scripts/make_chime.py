"""Write the console's attention sound, bot/static/console/chime.wav.

A short two-note chime (A5 then E6, softly decaying), synthesised here so the
sound is ours and nothing is downloaded. The file in the repository is this
script's output (tests/console/test_attention_assets.py checks it):

    .venv/bin/python scripts/make_chime.py
"""

from __future__ import annotations

import io
import math
import struct
import sys
import wave
from pathlib import Path

RATE = 16000  # samples per second: plenty for a chime, keeps the file small
NOTES = ((880.0, 0.0), (1318.5, 0.14))  # (frequency in Hz, start in s)
LENGTH = 0.55  # seconds
VOLUME = 0.35  # of full scale: noticeable, not startling
TARGET = Path(__file__).resolve().parent.parent / "bot" / "static" / "console" / "chime.wav"


def sample(t: float) -> float:
    value = 0.0
    for freq, start in NOTES:
        if t >= start:
            age = t - start
            attack = min(1.0, age / 0.005)  # 5 ms fade-in: no click
            value += attack * math.exp(-age * 9.0) * math.sin(2 * math.pi * freq * age)
    fade_out = min(1.0, (LENGTH - t) / 0.02)  # the last 20 ms: no click at the end
    return VOLUME * value * fade_out / len(NOTES)


def chime() -> bytes:
    """The WAV file's bytes (16-bit mono PCM)."""
    frames = b"".join(
        struct.pack("<h", round(32767 * sample(i / RATE))) for i in range(int(LENGTH * RATE))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(frames)
    return out.getvalue()


def main() -> int:
    TARGET.write_bytes(chime())
    sys.stdout.write(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
