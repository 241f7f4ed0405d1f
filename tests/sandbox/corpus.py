"""Reward programs for the sandbox tests: an adversarial corpus and a benign one.

The adversarial programs carry the code they must be rejected with. Placeholders
({port}, {canary}, {secret_file}) are replaced (str.replace) by the tests with the loopback canary
server's port, the canary file and the secret file. The benign programs are written in
the styles Eureka (torch, temperature-scaled terms, TorchScript-like type hints) and
Text2Reward (numpy helpers, constants, staged rewards) produce, for agentgym/Reach-v0
(state: fingertip_pos, target_pos, joint_pos, joint_vel, each [N, 2]; action [N, 2]).
"""

from __future__ import annotations

HEAD = "import torch\n\n"
OK_TAIL = "    d = torch.linalg.norm(state['fingertip_pos'] - state['target_pos'], dim=-1)\n    return -d, {'distance': -d}\n"


def _fn(body: str, head: str = HEAD) -> str:
    return f"{head}def compute_reward(state, action):\n{body}"


# (id, source, expected code, stage) -- stage "static" needs no worker.
ADVERSARIAL: list[tuple[str, str, str, str]] = [
    # ---- escapes stopped by the AST allowlist -------------------------------------
    (
        "os_system",
        _fn("    os.system('echo pwned > {canary}')\n" + OK_TAIL, "import os\nimport torch\n"),
        "FORBIDDEN_IMPORT",
        "static",
    ),
    (
        "subprocess",
        _fn(
            "    subprocess.run(['sh', '-c', 'echo pwned > {canary}'])\n" + OK_TAIL,
            "import subprocess\nimport torch\n",
        ),
        "FORBIDDEN_IMPORT",
        "static",
    ),
    (
        "socket_canary",
        _fn(
            "    s = socket.create_connection(('127.0.0.1', {port}))\n    s.sendall(b'leak')\n"
            + OK_TAIL,
            "import socket\nimport torch\n",
        ),
        "FORBIDDEN_IMPORT",
        "static",
    ),
    (
        "env_secret",
        _fn(
            "    k = os.environ.get('OPENAI_API_KEY', '')\n    raise ValueError(k)\n",
            "import os\nimport torch\n",
        ),
        "FORBIDDEN_IMPORT",
        "static",
    ),
    (
        "env_secret_from_import",
        _fn("    raise ValueError(str(environ))\n", "from os import environ\n"),
        "FORBIDDEN_IMPORT",
        "static",
    ),
    (
        "file_secret",
        _fn("    raise ValueError(open('{secret_file}').read())\n"),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "write_outside",
        _fn("    open('{canary}', 'w').write('pwned')\n" + OK_TAIL),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "subclasses_escape",
        _fn("    for c in ().__class__.__bases__[0].__subclasses__():\n        pass\n" + OK_TAIL),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "builtins_escape",
        _fn("    __builtins__['eval']('1')\n" + OK_TAIL),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "format_string_escape",
        _fn("    s = '{0.__class__}'.format(action)\n" + OK_TAIL),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "frame_builtins_escape",
        _fn("    g = (x for x in [1])\n    ev = g.gi_frame.f_builtins['eval']\n" + OK_TAIL),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "ctypes",
        _fn(
            "    ctypes.CDLL(None).system(b'echo pwned > {canary}')\n" + OK_TAIL,
            "import ctypes\nimport torch\n",
        ),
        "FORBIDDEN_IMPORT",
        "static",
    ),
    (
        "fork_bomb",
        _fn("    while True:\n        os.fork()\n", "import os\nimport torch\n"),
        "FORBIDDEN_IMPORT",
        "static",
    ),
    (
        "importlib",
        _fn(
            "    importlib.import_module('os').system('true')\n" + OK_TAIL,
            "import importlib\nimport torch\n",
        ),
        "FORBIDDEN_IMPORT",
        "static",
    ),
    (
        "pickle",
        _fn("    pickle.loads(b'')\n" + OK_TAIL, "import pickle\nimport torch\n"),
        "FORBIDDEN_IMPORT",
        "static",
    ),
    (
        "sys_modules",
        _fn("    sys.modules['os'].system('true')\n" + OK_TAIL, "import sys\nimport torch\n"),
        "FORBIDDEN_IMPORT",
        "static",
    ),
    (
        "cpp_extension",
        _fn(OK_TAIL, "import torch\nfrom torch.utils.cpp_extension import load_inline\n"),
        "FORBIDDEN_IMPORT",
        "static",
    ),
    (
        "torch_reexported_os",
        _fn("    torch.os.system('echo pwned > {canary}')\n" + OK_TAIL),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "getattr_computed",
        _fn("    m = getattr(torch, 'o' + 's')\n" + OK_TAIL),
        "FORBIDDEN_NAME",
        "static",
    ),
    ("eval_call", _fn("    eval('1 + 1')\n" + OK_TAIL), "FORBIDDEN_NAME", "static"),
    ("exec_alias", _fn("    run = exec\n" + OK_TAIL), "FORBIDDEN_NAME", "static"),
    (
        "torch_load_pickle",
        _fn("    w = torch.load('{secret_file}')\n" + OK_TAIL),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "numpy_file_read",
        _fn(
            "    w = np.fromfile('{secret_file}')\n" + OK_TAIL, "import numpy as np\nimport torch\n"
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "patch_torch",
        _fn(OK_TAIL, "import torch\ntorch.exp = lambda x: x\n"),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "patch_torch_alias",
        _fn(
            "    F.relu = torch.tanh\n" + OK_TAIL, "import torch\nimport torch.nn.functional as F\n"
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "global_torch_state",
        _fn("    torch.set_default_dtype(torch.float64)\n" + OK_TAIL),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "success_flag_literal",
        _fn("    return state['success'].float(), {}\n"),
        "UNKNOWN_STATE",
        "static",
    ),
    (
        "syntax_error",
        "import torch\ndef compute_reward(state, action)\n    return 0\n",
        "SYNTAX",
        "static",
    ),
    (
        "bad_signature",
        _fn("").replace("(state, action)", "(state)") + OK_TAIL,
        "BAD_SIGNATURE",
        "static",
    ),
    (
        "no_entry",
        "import torch\ndef reward(state, action):\n    return 0\n",
        "BAD_SIGNATURE",
        "static",
    ),
    # ---- caught by the dry run in a worker ----------------------------------------
    ("infinite_loop", _fn("    while True:\n        pass\n"), "TIMEOUT", "dry_run"),
    (
        "import_time_loop",
        "import torch\nwhile True:\n    pass\n" + _fn(OK_TAIL, ""),
        "TIMEOUT",
        "dry_run",
    ),
    ("huge_allocation", _fn("    big = torch.empty(1 << 40)\n" + OK_TAIL), "MEMORY", "dry_run"),
    (
        "huge_python_allocation",
        _fn("    big = [0.0] * (1 << 40)\n" + OK_TAIL),
        "MEMORY",
        "dry_run",
    ),
    (
        "recursion_bomb",
        "import torch\n\ndef f(n):\n    return f(n + 1)\n\n" + _fn("    f(0)\n" + OK_TAIL, ""),
        "RUNTIME_ERROR",
        "dry_run",
    ),
    (
        "stdout_flood",
        _fn("    for i in range(10 ** 8):\n        print('x' * 1000)\n" + OK_TAIL),
        "OUTPUT_LIMIT",
        "dry_run",
    ),
    (
        "nan_reward",
        _fn("    r = torch.full((action.shape[0],), float('nan'))\n    return r, {'r': r}\n"),
        "NONFINITE",
        "dry_run",
    ),
    (
        "inf_reward",
        _fn("    r = 1.0 / torch.zeros(action.shape[0])\n    return r, {'r': r}\n"),
        "NONFINITE",
        "dry_run",
    ),
    (
        "nan_component",
        _fn(
            "    d = state['joint_pos'].sum(-1)\n    return d, {'d': d, 'bad': d * float('nan')}\n"
        ),
        "NONFINITE",
        "dry_run",
    ),
    (
        "wrong_shape",
        _fn("    r = state['fingertip_pos'] - state['target_pos']\n    return r, {'r': r}\n"),
        "BAD_SHAPE",
        "dry_run",
    ),
    (
        "batch_reduced",
        _fn(
            "    r = torch.linalg.norm(state['fingertip_pos'] - state['target_pos'])\n    return r, {}\n"
        ),
        "BAD_SHAPE",
        "dry_run",
    ),
    (
        "wrong_dtype",
        _fn("    r = (state['joint_pos'][:, 0] > 0).long()\n    return r, {'r': r}\n"),
        "BAD_DTYPE",
        "dry_run",
    ),
    (
        "not_a_tuple",
        _fn("    return -torch.linalg.norm(state['fingertip_pos'], dim=-1)\n"),
        "BAD_RETURN",
        "dry_run",
    ),
    ("raising", _fn("    raise ValueError('no reward today')\n"), "RUNTIME_ERROR", "dry_run"),
    (
        "success_flag_computed",
        _fn("    key = 'succ' + 'ess'\n    return state[key].float(), {}\n"),
        "UNKNOWN_STATE",
        "dry_run",
    ),
    # ---- issue 18: routes through allowed modules, attribute walks ---------------
    (
        "np_testing_runner",
        _fn("    np.testing.assert_equal(1, 1)\n" + OK_TAIL, "import numpy as np\nimport torch\n"),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "np_lib_safe_eval",
        _fn(
            "    np.lib.utils.safe_eval('1 + 1')\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "np_datasource_fetch",
        _fn(
            "    np.DataSource(None).open('http://127.0.0.1:{port}/leak')\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "np_ctypeslib_libc",
        _fn(
            "    libc = np.ctypeslib.load_library('libc.so.6', '/lib')\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "np_f2py_import",
        _fn("    pass\n" + OK_TAIL, "import numpy.f2py\nimport torch\n"),
        "FORBIDDEN_IMPORT",
        "static",
    ),
    (
        "np_load_secret",
        _fn(
            "    raise ValueError(str(np.load('{secret_file}')))\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "np_memmap_secret",
        _fn(
            "    raise ValueError(str(np.memmap('{secret_file}', dtype=np.uint8)[:64]))\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "np_fromfile_secret",
        _fn(
            "    raise ValueError(str(np.fromfile('{secret_file}', dtype=np.uint8)))\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "np_loadtxt_secret",
        _fn(
            "    raise ValueError(str(np.loadtxt('{secret_file}', dtype=str)))\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "np_module_as_value",
        _fn(
            "    m = np\n    m.load('{secret_file}')\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "np_module_in_a_list",
        _fn(
            "    mods = [np, torch]\n    mods[0].lib.utils.safe_eval('1')\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "from_numpy_import_load",
        _fn("    load('{secret_file}')\nOK_TAIL_MARK", "from numpy import load\nimport torch\n"),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "from_numpy_lib_import",
        _fn("    pass\n" + OK_TAIL, "from numpy.lib import format\nimport torch\n"),
        "FORBIDDEN_IMPORT",
        "static",
    ),
    (
        "import_numpy_testing_as",
        _fn("    t.assert_(True)\n" + OK_TAIL, "import numpy.testing as t\nimport torch\n"),
        "FORBIDDEN_IMPORT",
        "static",
    ),
    (
        "getattr_np_lib",
        _fn("    getattr(np, 'lib')\nOK_TAIL_MARK", "import numpy as np\nimport torch\n"),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "getattr_alias_computed",
        _fn(
            "    g = getattr\n    g(torch, 'lo' + 'ad')('{secret_file}')\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "getattr_through_map",
        _fn(
            "    list(map(getattr, [np], ['lib']))\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "ndarray_ctypes",
        _fn(
            "    p = state['joint_pos'].numpy().ctypes.data\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "ndarray_tofile",
        _fn(
            "    state['joint_pos'].numpy().tofile('{canary}')\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "tensor_data_ptr",
        _fn(
            "    p = state['joint_pos'].data_ptr()\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "format_walk_without_dunder",
        _fn(
            "    g = (i for i in range(1))\n    s = '{0.gi_frame.f_builtins}'.format(g)\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "format_map_walk",
        _fn(
            "    g = (i for i in range(1))\n    s = '{g.gi_frame}'.format_map({'g': g})\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "format_through_getattr",
        _fn(
            "    g = (i for i in range(1))\n    s = getattr('{0.gi_code}', 'format')(g)\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "fstring_attribute_walk",
        _fn(
            "    g = (i for i in range(1))\n    s = f'{g.gi_frame.f_globals}'\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "fstring_conversion_dunder",
        _fn(
            "    s = f'{state.get.__self__!r}'\nOK_TAIL_MARK", "import numpy as np\nimport torch\n"
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "generator_frame_builtins",
        _fn(
            "    g = (i for i in range(1))\n    g.gi_frame.f_builtins['eval']('1')\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "torch_hub_fetch",
        _fn(
            "    torch.hub.load('127.0.0.1:{port}', 'model')\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "torch_from_file",
        _fn(
            "    raise ValueError(str(torch.from_file('{secret_file}', size=8)))\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "torch_os_environ_exfil",
        _fn(
            "    raise ValueError(torch.os.environ.get('OPENAI_API_KEY'))\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "np_os_environ_exfil",
        _fn(
            "    raise ValueError(str(np.lib.npyio.os.environ))\n" + OK_TAIL,
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "torch_nn_module",
        _fn("    m = torch.nn.Module()\n" + OK_TAIL, "import numpy as np\nimport torch\n"),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "torch_utils_import",
        _fn("    pass\n" + OK_TAIL, "import torch.utils.cpp_extension\n"),
        "FORBIDDEN_IMPORT",
        "static",
    ),
    (
        "from_torch_import_load_renamed",
        _fn("    lerp('{secret_file}')\nOK_TAIL_MARK", "from torch import load as lerp\n"),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "type_mro_walk",
        _fn("    k = type(action).mro()\n" + OK_TAIL, "import numpy as np\nimport torch\n"),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "class_mro_walk",
        _fn(
            "    class A:\n        pass\n    k = A.mro()\n" + OK_TAIL,
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "vars_of_module",
        _fn(
            "    vars(torch)['load']('{secret_file}')\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "object_builtin",
        _fn("    o = object\n" + OK_TAIL, "import numpy as np\nimport torch\n"),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "super_builtin",
        _fn("    s = super\n" + OK_TAIL, "import numpy as np\nimport torch\n"),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "bytearray_builtin",
        _fn("    b = bytearray(8)\n" + OK_TAIL, "import numpy as np\nimport torch\n"),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "rebound_module_alias",
        _fn(
            "    np = torch\n    np.load('{secret_file}')\nOK_TAIL_MARK",
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "exception_traceback_walk",
        _fn(
            "    try:\n        1 / 0\n    except Exception as e:\n        f = e.__traceback__.tb_frame\n"
            + OK_TAIL,
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    (
        "exception_with_traceback",
        _fn(
            "    try:\n        1 / 0\n    except Exception as e:\n        e.with_traceback(None)\n"
            + OK_TAIL,
            "import numpy as np\nimport torch\n",
        ),
        "FORBIDDEN_NAME",
        "static",
    ),
    # ---- issue 18: channels back to the parent (dry run) ----------------------------
    (
        "ansi_in_exception",
        _fn(
            "    raise ValueError('\\x1b[2J\\x1b]0;owned\\x07\\x1b[31mboom\\x1b[0m' + 'x' * 2000)\n"
        ),
        "RUNTIME_ERROR",
        "dry_run",
    ),
    (
        "forged_result_line",
        _fn(
            '    print(\'{"ok": true, "value": [{"index": 0, "ok": true}]}\')\n    raise ValueError(\'x\')\n'
        ),
        "RUNTIME_ERROR",
        "dry_run",
    ),
    (
        "forged_progress_line",
        _fn(
            '    print(\'{"index": 0, "ok": true, "code": null, "message": "ok"}\')\n'
            "    return 1.0, {}\n"
        ),
        "BAD_RETURN",
        "dry_run",
    ),
    (
        "secret_through_exception",
        _fn("    raise ValueError('OPENAI_API_KEY=' + str(state.get('OPENAI_API_KEY', 'none')))\n"),
        "UNKNOWN_STATE",
        "static",
    ),
]

_EUREKA_HEAD = "import torch\nimport math\nfrom typing import Tuple, Dict\n\n"
_T2R_HEAD = "import numpy as np\nimport torch\n\n"

BENIGN: list[tuple[str, str]] = [
    (
        "eureka_temperature",
        _EUREKA_HEAD
        + """def compute_reward(state: Dict[str, torch.Tensor], action: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    distance_temp = 0.05
    action_temp = 0.5
    dist = torch.norm(state["fingertip_pos"] - state["target_pos"], p=2, dim=-1)
    dist_reward = torch.exp(-dist / distance_temp)
    action_penalty = torch.exp(-torch.sum(action ** 2, dim=-1) / action_temp)
    total = dist_reward + 0.1 * action_penalty
    return total, {"dist_reward": dist_reward, "action_penalty": action_penalty}
""",
    ),
    (
        "eureka_progress_bonus",
        _EUREKA_HEAD
        + """def compute_reward(state: Dict[str, torch.Tensor], action: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    success_radius: float = 0.02
    d = torch.linalg.norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    near = (d < success_radius).float()
    shaped = 1.0 - torch.tanh(10.0 * d)
    return shaped + 2.0 * near, {"shaped": shaped, "bonus": 2.0 * near}
""",
    ),
    (
        "eureka_velocity_penalty",
        _EUREKA_HEAD
        + """def compute_reward(state: Dict[str, torch.Tensor], action: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    vel_temp = 1.0
    d = torch.linalg.norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    vel = torch.sum(state["joint_vel"] ** 2, dim=-1)
    r_dist = -d
    r_vel = -0.01 * torch.exp(vel / vel_temp).clamp(max=100.0)
    return r_dist + r_vel, {"distance": r_dist, "velocity": r_vel}
""",
    ),
    (
        "eureka_helper_fn",
        _EUREKA_HEAD
        + """def _distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(torch.sum((a - b) ** 2, dim=-1) + 1e-8)


def compute_reward(state: Dict[str, torch.Tensor], action: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    d = _distance(state["fingertip_pos"], state["target_pos"])
    reach = torch.exp(-d / 0.1)
    ctrl = -0.005 * torch.sum(torch.square(action), dim=-1)
    return reach + ctrl, {"reach": reach, "ctrl": ctrl}
""",
    ),
    (
        "eureka_where",
        _EUREKA_HEAD
        + """def compute_reward(state: Dict[str, torch.Tensor], action: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    d = torch.linalg.norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    close = torch.where(d < 0.05, torch.ones_like(d), torch.zeros_like(d))
    far = torch.where(d >= 0.05, -d, torch.zeros_like(d))
    return close + far, {"close": close, "far": far}
""",
    ),
    (
        "eureka_angle_terms",
        _EUREKA_HEAD
        + """def compute_reward(state: Dict[str, torch.Tensor], action: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    target_angle = torch.atan2(state["target_pos"][:, 1], state["target_pos"][:, 0])
    shoulder = state["joint_pos"][:, 0]
    angle_err = torch.atan2(torch.sin(shoulder - target_angle), torch.cos(shoulder - target_angle))
    align = torch.cos(angle_err)
    d = torch.norm(state["fingertip_pos"] - state["target_pos"], dim=1)
    return 0.3 * align - d, {"align": 0.3 * align, "distance": -d}
""",
    ),
    (
        "eureka_math_constants",
        _EUREKA_HEAD
        + """SCALE = 2.0 * math.pi


def compute_reward(state: Dict[str, torch.Tensor], action: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    d = torch.norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    elbow = torch.abs(state["joint_pos"][:, 1]) / SCALE
    return -d - 0.01 * elbow, {"distance": -d, "elbow": -0.01 * elbow}
""",
    ),
    (
        "eureka_no_components",
        _EUREKA_HEAD
        + """def compute_reward(state: Dict[str, torch.Tensor], action: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    d = torch.norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    return -d, {}
""",
    ),
    (
        "eureka_keepdim_column",
        _EUREKA_HEAD
        + """def compute_reward(state: Dict[str, torch.Tensor], action: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    d = torch.norm(state["fingertip_pos"] - state["target_pos"], dim=-1, keepdim=True)
    r = -d
    return r, {"distance": r.squeeze(-1)}
""",
    ),
    (
        "eureka_nn_functional",
        "import torch\nimport torch.nn.functional as F\n\n"
        + """def compute_reward(state, action):
    direction = F.normalize(state["target_pos"] - state["fingertip_pos"], dim=-1, eps=1e-6)
    speed = state["joint_vel"]
    d = torch.linalg.vector_norm(state["target_pos"] - state["fingertip_pos"], dim=-1)
    smooth = -F.smooth_l1_loss(action, torch.zeros_like(action), reduction="none").sum(-1)
    return -d + 0.1 * smooth + 0.0 * direction.sum(-1) * speed.sum(-1), {"distance": -d, "smooth": 0.1 * smooth}
""",
    ),
    (
        "eureka_clamped_log",
        _EUREKA_HEAD
        + """def compute_reward(state: Dict[str, torch.Tensor], action: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    d = torch.norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    log_term = -torch.log(d.clamp(min=1e-3))
    log_term = log_term / 7.0
    return log_term, {"log_distance": log_term}
""",
    ),
    (
        "text2reward_staged",
        _T2R_HEAD
        + '''REACH_THRESHOLD = 0.02
W_DIST = 1.0
W_CTRL = 0.01


def compute_reward(state, action):
    """Staged reward: approach the target, then stay still on it."""
    tip = state["fingertip_pos"]
    goal = state["target_pos"]
    dist = torch.linalg.norm(tip - goal, dim=-1)
    reached = dist < REACH_THRESHOLD
    approach = -W_DIST * dist
    stay = torch.where(reached, 1.0 - 0.1 * torch.linalg.norm(state["joint_vel"], dim=-1), torch.zeros_like(dist))
    ctrl = -W_CTRL * (action ** 2).sum(dim=-1)
    total = approach + stay + ctrl
    return total, {"approach": approach, "stay": stay, "ctrl": ctrl}
''',
    ),
    (
        "text2reward_numpy",
        _T2R_HEAD
        + """def compute_reward(state, action):
    tip = state["fingertip_pos"].cpu().numpy()
    goal = state["target_pos"].cpu().numpy()
    dist = np.linalg.norm(tip - goal, axis=-1)
    reward = -dist - 0.01 * np.square(action.cpu().numpy()).sum(-1)
    reward_t = torch.as_tensor(reward, dtype=torch.float32)
    return reward_t, {"distance": torch.as_tensor(-dist, dtype=torch.float32)}
""",
    ),
    (
        "text2reward_helpers",
        _T2R_HEAD
        + """def l2(a, b):
    return torch.sqrt(((a - b) ** 2).sum(-1))


def smooth_penalty(action, weight=0.01):
    return -weight * (action ** 2).sum(-1)


def compute_reward(state, action):
    reward_dist = -l2(state["fingertip_pos"], state["target_pos"])
    reward_ctrl = smooth_penalty(action)
    return reward_dist + reward_ctrl, {"distance": reward_dist, "control": reward_ctrl}
""",
    ),
    (
        "text2reward_clip",
        _T2R_HEAD
        + """MAX_DIST = 0.5


def compute_reward(state, action):
    dist = torch.norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    normalized = 1.0 - torch.clip(dist / MAX_DIST, 0.0, 1.0)
    return normalized, {"closeness": normalized}
""",
    ),
    (
        "text2reward_getattr_literal",
        _T2R_HEAD
        + """def compute_reward(state, action):
    norm = getattr(torch.linalg, "norm")
    dist = norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    return -dist, {"distance": -dist}
""",
    ),
    (
        "text2reward_loop_over_terms",
        _T2R_HEAD
        + """WEIGHTS = {"distance": 1.0, "velocity": 0.01, "control": 0.01}


def compute_reward(state, action):
    parts = {
        "distance": -torch.norm(state["fingertip_pos"] - state["target_pos"], dim=-1),
        "velocity": -torch.norm(state["joint_vel"], dim=-1),
        "control": -torch.sum(action * action, dim=-1),
    }
    terms = {}
    for name, value in parts.items():
        terms[name] = WEIGHTS[name] * value
    total = sum(terms.values())
    return total, terms
""",
    ),
    (
        "text2reward_state_get",
        _T2R_HEAD
        + """def compute_reward(state, action):
    tip = state.get("fingertip_pos")
    goal = state["target_pos"]
    dx, dy = (tip - goal).unbind(-1)
    dist = torch.sqrt(dx * dx + dy * dy)
    return -dist, {"distance": -dist}
""",
    ),
    (
        "text2reward_float64",
        _T2R_HEAD
        + """def compute_reward(state, action):
    d = torch.linalg.norm(state["fingertip_pos"].double() - state["target_pos"].double(), dim=-1)
    return -d, {"distance": -d}
""",
    ),
    (
        "text2reward_no_grad_lambda",
        _T2R_HEAD
        + """square = lambda x: x * x


def compute_reward(state, action):
    with torch.no_grad():
        d2 = square(state["fingertip_pos"] - state["target_pos"]).sum(-1)
        r = -torch.sqrt(d2 + 1e-12)
    return r, {"distance": r}
""",
    ),
    (
        "text2reward_comprehension",
        _T2R_HEAD
        + '''def compute_reward(state, action):
    """Reward = - distance - small effort; written with a comprehension."""
    diffs = [state["fingertip_pos"][:, i] - state["target_pos"][:, i] for i in range(2)]
    dist = torch.sqrt(sum(d ** 2 for d in diffs))
    effort = torch.stack([a.abs() for a in action.unbind(-1)], dim=-1).sum(-1)
    if __name__ == "agentgym_reward_program":
        pass
    return -dist - 0.01 * effort, {"distance": -dist, "effort": -0.01 * effort}
''',
    ),
    (
        "eureka_finfo_and_max_values",
        _EUREKA_HEAD
        + "import torch.nn.functional as F\n\n\n"
        + """def compute_reward(state: Dict[str, torch.Tensor], action: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    d = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)
    eps = torch.finfo(d.dtype).eps
    worst = torch.stack([d, 0.5 * d], dim=-1).max(dim=-1).values
    shaped = F.softplus(-worst / (0.1 + eps))
    return shaped, {"shaped": shaped}
""",
    ),
]
