"""Trust attacks of issue #8 on the sandbox side: secrets, hidden data, caches, crashes, limits.

Each check is decided from the host's side: the canary string in what the sandbox could
print or raise, the host's own file system, the host's exception types and recycle count.
"""
from __future__ import annotations

import os
import secrets
import shutil
import time
from pathlib import Path

import numpy as np

from inventory.policy import PolicyError
from sandbox import fstree
from sandbox.errors import SandboxFailure
from sandbox.host import Deadlines

from .core import BENIGN, Attack, Env, Outcome, finish, host_for, shell_for
from .validator_bypass import BYPASSES

CANARY_VAR = "OPENAI_API_KEY"


class _Canary:
    """A fake API key in this process's environment for the duration of a ``with``."""

    def __enter__(self) -> str:
        self.old = os.environ.get(CANARY_VAR)
        self.value = "sk-canary-" + secrets.token_hex(16)
        os.environ[CANARY_VAR] = self.value
        return self.value

    def __exit__(self, *exc: object) -> None:
        if self.old is None:
            os.environ.pop(CANARY_VAR, None)
        else:
            os.environ[CANARY_VAR] = self.old


ENV_DUMP_SHELL = ("env; echo; cat /proc/self/environ; echo; cat /proc/1/environ; echo; "
                  "for f in /proc/[0-9]*/environ; do cat \"$f\" 2>/dev/null; echo; done")

ENV_DUMP_POLICY = '''
import os
PARAMS = {"r": (0.0, 1.0)}
def order(obs, params):
    seen = [repr(dict(os.environ))]
    for name in ["self", "1"] + [p for p in os.listdir("/proc") if p.isdigit()]:
        try:
            seen.append(open("/proc/%s/environ" % name, "rb").read().decode("latin-1"))
        except OSError:
            pass
    raise RuntimeError(" | ".join(seen))
'''


def env_canary_shell(env: Env) -> Outcome:
    with _Canary() as canary:
        with shell_for(env) as sh:
            res = sh.run(ENV_DUMP_SHELL, timeout=20)
    leaked = canary in res.output or "sk-canary" in res.output
    return Outcome(not leaked and "PATH=" in res.output,
                   f"canary {'LEAKED' if leaked else 'absent'} in {len(res.output)} bytes of env dumps")


def env_canary_policy(env: Env) -> Outcome:
    with _Canary() as canary:
        host = host_for(env)  # the worker starts (lazily) while the canary is set
        try:
            h = host.open(ENV_DUMP_POLICY, "env-dump")
            try:
                h.mean_costs({"r": np.array([0.5])})
                err = "no error"
            except PolicyError as exc:
                err = str(exc)
        except PolicyError as exc:
            err = str(exc)
    leaked = canary in err or "sk-canary" in err
    return finish(host, not leaked and "PATH" in err,
                  f"canary {'LEAKED' if leaked else 'absent'} in the policy's error text ({len(err)} chars)")


PARTIAL_FRAME = '''
import os, time
PARAMS = {"r": (0.0, 1.0)}
def order(obs, params):
    for fd in range(3, 64):
        try:
            os.write(fd, b"\\x00\\x00\\x10\\x00{\\"ok\\": tr")
        except OSError:
            pass
    time.sleep(3600)
'''


def partial_frame(env: Env) -> Outcome:
    """Half a reply frame, then silence: only that candidate dies, at its deadline."""
    host = host_for(env, deadlines=Deadlines(mean_costs=2.0, grace=20.0))
    bystander = host.open(BENIGN, "bystander")
    before = bystander.mean_costs({"S": np.array([15.0])})
    h = host.open(PARTIAL_FRAME, "partial")
    t0 = time.monotonic()
    try:
        h.mean_costs({"r": np.array([0.5])})
        err, infra = "no error", False
    except PolicyError as exc:
        err, infra = str(exc), isinstance(exc, SandboxFailure)
    dt = time.monotonic() - t0
    after = bystander.mean_costs({"S": np.array([15.0])})
    ok = "deadline" in err and not infra and dt < 2.0 + 5.0 and host.recycles == 0 and np.array_equal(before, after)
    return finish(host, ok, f"error={err[:70]!r} after {dt:.1f}s, recycles={host.recycles}, bystander unchanged="
                            f"{np.array_equal(before, after)}")


def handle_leak(env: Env, n: int = 200) -> Outcome:
    """200 candidates opened and never closed: dropped ones are reaped, kept ones evicted LRU."""
    host = host_for(env)
    params = {"S": np.array([12.0])}
    ok_dropped = 0
    for i in range(n):
        h = host.open(BENIGN, f"leak-{i}")
        h.mean_costs(params)
        ok_dropped += 1
        del h
    kept, ok_kept = [], 0
    for i in range(n):
        h = host.open(BENIGN, f"kept-{i}")
        h.mean_costs(params)
        kept.append(h)
        ok_kept += 1
    try:
        kept[0].mean_costs(params)
        first = "still open"
    except SandboxFailure:
        first = "evicted (SandboxFailure)"
    procs = len(host.ping().get("procs", []))
    cap = host.limits.max_live_candidates
    ok = ok_dropped == n and ok_kept == n and host.live_candidates <= cap and procs <= cap + 8 and host.recycles == 0
    return finish(host, ok, f"{ok_dropped}+{ok_kept} candidates scored, {host.live_candidates} live (cap {cap}), "
                            f"{procs} processes in the sandbox, oldest kept handle {first}")


DEEP_DIR = ("python3 -c \"import os\nfor i in range(1200):\n    os.mkdir('d'); os.chdir('d')\nprint('depth=1200')\"")


def deep_directory(env: Env) -> Outcome:
    """A 1,200-deep directory: no RecursionError in the quota walk or the cleanup."""
    with shell_for(env, timeout=60) as sh:
        res = sh.run(DEEP_DIR,
                     timeout=60)
        after = sh.run("echo alive; ls", timeout=20)
        depth = 0
        p = sh.root
        while (p / "d").is_dir():
            p, depth = p / "d", depth + 1
        tmp = sh._tmp
    gone = not tmp.exists()
    ok = "depth=1200" in res.output and "alive" in after.output and depth <= sh.backend.limits.workspace_max_depth and gone
    return Outcome(ok, f"made {res.output.strip().split('depth=')[-1][:5]} levels; kept {depth}; session copy deleted={gone}")


def inode_quota(env: Env, files: int = 30_000) -> Outcome:
    """Empty files carry no bytes: the entry quota catches them."""
    with shell_for(env, timeout=120) as sh:
        res = sh.run(f"python3 -c \"[open('e%d' % i, 'w').close() for i in range({files})]\"; echo made", timeout=120)
        count = fstree.scan(sh.root, 100).count
        kept = (sh.root / "evaluation.py").exists()
    quota = env.backend.limits.workspace_quota_entries
    ok = "made" in res.output and count <= quota and kept and "entry quota" in res.output
    return Outcome(ok, f"{files} empty files -> {count} entries left (quota {quota}); evaluation.py kept={kept}")


MEMORY_BOMB = '''
PARAMS = {"r": (0.0, 1.0)}
HOG = []
def order(obs, params):
    while True:
        HOG.append(bytearray(64 << 20))
'''


def memory_isolation(env: Env) -> Outcome:
    """A memory bomb dies alone: an open benign candidate and a later one score unchanged."""
    host = host_for(env)
    params = {"S": np.array([10.0, 20.0])}
    bystander = host.open(BENIGN, "bystander")
    before = bystander.mean_costs(params)
    bomb = host.open(MEMORY_BOMB, "bomb")
    try:
        bomb.mean_costs({"r": np.array([0.5])})
        err = "no error"
    except PolicyError as exc:
        err = str(exc)
    after = bystander.mean_costs(params)
    fresh = host.open(BENIGN, "after")
    later = fresh.mean_costs(params)
    ok = err != "no error" and np.array_equal(before, after) and np.array_equal(before, later) and host.recycles == 0
    return finish(host, ok, f"bomb: {err[:60]!r}; bystander and later candidate unchanged="
                            f"{np.array_equal(before, after) and np.array_equal(before, later)}, recycles={host.recycles}")


def validator_bypasses(env: Env) -> Outcome:
    """Every known module-attribute bypass is rejected by the static validator (backend-independent)."""
    from sandbox.validator import validate_policy

    passed = [name for name, src in BYPASSES.items() if validate_policy(src).ok]
    return Outcome(not passed, f"{len(BYPASSES) - len(passed)}/{len(BYPASSES)} bypasses rejected"
                               + (f"; PASSED: {passed}" if passed else ""))


def runtime_tree_tampering(env: Env) -> Outcome:
    """A planted sitecustomize.py in a cached tree is detected; the tree is rebuilt before use."""
    from sandbox import image as img

    real = img.ensure_runtime_root()
    cache = env.scratch / "cache"
    cache.mkdir(mode=0o755)
    os.chmod(env.scratch, 0o755)
    tree = cache / real.path.name
    shutil.copytree(real.path, tree, symlinks=True)
    shutil.copy2(real.path.parent / f"{real.path.name}.manifest.json", cache)
    marker = env.scratch / "PLANTED-RAN"
    site = tree / real.site_packages.lstrip("/")
    (site / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    old = os.environ.get("INVEVOLVE_SANDBOX_CACHE")
    os.environ["INVEVOLVE_SANDBOX_CACHE"] = str(cache)
    try:
        img._VERIFIED.clear()
        rebuilt = img.ensure_runtime_root()
        planted_left = (Path(rebuilt.path) / real.site_packages.lstrip("/") / "sitecustomize.py").exists()
    finally:
        if old is None:
            os.environ.pop("INVEVOLVE_SANDBOX_CACHE", None)
        else:
            os.environ["INVEVOLVE_SANDBOX_CACHE"] = old
        img._VERIFIED.clear()
    ok = not planted_left and not marker.exists()
    return Outcome(ok, f"planted sitecustomize.py {'still there' if planted_left else 'gone after rebuild'}; "
                       f"it ran={marker.exists()}")


TRUST: tuple[Attack, ...] = (
    Attack("env_canary_shell", "shell", env_canary_shell, "env, /proc/self|1|*/environ dumps with a host API key set"),
    Attack("env_canary_policy", "policy", env_canary_policy, "policy raises os.environ + /proc/*/environ as its error"),
    Attack("partial_frame", "policy", partial_frame, "policy writes half a reply frame, then sleeps"),
    Attack("handle_leak", "policy", handle_leak, "200 candidates dropped + 200 kept, none closed"),
    Attack("deep_directory", "shell", deep_directory, "1,200-deep directory in the workspace copy"),
    Attack("inode_quota", "shell", inode_quota, "30,000 empty files (no bytes)"),
    Attack("memory_isolation", "policy", memory_isolation, "memory bomb next to an open benign candidate"),
    Attack("validator_bypass", "host", validator_bypasses, "module-attribute bypasses of the static validator"),
    Attack("runtime_tree_tamper", "host", runtime_tree_tampering, "sitecustomize.py planted in the cached runtime tree"),
)
