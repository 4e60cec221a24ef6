"""The commit stamp every result file carries."""
import subprocess

from inventory.provenance import code_commit


def _git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_code_commit_names_the_head_and_marks_tracked_changes(tmp_path):
    assert code_commit(repo=tmp_path) is None  # not a checkout
    _git(tmp_path, "init", "-q")
    (tmp_path / "f.py").write_text("x = 1\n")
    _git(tmp_path, "add", "f.py")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert code_commit(repo=tmp_path, short=False) == head
    assert head.startswith(code_commit(repo=tmp_path)) and len(code_commit(repo=tmp_path)) < len(head)
    (tmp_path / "new.py").write_text("untracked\n")
    assert code_commit(repo=tmp_path, short=False) == head  # untracked files are not the code that ran
    (tmp_path / "f.py").write_text("x = 2\n")
    assert code_commit(repo=tmp_path) == head[:len(code_commit(repo=tmp_path)) - 6] + "+dirty"
