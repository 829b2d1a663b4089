"""Ray for the bench: the embedded (or joined) Ray instance, and runs scheduled as Ray tasks.

Every training run of a bench is one Ray task that reserves ``cpus_per_trial`` CPUs and
``gpus_per_trial`` GPUs (a short batch shares the CPUs: :func:`batch_cpus`); runs of every
combo are submitted together and Ray places them on whatever nodes have room. The driver
process only submits, waits and records.

A driver killed without a chance to clean up (``kill -9``) leaves its embedded Ray behind:
:func:`reap_orphans` (run when the next bench starts, and by ``mads-zoo bench --cleanup``)
stops those processes and removes their temp folder. It touches only instances mads-zoo
started itself (their temp folder holds :data:`OWNER_FILE`) whose driver process is gone, and
trusts nothing in a shared folder: a temp folder or owner file that is a link, belongs to
another user or that others may write is not ours (anyone can plant a ``/tmp/mzr-*`` folder),
and logs are copied only into a run folder of this user, links left behind.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mads_zoo import codec
from mads_zoo.bench.budget import Budget
from mads_zoo.bench.packing import Footprint, gpu_share, measure_footprint, runs_per_gpu
from mads_zoo.bench.results import (
    ClusterSummary,
    RunRecord,
    TrialRecord,
    TrialSpec,
    write_record,
)
from mads_zoo.errors import ConfigError, one_line
from mads_zoo.train.result import RunStatus

# Ray's own console output is replaced by our progress display.
RAY_QUIET_ENV = {"RAY_DEDUP_LOGS": "0", "RAY_AIR_NEW_OUTPUT": "0"}
#: Ray's switch for token authentication (``token``; ``disabled`` is refused).
AUTH_MODE_ENV = "RAY_AUTH_MODE"
#: Ray's logger for authentication: its warnings are never muted.
AUTH_LOGGER = "ray._private.authentication"
#: Unix socket paths break past ~107 characters; Ray adds about 70 to its temp dir.
MAX_RAY_TEMP_DIR = 36
#: The embedded Ray's address for its own nodes and clients: loopback only.
LOOPBACK = "127.0.0.1"
#: Ray's switch for clusters beyond one machine; "0" binds every service to loopback.
LOCAL_ONLY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
#: Where an embedded Ray's temp folder goes when the run folder's path is too long.
TEMP_PARENT = Path("/tmp")
TEMP_PREFIX = "mzr-"
#: In an embedded Ray's temp folder: the driver that owns it (pid, start time, logs' home).
OWNER_FILE = "mads-zoo-driver.json"
PROC = Path("/proc")
#: Seconds a leftover Ray process gets to exit after SIGTERM, before SIGKILL.
REAP_GRACE = 3.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriverMark:
    """The owner file of an embedded Ray's temp folder: its driver and where its logs go.

    ``start`` is when the driver process started (clock ticks after boot), so that a reused
    pid is not mistaken for the driver.
    """

    pid: int
    start: str | None
    logs_to: str | None


@contextlib.contextmanager
def ray_session(
    run_dir: Path, address: str | None, num_cpus: int, num_gpus: float | None = None
) -> Iterator[None]:
    """A local Ray instance whose logs stay in the run folder (or join ``address``).

    ``num_gpus`` declares that many GPUs to the local instance (logical ones where the
    machine has none: tests and benchmark scripts); by default Ray counts the machine's.

    Ray's token authentication stays on (Ray generates ``~/.ray/auth_token`` on first use;
    a client without the token is refused), and the embedded instance announces and is
    reached on the loopback address only. ``address`` joins a cluster with its own
    authentication.
    """
    ray_dir = (run_dir / "ray").resolve()
    for line in reap_orphans(also=[ray_dir]):
        log.warning(line)
    os.environ.update({k: v for k, v in RAY_QUIET_ENV.items() if k not in os.environ})
    import ray

    if address:
        # a driver on the cluster's own machine joins over loopback, like the nodes it finds
        host = address.rsplit(":", 1)[0]
        local: dict[str, Any] = {}
        if host in (LOOPBACK, "localhost"):
            local["_node_ip_address"] = LOOPBACK
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False, **local)
        _auth_warnings_reach_the_user()
        try:
            with sigterm_as_interrupt():
                yield
        finally:
            ray.shutdown()
        return
    require_token_auth()
    short = ray_dir if len(str(ray_dir)) <= MAX_RAY_TEMP_DIR else None
    temp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=TEMP_PARENT)) if short is None else short
    temp.mkdir(parents=True, exist_ok=True)
    _claim(temp, None if short else ray_dir)
    with _local_only():
        try:
            _start_embedded(ray, num_cpus, temp, num_gpus)
            _auth_warnings_reach_the_user()
            os.chmod(temp, 0o700)  # Ray makes its folders 0777: no other user may enter
            _private_token()
            with sigterm_as_interrupt():
                yield
        finally:
            ray.shutdown()
            _release(temp, None if short else ray_dir)


def _auth_warnings_reach_the_user() -> None:
    """Let Ray's warnings about authentication through its errors-only logging.

    Ray logs errors only (its progress lines would fight ours); a user must still hear that a
    cluster runs without authentication.
    """
    logging.getLogger(AUTH_LOGGER).setLevel(logging.WARNING)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the block as Ctrl-C does (a ``KeyboardInterrupt``), then is restored.

    Set once Ray is up: ``ray.init`` installs a SIGTERM handler of its own in the driver,
    which printed Ray's stack dump and left the user no resume hint. In a thread other than
    the main one nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def require_token_auth() -> None:
    """Token authentication for the embedded Ray, whatever the environment says.

    Ray (>= 2.52) reads its auth mode from ``RAY_AUTH_MODE``. Any mode but ``token`` would let
    any process on the machine that reaches the loopback ports run code as this user, so the
    bench refuses it in one line rather than start. Unset, it is set to ``token`` (inherited by
    Ray's processes).
    """
    mode = os.environ.get(AUTH_MODE_ENV)
    if mode is not None and mode.strip().lower() != "token":
        raise ConfigError(
            f"{AUTH_MODE_ENV}={mode} is set, but the bench's Ray always requires its token "
            "(without it any process on this machine could run code as you): unset "
            f"{AUTH_MODE_ENV} or set it to token"
        )
    os.environ[AUTH_MODE_ENV] = "token"
    if "ray._raylet" in sys.modules:  # loaded already: it cached the mode it found
        _refresh_ray_config()


def _refresh_ray_config() -> None:
    """Make this process's Ray read ``RAY_AUTH_MODE`` again (it is cached when Ray loads).

    Otherwise a driver that imported Ray before the mode was set starts a GCS that requires
    the token and a client that does not send it (as Ray's own ``_enable_token_auth`` does).
    """
    from ray._raylet import Config  # type: ignore[attr-defined]

    Config.initialize("")


def _private_token() -> None:
    """Make Ray's token file readable by its owner only (Ray writes it 0644).

    The file is ``RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token``; a link or another user's
    file is left alone.
    """
    path = Path(os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token")
    if _owned(path, stat.S_IFREG) and path.lstat().st_mode & 0o077:
        os.chmod(path, 0o600)


def _claim(temp: Path, logs_to: Path | None) -> None:
    """Mark ``temp`` as this driver's Ray folder (``logs_to``: where its logs go at the end)."""
    pid = os.getpid()
    mark = DriverMark(pid, _process_start(pid), str(logs_to) if logs_to is not None else None)
    write_record(temp / OWNER_FILE, mark)


def _release(temp: Path, logs_to: Path | None, copy_logs: bool = True) -> Path | None:
    """After Ray stopped: a short temp folder's logs go to ``logs_to``, the rest is removed.

    A temp folder inside the run folder (``logs_to`` is ``None``) keeps everything but the
    owner mark. Without ``copy_logs`` the logs are removed with the folder. Returns where the
    logs were copied, if they were.
    """
    if logs_to is None:
        (temp / OWNER_FILE).unlink(missing_ok=True)
        return None
    logs = next(temp.glob("session_*/logs"), None)
    kept = None
    linked = logs is None or logs.is_symlink() or logs.parent.is_symlink()
    if copy_logs and not linked and logs_to.parent.is_dir():  # the run folder may be gone
        assert logs is not None
        kept = Path(shutil.copytree(logs, logs_to / "logs", ignore=_links, dirs_exist_ok=True))
    shutil.rmtree(temp, ignore_errors=True)  # never follows links
    return kept


def _links(folder: str, names: list[str]) -> list[str]:
    """The entries of ``folder`` that are symbolic links: a copy leaves them behind."""
    return [name for name in names if os.path.islink(os.path.join(folder, name))]


def _mine(path: Path, kind: int) -> bool:
    """Whether ``path`` is this user's own ``kind`` (``stat.S_IFDIR``, ``S_IFREG``).

    Itself, not through a link, and not writable by any other user.
    """
    if not _owned(path, kind):
        return False
    return not path.lstat().st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _owned(path: Path, kind: int) -> bool:
    """Whether ``path`` is itself (not through a link) a ``kind`` this user owns."""
    try:
        found = path.lstat()
    except OSError:
        return False
    return stat.S_IFMT(found.st_mode) == kind and found.st_uid == os.getuid()


def _run_folder_ray(logs_to: Path) -> bool:
    """``logs_to`` is the ``ray`` folder of a bench run folder of this user (or will be)."""
    run_dir = logs_to.parent
    ours = _mine(run_dir, stat.S_IFDIR) and _mine(run_dir / "run.json", stat.S_IFREG)
    return logs_to.name == "ray" and ours and (
        not os.path.lexists(logs_to) or _mine(logs_to, stat.S_IFDIR)
    )


def _process_start(pid: int) -> str | None:
    """When ``pid`` started (clock ticks after boot), or ``None`` if it is gone or a zombie."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    state, *rest = stat.rsplit(")", 1)[1].split()
    return None if state in ("Z", "X") else rest[18]


def _orphaned(temp: Path) -> DriverMark | None:
    """The owner of the mads-zoo Ray folder ``temp`` if its driver is gone, else ``None``.

    A folder without a readable owner mark (a Ray the user started, one being set up) or
    with a live driver is not an orphan.
    """
    if not (_mine(temp, stat.S_IFDIR) and _mine(temp / OWNER_FILE, stat.S_IFREG)):
        return None  # a link, another user's, or writable by others: not a mads-zoo folder
    try:
        fd = os.open(temp / OWNER_FILE, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd) as mark:
            owner = codec.loads(DriverMark, mark.read())
    except (OSError, ValueError):
        return None
    gone = owner.start is not None and _process_start(owner.pid) != owner.start
    return owner if gone else None


def _ray_processes() -> dict[int, list[str]]:
    """Ray's processes on this machine (not this one): the paths each names or holds open.

    Any process whose command says "ray" counts. Ray's agents and workers rename themselves
    (``ray::IDLE``), losing their arguments; the log files they hold open in their session's
    folder still tell where they belong.
    """
    found: dict[int, list[str]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
            args = [a for a in command.split("\0") if a]
            if any("ray" in a for a in args):
                found[int(entry.name)] = [a.split("=", 1)[-1] for a in args] + _open_files(entry)
    return found


def _open_files(process: Path) -> list[str]:
    """What the process at ``/proc/PID`` holds open (paths, ``socket:[...]``, ...)."""
    targets = []
    with contextlib.suppress(OSError):
        for fd in (process / "fd").iterdir():
            with contextlib.suppress(OSError):
                targets.append(os.readlink(fd))
    return targets


def _inside(path: str, folder: Path) -> bool:
    return path == str(folder) or path.startswith(f"{folder}{os.sep}")


def _stop(pids: list[int]) -> None:
    """SIGTERM ``pids``; SIGKILL those still running after :data:`REAP_GRACE` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        deadline = time.monotonic() + REAP_GRACE
        while pids and time.monotonic() < deadline:
            time.sleep(0.05)
            pids = [pid for pid in pids if _process_start(pid) is not None]
        if not pids:
            return


def reap_orphans(also: Sequence[Path] = (), parent: Path | None = None) -> list[str]:
    """Stop and remove what benches killed without a chance to clean up left behind.

    Looks at the ``mzr-*`` folders in ``parent`` (default :data:`TEMP_PARENT`), the temp
    folders Ray's processes on this machine use, and ``also`` (a run's own ``ray`` folder). One
    whose owner mark names a driver process that is gone is an orphan: the Ray processes using
    it are stopped, its logs kept in the run folder and the folder removed (a run's own ``ray``
    folder only loses the mark). Returns one line per orphan reaped. Needs ``/proc`` (Linux);
    elsewhere it does nothing.
    """
    if not PROC.is_dir():
        return []
    processes = _ray_processes()
    session = f"{os.sep}session_"  # Ray's folders: TEMP/session_*/logs, sockets, ...
    named = {Path(p.split(session)[0]) for ps in processes.values() for p in ps if session in p}
    temps = {*(parent or TEMP_PARENT).glob(f"{TEMP_PREFIX}*"), *named, *also}
    lines = []
    for temp in sorted(temps):
        owner = _orphaned(temp)
        if owner is None:
            continue
        pids = [pid for pid, paths in processes.items() if any(_inside(p, temp) for p in paths)]
        _stop(pids)
        logs_to = Path(owner.logs_to) if owner.logs_to is not None else None
        trusted = logs_to is None or _run_folder_ray(logs_to)  # else: its logs go nowhere
        try:
            kept = _release(temp, logs_to, copy_logs=trusted)
        except OSError:  # another bench, starting at the same moment, is reaping it too
            kept = None
        lines.append(
            f"cleaned up after a killed bench (driver pid {owner.pid}, Ray folder {temp}): "
            f"stopped {len(pids)} Ray processes" + (f"; its logs are in {kept}" if kept else "")
        )
    return lines


@contextlib.contextmanager
def _local_only() -> Iterator[None]:
    """Ray's single-machine mode, in which every service it starts listens on loopback only.

    Otherwise Ray replaces a loopback ``_node_ip_address`` with the machine's routable address,
    and its GCS, raylet and workers listen on every interface. The variable is read when Ray is
    imported and inherited by the processes it starts; this process may have imported Ray
    already, so its constant is set too (both restored afterwards).
    """
    from ray._private import ray_constants

    saved = os.environ.get(LOCAL_ONLY_ENV), ray_constants.ENABLE_RAY_CLUSTER
    os.environ[LOCAL_ONLY_ENV] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        if saved[0] is None:
            os.environ.pop(LOCAL_ONLY_ENV, None)
        else:
            os.environ[LOCAL_ONLY_ENV] = saved[0]
        ray_constants.ENABLE_RAY_CLUSTER = saved[1]


def _start_embedded(ray: Any, num_cpus: int, temp: Path, num_gpus: float | None = None) -> None:
    ray.init(
        num_cpus=num_cpus,
        num_gpus=num_gpus,
        include_dashboard=False,
        _node_ip_address=LOOPBACK,
        _temp_dir=str(temp),
        logging_level=logging.ERROR,
        log_to_driver=False,
        configure_logging=True,
    )


def gpus_per_trial(budget: Budget) -> float:
    """The GPUs each trial reserves: ``auto`` is one when the cluster has any, else none."""
    if budget.gpus_per_trial != "auto":
        return float(budget.gpus_per_trial)
    import ray

    return 1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0


def cluster_summary() -> ClusterSummary:
    """The CPUs, GPUs and nodes Ray offers this bench."""
    import ray

    resources = ray.cluster_resources()
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return ClusterSummary(resources.get("CPU", 0), resources.get("GPU", 0), len(nodes))


def batch_cpus(runs: int, cluster_cpus: float, cpus_per_trial: float) -> float:
    """CPUs each run of a batch of ``runs`` reserves: ``cpus_per_trial``, less for short batches.

    A batch that needs more than one wave of slots but fewer than two (3 final seeds on 2
    one-CPU slots) would leave slots idle while its last runs train; instead its runs share
    the CPUs all at once (at most 2 runs per CPU's worth of ``cpus_per_trial``). Each run
    keeps its budget's thread count, so its numbers do not change; only the wall time does.
    """
    slots = int(cluster_cpus // cpus_per_trial)
    if slots < 1 or runs <= slots or runs >= 2 * slots:
        return cpus_per_trial
    return math.floor(cluster_cpus / runs * 1e4) / 1e4  # Ray counts in 1e-4 CPU


class RayRunner:
    """Runs batches of specs as Ray tasks, each on the folds object its ``data_for`` names."""

    def __init__(
        self,
        record: RunRecord,
        data_for: Callable[[TrialSpec], Any],
        probe: Callable[..., Footprint] = measure_footprint,
    ) -> None:
        import ray

        from mads_zoo.bench.trial import run_trial  # torch: only where runs are submitted

        self.record = record
        self.budget = record.budget
        self.gpus = gpus_per_trial(self.budget)
        self.data_for = data_for
        self.cluster_cpus = float(ray.cluster_resources().get("CPU", 0))
        #: Runs per GPU of each architecture (``auto`` on a cluster with GPUs), and why not
        #: packed where a measurement failed.
        self.runs_per_gpu: dict[str, int] = {}
        self.packing_notes: list[str] = []
        if self.budget.gpus_per_trial == "auto" and self.gpus:
            self._pack(probe)
        # max_calls=1: every run starts in a fresh worker process, so nothing a previous run
        # left in a process (allocator, kernel caches, a plugin's global settings) can change
        # its numbers; measured: a timm-convnext trial reused in a worker completed in one
        # bench and hit a NaN loss at step 24 in the next (and in every fresh process)
        self.task = ray.remote(max_calls=1)(run_trial)

    def _pack(self, probe: Callable[..., Footprint]) -> None:
        """Measure each architecture alone on one GPU (at once), then pack its runs."""
        import ray

        from mads_zoo.registry import get_registry

        resources = ray.cluster_resources()
        cpus_per_gpu = resources.get("CPU", 0) / resources["GPU"]
        task = ray.remote(max_calls=1)(probe).options(
            num_cpus=self.budget.cpus_per_trial, num_gpus=1, max_retries=0
        )
        archs = sorted({combo.architecture for combo in self.record.combos})
        pending = {a: task.remote(a, get_registry().architecture(a).input_shape) for a in archs}
        for arch, ref in pending.items():
            try:
                footprint = ray.get(ref)
            except Exception as error:  # not measured: one run per GPU, as before packing
                self.runs_per_gpu[arch] = 1
                self.packing_notes.append(
                    f"{arch}: 1 run per GPU (not measured: {one_line(error, last=True)})"
                )
                continue
            self.runs_per_gpu[arch] = runs_per_gpu(
                footprint, cpus_per_gpu, self.budget.cpus_per_trial
            )

    def gpus_for(self, spec: TrialSpec) -> float:
        """The GPUs ``spec``'s run reserves: its architecture's share when packed."""
        runs = self.runs_per_gpu.get(spec.combo.architecture)
        return gpu_share(runs) if runs else self.gpus

    def run(
        self, specs: Sequence[TrialSpec], on_record: Callable[[TrialRecord], None]
    ) -> list[TrialRecord]:
        """Run every spec at once (Ray queues what does not fit); records in ``specs`` order.

        ``on_record`` sees each record as it arrives (in completion order).
        """
        import ray

        cpus = self.budget.cpus_per_trial
        if not self.gpus:
            cpus = batch_cpus(len(specs), self.cluster_cpus, cpus)
        pending = {
            self.task.options(num_cpus=cpus, num_gpus=self.gpus_for(spec), max_retries=0).remote(
                spec, self.data_for(spec), self.record
            ): i
            for i, spec in enumerate(specs)
        }
        records: list[TrialRecord | None] = [None] * len(specs)
        waiting = list(pending)
        while waiting:
            done, waiting = ray.wait(waiting, num_returns=1)
            index = pending[done[0]]
            try:
                record = ray.get(done[0])
            except Exception as error:  # the worker died (out of memory, killed, ...)
                why = one_line(error, last=True)  # Ray's text ends with the cause
                record = TrialRecord(specs[index], status=RunStatus.FAILED, error=why)
            records[index] = record
            on_record(record)
        return [r for r in records if r is not None]
