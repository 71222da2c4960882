"""The snapshot directory belongs to the kit: what may be replaced, and a crash-safe swap.

- `target(out)` is the directory a snapshot is written to: `--out` made absolute, a
  symlink followed to its target (the link stays a link).
- `foreign(out, files)` names the entries the kit did not write (the manifest lists its
  files); a refresh refuses to replace a directory holding any.
- `inside_snapshot(path)` finds a snapshot that `path` is in (outputs must not go there:
  the next refresh would replace them).
- `new_temporary(dest)` makes `.NAME.PID.XXXX.tmp` beside dest, after `recover(dest)` has
  undone what a killed run left: a missing dest is restored from the complete new
  snapshot or from the previous one moved aside, and temporaries of dead processes go.
- `swap(tmp, dest)` fsyncs the new files, then exchanges the two directories in one
  atomic step (renameat2 RENAME_EXCHANGE; two renames where the file system lacks it) and
  removes the old one. At every instant dest is the old or the new snapshot.
- `rename_over(tmp, dest)` is those two renames alone (snapshot.replace_dir uses it for
  the plan's directory): the old dest moved aside, put back if the rename fails.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from .errors import ConfigError

MAX_NAME = 200  # bytes: room for the temporaries' prefix and suffix within 255
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def target(out: str | os.PathLike) -> Path:
    """--out as an absolute path, a symlink (chain) resolved to the directory it names."""
    path = Path(os.path.abspath(os.fspath(out)))
    check_path(path, "--out")
    if len(os.fsencode(path.name)) > MAX_NAME:
        raise ConfigError(f"--out's last part is {len(os.fsencode(path.name))} bytes long; use a name "
                          f"of at most {MAX_NAME}")
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if not path.name or path == path.parent:
        raise ConfigError(f"--out {show(path)} is the root of the file system; choose a directory under it")
    return path


def check_path(path, option: str) -> None:
    """ConfigError for a path the kit cannot use: not UTF-8 (Arrow needs UTF-8 paths) or a
    part longer than a file system allows."""
    raw = os.fsencode(os.fspath(path))
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{option} {show(path)} is not valid UTF-8; choose a UTF-8 name") from None
    longest = max((len(part) for part in raw.split(b"/")), default=0)
    if longest > 255:
        raise ConfigError(f"{option} has a part {longest} bytes long; a file name holds at most 255")


def show(path) -> str:
    """A path fit for a message, whatever bytes its name holds."""
    return os.fsencode(os.fspath(path)).decode("utf-8", "replace")


def foreign(out: Path, files: list[str]) -> list[str]:
    """Entries of out that are not among `files` (a directory shown with a trailing /)."""
    listed = set(files)
    return sorted(show(p.name) + ("/" if p.is_dir() else "") for p in out.iterdir() if p.name not in listed)


def inside_snapshot(path: str | os.PathLike, manifest: str, fmt: str) -> Path | None:
    """The snapshot directory that path is (or would be) inside, if any."""
    here = Path(os.path.realpath(os.path.abspath(os.fspath(path))))
    for d in (here, *here.parents):
        try:
            data = json.loads((d / manifest).read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("format") == fmt:
            return d
    return None


# --- temporaries and recovery ----------------------------------------------------------------

def _pattern(dest: Path) -> re.Pattern:
    return re.compile(re.escape(f".{dest.name}.") + r"(?:(\d+)\.[^.]+\.tmp|old-(\d+))")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers(dest: Path) -> list[tuple[Path, str, int]]:
    """(path, "tmp" | "old", pid) of the temporaries of dead processes beside dest."""
    found, pattern = [], _pattern(dest)
    try:
        names = os.listdir(dest.parent)
    except OSError:
        return []
    for name in names:
        m = pattern.fullmatch(name)
        if m:
            pid = int(m[1] or m[2])
            if not _alive(pid):
                found.append((dest.parent / name, "tmp" if m[1] else "old", pid))
    return found


def _complete(path: Path, manifest: str) -> bool:
    try:
        data = json.loads((path / manifest).read_text())
    except (OSError, ValueError):
        return False
    files = data.get("files") if isinstance(data, dict) else None
    return isinstance(files, list) and all(isinstance(f, str) and (path / f).is_file() for f in files)


def recover(dest: Path, manifest: str) -> list[str]:
    """Undo what a killed run left beside dest; returns what was done, in words."""
    done = []
    left = _leftovers(dest)
    if not dest.exists():  # killed between the two renames of the fallback swap
        new = [p for p, kind, _ in left if kind == "tmp" and _complete(p, manifest)]
        old = [p for p, kind, _ in left if kind == "old"]
        for candidate in new + old:
            os.rename(candidate, dest)
            done.append(f"restored {show(dest)} from {show(candidate.name)}")
            break
    for path, _, _ in left:
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)
            done.append(f"removed {show(path.name)}")
    return done


def new_temporary(dest: Path) -> Path:
    return Path(tempfile.mkdtemp(prefix=f".{dest.name}.{os.getpid()}.", suffix=".tmp", dir=dest.parent))


# --- the swap ---------------------------------------------------------------------------------

def fsync_tree(path: Path) -> None:
    """Flush every file in path, then the directory itself, to the disk."""
    for entry in os.scandir(path):
        if entry.is_file(follow_symlinks=False):
            fd = os.open(entry.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a directory
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), os.fspath(b))


def swap(tmp: Path, dest: Path) -> None:
    """Put the complete directory tmp at dest; the previous dest is removed after."""
    fsync_tree(tmp)
    if dest.exists() and _exchange(tmp, dest):
        _fsync_dir(dest.parent)
        shutil.rmtree(tmp, ignore_errors=True)  # now the previous snapshot
        return
    rename_over(tmp, dest)


def rename_over(tmp: Path, dest: Path) -> None:
    """Rename directory tmp to dest in two renames: an existing dest is moved aside first
    (.NAME.old-PID, which recover() knows), put back if the rename fails, and removed only
    after the rename is on the disk."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.rename(dest, old)
    try:
        os.rename(tmp, dest)
    except OSError:
        if old is not None:
            os.rename(old, dest)
        raise
    _fsync_dir(dest.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --- the manifest, as a hand may have edited it ----------------------------------------------

_MAPS = {"unavailable": str, "sources": str, "row_counts": int, "window": str, "refresh": object}


def check_manifest(manifest: dict, where) -> None:
    """SnapshotError naming the first field of a manifest.json that has the wrong shape."""
    from .errors import SnapshotError

    def bad(field: str, want: str):
        return SnapshotError(f"{show(where)}: field {field!r} must be {want}; the file was edited or damaged "
                             "(fetch into a new directory to start again)")
    for name, kind in _MAPS.items():
        value = manifest.get(name)
        if value is None:
            continue
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise bad(name, "an object")
        if kind is not object and not all(isinstance(v, kind) and not isinstance(v, bool) for v in value.values()):
            raise bad(name, f"an object of {'texts' if kind is str else 'whole numbers'}")
    files = manifest.get("files")
    if files is not None and not (isinstance(files, list) and all(
            isinstance(f, str) and f and "/" not in f and f not in (".", "..") for f in files)):
        raise bad("files", "a list of file names")
