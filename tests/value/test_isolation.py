"""kehu.value is pure: importing it must not import Django (or pay for it)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_kehu_value_does_not_import_django():
    code = ("import sys, kehu.value, kehu.value.cli, kehu.value.datasets; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'django'); "
            "assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
