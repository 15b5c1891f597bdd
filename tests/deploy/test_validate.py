from __future__ import annotations

import subprocess
import sys

from deploy.validate import DOCKERFILE


def test_the_command_line_checks_every_overlay_and_passes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploy.validate"],
        cwd=DOCKERFILE.parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "overlay dev" in result.stdout and "overlay prod" in result.stdout
    assert result.stdout.count(" ok") == 2 * 5 + 1
