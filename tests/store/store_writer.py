"""A writer process for the durability test: saves clients in a loop and prints each ref once committed."""

from __future__ import annotations

import sys

from incentives.store.accounts import create_account
from incentives.store.clients import create_client
from incentives.store.db import make_engine

from store_samples import cluster_profile

AWARDS = [{"scheme_id": "sh-g60/industry-cluster", "amount_yuan": "1000000", "date": "2026-01-05", "source": "一期"},
          {"scheme_id": "sh-g60/industry-cluster", "amount_yuan": "2000000", "date": "2026-03-05", "source": "二期"}]


def main(url: str) -> None:
    engine = make_engine(url)
    account = create_account(engine, "writer@example.cn", "correct horse battery")
    print(f"account {account.id}", flush=True)
    number = 0
    while True:
        number += 1
        ref = f"W{number:06d}"
        create_client(engine, account.id, cluster_profile(name=f"企业{number}", awards=AWARDS), ref=ref)
        print(ref, flush=True)  # only after the commit returned


if __name__ == "__main__":
    main(sys.argv[1])
