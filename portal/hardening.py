"""What every server process does first: owner-only new files, no core dumps.

The portal creates the SQLite database and its -wal and -shm files, blob
files, restored files and backups. Each of those calls asks for owner-only
modes where it can, but SQLite creates its files with 0644 less the umask,
and a restore or a library may create others: a umask of 077 makes every
file a server process creates unreadable to other users, whatever created
it. A core dump would write a worker's memory, which holds decrypted frames
of uploads and the form text being sealed, to disk: the soft and hard
limits are set to zero (deploy/amanat.service also sets LimitCORE=0).
"""

from __future__ import annotations

import contextlib
import os
import resource

PRIVATE_UMASK = 0o077


def harden_process() -> None:
    """Set the umask to 077 and forbid core dumps for this process and its children."""
    os.umask(PRIVATE_UMASK)
    with contextlib.suppress(ValueError, OSError):  # a platform without the limit
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
