"""Settings are defined once: the README's table is generated from them, and --help shows them."""
from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from lrs_ws.cli import main
from lrs_ws.config import OPTIONS, SERVE_OPTIONS, Settings, markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_table_is_the_generated_one() -> None:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- options:begin -->\n(.*?)\n<!-- options:end -->", text, re.S)
    assert found, "README.md lost its options markers"
    assert found.group(1) == markdown_table(), (
        "README.md's configuration table is stale; regenerate it with "
        "python -c 'from lrs_ws.config import markdown_table; print(markdown_table())'"
    )


def test_serve_help_names_every_option_and_variable() -> None:
    output = CliRunner().invoke(main, ["serve", "--help"], terminal_width=200).output
    for name in ("database_url", *SERVE_OPTIONS):
        assert OPTIONS[name].flag in output and OPTIONS[name].envvar in output


def test_every_behaviour_setting_has_an_option_with_the_same_default() -> None:
    for field, default in vars(Settings()).items():
        if field in ("extra", "public_url"):
            continue
        assert field in OPTIONS, f"Settings.{field} has no option"
        assert OPTIONS[field].default == default, field
