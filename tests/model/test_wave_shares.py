"""A nudge wave shared across instances (model/storage/wave_shares.py): every instance takes shares
of the due people by tenant, each person is sent once, a tenant's share is in one
instance at a time, and a dead instance's shares are taken over when its claims run out.
Two WaveShares on one MemoryStore stand for two instances on one Blob container (the
claims' conditional writes behave the same on every backend: tests/processes/test_docstore_contract.py);
tests/processes/test_scale_out.py runs real instances on Azurite."""

from __future__ import annotations

import asyncio
from collections import Counter

from model.storage.memory_store import MemoryStore
from model.storage.wave_shares import SHARES, WaveShares, share_of, tenant_of_key


class Clock:
    def __init__(self) -> None:
        self.now = 5_000_000.0

    def __call__(self) -> float:
        return self.now


def wave(tenants: int = 12, people: int = 20) -> list[str]:
    return [f"tenant-{t:02d}|29:person-{p}" for t in range(tenants) for p in range(people)]


class Sender:
    """Stands in for NudgeSender.run(only=...): sends to the due people `only` accepts
    that nobody has sent to yet (the per-person claim), yielding between sends."""

    def __init__(self, due: list[str], sent: Counter, active: dict) -> None:
        self.due, self.sent, self.active = due, sent, active
        self.mine: Counter = Counter()

    async def __call__(self, only) -> int:
        count = 0
        for key in [k for k in self.due if only(k)]:
            tenant = tenant_of_key(key)
            assert self.active.setdefault(tenant, self) is self, "a tenant is paced by one instance at a time"
            if not self.sent[key]:
                self.sent[key] += 1
                self.mine[tenant] += 1
                count += 1
            await asyncio.sleep(0)
            del self.active[tenant]
        return count


def test_a_tenant_has_one_share_and_tenants_spread_over_the_shares():
    keys = wave(tenants=50, people=3)
    assert all(share_of(k) == share_of(keys[0]) for k in keys[:3])
    assert len({share_of(k) for k in keys}) >= 12  # 50 tenants reach most of the 16 shares
    assert all(0 <= share_of(k) < SHARES for k in keys)


async def test_two_instances_share_a_wave_and_send_everyone_once():
    store, due, sent, active = MemoryStore(), wave(), Counter(), {}
    one, two = WaveShares(store), WaveShares(store)
    await one.sign_in()  # both have run rounds before: both are on the roll
    await two.sign_in()
    send_one, send_two = Sender(due, sent, active), Sender(due, sent, active)
    await asyncio.gather(one.round(send_one), two.round(send_two))
    assert one.batch == two.batch == SHARES // 2  # each takes its fair part at once
    assert sent == Counter({k: 1 for k in due}), "everyone once"
    assert sum(send_one.mine.values()) > 0 and sum(send_two.mine.values()) > 0, "both took a share"
    assert not set(send_one.mine) & set(send_two.mine), "each tenant sent by one instance"
    assert not one.held and not two.held  # released at the end of the round
    again = Sender(due, sent, active)
    await one.round(again)  # every share is free again for the next round
    assert sum(again.mine.values()) == 0 and sent == Counter({k: 1 for k in due})


async def test_a_dead_instances_shares_are_taken_over_when_their_claims_run_out():
    store, due, sent, active, clock = MemoryStore(), wave(), Counter(), {}, Clock()
    dead = WaveShares(store, duration=15, clock=clock)
    assert await dead.acquire()  # it took a batch of shares, then died before sending
    taken = set(dead.held)
    alive = WaveShares(store, duration=15, clock=clock)
    sender = Sender(due, sent, active)
    await alive.round(sender)
    left = [k for k in due if share_of(k) in taken]
    assert left and all(sent[k] == 0 for k in left), "held by the dead instance: not yet"
    assert all(sent[k] == 1 for k in due if share_of(k) not in taken)
    clock.now += 15.1  # the dead instance's claims ran out
    await alive.round(sender)
    assert sent == Counter({k: 1 for k in due}), "taken over: everyone once, nobody twice"


async def test_a_cancelled_round_releases_its_shares_at_once():
    store, due, clock = MemoryStore(), wave(), Clock()
    stopping = WaveShares(store, clock=clock)
    started = asyncio.Event()

    async def slow(only) -> None:
        started.set()
        await asyncio.sleep(3600)

    task = asyncio.create_task(stopping.round(slow))
    await started.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    other = WaveShares(store, clock=clock)
    sent, active = Counter(), {}
    await other.round(Sender(due, sent, active))  # no waiting for claims to run out
    assert sent == Counter({k: 1 for k in due})


async def test_a_stopping_instance_finishes_its_batch_takes_no_more_shares_and_does_not_sign_in_again():
    """SIGTERM mid-round: the batch in hand is finished (its people claimed), no further
    share is taken, and the next round does not put the instance back on the roll; the
    other instance sends the rest at once."""
    store, due, clock = MemoryStore(), wave(), Clock()
    stops = WaveShares(store, clock=clock)
    await store.write("claims", "nudge-members", {"until": {"someone": clock.now + 300}})  # two on the roll
    stop = [False]
    stops.stopping = lambda: stop[0]
    sent, active = Counter(), {}
    sender = Sender(due, sent, active)

    async def send_then_stop(only) -> int:
        count = await sender(only)
        stop[0] = True  # the signal comes while the first batch is sent
        return count

    assert len(await stops.round(send_then_stop)) == 1, "half the shares (two on the roll), then no more"
    assert not stops.held and 0 < sum(sent.values()) < len(due)
    signed, _ = await store.read("claims", "nudge-members")
    clock.now += 10
    assert await stops.round(send_then_stop) == []
    roll, _ = await store.read("claims", "nudge-members")
    assert roll == signed, "not signed in again"
    await stops.sign_out()  # what the scheduler's exit does
    other = WaveShares(store, clock=clock)
    await other.round(Sender(due, sent, active))  # no waiting for claims to run out
    assert sent == Counter({k: 1 for k in due})


async def test_an_instance_alone_takes_every_share_at_once_and_a_clean_exit_leaves_the_roll():
    store, clock = MemoryStore(), Clock()
    alone = WaveShares(store, clock=clock, member_seconds=300)
    batches: list[int] = []

    async def send(only) -> None:
        batches.append(sum(1 for n in range(SHARES) if n in alone.held))

    await alone.round(send)
    assert batches == [SHARES], "one batch of every share: all tenants paced in parallel"
    other = WaveShares(store, clock=clock, member_seconds=300)
    assert await other.sign_in() == 2
    await alone.sign_out()
    assert await other.sign_in() == 1
    clock.now += 301  # an instance that died without signing out drops off the roll
    assert await WaveShares(store, clock=clock).sign_in() == 1


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.writes: Counter = Counter()

    async def write(self, collection, key, doc, if_match=None, if_none_match=False):
        self.writes[collection] += 1
        return await super().write(collection, key, doc, if_match, if_none_match)


async def test_a_round_claims_only_the_shares_with_people_due():
    store = CountingStore()
    instance = WaveShares(store)
    sent, active = Counter(), {}

    async def nobody() -> list[str]:
        return []

    await instance.round(Sender([], sent, active), nobody)
    assert store.writes["claims"] == 1, "a quiet round: only the roll"
    due = wave(tenants=1, people=5)

    async def five() -> list[str]:
        return due

    store.writes.clear()
    await instance.round(Sender(due, sent, active), five)
    assert sent == Counter({k: 1 for k in due})
    assert store.writes["claims"] == 1 + 2, "the roll, then one share claimed and released"


async def test_on_blob_every_instance_shares_the_wave_and_elsewhere_the_leader_sends_all(tmp_path):
    from model.storage.blob_store import BlobStore
    from model.storage.tinydb_store import TinyDBStore
    from model.storage.wave_shares import nudge_job

    async def send(only=None) -> None:
        return None

    leader = object()
    assert nudge_job(TinyDBStore(tmp_path / "data", fsync=False), send, leader) == (send, leader)
    blob = BlobStore("UseDevelopmentStorage=true", "kompetencehjulet")  # makes no request until used
    job, sharing = nudge_job(blob, send, leader)
    assert job is not send and sharing is not leader
    assert await sharing.acquire() is True  # the scheduler always runs the job; the shares decide


async def test_a_clean_stop_takes_the_instance_off_the_roll(monkeypatch):
    import model.storage.wave_shares as wave_shares

    store = MemoryStore()
    monkeypatch.setattr(wave_shares, "WaveShares", lambda _store: WaveShares(store))
    from model.storage.blob_store import BlobStore

    job, sharing = wave_shares.nudge_job(BlobStore("UseDevelopmentStorage=true", "c"), Sender([], Counter(), {}), None)
    await job()
    assert await WaveShares(store).sign_in() == 2  # the instance that ran a round, and this one
    await sharing.release()  # the scheduler's exit
    assert await WaveShares(store).sign_in() == 2  # the two that looked; 3 if the stopped one were still on it
