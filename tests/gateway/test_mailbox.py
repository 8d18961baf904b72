"""The gateway's cross-thread mailbox: order kept, bursts coalesced, nothing stranded."""

from __future__ import annotations

import queue
import threading

from zeebe_trio.gateway._host import _Mailbox


def test_a_burst_costs_one_wakeup_and_keeps_order() -> None:
    scheduled: list = []  # type: ignore[type-arg]
    mailbox = _Mailbox(scheduled.append)
    seen: list[int] = []
    for i in range(100):
        mailbox.post(seen.append, i)
    assert len(scheduled) == 1
    scheduled.pop()()
    assert seen == list(range(100))
    mailbox.post(seen.append, 100)  # after a drain, the next post schedules again
    assert len(scheduled) == 1


def test_items_posted_from_two_threads_while_draining_are_never_stranded() -> None:
    wakeups: queue.Queue = queue.Queue()  # type: ignore[type-arg]
    mailbox = _Mailbox(wakeups.put)
    seen: list[tuple[int, int]] = []
    per_thread = 20_000

    def produce(thread: int) -> None:
        for i in range(per_thread):
            mailbox.post(seen.append, (thread, i))

    producers = [threading.Thread(target=produce, args=(t,)) for t in range(2)]
    for producer in producers:
        producer.start()
    while any(p.is_alive() for p in producers) or not wakeups.empty():
        try:
            wakeups.get(timeout=0.05)()  # the "other loop" drains whenever it is woken
        except queue.Empty:
            pass
    for producer in producers:
        producer.join()
    assert len(seen) == 2 * per_thread
    for thread in range(2):
        assert [i for t, i in seen if t == thread] == list(range(per_thread))  # each thread's order kept


def test_a_failing_callable_is_logged_and_does_not_strand_the_rest(caplog) -> None:  # type: ignore[no-untyped-def]
    scheduled: list = []  # type: ignore[type-arg]
    mailbox = _Mailbox(scheduled.append)
    seen: list[int] = []
    mailbox.post(seen.append, 1)
    mailbox.post(lambda: 1 / 0)
    mailbox.post(seen.append, 2)
    scheduled.pop()()
    assert seen == [1, 2]
    assert "hand-off" in caplog.text
