"""Named fail points for the crash campaign: inert unless `ALLEGRO_SYNC_FAILPOINT` names one.

`ALLEGRO_SYNC_FAILPOINT=after_reduce` kills the process (SIGKILL, as a power cut would) the first time the
cycle passes `after_reduce`; `after_reduce:3` at the third time. `random:0.05:SEED` kills at any fail point
with probability 0.05 (seeded, so a failing round can be reproduced). The points, in cycle order:

    after_ingest_<step>      a journal page or warehouse batch was appended (step: allegro.orders, ...)
    after_reduce             the projection and new commands were committed
    before_http_write        a command was marked sent; its request is about to go out
    after_http_write         Allegro answered; the outcome is not recorded yet
    inside_warehouse_tx      the stock statements ran; the warehouse transaction is not committed
    before_outcome_recorded  an outcome event is about to be appended
"""

from __future__ import annotations

import os
import random
import signal

POINTS = (
    "after_ingest",
    "after_reduce",
    "before_http_write",
    "after_http_write",
    "inside_warehouse_tx",
    "before_outcome_recorded",
)
ENV = "ALLEGRO_SYNC_FAILPOINT"


class _Config:
    def __init__(self, spec: str) -> None:
        self.name, self.nth, self.rate = "", 1, 0.0
        self.hits = 0
        self.rng = random.Random()
        if spec.startswith("random:"):
            _, rate, seed = [*spec.split(":"), "0"][:3]
            self.rate, self.rng = float(rate), random.Random(int(seed))
        elif spec:
            name, _, nth = spec.partition(":")
            self.name, self.nth = name, int(nth or 1)

    def fires(self, name: str) -> bool:
        if self.rate:
            return self.rng.random() < self.rate
        if name != self.name and not name.startswith(self.name + "_"):
            return False
        self.hits += 1
        return self.hits == self.nth


_config = _Config(os.environ.get(ENV, ""))


def failpoint(name: str) -> None:
    """Die here, at once and without cleanup, if the environment asks for it."""
    if (_config.name or _config.rate) and _config.fires(name):
        os.kill(os.getpid(), signal.SIGKILL)
