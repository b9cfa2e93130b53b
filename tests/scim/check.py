"""Runs scim2-tester's checks against a node's /scim/v2 and fails on any error.

    python check.py BASE_URL TOKEN
"""

import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


def main() -> int:
    base, token = sys.argv[1], sys.argv[2]
    http = Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
    client = SyncSCIMClient(http)
    results = check_server(client)
    failed = 0
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status.name] = counts.get(r.status.name, 0) + 1
        if r.status == Status.ERROR or r.status == Status.CRITICAL:
            failed += 1
            print(f"ERROR {r.title}: {r.reason}")
        elif r.status == Status.SKIPPED:
            print(f"skipped {r.title}: {r.reason}")
    print("scim2-tester: " + ", ".join(f"{n} {k.lower()}" for k, n in sorted(counts.items())))
    if not results:
        print("scim2-tester ran no checks")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
