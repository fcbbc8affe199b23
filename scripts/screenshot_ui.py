"""Screenshot of `portway ui`'s version page from a real run on the bundled data (docs/ui-version.png).

    python scripts/screenshot_ui.py [--out docs/ui-version.png]

Runs the pipeline twice into a temporary registry (approves churn:1, then registers a
--max-depth 3 challenger as churn:2), serves it with `portway ui` on a free loopback port and
photographs churn:2's page, report included, with headless Chromium.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def portway(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "portway", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    from portway.devtools.chromium import chromium

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "ui-version.png"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="portway-ui-shot-") as work:
        work = Path(work)
        registry = str(work / "registry")
        env = {**os.environ, "PORTWAY_USER": "lead-data-scientist"}
        os.environ.update(env)
        portway("run", "--registry", registry, "--runs-dir", str(work / "runs"), cwd=work)
        portway("models", "approve", "churn:1", "--reason", "baseline; report reviewed", "--registry", registry,
                cwd=work)
        portway("run", "--registry", registry, "--runs-dir", str(work / "runs"), "--max-depth", "3", cwd=work)
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "portway", "ui", "--registry", registry, "--port", str(port)],
                                  cwd=work, env=env)
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{url}/healthz", timeout=2)
                    break
                except OSError:
                    time.sleep(0.2)
            with chromium(1280, 1000) as driver:
                driver.get(f"{url}/groups/churn/versions/2")
                height = driver.execute_script("return document.documentElement.scrollHeight")
                driver.set_window_size(1280, min(int(height) + 40, 4000))
                time.sleep(0.5)  # let the resized frame repaint
                driver.save_screenshot(args.out)
        finally:
            server.terminate()
            server.wait(timeout=20)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
