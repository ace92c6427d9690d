"""Grade the red-team corpus (examples/redteam/) and say, attack by attack, whether the grader held.

A plain script, not a test: ``python bench/redteam.py [--only NAME ...] [--jobs 2] [--json PATH]``.
Exit status 0 always.

Each attack is graded by the installed grader's CLI (``python -m autograder.cli
grade SUBMISSIONS --out OUT --workers 1 --examples 30``, the interpreter
running this script; ``--examples 0`` keeps the rubric's 100 cases per check)
in a class of its own, copied from a template class that holds:

* ``classmate/conv_layers/submission.py``: a correct submission carrying the
  sentinel ``RT-SENTINEL-CODE-...`` in a comment;
* ``RT-SENTINEL-NAME-.../conv_layers/``: a second correct classmate whose
  student id is a sentinel (it is in the gradebook, the exports, the listing);
* ``out/``: the gradebook and exports of an earlier run that graded both
  (so the attack's run skips them: they stay in the class, unchanged);
* when the attack asks for it (``# redteam-setup: victim``), ``zz_victim``: a
  correct submission of the attack's assignment graded after the attacker
  in the same worker.

More sentinels sit where the grader's environment reaches: an environment
variable of the grader (``RT_GRADER_TOKEN``), a file in the grader's HOME and
TMPDIR (both inside the run folder), ``/tmp/rt-sentinel-*``,
``/dev/shm/rt-sentinel-*`` and a SysV shared-memory segment (key
0x52540003).  The runner also listens on the abstract unix socket
``@rt-redteam-listener`` and on ``/tmp/rt-redteam-listener.sock``.

Every attack file states its target and its expectations in comment lines
(``# redteam-assignment: conv_layers``, ``# redteam-expect: points<=20;
victim_ok``, ``# redteam-setup: victim``; for notebooks, the notebook metadata
``redteam``).  Every attack is also held to the defaults below.  Expectations,
all decided mechanically:

=====================  ======================================================
points<=N / points>=N  the attacker's score
no_leak                no sentinel in anything the attacker sees (its entry
                       in grades.json, its feedback and gradescope files)
no_breach              no "RT-BREACH" there (attacks print it on success)
no_internal_error      attacker not recorded "internal error", CLI exit != 3
grader_ok              the CLI ended by itself (no signal, no timeout) and
                       recorded the attacker
no_survivor            no process named rt-survivor, none with its folder or
                       command line in this attack's folder, no orphaned
                       sandbox child (parent 1) that was not there before
no_escape_files        no ``rt-escape*`` file in /tmp, /var/tmp, /dev/shm,
                       /dev/mqueue, the grader's HOME, the class folder
no_ipc                 no SysV IPC object with a key 0x5254xxxx (but the
                       runner's own), no ``@rt-escape`` abstract socket
classmates_unchanged   the classmates' files and gradebook rows unchanged
victim_ok              the victim graded after the attacker has full marks
no_grader_paths        no grader file path or "Traceback" in what the
                       attacker sees
no_connection          nobody connected to the runner's listeners
no_html_injection      no unescaped ``<script>rt_xss`` in report.html or in
                       Gradescope tests shown as HTML
parent_rss<=MiB        the grader's own processes (CLI, pool workers; not
                       the sandbox children) stayed under MiB, summed
shmem_growth<=MiB      the machine's Shmem (meminfo) grew less than MiB
=====================  ======================================================

A control row grades ``examples/conv_layers/correct.py`` (expects 33) so a
broken runner shows itself.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import ctypes
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "examples" / "redteam"
CORRECT = {"conv_layers": REPO / "examples" / "conv_layers" / "correct.py",
           "fast_conv": REPO / "examples" / "fast_conv" / "correct.py"}
DEFAULTS = ("grader_ok", "no_internal_error", "no_leak", "no_breach", "no_survivor", "no_escape_files", "no_ipc",
            "classmates_unchanged")
IPC_KEY_PREFIX = 0x5254
PLANTED_IPC_KEY = 0x52540003
LISTENER_NAME = "rt-redteam-listener"
LISTENER_PATH = "/tmp/rt-redteam-listener.sock"
ATTACKER, VICTIM, CLASSMATE = "attacker", "zz_victim", "classmate"


# --------------------------------------------------------------------------- the corpus


def _submitted(grades) -> dict:
    """``student -> row`` of grades.json, from the rows of what each student submitted.

    A class's roster lists every student for every assignment: a classmate who
    submitted conv_layers also has a "missing" fast_conv row, which is not
    their submission and must not stand in for it.
    """
    rows = grades.get("entries", []) if type(grades) is dict else grades
    return {row.get("student"): row for row in rows if row.get("status") != "missing"}


@dataclass
class Attack:
    name: str
    path: Path
    assignment: str
    expect: list[str]
    setup: set[str]


def read_attack(path: Path) -> Attack:
    """Parse an attack's target and expectations without running it."""
    if path.suffix == ".ipynb":
        meta = json.loads(path.read_text())["metadata"].get("redteam", {})
        assignment, expect, setup = meta.get("assignment", "conv_layers"), meta.get("expect", ""), meta.get("setup", "")
    else:
        text = path.read_text()

        def field_of(name: str, default: str = "") -> str:
            match = re.search(rf"^# redteam-{name}:\s*(.*)$", text, re.M)
            return match.group(1).strip() if match else default

        assignment, expect, setup = field_of("assignment", "conv_layers"), field_of("expect"), field_of("setup")
    expectations = list(DEFAULTS) + [item.strip() for item in expect.split(";") if item.strip()]
    return Attack(path.stem, path, assignment, list(dict.fromkeys(expectations)),
                  {item.strip() for item in setup.replace(";", ",").split(",") if item.strip()})


def corpus(only: list[str]) -> list[Attack]:
    files = sorted(p for p in CORPUS.iterdir() if p.suffix in (".py", ".ipynb")
                   and not p.name.startswith(("_", "make_")))
    attacks = [read_attack(path) for path in files]
    control = Attack("control_correct", CORRECT["conv_layers"], "conv_layers", list(DEFAULTS) + ["points>=33"], set())
    attacks.insert(0, control)
    if only:
        attacks = [attack for attack in attacks if any(word in attack.name for word in only)]
    return attacks


# --------------------------------------------------------------------------- processes


def _read(path: str, mode: str = "r") -> str | bytes | None:
    try:
        with open(path, mode) as handle:
            return handle.read()
    except OSError:
        return None


def process_table() -> dict[int, dict]:
    """pid -> comm, ppid, cmdline, cwd, rss (KiB) for every visible process."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        status = _read(f"/proc/{pid}/status")
        if not status:
            continue
        info = {"comm": "", "ppid": 0, "rss": 0, "pgid": 0}
        for line in status.splitlines():
            key, _, value = line.partition(":")
            if key == "Name":
                info["comm"] = value.strip()
            elif key == "PPid":
                info["ppid"] = int(value)
            elif key == "VmRSS":
                info["rss"] = int(value.split()[0])
        cmdline = _read(f"/proc/{pid}/cmdline", "rb") or b""
        info["cmdline"] = cmdline.replace(b"\0", b" ").decode(errors="replace")
        try:
            info["cwd"] = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            info["cwd"] = ""
        table[pid] = info
    return table


def descendants(root: int, table: dict[int, dict]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, info in table.items():
        children.setdefault(info["ppid"], []).append(pid)
    found, stack = set(), [root]
    while stack:
        pid = stack.pop()
        for child in children.get(pid, []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def shmem_kib() -> int:
    match = re.search(r"^Shmem:\s+(\d+)", _read("/proc/meminfo") or "", re.M)
    return int(match.group(1)) if match else 0


class Sampler(threading.Thread):
    """Peak memory of the grader's own processes (not sandbox children) and of the machine's Shmem."""

    def __init__(self, root_pid: int) -> None:
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.stop = threading.Event()
        self.peak_rss_kib = 0
        self.shmem_base = shmem_kib()
        self.peak_shmem_kib = 0

    def run(self) -> None:
        while not self.stop.wait(0.2):
            table = process_table()
            ours = descendants(self.root_pid, table) | {self.root_pid}
            rss = sum(table[pid]["rss"] for pid in ours if pid in table and "sandbox/child/main.py" not in table[pid]["cmdline"])
            self.peak_rss_kib = max(self.peak_rss_kib, rss)
            self.peak_shmem_kib = max(self.peak_shmem_kib, shmem_kib() - self.shmem_base)


# --------------------------------------------------------------------------- sentinels and listeners


class Listener(threading.Thread):
    """Counts connections on the abstract socket @rt-redteam-listener and on a socket file in /tmp."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.connections = 0
        self.sockets = []
        for address in ("\0" + LISTENER_NAME, LISTENER_PATH):
            try:
                if not address.startswith("\0") and os.path.exists(address):
                    os.unlink(address)
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.bind(address)
                sock.listen(16)
                sock.settimeout(0.2)
                self.sockets.append(sock)
            except OSError:
                pass

    def run(self) -> None:
        while True:
            for sock in self.sockets:
                try:
                    connection, _ = sock.accept()
                    self.connections += 1
                    connection.close()
                except (TimeoutError, OSError):
                    pass

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        if os.path.exists(LISTENER_PATH):
            os.unlink(LISTENER_PATH)


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def plant_ipc(text: str) -> int | None:
    """A SysV segment holding *text*, standing for what an earlier student left."""
    libc = _libc()
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    shmid = libc.shmget(PLANTED_IPC_KEY, 4096, 0o1600)  # IPC_CREAT, owner only
    if shmid < 0:
        return None
    address = libc.shmat(shmid, None, 0)
    data = text.encode() + b"\0"
    ctypes.memmove(address, data, len(data))
    libc.shmdt(ctypes.c_void_p(address))
    return shmid


def ipc_leftovers() -> list[tuple[str, int, int]]:
    """SysV objects with a red-team key: (kind, key, id)."""
    found = []
    for kind, path in (("shm", "/proc/sysvipc/shm"), ("msg", "/proc/sysvipc/msg"), ("sem", "/proc/sysvipc/sem")):
        for line in (_read(path) or "").splitlines()[1:]:
            parts = line.split()
            if len(parts) > 2:
                key, ident = int(parts[0]), int(parts[1])
                if key >> 16 == IPC_KEY_PREFIX and key != PLANTED_IPC_KEY:
                    found.append((kind, key, ident))
    return found


def remove_ipc(objects: list[tuple[str, int, int]]) -> None:
    libc = _libc()
    for kind, _, ident in objects:
        if kind == "shm":
            libc.shmctl(ident, 0, None)  # IPC_RMID
        elif kind == "msg":
            libc.msgctl(ident, 0, None)
        else:
            libc.semctl(ident, 0, 0)


def abstract_escapes() -> list[str]:
    return [line.split()[-1] for line in (_read("/proc/net/unix") or "").splitlines() if "@rt-escape" in line]


def escape_files(places: list[Path]) -> list[str]:
    found = []
    for place in places:
        if not place.exists():
            continue
        for folder, dirs, files in os.walk(place):
            depth = Path(folder).relative_to(place).parts
            if len(depth) >= 2 and not str(folder).startswith("/tmp/rt-redteam") and place != Path("/tmp") or \
                    len(depth) >= 1 and place == Path("/tmp") and not str(folder).startswith("/tmp/rt-redteam"):
                dirs[:] = []
            if f"/submissions/{ATTACKER}" in folder:
                continue
            for name in files + dirs:
                if name.startswith("rt-escape"):
                    found.append(os.path.join(folder, name))
            for name in files:
                if name.endswith(".py") and "submissions" in folder and \
                        b"rt-escape" in (_read(os.path.join(folder, name), "rb") or b""):
                    found.append(os.path.join(folder, name))
    return sorted(set(found))


# --------------------------------------------------------------------------- one run


@dataclass
class Outcome:
    attack: str
    assignment: str
    points: float | None = None
    max_points: float | None = None
    status: str = ""
    seconds: float = 0.0
    returncode: int | None = None
    checks: dict[str, tuple[bool, str]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(ok for ok, _ in self.checks.values())

    def to_dict(self) -> dict:
        return {"attack": self.attack, "assignment": self.assignment, "points": self.points,
                "max_points": self.max_points, "status": self.status, "seconds": round(self.seconds, 1),
                "returncode": self.returncode, "passed": self.passed,
                "checks": {name: {"passed": ok, "detail": detail} for name, (ok, detail) in self.checks.items()}}


class Run:
    """A run folder with sentinels, a template class, and what each attack needs."""

    def __init__(self, timeout: float, examples: int, extra: list[str]) -> None:
        self.examples = (["--examples", str(examples)] if examples else []) + list(extra)
        self.id = secrets.token_hex(4)
        self.root = Path(tempfile.mkdtemp(prefix=f"rt-redteam-{self.id}-", dir="/tmp"))
        self.timeout = timeout
        self.sentinels = {kind: f"RT-SENTINEL-{kind}-{secrets.token_hex(6)}"
                          for kind in ("CODE", "NAME", "HOME", "ENV", "TMP", "SYSTMP", "SHM", "IPC")}
        self.home = self.root / "home"
        self.home.mkdir()
        (self.home / ".course_secret").write_text(self.sentinels["HOME"] + "\n")
        self.outside = [Path(f"/tmp/rt-sentinel-{self.id}.txt"), Path(f"/dev/shm/rt-sentinel-{self.id}")]
        self.outside[0].write_text(self.sentinels["SYSTMP"])
        try:
            self.outside[1].write_text(self.sentinels["SHM"])
        except OSError:
            pass
        self.shmid = plant_ipc(self.sentinels["IPC"])
        self.listener = Listener()
        self.listener.start()
        self.before = set(process_table())
        self.python = sys.executable
        self._make_template()

    def environment(self, tmp: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update(HOME=str(self.home), TMPDIR=str(tmp), RT_GRADER_TOKEN=self.sentinels["ENV"])
        return env

    def _make_template(self) -> None:
        template = self.root / "template"
        classmate = template / "submissions" / CLASSMATE / "conv_layers"
        classmate.mkdir(parents=True)
        text = CORRECT["conv_layers"].read_text()
        (classmate / "submission.py").write_text(f"# my token: {self.sentinels['CODE']}\n" + text)
        named = template / "submissions" / self.sentinels["NAME"] / "conv_layers"
        named.mkdir(parents=True)
        (named / "submission.py").write_text(text)
        tmp = template / "tmp"
        tmp.mkdir()
        (tmp / "rt-sentinel.txt").write_text(self.sentinels["TMP"])
        command = [self.python, "-m", "autograder.cli", "grade", str(template / "submissions"),
                   "--out", str(template / "out"), "--workers", "2", *self.examples]
        done = subprocess.run(command, env=self.environment(tmp), cwd=template, capture_output=True, text=True,
                              timeout=600)
        if done.returncode != 0 or not (template / "out" / "grades.json").exists():
            raise SystemExit(f"could not grade the template class:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        self.template_entries = _submitted(json.loads((template / "out" / "grades.json").read_text()))
        self.template_hashes = self._hashes(template / "submissions")

    @staticmethod
    def _hashes(submissions: Path) -> dict[str, str]:
        hashes = {}
        for student in (CLASSMATE,):
            for path in sorted((submissions / student).rglob("*")):
                if path.is_file():
                    hashes[str(path.relative_to(submissions))] = hashlib.sha256(path.read_bytes()).hexdigest()
        return hashes

    def _student_hashes(self, submissions: Path) -> dict[str, str]:
        hashes = self._hashes(submissions)
        named = submissions / self.sentinels["NAME"]
        for path in sorted(named.rglob("*")):
            if path.is_file():
                hashes[str(path.relative_to(submissions))] = hashlib.sha256(path.read_bytes()).hexdigest()
        return hashes

    # ----------------------------------------------------------------- grading one attack

    def grade(self, attack: Attack) -> Outcome:
        outcome = Outcome(attack.name, attack.assignment)
        folder = self.root / attack.name
        shutil.copytree(self.root / "template", folder, symlinks=True)
        submissions, out, tmp = folder / "submissions", folder / "out", folder / "tmp"
        hashes_before = self._student_hashes(submissions)
        mine = submissions / ATTACKER / attack.assignment
        classmate_folder = submissions / CLASSMATE / "conv_layers"
        if "symlink_folder" in attack.setup:
            mine.parent.mkdir(parents=True)
            mine.symlink_to(Path("..") / CLASSMATE / "conv_layers")
        else:
            mine.mkdir(parents=True)
            shutil.copy(attack.path, mine / f"answer{attack.path.suffix}")
        if "symlink_file" in attack.setup:
            (mine / "zz_mine.py").symlink_to(Path("../..") / CLASSMATE / "conv_layers" / "submission.py")
            try:
                os.link(classmate_folder / "submission.py", mine / "zz_copy.py")
            except OSError:
                pass
        if "victim" in attack.setup:
            victim = submissions / VICTIM / attack.assignment
            victim.mkdir(parents=True)
            shutil.copy(CORRECT[attack.assignment], victim / "answer.py")
        shm_before = self.listener.connections
        command = [self.python, "-m", "autograder.cli", "grade", str(submissions), "--out", str(out), "--workers", "1",
                   *self.examples]
        started = time.monotonic()
        process = subprocess.Popen(command, env=self.environment(tmp), cwd=folder, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        sampler = Sampler(process.pid)
        sampler.start()
        timed_out = False
        try:
            log, _ = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            for sig in (signal.SIGCONT, signal.SIGKILL):
                try:
                    os.killpg(process.pid, sig)
                except OSError:
                    pass
            for pid in descendants(process.pid, process_table()):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            log, _ = process.communicate()
        sampler.stop.set()
        sampler.join()
        outcome.seconds = time.monotonic() - started
        outcome.returncode = process.returncode
        (folder / "cli.log").write_bytes(log or b"")
        time.sleep(1.0)

        entries = {}
        grades = out / "grades.json"
        if grades.exists():
            data = json.loads(grades.read_text())
            entries = _submitted(data)
        mine_entry = entries.get(ATTACKER)
        if mine_entry:
            outcome.points, outcome.max_points = mine_entry.get("points"), mine_entry.get("max_points")
            outcome.status = str(mine_entry.get("status")) if not timed_out else "timeout"
        else:
            outcome.status = "timeout" if timed_out else "not recorded"
        seen = json.dumps(mine_entry or {})
        for sub in ("feedback", "gradescope"):
            for path in sorted((out / sub / ATTACKER).rglob("*")) if (out / sub / ATTACKER).exists() else ():
                if path.is_file():
                    seen += "\n" + path.read_text(errors="replace")

        survivors = self._survivors(folder)
        escapes = escape_files([Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/dev/mqueue"), self.home,
                                folder])
        ipc = ipc_leftovers()
        sockets = abstract_escapes()
        hashes_after = self._student_hashes(submissions)

        for expectation in attack.expect:
            outcome.checks[expectation] = self._judge(
                expectation, outcome=outcome, seen=seen, entries=entries, timed_out=timed_out,
                survivors=survivors, escapes=escapes, ipc=ipc, sockets=sockets,
                hashes=(hashes_before, hashes_after), connections=self.listener.connections - shm_before,
                sampler=sampler, attack=attack)
        # Leave nothing behind for the next attack.
        for pid in survivors:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        remove_ipc(ipc)
        for path in escapes:
            try:
                if os.path.isdir(path):
                    shutil.rmtree(path)
                elif "submissions" not in path:
                    os.unlink(path)
            except OSError:
                pass
        return outcome

    def _survivors(self, folder: Path) -> list[int]:
        table = process_table()
        found = []
        for pid, info in table.items():
            if pid == os.getpid():
                continue
            if info["comm"].startswith("rt-survivor") or str(folder) in info["cwd"] or \
                    str(folder) in info["cmdline"] or \
                    ("sandbox/child/main.py" in info["cmdline"] and info["ppid"] == 1 and pid not in self.before):
                found.append(pid)
        return found

    def _judge(self, expectation: str, *, outcome: Outcome, seen: str, entries: dict, timed_out: bool,
               survivors: list[int], escapes: list[str], ipc: list, sockets: list[str],
               hashes: tuple[dict, dict], connections: int, sampler: Sampler, attack: Attack) -> tuple[bool, str]:
        match = re.fullmatch(r"(points|parent_rss|shmem_growth)\s*(<=|>=)\s*([0-9.]+)", expectation)
        if match:
            what, operator, bound = match.group(1), match.group(2), float(match.group(3))
            value = {"points": outcome.points, "parent_rss": sampler.peak_rss_kib / 1024,
                     "shmem_growth": sampler.peak_shmem_kib / 1024}[what]
            if value is None:
                return (operator == "<=", f"{what}: none recorded")
            ok = value <= bound if operator == "<=" else value >= bound
            return ok, f"{what} {value:g}"
        if expectation == "no_leak":
            leaked = [kind for kind, text in self.sentinels.items() if text in seen]
            return not leaked, f"leaked {', '.join(leaked)}" if leaked else ""
        if expectation == "no_breach":
            found = re.findall(r"RT-BREACH[^\"\\;|\n]{0,80}", seen)
            return not found, "; ".join(sorted(set(found)))[:200]
        if expectation == "no_internal_error":
            bad = outcome.status == "internal error" or outcome.returncode == 3
            return not bad, f"status {outcome.status}, exit {outcome.returncode}" if bad else ""
        if expectation == "grader_ok":
            ok = not timed_out and outcome.returncode is not None and outcome.returncode >= 0 and ATTACKER in entries
            return ok, "" if ok else f"exit {outcome.returncode}, timed out {timed_out}, recorded {ATTACKER in entries}"
        if expectation == "no_survivor":
            return not survivors, f"pids {survivors}" if survivors else ""
        if expectation == "no_escape_files":
            return not escapes, " ".join(escapes)[:200]
        if expectation == "no_ipc":
            bad = [f"{kind} {key:#x}" for kind, key, _ in ipc] + sockets
            return not bad, " ".join(bad)
        if expectation == "classmates_unchanged":
            before, after = hashes
            changed = [name for name in set(before) | set(after) if before.get(name) != after.get(name)]
            for student in (CLASSMATE, self.sentinels["NAME"]):
                old, new = self.template_entries.get(student, {}), entries.get(student, {})
                if (old.get("points"), old.get("status")) != (new.get("points"), new.get("status")):
                    changed.append(f"{student[:12]} {old.get('points')}->{new.get('points')}")
            return not changed, " ".join(changed)[:200]
        if expectation == "victim_ok":
            victim = entries.get(VICTIM)
            ok = bool(victim) and victim.get("status") == "graded" and victim.get("points") == victim.get("max_points")
            return ok, "" if ok else (f"victim {victim.get('status')} {victim.get('points')}/{victim.get('max_points')}: "
                                      f"{str(victim.get('error', ''))[:100]}" if victim else "victim not recorded")
        if expectation == "no_grader_paths":
            found = [word for word in ("Traceback", "autograder/sandbox", "/site-packages/", str(REPO) + "/autograder")
                     if word in seen]
            return not found, " ".join(found)
        if expectation == "no_html_injection":
            found = []
            out = self.root / attack.name / "out"
            report = _read(str(out / "report.html")) or ""
            # A live element only: escaped text (&lt;img ... onerror=rt_xss()&gt;) shows the student's string, harmlessly.
            if "<script>rt_xss" in report or re.search(r"<[A-Za-z][^<>]*\sonerror=rt_xss", report):
                found.append("report.html")
            for path in (out / "gradescope" / ATTACKER).rglob("*.json") if (out / "gradescope" / ATTACKER).exists() else ():
                data = json.loads(path.read_text())
                for test in [data] + list(data.get("tests", [])):
                    if test.get("output_format") == "html" and "<script>rt_xss" in str(test.get("output", "")):
                        found.append(path.name)
            return not found, " ".join(found)
        if expectation == "no_connection":
            return connections == 0, f"{connections} connections" if connections else ""
        return False, f"unknown expectation {expectation!r}"

    def close(self) -> None:
        for path in self.outside:
            try:
                path.unlink()
            except OSError:
                pass
        if self.shmid is not None:
            _libc().shmctl(self.shmid, 0, None)
        self.listener.close()


# --------------------------------------------------------------------------- the table


def table(outcomes: list[Outcome]) -> str:
    rows = [("attack", "target", "score", "status", "s", "verdict", "failed expectations (detail)")]
    for outcome in outcomes:
        score = "-" if outcome.points is None else f"{outcome.points:g}/{outcome.max_points:g}"
        failed = "; ".join(f"{name}: {detail}" if detail else name
                           for name, (ok, detail) in outcome.checks.items() if not ok)
        rows.append((outcome.attack, outcome.assignment, score, outcome.status, f"{outcome.seconds:.0f}",
                     "PASS" if outcome.passed else "FAIL", failed))
    widths = [max(len(row[index]) for row in rows) for index in range(6)]
    lines = []
    for row in rows:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row[:6], widths)) + "  " + row[6])
    lines.insert(1, "-" * min(160, len(lines[0]) + 20))
    passed = sum(outcome.passed for outcome in outcomes)
    lines.append(f"\n{passed}/{len(outcomes)} held (PASS = every expectation met; FAIL = the attack got through "
                 "or the grader broke)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=[], help="attacks whose name contains one of these words")
    parser.add_argument("--jobs", type=int, default=2, help="attacks graded at once (serial ones run alone)")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds per attack's grading run")
    parser.add_argument("--examples", type=int, default=30,
                        help="cases per check passed to the grader (30, as `autograder check`; 0: the rubric's)")
    parser.add_argument("--grade-arg", action="append", default=[], metavar="ARG",
                        help="one more argument for `autograder grade` (repeat it), e.g. --grade-arg=--secret=...")
    parser.add_argument("--json", type=Path, help="write the table as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the run folder (logs, gradebooks)")
    args = parser.parse_args(argv)

    attacks = corpus(args.only)
    try:
        import importlib.util
        spec = importlib.util.find_spec("autograder")
        where = spec.origin if spec else "not found"
    except Exception as error:  # noqa: BLE001
        where = f"not importable ({error})"
    print(f"grading {len(attacks)} red-team submissions with {sys.executable} -m autograder.cli ({where})", flush=True)
    started = time.monotonic()
    run = Run(args.timeout, args.examples, args.grade_arg)
    print(f"run folder {run.root}", flush=True)
    outcomes: dict[str, Outcome] = {}
    try:
        # The long ones first, so that two workers end together.
        parallel = sorted((attack for attack in attacks if "serial" not in attack.setup),
                          key=lambda attack: not attack.name.startswith(("sink_", "forge_frame")))
        serial = [attack for attack in attacks if "serial" in attack.setup]

        def one(attack: Attack) -> Outcome:
            try:
                result = run.grade(attack)
            except Exception as error:  # noqa: BLE001 - the runner reports and goes on
                result = Outcome(attack.name, attack.assignment, status=f"runner error: {error}")
                result.checks["runner"] = (False, f"{type(error).__name__}: {error}")
            print(f"  {result.attack}: {'-' if result.points is None else result.points}"
                  f" ({'PASS' if result.passed else 'FAIL'}, {result.seconds:.0f} s)", flush=True)
            return result

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for result in pool.map(one, parallel):
                outcomes[result.attack] = result
        for attack in serial:
            outcomes[attack.name] = one(attack)
    finally:
        run.close()
        if not args.keep:
            shutil.rmtree(run.root, ignore_errors=True)
    ordered = [outcomes[attack.name] for attack in attacks if attack.name in outcomes]
    print()
    print(table(ordered))
    print(f"\n{time.monotonic() - started:.0f} s in all")
    if args.json:
        args.json.write_text(json.dumps([outcome.to_dict() for outcome in ordered], indent=1))
        print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":
    try:
        main()
    finally:
        sys.exit(0)
