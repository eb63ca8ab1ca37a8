"""A throwaway PostgreSQL + pgvector server for tests, from the binaries the `pgserver` wheel ships.

The server listens on 127.0.0.1 on a free port, keeps its data in a temporary directory (fsync off)
and is stopped at the end of the session. PostgreSQL refuses to run as root, so under root the
server runs as a dedicated system user (created once with ``useradd``). Each test gets a fresh
database copied from a migrated template; a background thread keeps a few ready, since a copy
costs a checkpoint (~0.2 s).
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import os
import pwd
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from tests.support.net import free_port

SYSTEM_USER = "paperfeed-pg"
TEMPLATE = "paperfeed_template"


def bin_dir() -> Path | None:
    """Where pgserver's PostgreSQL binaries are, if it is installed."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return path if (path / "initdb").exists() and (path / "pg_ctl").exists() else None


def available() -> bool:
    return bin_dir() is not None


def _reachable_by_others(path: Path) -> bool:
    """Whether users other than the owner can reach `path` (every parent searchable)."""
    return all(parent.stat().st_mode & 0o001 for parent in [path, *path.parents])


def _usable_binaries(binaries: Path) -> Path:
    """`binaries`, or under root when the install is not reachable by other users (e.g. a venv
    in /root), a copy the server's user can run: the install and the libraries beside it (the
    binaries find them at $ORIGIN/../../../pgserver.libs)."""
    if os.geteuid() != 0 or _reachable_by_others(binaries):
        return binaries
    install = binaries.parent
    site = install.parent.parent
    copy = Path(tempfile.gettempdir()) / f"paperfeed-pginstall-{install.stat().st_ino}"
    if not (copy / "pgserver" / "pginstall" / "bin" / "postgres").exists():
        staging = Path(tempfile.mkdtemp(prefix="paperfeed-pginstall-"))
        shutil.copytree(install, staging / "copy" / "pgserver" / "pginstall", symlinks=True)
        if (site / "pgserver.libs").is_dir():
            shutil.copytree(site / "pgserver.libs", staging / "copy" / "pgserver.libs")
        for path in [staging / "copy", *(staging / "copy").rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)
        with contextlib.suppress(OSError):  # another session copied it first
            (staging / "copy").rename(copy)
        shutil.rmtree(staging, ignore_errors=True)
    return copy / "pgserver" / "pginstall" / "bin"


def _system_user() -> pwd.struct_passwd | None:
    """None when not root; else the unprivileged user the server runs as (created if needed)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SYSTEM_USER)


class PostgresServer:
    """One running server; `create_database()` hands out fresh migrated databases."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = _usable_binaries(binaries)
        self.user = _system_user()
        self.base = Path(tempfile.mkdtemp(prefix="paperfeed-pg-"))
        self.data = self.base / "data"
        self.port = 0
        self._names = itertools.count(1)
        self._admin: sa.Engine | None = None
        self._ready: queue.Queue[str | BaseException] = queue.Queue(maxsize=3)
        self._stopping = threading.Event()
        if self.user is not None:
            self.base.chmod(0o755)
            os.chown(self.base, self.user.pw_uid, self.user.pw_gid)

    def _run(self, program: str, *args: str) -> None:
        kwargs = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        result = subprocess.run(
            [str(self.binaries / program), *args],
            capture_output=True,
            text=True,
            cwd=self.base,
            check=False,
            **kwargs,  # type: ignore[arg-type]
        )
        if result.returncode != 0:
            log = self.base / "server.log"
            tail = log.read_text()[-3000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed: {result.stderr or result.stdout}\n{tail}")

    def start(self) -> PostgresServer:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        for attempt in range(5):
            self.port = free_port()
            options = (
                f"-h 127.0.0.1 -p {self.port} -k {self.base} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300 "
                "-c shared_buffers=128MB"
            )
            try:
                self._run(
                    "pg_ctl", "-D", str(self.data), "-l", str(self.base / "server.log"),
                    "-o", options, "-w", "-t", "60", "start",
                )  # fmt: skip
                break
            except RuntimeError:
                if attempt == 4:
                    raise
                time.sleep(0.2)
        self._admin = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        self._make_template()
        threading.Thread(target=self._prepare, name="pg-databases", daemon=True).start()
        return self

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _execute(self, sql: str) -> None:
        assert self._admin is not None
        with self._admin.connect() as conn:
            conn.exec_driver_sql(sql)

    def _make_template(self) -> None:
        from paperfeed.store.postgres import PostgresStore

        self._execute(f"CREATE DATABASE {TEMPLATE}")
        PostgresStore.open(self.url(TEMPLATE)).close()
        self._execute(f"ALTER DATABASE {TEMPLATE} WITH IS_TEMPLATE true")

    def _new_database(self, template: str) -> str:
        name = f"test_{os.getpid()}_{next(self._names)}"
        self._execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        return self.url(name)

    def _prepare(self) -> None:
        while not self._stopping.is_set():
            try:
                ready: str | BaseException = self._new_database(TEMPLATE)
            except BaseException as error:  # handed to the next create_database() call
                ready = error
            while not self._stopping.is_set():
                try:
                    self._ready.put(ready, timeout=0.5)
                    break
                except queue.Full:
                    continue

    def create_database(self, *, migrated: bool = True) -> str:
        """A new database (migrated to the current schema unless told); returns its URL."""
        if not migrated:
            return self._new_database("template0")
        ready = self._ready.get(timeout=120)
        if isinstance(ready, BaseException):
            raise ready
        return ready

    def drop_database(self, url: str) -> None:
        name = sa.make_url(url).database
        self._execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        self._stopping.set()
        if self._admin is not None:
            self._admin.dispose()
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)


def start_server() -> PostgresServer:
    binaries = bin_dir()
    if binaries is None:
        raise RuntimeError("PostgreSQL tests need the pgserver package (pip install pgserver)")
    server = PostgresServer(binaries)
    try:
        return server.start()
    except BaseException:
        server.stop()
        raise
