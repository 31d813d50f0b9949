"""The `kehu` command: Django's management commands and kehu's own, in one place.

`kehu value ...` is the pure value engine and must not pay for (or need) Django, so it is
dispatched before Django is set up.
"""

from __future__ import annotations

import os
import sys

# `kehu value refresh` scores the CRM's own database, so it is a Django command.
PURE_VALUE_COMMANDS = {"fit", "score", "evaluate", "--help", "-h"}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "value" and (len(argv) < 2 or argv[1] in PURE_VALUE_COMMANDS):
        from kehu.value.cli import app

        app(args=argv[1:], prog_name="kehu value")
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kehu", *argv])


if __name__ == "__main__":
    main()
