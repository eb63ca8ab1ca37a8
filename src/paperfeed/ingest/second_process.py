"""Run a generator in a second process and read what it yields here, so that parsing a large
file overlaps with writing it to the store (two cores instead of one).

The second process is a fresh interpreter (``python -m paperfeed.ingest.second_process``, not a
fork: the caller may hold threads and database connections, and need not guard its main module).
Items come pickled through a pipe whose write end only that process holds: when it dies, reading
ends at once with `SecondProcessDied` instead of waiting forever; an exception in it ends
reading with `SecondProcessFailed`. Leaving the iteration early stops the process. The producer
runs at most AHEAD items ahead of the reader, so memory stays flat.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from paperfeed.errors import PaperfeedError

T = TypeVar("T")

AHEAD = 6  # items the second process may have ready before the reader takes them
_END = b""  # the sender's stop mark (every item pickles to more)


class SecondProcessDied(PaperfeedError):
    """The second process ended before its last item (killed, or out of memory)."""


class SecondProcessFailed(PaperfeedError):
    """The second process raised an exception; the message holds its traceback."""


@dataclass(frozen=True, slots=True)
class _Finished:
    pass


@dataclass(frozen=True, slots=True)
class _Failed:
    error: str


def in_second_process(produce: Callable[..., Iterator[T]], *args: Any) -> Generator[T, None, None]:
    """The items of ``produce(*args)``, produced in a second process; `produce` and `args`
    must pickle (a module-level function or a method of a picklable object, plain values)."""
    name = getattr(produce, "__qualname__", "producer")
    read_fd, write_fd = os.pipe()
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    command = [sys.executable, "-m", __name__, str(write_fd)]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, pass_fds=(write_fd,), env=environment
    )
    os.close(write_fd)  # the second process holds the only write end: its death ends reading
    reader = Connection(read_fd, writable=False)
    try:
        assert process.stdin is not None
        with process.stdin:
            process.stdin.write(pickle.dumps((produce, args)))
        while True:
            try:
                item = reader.recv()
            except (EOFError, OSError):  # no message, or half of one
                raise SecondProcessDied(
                    f"the process running {name} ended before its work was done (exit code "
                    f"{process.wait(timeout=10)}); nothing after the last saved position was "
                    "kept: run it again to resume"
                ) from None
            if isinstance(item, _Finished):
                return
            if isinstance(item, _Failed):
                raise SecondProcessFailed(f"the process running {name} failed:\n{item.error}")
            yield item
    finally:
        reader.close()
        if process.poll() is None:
            process.terminate()
        process.wait()


def run_child(write_fd: int) -> None:
    """The second process: run what stdin holds (pickled) and send its items through
    `write_fd`, up to AHEAD items ahead of the reader (a thread sends them)."""
    outbox: queue.Queue[bytes] = queue.Queue(maxsize=AHEAD)
    sender = threading.Thread(target=_send, args=(Connection(write_fd, readable=False), outbox))
    sender.start()
    try:
        produce, args = pickle.load(sys.stdin.buffer)
        for item in produce(*args):
            outbox.put(pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL))
        outbox.put(pickle.dumps(_Finished()))
    except BaseException:
        outbox.put(pickle.dumps(_Failed(traceback.format_exc())))
    outbox.put(_END)
    sender.join()


def _send(writer: Connection, outbox: queue.Queue[bytes]) -> None:
    try:
        while (item := outbox.get()) is not _END:
            writer.send_bytes(item)
        writer.close()
    except OSError:  # the reader is gone (stopped early, or died): nothing left to do
        os._exit(0)


if __name__ == "__main__":  # the second process: its classes by their importable names
    from paperfeed.ingest import second_process

    second_process.run_child(int(sys.argv[1]))
