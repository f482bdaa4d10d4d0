"""A real `supervision scheduler run` whose nightly check stalls inside its transaction.

Used by test_scheduler_kill.py: the check's work is done but not committed when this
process writes the marker file; the test then kills it with SIGKILL.
Usage: python scheduler_child.py DB_URL CONFIG MARKER
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from supervision.cli import main
from supervision.scheduling import recurring

url, config, marker = sys.argv[1:4]
real_check = recurring.check


def stalled_check(session: Any, day: Any) -> dict[str, Any]:
    result = real_check(session, day)
    session.flush()
    Path(marker).write_text("in transaction", encoding="utf-8")
    time.sleep(600)  # holds the transaction until killed
    return result


recurring.check = stalled_check
main(["--db", url, "scheduler", "run", "--config", config])
