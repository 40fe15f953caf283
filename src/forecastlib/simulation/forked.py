"""Work in processes forked from this one: the fits and blocks of simulations on every core.

The demand fits and the simulation's per-line set-up run Python code that holds the
interpreter's lock, so threads share one core there. A process **forked** from this one
(POSIX) starts with a copy of its memory: the fitted models, the open books and the
record are inherited, not pickled, and only the result comes back through a pipe.

- :func:`fork_call` runs one function in a child while this process does something
  else (``DemandModels.fit(..., fork=True)`` fits the lengths of stay there while this
  process fits starts and prices);
- :class:`ForkedWorkers`, passed as ``executor`` to
  :func:`~forecastlib.outturn.forecast.forecast_outturn` (the command line does), runs
  the blocks of simulations in forked workers, each block's output sent back as it is
  done (see :func:`forecastlib.simulation.blocks.simulate_blocks`).

The numbers are the same as in one process: every function run is pure in its
arguments and the random streams are keyed by line and block, not by who draws them.
Where fork is not available, or a child cannot be forked or dies, the work is done here
instead (again the same numbers). Children ignore Ctrl-C (the parent stops them), and
never print a traceback: an error comes back to be raised in the parent.

Fork only from a program with no other threads at work (a child inherits one thread
and whatever locks the others held): the command line, a script or a notebook, not a
server's worker thread.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["ForkedWorkers", "can_fork", "fork_call", "forked_map", "forked_share"]


def can_fork() -> bool:
    """Whether work may be forked here: Linux (and FreeBSD) only. Windows cannot fork,
    and on macOS a fork after the system's numerical libraries have started threads can
    crash the child (Python's own default there is spawn), so both run on threads."""
    return (sys.platform.startswith(("linux", "freebsd"))
            and "fork" in multiprocessing.get_all_start_methods())


@dataclass(frozen=True)
class ForkedWorkers:
    """Run the blocks of simulations in ``workers`` processes forked from this one.

    Pass as ``executor`` to :func:`~forecastlib.outturn.forecast.forecast_outturn` or
    :func:`~forecastlib.simulation.engine.simulate_remaining`. The workers inherit the
    job (fitted models, open books) instead of receiving it pickled; each takes the next
    block when it finishes one (:func:`forked_share`), so a worker on a busier core
    takes fewer. With it,
    :func:`~forecastlib.outturn.forecast.outturn_from_inputs` also fits the demand models
    in two processes (``DemandModels.fit(..., fork=True)``). Same numbers as threads.

    Parameters
    ----------
    workers : int, optional
        Processes (default: this machine's cores).

    Examples
    --------
    >>> ForkedWorkers(2).count(10), ForkedWorkers(4).count(3)
    (2, 3)
    """

    workers: int | None = None

    def count(self, tasks: int) -> int:
        """Workers for ``tasks`` tasks: at most one a task."""
        return max(1, min(tasks, int(self.workers or os.cpu_count() or 1)))


def _child(work: Callable[[], Iterable[Any]], send: multiprocessing.connection.Connection
           ) -> None:
    """A child's life: ``("item", value)`` for each value ``work()`` yields, then
    ``("done", None)``; ``("error", exception)`` instead if it raises."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # and stops its children by SIGTERM
    # standard error afresh: another thread of the parent (a progress bar) may have held
    # the inherited stream's lock at the fork
    sys.stderr = open(2, "w", closefd=False, errors="backslashreplace")
    try:
        for value in work():
            send.send(("item", value))
        send.send(("done", None))
    except BaseException as error:  # sent to the parent, raised there
        try:
            send.send(("error", error))
        except Exception:  # an exception that cannot be pickled: its name and message
            send.send(("error", RuntimeError(
                f"in a forked process: {type(error).__name__}: {error}")))
    finally:
        send.close()


def forked_map(function: Callable[[Any], Any], parts: list[list[Any]]
               ) -> Iterator[tuple[Any, Any]]:
    """``(item, function(item))`` for every item of ``parts``, one forked child a part
    (forked now, before the first value is asked for), yielded as each is done (in any
    order).

    Items a child did not return (it could not be forked, or died) are computed here at
    the end. An exception raised by ``function`` in a child is raised here (the first to
    arrive, when several children fail). Closing the
    iterator early (an error, Ctrl-C) stops the children.

    Examples
    --------
    >>> sorted(forked_map(lambda x: x * x, [[1, 2], [3]]))
    [(1, 1), (2, 4), (3, 9)]
    """
    items = [item for part in parts for item in part]
    works = []
    first = 0
    for part in parts:
        numbers = range(first, first + len(part))
        first += len(part)
        if not part:
            continue

        def work(numbers: range = numbers) -> Iterator[tuple[int, Any]]:
            for number in numbers:
                yield number, function(items[number])

        works.append(work)
    return _collect(function, items, _start(works))


def forked_share(function: Callable[[Any], Any], items: list[Any], workers: int
                 ) -> Iterator[tuple[Any, Any]]:
    """``(item, function(item))`` for every item, in ``workers`` forked children that
    each take the next item nobody has taken yet whenever they finish one: a slower
    child (a busier core) takes fewer items, so all finish together. Yielded as each is
    done (in any order), with :func:`forked_map`'s guarantees (items a child did not
    return are computed here at the end; its exceptions are raised here; closing the
    iterator stops the children). Which child computes an item never changes its value
    when ``function`` is pure.

    The items to take are their numbers written to a pipe before the fork (four bytes
    each; a pipe read is atomic, so each number goes to one child): no lock that a dying
    child could leave held. Above :data:`PIPE_ITEMS` items (4 KiB, what any pipe holds),
    items are dealt in turn as by :func:`forked_map`.

    Examples
    --------
    >>> sorted(forked_share(lambda x: x * x, [1, 2, 3], 2))
    [(1, 1), (2, 4), (3, 9)]
    """
    items = list(items)
    workers = max(1, min(workers, len(items)))
    if len(items) > PIPE_ITEMS:
        return forked_map(function, [items[worker::workers] for worker in range(workers)])
    if not can_fork() or not items:
        return _collect(function, items, [])
    taken, numbers = os.pipe()
    try:
        # never blocks (no reader yet): a number the pipe did not take is simply not
        # handed out, and computed here at the end like a dead child's
        os.set_blocking(numbers, False)
        os.write(numbers, b"".join(n.to_bytes(4, "little") for n in range(len(items))))
    except BlockingIOError:
        pass
    finally:
        os.close(numbers)  # closed before the fork: the children read to its end

    def work() -> Iterator[tuple[int, Any]]:
        while len(record := os.read(taken, 4)) == 4:  # a loop over the items taken
            number = int.from_bytes(record, "little")
            yield number, function(items[number])

    try:
        children = _start([work] * workers)
    finally:
        os.close(taken)
    return _collect(function, items, children)


#: Most items :func:`forked_share` hands out through one pipe: four bytes each in 4 KiB,
#: the least a pipe holds (Linux, FreeBSD), so the numbers are written before any child
#: reads. The command line's blocks are at most 1,000 (a million simulations).
PIPE_ITEMS = 1_024


def _start(works: list[Callable[[], Iterable[Any]]]
           ) -> list[tuple[multiprocessing.connection.Connection, Any]]:
    """A forked child running each of ``works`` (none where fork is unavailable, or for
    a child that cannot be forked): its receiving end and process."""
    children = []
    if not can_fork():
        return children
    context = multiprocessing.get_context("fork")
    # the parent's objects out of the children's garbage collections, which would
    # otherwise write to (and so copy) every page holding one
    gc.freeze()
    try:
        for work in works:
            receive, send = context.Pipe(duplex=False)
            try:
                process = context.Process(target=_child, args=(work, send), daemon=True)
                process.start()
            except OSError:  # no memory or processes left to fork: done here instead
                receive.close()
                continue
            finally:
                send.close()
            children.append((receive, process))
    finally:
        gc.unfreeze()
    return children


def _collect(function: Callable[[Any], Any], items: list[Any],
             children: list[tuple[multiprocessing.connection.Connection, Any]]
             ) -> Iterator[tuple[Any, Any]]:
    done: set[int] = set()
    try:
        channels = [receive for receive, _ in children]
        while channels:
            for channel in multiprocessing.connection.wait(channels):
                try:
                    kind, value = channel.recv()
                except EOFError:  # the child died: its items are done here
                    channels.remove(channel)
                    continue
                if kind == "item":
                    number, result = value
                    done.add(number)
                    yield items[number], result
                elif kind == "done":
                    channels.remove(channel)
                else:
                    raise value
        for number, item in enumerate(items):
            if number not in done:
                yield item, function(item)
    finally:
        for receive, process in children:
            if process.is_alive():
                process.terminate()
            process.join()
            receive.close()


def fork_call(function: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    """Start ``function(*args)`` in a forked child; returns ``wait()``, which gives its
    result (computed here instead where fork is unavailable or the child fails to
    return one; an exception raised in the child is raised by ``wait``).

    Examples
    --------
    >>> wait = fork_call(sum, [1, 2, 3])
    >>> wait()
    6
    """
    results = forked_map(lambda _: function(*args), [[None]])

    def wait() -> Any:
        try:
            return next(results)[1]
        finally:
            results.close()

    return wait
