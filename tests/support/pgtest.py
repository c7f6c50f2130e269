"""A throwaway PostgreSQL cluster on a free loopback port, for tests.

PostgreSQL refuses to run as root, so when we are root the cluster directory is given to the
``postgres`` user and the server runs as that user (``runuser``). The cluster lives in a temp
directory and is removed with it.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from pathlib import Path

from mesoguide.stack import free_port

SUPERUSER = "mesoguide"


def _bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found: install postgresql (make test does: apt-get install -y postgresql)")
    return found


class PostgresCluster:
    """Start with :meth:`start`, stop with :meth:`stop`; :attr:`url` is an SQLAlchemy URL.

    Args:
        directory: An empty directory for the cluster's data and socket.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg2://{SUPERUSER}@127.0.0.1:{self.port}/mesoguide"

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess:
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> PostgresCluster:
        """initdb, start on loopback, create the database.

        Raises:
            RuntimeError: A step failed (its output is in the message).
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            os.chmod(self.directory, 0o700)
        steps = [
            [_bin("initdb"), "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "--no-sync", "-E", "UTF8"],
            [_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "server.log"), "-w", "-t", "60",
             "-o", f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
            [_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "mesoguide"],
        ]
        for argv in steps:
            result = self._run(argv)
            if result.returncode != 0:
                raise RuntimeError(f"{Path(argv[0]).name} failed: {result.stdout}{result.stderr}")
        return self

    def stop(self) -> None:
        """Fast shutdown (the data is thrown away)."""
        self._run([_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        time.sleep(0.1)


def create_database(base_url: str) -> str:
    """A new, empty database on the cluster at ``base_url``; returns its URL."""
    import uuid

    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return base_url.rsplit("/", 1)[0] + "/" + name
