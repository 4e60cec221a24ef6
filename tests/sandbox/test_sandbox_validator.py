"""The static validator V(pi): accepts the contract, rejects with a clear reason, never executes."""
from __future__ import annotations

import glob

import pytest

from sandbox.validator import MAX_BYTES, MAX_LINES, validate_policy
from tests.sandbox._support import REPO

GOOD = '''
import numpy as np
from math import sqrt
PARAMS = {"S": (0.0, 60.0), "r": (0, 30, "int")}

def order(obs, params):
    gap = np.maximum(params["S"] - obs.position, 0.0)
    return np.minimum(gap, params["r"] + sqrt(4.0))
'''


def test_library_policies_pass():
    files = glob.glob(str(REPO / "inventory" / "library" / "*.py"))
    files = [f for f in files if not f.endswith("__init__.py")]
    assert files
    for f in files:
        v = validate_policy(open(f).read())
        assert v.ok, (f, v.reasons)
    assert validate_policy(GOOD) == validate_policy(GOOD) and validate_policy(GOOD).ok


BAD = {
    "import os\n": "forbidden module `os`",
    "import subprocess\n": "forbidden module `subprocess`",
    "from socket import socket\n": "forbidden module `socket`",
    "import ctypes\n": "forbidden module `ctypes`",
    "import scipy\n": "not allowed",
    "from . import x\n": "relative imports",
    "from numpy import *\n": "import *",
    "X = eval('1')\n": "`eval`",
    "X = 1\nY = exec\n": "`exec`",
    "def f():\n    return open('x')\n": "`open`",
    "def f():\n    return __import__('os')\n": "`__import__`",
    "def f(x):\n    return getattr(x, 'a')\n": "`getattr`",
    "def f(x):\n    return x.__class__\n": "`.__class__`",
    "def f():\n    return globals()\n": "`globals`",
    "def f():\n    return __builtins__\n": "`__builtins__`",
    "def f():\n    breakpoint()\n": "`breakpoint`",
    "import numpy as np\ndef f():\n    return np.load('x')\n": "`.load`",
    "print('hi')\n": "runs code at import time",
    "if __name__ == '__main__':\n    pass\n": "`__name__`",
    "def f():\n    global G\n": "`global`",
    "class A:\n    pass\n": "class definitions",
    "def f(x):\n    return x['__globals__']\n": "string literal naming a dunder",
}


@pytest.mark.parametrize("prefix,reason", list(BAD.items()), ids=list(range(len(BAD))))
def test_rejections_name_the_reason(prefix, reason):
    v = validate_policy(prefix + GOOD)
    assert not v.ok
    assert any(reason in r for r in v.reasons), v.reasons


@pytest.mark.parametrize("src,reason", [
    ("PARAMS = {'S': (0, 1)}\n", "missing the entry point"),
    ("PARAMS = {'S': (0, 1)}\ndef order(obs):\n    return 0\n", "signature order(obs, params)"),
    ("PARAMS = {'S': (0, 1)}\ndef order(obs, params, extra=1):\n    return 0\n", "signature"),
    ("PARAMS = {'S': (0, 1)}\ndef order(*args):\n    return 0\n", "signature"),
    ("PARAMS = dict(S=(0, 1))\ndef order(obs, params):\n    return 0\n", "runs code at import time"),
    ("PARAMS = {'S': (0, 'x')}\ndef order(obs, params):\n    return 0\n", "numeric literals"),
    ("PARAMS = {'S': (0, 1, 'cube')}\ndef order(obs, params):\n    return 0\n", "'int' or 'log'"),
    ("def order(obs, params):\n    return params['S']\n", "neither a PARAMS dict nor search_space"),
    ("def search_space(info, x):\n    return {}\ndef order(obs, params):\n    return 0\n", "search_space(info)"),
    ("def order(obs, params)\n    return 0\n", "syntax error"),
])
def test_contract(src, reason):
    v = validate_policy(src)
    assert not v.ok and any(reason in r for r in v.reasons), v.reasons


def test_parameter_free_and_search_space_ok():
    assert validate_policy("def order(obs, params):\n    return 1.0\n").ok
    assert validate_policy("def search_space(info):\n    return {'S': (0.0, 2 * info.max_demand)}\n"
                           "def order(obs, params):\n    return params['S']\n").ok


def test_size_and_complexity_limits():
    big = GOOD + "\n" + "# pad\n" * (MAX_LINES + 1)
    assert any("lines" in r for r in validate_policy(big).reasons)
    huge = GOOD + "\nX = '" + "a" * MAX_BYTES + "'\n"
    assert any("bytes" in r for r in validate_policy(huge).reasons)
    deep = GOOD + "\nX = " + "(" * 60 + "1" + ")" * 60 + "\n"
    assert not validate_policy("def order(obs, params):\n    return " + "+".join(["1"] * 5000) + "\n").ok
    assert validate_policy(deep).ok or any("nested" in r or "complex" in r for r in validate_policy(deep).reasons)


def test_never_executes(tmp_path):
    marker = tmp_path / "ran"
    src = f"open({str(marker)!r}, 'w').write('x')\n" + GOOD
    assert not validate_policy(src).ok and not marker.exists()
