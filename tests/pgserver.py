"""A throwaway PostgreSQL server for the tests, from Debian's ``postgresql`` package.

    server = PgServer.start()          # initdb + pg_ctl in a temporary folder, Unix socket only
    url = server.new_database()        # postgresql://aggregator@/db_3?host=/tmp/aggpg-…
    server.stop()                      # pg_ctl stop, folder removed

It listens on a Unix socket in its own folder (no TCP port, so parallel test workers
never collide). initdb refuses to run as root: as root, the server runs as the
``postgres`` user that the package creates (or ``nobody``), which owns the folder.
Durability is off (fsync, synchronous_commit) unless asked for: the tests kill clients, never
the server; the benchmark keeps it on.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

USER = "aggregator"


def find_bin() -> Path | None:
    """The folder of initdb and pg_ctl: the newest /usr/lib/postgresql/<version>/bin, else $PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_owner() -> tuple[list[str], int | None, int | None]:
    """(command prefix, uid, gid) to run the server's programs as a user that is not root."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return (["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups", "--"],
                entry.pw_uid, entry.pw_gid)
    raise RuntimeError("running as root, and neither a postgres nor a nobody user exists to run PostgreSQL")


class PgServer:
    def __init__(self, folder: Path, bindir: Path, prefix: list[str]):
        self.folder, self.bindir, self.prefix = folder, bindir, prefix
        self._names = itertools.count(1)

    @classmethod
    def start(cls, bindir: Path | None = None, durable: bool = False) -> "PgServer":
        """*durable*: keep fsync and synchronous commits on, as a production server (benchmarks)."""
        bindir = bindir or find_bin()
        if bindir is None:
            raise FileNotFoundError("no initdb: install Debian's postgresql package")
        folder = Path(tempfile.mkdtemp(prefix="aggpg-"))  # short: a socket path has ~100 characters
        prefix, uid, gid = _as_owner()
        if uid is not None:
            os.chown(folder, uid, gid)
        os.chmod(folder, 0o755)
        server = cls(folder, bindir, prefix)
        data = folder / "data"
        server._run("initdb", "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C",
                    "--no-sync")
        options = f"-k {folder} -c listen_addresses='' -c max_connections=60"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB"
        server._run("pg_ctl", "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w", "-t", "60", "start")
        return server

    def _run(self, program: str, *args: str) -> None:
        proc = subprocess.run([*self.prefix, str(self.bindir / program), *args], capture_output=True, text=True,
                              timeout=120)
        if proc.returncode != 0:
            log = self.folder / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]} {tail}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@/{database}?host={self.folder}"

    def new_database(self) -> str:
        """The URL of a new, empty database."""
        name = f"db_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
