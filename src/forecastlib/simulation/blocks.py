"""Fixed blocks of simulations: the unit of work of the outturn simulation.

Simulations are cut into blocks of :data:`SIM_BLOCK`, numbered ``b = 0, 1, ...``
(block ``b`` holds simulations ``b * SIM_BLOCK`` to ``(b + 1) * SIM_BLOCK - 1``, the
last block possibly fewer). Every random draw of block ``b`` (start counts, the common
shocks, the market normals, open placements' ends and moves, new placements, their
moves) comes from streams keyed by ``b`` (:func:`forecastlib.streams.stream`), and the
parameter draw of simulation ``s`` is still ``s mod K`` on the global simulation
number. So simulating block ``b`` needs only a :class:`BlockJob` (the fitted models, the
open books, the new starts) and ``b``:

- the numbers do not depend on what runs the blocks (one thread, a thread pool, a
  process pool, a Dask cluster) nor in what order;
- the first ``N`` simulations are the same whether ``N`` or more are asked for, when
  ``N`` is a whole number of blocks (a partial last block draws its own numbers).

Within a block memory stays bounded as before: open books in chunks of at most
:data:`~forecastlib.simulation.open_book.CHUNK_ELEMENTS` placement-simulations, new
starts in chunks of :data:`~forecastlib.simulation.new_starts.BLOCK_PLACEMENTS` new
placements, each chunk with its own stream keyed by ``(block, chunk)``. Locally the
blocks run on a thread pool over the machine's cores (numpy releases the GIL), at most
two a worker in flight, so memory is flat in the number of simulations apart from the
output arrays. Any :class:`concurrent.futures.Executor` may run them instead: blocks
are grouped into about two tasks a worker, each task a call of the top-level
:func:`run_blocks` with the job (sent once per task) and its block numbers. With
:class:`~forecastlib.simulation.forked.ForkedWorkers` (the command line's choice) they
run in processes forked from this one, which inherit the job instead of receiving it,
each taking the next block when it finishes one: the per-line Python work of a block runs
on every core, not one at a time under the interpreter's lock.

Why 1,000: a block must be large enough that the per-block work done once per line
in Python (drawing start counts, moves, stream set-up: about a millisecond a line) is
small beside the vectorised draws, and small enough that the demo's 10,000 simulations
make ten blocks to share between cores and that a block's output (lines x 1,000 x
months) stays a few megabytes.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

import numpy as np

from forecastlib.demand.stay_draws import StayDraws
from forecastlib.simulation.forked import ForkedWorkers, forked_share
from forecastlib.simulation.models import DemandModels, StartChanges
from forecastlib.simulation.moves import Entries, follow_moves
from forecastlib.simulation.new_starts import NewStarts
from forecastlib.simulation.open_book import OpenBook
from forecastlib.streams import stream

__all__ = ["SIM_BLOCK", "BlockJob", "BlockOutput", "run_blocks", "simulate_block",
           "simulate_blocks"]

#: Simulations per block (fixed: the numbers of simulation ``s`` depend on it).
SIM_BLOCK = 1000


@dataclass
class BlockJob:
    """Everything a block of simulations needs, the same for every block.

    Attributes
    ----------
    models : DemandModels
    books : dict
        The open books (:class:`OpenBook`) per line.
    new : dict
        The new starts (:class:`NewStarts`) per line.
    lines : list of tuple
        The output's lines (rows), in order.
    offsets : ndarray
        Days from ``as_at`` to each remaining month-end.
    simulations : int
        Simulations in all.
    seed : int or None
    horizon : int
        Months of projected starts.
    start_changes : StartChanges, optional
        A scenario's changes to new starts.
    draws : dict
        Stay parameter draws per line (lines receiving moves).
    """

    models: DemandModels
    books: dict[tuple, OpenBook]
    new: dict[tuple, NewStarts]
    lines: list[tuple]
    offsets: np.ndarray
    simulations: int
    seed: int | None = None
    horizon: int = 0
    start_changes: StartChanges | None = None
    draws: dict[tuple, StayDraws | None] = field(default_factory=dict)
    _plug_in: dict[tuple, float] | None = field(default=None, init=False, repr=False,
                                                compare=False)

    @property
    def blocks(self) -> int:
        """The number of blocks."""
        return -(-self.simulations // SIM_BLOCK)

    def plug_in_means(self) -> dict[tuple, float]:
        """The plug-in mean year-end cost of each line's new starts (every parameter at
        its estimate, no shock): the same for every block, so computed once per job (the
        first call; the job keeps it, and an executor's copy of the job carries it)."""
        if self._plug_in is None:
            factors = self.start_changes.factors if self.start_changes else None
            lines = list(self.models.starts.fits_.index)
            means = np.empty((len(lines), 1, self.horizon))
            self.models.starts.simulate(self.horizon, 1, self.seed, parameter_uncertainty=False,
                                        rate_factors=factors, block=0, means=means)
            self._plug_in = {line: float(self.new[line].expected_totals(
                means[lines.index(line)], parameters=False)[0]) if len(self.offsets) else 0.0
                for line in self.new}
        return self._plug_in

    def span(self, block: int) -> tuple[int, int]:
        """First global simulation of ``block`` and its number of simulations."""
        first = block * SIM_BLOCK
        return first, min(SIM_BLOCK, self.simulations - first)


@dataclass
class BlockOutput:
    """One block's simulations, per line (rows) and simulation of the block (columns).

    ``paths`` (lines x sims x months) is the cumulative remaining spend, ``running``
    the placements in placement on the last day, ``open_total`` the open books' own
    year-end cost, ``moved_open`` the cost of their moved spells, ``plug_in`` the new
    starts' process-only year-end cost (their cost less its mean given the simulation's
    parameters, plus the mean at the estimates; a run at the estimates where starts move
    between lines or a scenario moves starts), ``no_common`` the year-end cost without
    the common market shock; ``moves`` counts the moves made.
    """

    block: int
    paths: np.ndarray
    running: np.ndarray
    open_total: np.ndarray
    moved_open: np.ndarray
    plug_in: np.ndarray
    no_common: np.ndarray
    moves: int = 0


def _open_block(book: OpenBook, seed: int | None, line: tuple, block: int, first: int,
                paths: np.ndarray, running: np.ndarray) -> Entries | None:
    """One line's open placements in one block, chunk by chunk (stream ``(block,
    chunk)``); returns the spells that move out."""
    simulations = len(paths)
    size = book.chunk_size(simulations)
    moved = []
    for chunk, low in enumerate(range(0, simulations, size)):  # a loop over chunks
        count = min(size, simulations - low)
        rng = stream(seed, line, "ends", chunk, block=block)
        paths[low:low + count], running[low:low + count], part = book.simulate_moves(
            rng, count, first + low)
        if part["sim"].size:
            moved.append(Entries(part["sim"] + low, book.age[part["placement"]],
                                 part["day"].astype(float), book.last_day[part["placement"]]))
    return Entries.join(moved) if moved else None


def simulate_block(job: BlockJob, block: int) -> BlockOutput:
    """Simulate block ``block`` of ``job``: a pure function of the two.

    Examples
    --------
    >>> from scipy import stats
    >>> from forecastlib.demand import LengthOfStayModel
    >>> book = OpenBook(np.full(3, 100.0), np.full(3, 30.0), stats.expon(scale=90),
    ...                 np.array([30.0, 61.0]))
    >>> job = BlockJob(DemandModels(LengthOfStayModel()), {("S", "X"): book}, {},
    ...                [("S", "X")], book.month_ends, simulations=1500, seed=1)
    >>> out = simulate_block(job, 1)
    >>> out.paths.shape, bool((simulate_block(job, 1).paths == out.paths).all())
    ((1, 500, 2), True)
    """
    models, seed = job.models, job.seed
    first, simulations = job.span(block)
    count, grid = len(job.lines), len(job.offsets)
    paths = np.zeros((count, simulations, grid))
    running = np.zeros((count, simulations), dtype=np.int64)
    open_total = np.zeros((count, simulations))
    plug_in = np.zeros((count, simulations))
    no_common = np.zeros((count, simulations))
    counts = plug_counts = means = plug_means = None
    start_lines: list[tuple] = []
    if job.new:
        factors = job.start_changes.factors if job.start_changes else None
        start_lines = list(models.starts.fits_.index)
        means = np.empty((len(start_lines), simulations, job.horizon))
        counts = models.starts.simulate(job.horizon, simulations, seed, rate_factors=factors,
                                        block=block, means=means)
        if not _all_held_analytically(job):
            plug_counts = models.starts.simulate(job.horizon, simulations, seed,
                                                 parameter_uncertainty=False,
                                                 rate_factors=factors, block=block)
        else:
            plug_means = job.plug_in_means()
        if job.start_changes:
            counts = job.start_changes.move(counts, start_lines, seed, block)
            if plug_counts is not None:
                plug_counts = job.start_changes.move(plug_counts, start_lines, seed, block)
    # One draw per simulation shared by every line: price inflation and the market shock.
    market = stream(seed, ("*", "market"), "prices", block=block).standard_normal(
        (2, simulations))
    movers: dict[tuple, Entries] = {}
    new_movers: tuple[dict, dict] = ({}, {})  # new placements moving: drawn, plug-in
    for position, line in enumerate(job.lines):  # a loop over lines
        if line in job.books:
            entries = _open_block(job.books[line], seed, line, block, first,
                                  paths[position], running[position])
            if entries is not None:
                movers[line] = entries
            if grid:
                open_total[position] = paths[position, :, -1]
                no_common[position] = paths[position, :, -1]
        if line in job.new:
            index = start_lines.index(line)
            unshocked = np.zeros(simulations)
            new_paths, new_running = job.new[line].simulate(
                counts[index], seed, line, movers=new_movers[0].setdefault(line, []),
                market=market, no_common=unshocked, block=block, first=first)
            paths[position] += new_paths
            running[position] += new_running
            no_common[position] += unshocked
            if grid and plug_means is not None:  # cost less its mean given the parameters
                plug_in[position] += (new_paths[:, -1] + plug_means[line]
                                      - job.new[line].expected_totals(
                                          means[index], first=first, market=market))
            elif grid:  # the same price and stay streams, with every parameter at its estimate
                plug_paths, _ = job.new[line].simulate(
                    plug_counts[index], seed, line, totals_only=True,
                    movers=new_movers[1].setdefault(line, []), parameters=False,
                    block=block, first=first)
                plug_in[position] += plug_paths[:, -1]
    made, moved_open = follow_moves(movers, new_movers, models, job.offsets, job.draws,
                                    job.lines, paths, running, plug_in, no_common,
                                    seed=seed, block=block, first=first)
    return BlockOutput(block, paths, running, open_total, moved_open, plug_in, no_common,
                       made)


def _held_analytically(job: BlockJob, line: tuple) -> bool:
    """Whether the process-only cost of ``line``'s new starts is their cost less its
    mean given the simulation's parameters (plus the plug-in mean): when the starts do
    not move between lines and no scenario moves starts (else a plug-in run)."""
    return job.start_changes is None and (job.models.moves is None
                                          or job.new[line].move_rate <= 0)


def _all_held_analytically(job: BlockJob) -> bool:
    return all(_held_analytically(job, line) for line in job.new)


def run_blocks(job: BlockJob, blocks: Iterable[int]) -> list[BlockOutput]:
    """Simulate ``blocks`` of ``job`` one after the other: the task an executor runs
    (a top-level function of picklable arguments)."""
    return [simulate_block(job, block) for block in blocks]


def _workers(executor: Executor | None) -> int:
    """Workers of ``executor`` (threads, processes, or a Dask client's threads)."""
    workers = getattr(executor, "_max_workers", None)
    client = getattr(executor, "_client", None)
    if workers is None and client is not None:
        workers = sum(client.nthreads().values())
    return max(1, int(workers or os.cpu_count() or 1))


def simulate_blocks(job: BlockJob, executor: Executor | ForkedWorkers | None = None,
                    progress: Callable[[int, int], None] | None = None
                    ) -> Iterable[BlockOutput]:
    """Every block of ``job``, yielded as it is done (in any order).

    With no ``executor``, blocks run on a thread pool over the machine's cores, at most
    two a worker in flight. With :class:`~forecastlib.simulation.forked.ForkedWorkers`,
    in processes forked from this one that inherit the job, each taking the next block
    when it finishes one (:func:`~forecastlib.simulation.forked.forked_share`). With an
    executor, blocks are grouped into about two tasks a worker (contiguous block
    numbers), each a :func:`run_blocks` call sent the job once.
    ``progress(done, total)`` is called with blocks done.
    """
    total = job.blocks
    if job.new and _all_held_analytically(job):
        job.plug_in_means()  # once, before the blocks share (or copy) the job
    if progress is not None:
        progress(0, total)
    done = 0
    if executor is None:
        workers = min(total, os.cpu_count() or 1)
        outputs = _local(job, range(total), workers)
    elif isinstance(executor, ForkedWorkers):
        workers = executor.count(total)
        outputs = (_local(job, range(total), 1) if workers <= 1 else
                   (output for _, output in forked_share(
                       lambda block: simulate_block(job, block), list(range(total)), workers)))
    else:
        tasks = min(total, 2 * _workers(executor))
        cuts = np.linspace(0, total, tasks + 1).round().astype(int)
        futures = [executor.submit(run_blocks, job, range(low, high))
                   for low, high in zip(cuts[:-1], cuts[1:], strict=True) if high > low]
        outputs = (output for future in as_completed(futures) for output in future.result())
    for output in outputs:
        done += 1
        if progress is not None:
            progress(done, total)
        yield output


def _local(job: BlockJob, blocks: range, workers: int) -> Iterable[BlockOutput]:
    if workers <= 1 or len(blocks) <= 1:
        yield from (simulate_block(job, block) for block in blocks)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future] = deque()
        for block in blocks:
            pending.append(pool.submit(simulate_block, job, block))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
