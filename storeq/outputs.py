"""Output sets: a command's ``--out`` folder is always one whole, consistent set of files.

A run writes a dozen files (frames, scenario, provenance). Written one by one into the folder, an
interrupted run (Ctrl+C, kill -9, a full disk) leaves new ``kpis.csv`` beside an old
``provenance.json``, and two runs into one folder interleave. So every command that writes a set
goes through :func:`output_set`:

1. the folder is checked first: it may not hold an input (``run DIR/s.yaml --out DIR``), and an
   existing folder is replaced only when it is empty or is itself a storeq set (has
   ``provenance.json``), never a folder of someone's other files;
2. the files are written into a fresh hidden sibling folder (``.NAME.storeq-new-PID-…``);
3. every file and the folder are fsynced, then, holding a lock on the target, the new folder is
   swapped in with one atomic ``renameat2(RENAME_EXCHANGE)`` (Linux), or by two renames with the
   old set kept until the new one is in place (elsewhere);
4. on any failure or interrupt the fresh folder is removed and the old set is untouched; leftovers
   of a process killed with -9 (its hidden sibling folders) are removed by the next writer.

So a reader of ``--out`` sees the old set or the new set, never a mix, and concurrent writers
leave one of their sets whole. Single files (``calibrate --out s.yaml``, ``synth-log --out log.csv``)
use :func:`simulation.loader.atomic_write` and :func:`check_not_input`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from simulation.loader import _fsync_path

MARKER = "provenance.json"
"""Every storeq output set has one; a folder with it may be replaced by a newer set."""

_STAGING = "storeq-new"
_OLD = "storeq-old"


class OutputError(Exception):
    """An ``--out`` target that cannot be written safely (bad input: exit code 2)."""


def _same_or_inside(path: Path, folder: Path) -> bool:
    try:
        p, f = path.resolve(), folder.resolve()
    except OSError:
        return False
    return p == f or f in p.parents


def check_not_input(out: str | Path, inputs: Iterable[str | Path], option: str = "--out") -> None:
    """Refuse an output file that is one of the inputs (``calibrate v.csv --out v.csv``)."""
    target = Path(out)
    for item in inputs:
        src = Path(item)
        with contextlib.suppress(OSError):
            if target.resolve() == src.resolve() or (target.exists() and src.exists() and os.path.samefile(target, src)):
                raise OutputError(f"{option} {out}: is the input file {item}; writing there would destroy it: choose another name")


def check_target(out_dir: str | Path | None, inputs: Iterable[str | Path] = (), option: str = "--out") -> None:
    """Fail before the work, not after it, when ``out_dir`` cannot safely receive a new set."""
    if out_dir is None:
        return
    out = Path(out_dir)
    for item in inputs:
        if _same_or_inside(Path(item), out):
            raise OutputError(
                f"{option} {out}: holds the input {item}; the result set replaces the whole folder, "
                "so choose a folder that holds no input"
            )
    existing = out.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{option} {out}: {existing} exists and is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {out}: cannot write in {existing}")
    if existing == out.absolute():
        if not os.access(out.absolute().parent, os.W_OK | os.X_OK):
            raise OutputError(f"{option} {out}: cannot write in {out.absolute().parent} (the set is swapped in beside it)")
        names = [n for n in os.listdir(out) if not n.startswith(".")]
        if names and not (out / MARKER).is_file():
            raise OutputError(
                f"{option} {out}: exists and holds files that are not a storeq result set (no {MARKER}); "
                "the result set replaces the whole folder, so choose a new or empty folder"
            )


def check_customer_records(scenario: Any, replications: int) -> None:
    """Refuse a ``run --out`` whose per-customer records would not fit: they are held until written."""
    from simulation.limits import limit
    from simulation.scenario import expected_customers_per_day

    records = expected_customers_per_day(scenario) * replications
    if records > limit("customer_records"):
        most = max(1, int(limit("customer_records") // max(expected_customers_per_day(scenario), 1)))
        raise OutputError(
            f"--out keeps one record per customer: about {records:,.0f} for {replications:,} replications; "
            f"the limit is {limit('customer_records'):,} (use --replications {most:,} or fewer with --out, or run without --out)"
        )


@contextlib.contextmanager
def output_set(out_dir: str | Path, inputs: Iterable[str | Path] = (), option: str = "--out") -> Iterator[Path]:
    """Yield a fresh folder to write a result set into; swap it in as ``out_dir`` on success.

    >>> with output_set("results") as stage:  # doctest: +SKIP
    ...     (stage / "kpis.csv").write_text("...")
    """
    target = Path(out_dir).absolute()
    if target.is_symlink():  # a link to the real results folder: the set goes there, the link stays
        target = target.resolve()
    inputs = list(inputs)
    check_target(out_dir, inputs, option)
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=parent, prefix=f".{target.name}.{_STAGING}-{os.getpid()}-"))
    try:
        try:
            yield stage
        except OSError as exc:  # a full disk, a read-only folder: the failure is the machine's, the old set stands
            raise OSError(exc.errno, f"could not write the output set ({exc.strerror or exc}); {target} is unchanged") from None
        _fsync_tree(stage)
        with _lock(target):
            _clean_leftovers(target)
            check_target(out_dir, inputs, option)  # another writer may have put something there meanwhile
            _swap_in(stage, target)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def _fsync_tree(root: Path) -> None:
    for dirpath, _, files in os.walk(root):
        for name in files:
            _fsync_path(Path(dirpath) / name)
        _fsync_path(Path(dirpath))


@contextlib.contextmanager
def _lock(target: Path) -> Iterator[None]:
    """An exclusive lock on the target (a hidden lock file beside it), held only for the swap."""
    lock_path = target.parent / f".{target.name}.storeq-lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - Windows: the rename below is still atomic per file
            pass
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_leftovers(target: Path) -> None:
    """Remove hidden siblings left by a writer killed with -9; restore an old set orphaned mid-swap."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.({_STAGING}|{_OLD})-(\d+)-")
    for entry in target.parent.iterdir():
        m = pattern.match(entry.name)
        if not m or _pid_alive(int(m.group(2))):
            continue
        if m.group(1) == _OLD and not target.exists():
            os.rename(entry, target)  # killed between the two renames of the fallback swap: the old set returns
            continue
        shutil.rmtree(entry, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(stage: Path, target: Path) -> None:
    if not target.exists():
        os.rename(stage, target)
        _fsync_path(target.parent)
        return
    if _exchange(stage, target):
        _fsync_path(target.parent)
        shutil.rmtree(stage, ignore_errors=True)  # ``stage`` now holds the old set
        return
    old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.{_OLD}-{os.getpid()}-"))
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(stage, target)
    except BaseException:
        os.rename(old, target)
        raise
    _fsync_path(target.parent)
    shutil.rmtree(old, ignore_errors=True)


def write_json(path: Path, data: Any) -> None:
    """A JSON file in a set (UTF-8, indented, NaN-free by the caller)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
