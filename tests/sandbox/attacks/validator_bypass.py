"""Sources that passed the old blocklist validator and reach the interpreter, files or randomness.

Each is a complete policy; the new allowlist validator must reject every one (the matrix
row ``validator_bypass`` and ``tests/security/test_sandbox_validator_bypass.py``).
"""
from __future__ import annotations

_HEAD = 'PARAMS = {"r": (0.0, 1.0)}\n'

BYPASSES: dict[str, str] = {
    "dataclasses.sys": _HEAD + "import dataclasses\ndef order(obs, params):\n"
                               "    return dataclasses.sys._getframe(1).f_locals['problem']\n",
    "typing.sys": _HEAD + "import typing\ndef order(obs, params):\n    return typing.sys.modules\n",
    "statistics.sys": _HEAD + "import statistics\ndef order(obs, params):\n    return statistics.sys.modules\n",
    "collections._sys": _HEAD + "import collections\ndef order(obs, params):\n    return collections._sys.modules\n",
    "fractions.sys": _HEAD + "import fractions as fr\ndef order(obs, params):\n    return fr.sys.modules\n",
    "from dataclasses import sys": _HEAD + "from dataclasses import sys\ndef order(obs, params):\n    return sys.modules\n",
    "dataclasses.builtins.open": _HEAD + "import dataclasses\ndef order(obs, params):\n"
                                         "    return dataclasses.builtins.open('/etc/hostname').read()\n",
    "dataclasses.inspect": _HEAD + "import dataclasses\ndef order(obs, params):\n"
                                   "    return dataclasses.inspect.currentframe()\n",
    "operator.attrgetter": _HEAD + "import operator, statistics\ndef order(obs, params):\n"
                                   "    return operator.attrgetter('sys')(statistics).modules\n",
    "statistics.random": _HEAD + "import statistics\ndef order(obs, params):\n    return statistics.random.random()\n",
    "np.random": _HEAD + "import numpy as np\ndef order(obs, params):\n    return np.random.poisson(5.0)\n",
    "import numpy.random": _HEAD + "import numpy.random as npr\ndef order(obs, params):\n    return npr.rand()\n",
    "np.fromregex": _HEAD + "import numpy as np\ndef order(obs, params):\n"
                            "    return np.fromregex('/etc/hostname', '(.)', [('c', 'U1')])\n",
    "np._pytesttester.os": _HEAD + "import numpy as np\ndef order(obs, params):\n"
                                   "    return np._pytesttester.os.listdir('/')\n",
    "np._core": _HEAD + "import numpy as np\ndef order(obs, params):\n    return np._core.multiarray\n",
    "np.load": _HEAD + "import numpy as np\ndef order(obs, params):\n    return np.load('/tmp/x.npy')\n",
    "np.save": _HEAD + "import numpy as np\ndef order(obs, params):\n    np.save('/tmp/x.npy', obs.demand)\n    return 0.0\n",
    "np.lib.npyio": _HEAD + "import numpy as np\ndef order(obs, params):\n    return np.lib.npyio.load('/tmp/x')\n",
    "np.memmap": _HEAD + "import numpy as np\ndef order(obs, params):\n    return np.memmap('/tmp/x')\n",
    "np.ctypeslib": _HEAD + "import numpy as np\ndef order(obs, params):\n    return np.ctypeslib.ctypes\n",
    "np.f2py": _HEAD + "import numpy as np\ndef order(obs, params):\n    return np.f2py.os.system('id')\n",
    "module alias": _HEAD + "import numpy as np\nM = 1\ndef order(obs, params):\n    m = np\n    return m.load('/tmp/x')\n",
    "module as argument": _HEAD + "import statistics\ndef grab(m):\n    return m.sys\n"
                                  "def order(obs, params):\n    return grab(statistics)\n",
    "generator frame walk": _HEAD + "def order(obs, params):\n    g = (x for x in [0])\n"
                                    "    return g.gi_frame.f_back.f_globals\n",
    "str.format traversal": _HEAD + "def order(obs, params):\n    g = (x for x in [0])\n"
                                    "    return '{0.gi_frame.f_back.f_globals}'.format(g)\n",
    "array base": _HEAD + "def order(obs, params):\n    return obs.demand.base[obs.t]\n",
    "typing.get_type_hints eval": _HEAD + "import typing\ndef f(x: 'open(\"/etc/hostname\").read()'):\n    return x\n"
                                          "def order(obs, params):\n    return typing.get_type_hints(f)\n",
    "shadowed builtin": _HEAD + "def f(open):\n    return open\ndef order(obs, params):\n    return open('/etc/hostname')\n",
}
