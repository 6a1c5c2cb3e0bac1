"""Who is acting, as every logged decision records it. A leaf module: it imports nothing from
the package, so the command line can ask without loading the library."""

from __future__ import annotations

import getpass
import os


def default_actor() -> str:
    """AWARDS_ACTOR if set, else the user's login name ('unknown' where there is none)."""
    try:
        return os.environ.get("AWARDS_ACTOR") or getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "unknown"
