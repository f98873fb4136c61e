"""What gunicorn loads: the WSGI module, with the objects loaded at start frozen out of full collections."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_loading_the_wsgi_module_freezes_what_was_loaded_at_start():
    script = "import gc; assert gc.get_freeze_count() == 0; import config.wsgi; print(gc.get_freeze_count())"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=os.environ, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    # The URLconf and every view module were loaded before the freeze: far more than Django's own start.
    assert int(result.stdout.strip()) > 100_000
