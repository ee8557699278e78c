"""A function's pool of workers: never more than its concurrency, warmed at most once ahead of need."""

import pytest

from hello_winners.embedded.runtime.pool import TooManyRequestsException, WorkerPool


class FakeWorker:
    def __init__(self, started):
        self.closed = False
        started.append(self)

    def alive(self):
        return not self.closed

    def close(self):
        self.closed = True


def pool_of(limit):
    started = []
    return WorkerPool(lambda: FakeWorker(started), limit=limit), started


def test_warming_starts_workers_that_the_first_invocations_take():
    pool, started = pool_of(4)
    assert pool.warm(2) == 2 and pool.size == 2
    assert pool.warm(2) == 0 and pool.size == 2  # as many as asked: more start as invocations need them
    assert {pool.take(0), pool.take(0)} == set(started) and len(started) == 2


def test_a_pool_already_serving_is_warmed_only_up_to_the_count():
    pool, started = pool_of(4)
    worker = pool.take(0)
    assert pool.warm(1) == 0 and len(started) == 1
    assert pool.warm(2) == 1 and len(started) == 2
    pool.give_back(worker)
    assert pool.size == 2


def test_warming_never_exceeds_the_limit_nor_holds_a_slot():
    pool, started = pool_of(1)
    assert pool.warm(3) == 1
    worker = pool.take(0)  # the warmed worker: its slot was given back
    with pytest.raises(TooManyRequestsException):
        pool.take(0)
    pool.give_back(worker)
    assert pool.size == 1 and len(started) == 1


def test_a_closed_pool_is_not_warmed():
    pool, started = pool_of(2)
    pool.close()
    assert pool.warm(2) == 0 and not started
