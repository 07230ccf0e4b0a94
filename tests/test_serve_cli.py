"""`rag serve` refuses unsafe starts before loading anything: another address without a token, a weak or shared token file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from indexes.errors import ConfigError
from rag.cli import main
from rag.serve.settings import ServeSettings, is_loopback, read_token

REPO = Path(__file__).resolve().parents[1]


def test_binding_another_address_without_a_token_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--index", "idx"]) == 1
    assert "refusing to listen on 0.0.0.0 without a token" in capsys.readouterr().err
    assert not Path("idx").exists()  # refused before opening anything


def test_the_token_file_must_be_private_and_long(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret-but-long-enough-123\n", encoding="utf-8")
    os.chmod(token, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        read_token(token)
    os.chmod(token, 0o600)
    assert read_token(token) == "s3cret-but-long-enough-123"
    with pytest.raises(ConfigError, match="at least 16"):
        ServeSettings(host="0.0.0.0", token="short").check()
    ServeSettings(host="0.0.0.0", token=read_token(token)).check()


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.0.0.5", True), ("::1", True),
                                                ("localhost", True), ("0.0.0.0", False), ("192.168.1.4", False),
                                                ("example.org", False)])
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_rag_help_lists_serve_without_importing_fastapi() -> None:
    code = "import sys; from rag.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n" \
           "print('FASTAPI' if 'fastapi' in sys.modules else 'LIGHT')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert "serve" in out.stdout and out.stdout.strip().endswith("LIGHT")
