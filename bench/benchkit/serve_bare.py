"""Serve bare_asgi with the uvicorn options `celito serve` uses (see celito.cli.serve).

Usage: python serve_bare.py PORT WORKERS
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from celito.yealink.lenient import LenientHttpToolsProtocol


def main() -> None:
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    uvicorn.run(
        "bare_asgi:create_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
        proxy_headers=False,
        http=LenientHttpToolsProtocol,
        app_dir=str(Path(__file__).resolve().parent),
    )


if __name__ == "__main__":
    main()
