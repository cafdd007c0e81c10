"""The gate every request to a publisher passes: global limit, per-host limit and delay."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

from daemon.feeds.gate import Gate, Host


@dataclass
class Requests:
    """Requests through one gate: which hosts got in, in order, and their slips to hand back."""

    gate: Gate
    log: list[str] = field(default_factory=list)
    inside: list[Host] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def send(self, name: str, count: int = 1) -> list[asyncio.Task[None]]:
        new = [asyncio.create_task(self._enter(name)) for _ in range(count)]
        self.tasks += new
        return new

    async def _enter(self, name: str) -> None:
        self.inside.append(await self.gate.enter(name))
        self.log.append(name)

    async def end_oldest(self) -> None:
        self.gate.leave(self.inside.pop(0))
        await settle()

    async def all_in(self) -> None:
        await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), 1)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_the_global_limit_holds_across_hosts_and_frees_as_requests_end() -> None:
    requests = Requests(Gate(concurrency=2, per_host=10, delay=0.0))
    for i in range(5):
        requests.send(f"h{i}")
    await settle()
    assert requests.log == ["h0", "h1"]
    await requests.end_oldest()
    assert requests.log == ["h0", "h1", "h2"]
    await requests.end_oldest()
    await requests.end_oldest()
    await requests.all_in()
    assert requests.log == ["h0", "h1", "h2", "h3", "h4"]


async def test_a_full_host_does_not_hold_up_other_hosts() -> None:
    requests = Requests(Gate(concurrency=10, per_host=1, delay=0.0))
    requests.send("slow", 3)
    await settle()
    requests.send("quick")
    await settle()
    assert requests.log == ["slow", "quick"]
    await requests.end_oldest()  # slow's slot: the next slow request goes in
    assert requests.log == ["slow", "quick", "slow"]
    await requests.end_oldest()  # quick's: slow is still full
    assert requests.log == ["slow", "quick", "slow"]
    await requests.end_oldest()
    await requests.all_in()
    assert requests.log == ["slow", "quick", "slow", "slow"]


async def test_hosts_take_turns_for_a_free_slot() -> None:
    """A host with many queued requests gets a turn, then waits behind the other hosts:
    with one semaphore per host and one global, lone would wait for all five."""
    requests = Requests(Gate(concurrency=1, per_host=5, delay=0.0))
    requests.send("busy", 5)
    await settle()
    requests.send("lone")
    await settle()
    while len(requests.log) < 6:
        await requests.end_oldest()
    assert requests.log == ["busy", "busy", "lone", "busy", "busy", "busy"]


async def test_starts_to_one_host_are_spaced_by_the_delay() -> None:
    gate = Gate(concurrency=10, per_host=10, delay=0.05)
    loop = asyncio.get_running_loop()
    times: dict[str, list[float]] = {"a": [], "b": []}

    async def request(name: str) -> None:
        host = await gate.enter(name)
        times[name].append(loop.time())
        gate.leave(host)

    began = loop.time()
    await asyncio.wait_for(asyncio.gather(*(request("a") for _ in range(4)), request("b")), 2)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times["a"])]
    assert len(gaps) == 3 and min(gaps) >= 0.05 - 0.005
    assert times["b"][0] - began < 0.05  # another host does not wait out a's delay


async def test_a_cancelled_waiter_takes_no_slot() -> None:
    requests = Requests(Gate(concurrency=1, per_host=1, delay=0.0))
    [_, gone, last] = requests.send("h", 3)
    await settle()
    gone.cancel()
    await settle()
    await requests.end_oldest()
    await requests.all_in()
    assert gone.cancelled() and last.done() and requests.log == ["h", "h"]


async def test_a_waiter_cancelled_after_being_let_in_gives_its_slot_back() -> None:
    gate = Gate(concurrency=1, per_host=1, delay=0.0)
    first = await gate.enter("h")
    late = asyncio.create_task(gate.enter("h"))
    await settle()
    gate.leave(first)  # lets ``late`` in; it is cancelled before it runs again
    late.cancel()
    await settle()
    assert late.cancelled()
    again = await asyncio.wait_for(gate.enter("other"), 1)  # the slot came back
    gate.leave(again)
