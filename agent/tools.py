"""The agent's two tools: ``shell`` (one command in the sandboxed workspace copy) and ``submit``.

Contract:
- ``shell`` runs exactly one command through the episode's :class:`sandbox.shell.ShellSession`
  (cwd = the copy's root), with the configured per-command timeout; the model sees the
  combined output cut to ``max_output`` characters (head and tail kept), the exit code, and
  notes when the output was truncated or the command timed out.
- ``submit`` reads the named file (default ``final_submit.py``) out of the session as bytes
  (the only data that leaves the sandbox), validates it, and on success ends the episode.
  An invalid submission is reported to the model with the validator's reasons and the
  episode goes on while budget remains.
- Malformed calls (unknown tool, undecodable or missing arguments) are answered with an
  error that shows the expected form; they still cost one call of the budget.
"""
from __future__ import annotations

import logging
import posixpath
import time
from dataclasses import dataclass
from typing import Any

from agent.llm.base import ToolCall, ToolSpec
from agent.validation import SubmissionCheck, validate_submission
from sandbox.shell import ShellSession

log = logging.getLogger(__name__)

SUBMIT_FILE = "final_submit.py"

SHELL_TOOL = ToolSpec(
    name="shell",
    description=("Run one bash command in your copy of the workspace (working directory = workspace root) "
                 "and get its combined stdout/stderr (truncated) and exit code. Each call runs one command; "
                 "use a heredoc (cat > file.py <<'EOF' ... EOF) to write files."),
    parameters={"type": "object", "properties": {"command": {"type": "string", "description": "the bash command to run"}},
                "required": ["command"]},
)
SUBMIT_TOOL = ToolSpec(
    name="submit",
    description=(f"Submit a policy file (default {SUBMIT_FILE}) for the trusted evaluation and end the episode. "
                 "The file is checked first; if it is rejected you are told why and may fix it and submit again."),
    parameters={"type": "object", "properties": {
        "path": {"type": "string", "description": f"policy file to submit, relative to the workspace root (default {SUBMIT_FILE})"},
        "rationale": {"type": "string", "description": "one or two sentences on what the policy does and why"},
    }, "required": []},
)
TOOLS: tuple[ToolSpec, ...] = (SHELL_TOOL, SUBMIT_TOOL)


@dataclass(frozen=True)
class Submission:
    path: str
    source: str | None
    check: SubmissionCheck
    rationale: str = ""


@dataclass(frozen=True)
class StepRecord:
    """One executed (or refused) tool call, as stored in the trajectory."""

    index: int                   # 1-based position in the episode's tool-call budget
    turn: int                    # which model turn produced the call
    call_id: str
    tool: str
    arguments: dict[str, Any] | None
    raw: str
    result: str                  # exactly what the model was shown
    exit_code: int | None = None
    timed_out: bool = False
    truncated: bool = False
    error: str | None = None
    duration_s: float = 0.0
    submission: Submission | None = None


def truncate_middle(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters, keeping the head and the tail."""
    if len(text) <= limit:
        return text, False
    head = int(limit * 0.6)
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n[... {cut} characters cut ...]\n{text[-tail:] if tail else ''}", True


def _safe_rel_path(path: str) -> str | None:
    norm = posixpath.normpath(path.strip())
    if not norm or norm.startswith("/") or norm == ".." or norm.startswith("../") or norm == ".":
        return None
    return norm


class ToolRunner:
    """Executes tool calls for one episode against one shell session."""

    def __init__(self, session: ShellSession, *, max_output: int, command_timeout: float):
        self.session, self.max_output, self.command_timeout = session, max_output, command_timeout

    def run(self, call: ToolCall, *, index: int, turn: int) -> StepRecord:
        t0 = time.monotonic()
        base = dict(index=index, turn=turn, call_id=call.id, tool=call.name, arguments=call.arguments, raw=call.raw)
        if call.error is not None or call.arguments is None:
            msg = f"ERROR: could not read this tool call: {call.error}. {self._usage(call.name)}"
            return StepRecord(**base, result=msg, error=call.error or "no arguments")
        if call.name == SHELL_TOOL.name:
            return self._shell(call, base, t0)
        if call.name == SUBMIT_TOOL.name:
            return self._submit(call, base, t0)
        msg = f"ERROR: unknown tool {call.name!r}. The tools are `shell` and `submit`. {self._usage('shell')}"
        return StepRecord(**base, result=msg, error=f"unknown tool {call.name!r}")

    @staticmethod
    def _usage(name: str) -> str:
        if name == SUBMIT_TOOL.name:
            return 'Expected arguments: {"path": "final_submit.py", "rationale": "..."} (both optional).'
        return 'Expected arguments: {"command": "<one bash command>"}.'

    def _shell(self, call: ToolCall, base: dict[str, Any], t0: float) -> StepRecord:
        command = (call.arguments or {}).get("command")
        if not isinstance(command, str) or not command.strip():
            err = "missing or empty 'command' string"
            return StepRecord(**base, result=f"ERROR: {err}. {self._usage('shell')}", error=err)
        res = self.session.run(command, timeout=self.command_timeout)
        out, cut = truncate_middle(res.output, self.max_output)
        truncated = cut or res.truncated
        notes = []
        if res.timed_out:
            notes.append(f"[command timed out after {self.command_timeout:g}s and was killed]")
        else:
            notes.append(f"[exit code {res.exit_code}]")
        if truncated:
            notes.append("[output truncated]")
        text = (out.rstrip("\n") + "\n" if out else "") + " ".join(notes)
        return StepRecord(**base, result=text, exit_code=res.exit_code, timed_out=res.timed_out, truncated=truncated,
                          duration_s=time.monotonic() - t0)

    def _submit(self, call: ToolCall, base: dict[str, Any], t0: float) -> StepRecord:
        args = call.arguments or {}
        raw_path = args.get("path") or SUBMIT_FILE
        rationale = args.get("rationale") or ""
        if not isinstance(raw_path, str) or not isinstance(rationale, str):
            err = "'path' and 'rationale' must be strings"
            return StepRecord(**base, result=f"ERROR: {err}. {self._usage('submit')}", error=err)
        path = _safe_rel_path(raw_path)
        if path is None or not path.endswith(".py"):
            err = f"cannot submit {raw_path!r}: give a .py file inside the workspace"
            return StepRecord(**base, result=f"ERROR: {err}.", error=err)
        try:
            data = self.session.read_file(path)
        except ValueError as exc:  # the session refuses paths escaping the copy
            err = f"cannot submit {raw_path!r}: {exc}"
            return StepRecord(**base, result=f"ERROR: {err}.", error=err)
        if data is None:
            err = f"{path} does not exist; write it first (e.g. with a heredoc), then submit"
            return StepRecord(**base, result=f"ERROR: {err}.", error=err)
        source, check = validate_submission(data)
        if source is not None and path != SUBMIT_FILE:
            self.session.write_file(SUBMIT_FILE, data)
        sub = Submission(path, source, check, rationale)
        if check.ok:
            text = (f"Submitted {path} ({len(data)} bytes). It passed the structural check and will be scored by "
                    "the trusted evaluator on the replay window. The episode is over.")
            return StepRecord(**base, result=text, submission=sub, duration_s=time.monotonic() - t0)
        text = ("REJECTED: the submission failed the structural check:\n- " + "\n- ".join(check.reasons)
                + "\nFix the file and submit again.")
        return StepRecord(**base, result=text, error="submission rejected", submission=sub,
                          duration_s=time.monotonic() - t0)
