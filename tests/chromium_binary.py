"""The Chromium the browser tests drive: Debian's ``chromium-headless-shell`` when installed,
else its ``chromium``; ``CHROMIUM_PATH`` chooses another.

The headless shell is Chromium's old headless mode as a program of its own (the one Playwright
drives by default): no browser window machinery behind the page. Measured on the 2-core host, one
after the other (``/usr/bin/time`` of ``pytest tests/dashboard/test_dashboard_e2e.py``, the
browser included): 25.8 CPU-s against 35.6 with ``chromium --headless``; two small scripts 20.7
against 22.7. ``make chromium`` installs both: people look at the dashboard in the full one.
"""

from __future__ import annotations

import os

# The program itself: Debian's /usr/bin/chromium-headless-shell is a shell script that runs it as
# a child without exec, so a test killing the script (tests/browser/cdp.py) left the browser
# running, its parent gone.
HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell"
FULL = "/usr/bin/chromium"


def chromium_path() -> str:
    """``CHROMIUM_PATH`` when set, else the headless shell when installed, else ``chromium``."""
    chosen = os.environ.get("CHROMIUM_PATH")
    if chosen:
        return chosen
    return HEADLESS_SHELL if os.access(HEADLESS_SHELL, os.X_OK) else FULL


CHROMIUM = chromium_path()
