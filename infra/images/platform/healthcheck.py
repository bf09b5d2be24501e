#!/usr/bin/python3 -IS
"""strata-healthcheck [URL]: exit 0 when URL answers 2xx within 4 s, 1 otherwise.

The image's HEALTHCHECK and compose's healthchecks run it; the URL defaults to
STRATA_HEALTH_URL, else the gateway's liveness. Standard library only, run isolated (-IS):
the check starts in ~20 ms and imports nothing from the virtualenv.
"""

import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8080/v2/health/live"


def main(argv: list[str]) -> int:
    """Check the URL given, else STRATA_HEALTH_URL, else the gateway's; 0 when healthy."""
    url = argv[1] if len(argv) > 1 else os.environ.get("STRATA_HEALTH_URL", DEFAULT_URL)
    try:
        with urllib.request.urlopen(url, timeout=4) as response:  # noqa: S310 (a local URL)
            ok = 200 <= response.status < 300
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1
    if not ok:
        print(f"{url}: HTTP {response.status}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
