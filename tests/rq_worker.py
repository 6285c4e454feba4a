"""The RQ worker class the worker tests run (``--worker-class``).

rq 3.0 unsubscribes from its control channel before it stops the thread that
listens on it. The reply can wake the thread before its running flag is
cleared; the thread then waits on its next 60-second poll, and redis-py 8.2's
``stop()`` waits with it: a burst worker that has done its work now and then
takes a minute to exit (two such minutes made CI's redis-django61 run 8
minutes instead of 5). Clearing the flag first lets the reply end the thread.
"""

from __future__ import annotations

import rq


class Worker(rq.Worker):
    def unsubscribe(self) -> None:
        if self.pubsub_thread is not None:
            self.pubsub_thread._running.clear()
        super().unsubscribe()  # type: ignore[no-untyped-call]
