"""Code extraction from realistic LLM replies."""

from __future__ import annotations

import ast

from agentgym.llm import extract_code

FN = (
    "def compute_reward(state, action):\n    d = distance(state)\n    return -d, {'distance': -d}\n"
)
HELPER = "import torch\n\n\ndef distance(state):\n    return torch.linalg.norm(state['fingertip_pos'] - state['target_pos'], dim=-1)\n"


def defines(code: str, *names: str) -> bool:
    tree = ast.parse(code)
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return set(names) <= defined


def test_prose_and_two_blocks_prefers_the_python_block_defining_the_function():
    reply = (
        "Here is my approach. First, a quick shell check:\n\n```bash\npip install torch\n```\n\n"
        f"And the reward:\n\n```python\n{HELPER}\n\n{FN}```\n\nThis rewards closeness."
    )
    ex = extract_code(reply)
    assert ex.kind == "fenced_python" and ex.ok
    assert defines(ex.code, "compute_reward", "distance") and "import torch" in ex.code
    assert "pip install" not in ex.code and "closeness" not in ex.code


def test_revised_version_later_in_the_reply_wins():
    first = FN.replace("-d, {", "d, {")
    reply = f"Draft:\n```python\n{HELPER}\n{first}```\nOops, the sign is wrong. Fixed:\n```python\n{HELPER}\n{FN}```\n"
    ex = extract_code(reply)
    assert "return -d" in ex.code and "return d," not in ex.code


def test_helper_in_its_own_block_is_merged():
    reply = f"Helpers:\n```python\n{HELPER}```\nThe function:\n```python\n{FN}```\n"
    ex = extract_code(reply)
    assert ex.kind == "fenced_python"
    assert defines(ex.code, "compute_reward", "distance") and "import torch" in ex.code
    namespace: dict = {}
    exec(compile(ex.code, "<reward>", "exec"), namespace)  # the merged program is whole
    assert callable(namespace["compute_reward"]) and callable(namespace["distance"])


def test_missing_fences_takes_the_longest_parsing_run():
    reply = (
        f"Sure! Below is the reward function.\n\n{HELPER}\n\n{FN}\n"
        "Explanation\nThe reward is the negative distance, so the arm moves closer."
    )
    ex = extract_code(reply)
    assert ex.kind == "unfenced"
    assert defines(ex.code, "compute_reward", "distance")
    assert "Explanation" not in ex.code and "Sure!" not in ex.code


def test_unclosed_fence_is_read_to_the_end():
    reply = f"```python\n{HELPER}\n{FN}"
    ex = extract_code(reply)
    assert ex.kind == "fenced_python" and defines(ex.code, "compute_reward", "distance")


def test_main_block_and_usage_example_are_stripped():
    demo = (
        "\nif __name__ == \"__main__\":\n    import torch\n    s = {'fingertip_pos': torch.zeros(4, 2),"
        " 'target_pos': torch.ones(4, 2)}\n    print(compute_reward(s, torch.zeros(4, 2)))\n"
    )
    reply = f"```python\n{HELPER}\n{FN}{demo}```\n\nExample usage:\n```python\nprint(compute_reward(s, a))\n```"
    ex = extract_code(reply)
    assert "__main__" not in ex.code and "print(" not in ex.code
    assert defines(ex.code, "compute_reward", "distance")


def test_untagged_fence_is_used_when_no_python_block_defines_it():
    reply = f"```\n{FN}```\n```python\nx = 1\n```"
    ex = extract_code(reply)
    assert ex.kind == "fenced" and defines(ex.code, "compute_reward")


def test_block_that_does_not_parse_is_passed_on_for_vetting():
    reply = "```python\ndef compute_reward(state, action):\n    return (state['d'] ,\n```"
    ex = extract_code(reply)
    assert ex.kind == "unparsed" and ex.ok and "def compute_reward" in ex.code


def test_no_code_is_a_clear_outcome():
    for reply in ("I cannot help with that.", "```python\nx = 1\n```", ""):
        ex = extract_code(reply)
        assert not ex.ok and ex.code is None and ex.kind == "no_code" and ex.code_name == "NO_CODE"
        assert "compute_reward" in ex.message


def test_other_function_name():
    reply = "```python\ndef score(trajectory):\n    return 1.0\n```"
    assert extract_code(reply, "score").ok and not extract_code(reply).ok


def test_unfenced_helper_separated_by_prose_is_kept():
    reply = (
        "Sure.\n\nimport torch\n\nHere is a helper:\n\ndef dist(s):\n"
        "    return torch.linalg.norm(s['a'], dim=-1)\n\nAnd the reward:\n\n"
        "def compute_reward(state, action):\n    return -dist(state), {}\n\nThis is it."
    )
    ex = extract_code(reply)
    assert ex.kind == "unfenced" and defines(ex.code, "compute_reward", "dist")
    assert (
        ex.code.startswith("import torch")
        and "helper" not in ex.code
        and "This is it" not in ex.code
    )


def test_long_reply_with_a_broken_function_is_no_code():
    prose = "\n".join(f"x{i} = {i}" if i % 3 else f"Some prose line {i} here." for i in range(300))
    ex = extract_code(f"{prose}\ndef compute_reward(state, action):\n    return (\n{prose}")
    assert ex.kind == "no_code"


def test_top_level_example_usage_in_the_same_block_is_stripped_and_the_program_loads():
    # The shape of a real Qwen2.5-Coder-1.5B reply: constants, the function, a helper
    # defined after it, then an example that calls the function at import time.
    reply = (
        "```python\nimport torch\n\nSCALE = 2.0\n\n"
        "def compute_reward(state, action):\n"
        '    d = torch.linalg.vector_norm(state["fingertip_pos"] - state["target_pos"], dim=-1)\n'
        '    return -scaled(d), {"distance": -scaled(d)}\n\n'
        "def scaled(x):\n    return SCALE * x\n\n"
        "# Example usage\n"
        'state = {"fingertip_pos": torch.zeros(2, 2), "target_pos": torch.ones(3, 2)}\n'
        "action = torch.zeros(2, 2)\n"
        "total_reward, components = compute_reward(state, action)\n"
        'print("Total:", total_reward)\n'
        "for name, value in components.items():\n"
        '    print(f"{name}: {value}")\n```'
    )
    ex = extract_code(reply)
    assert ex.code.count("compute_reward(") == 1 and "print(" not in ex.code
    assert "for name" not in ex.code
    assert "SCALE = 2.0" in ex.code and "def scaled" in ex.code
    # Loading it no longer runs the example (whose shapes do not even broadcast).
    import torch

    from agentgym.rewards.base import RewardInput
    from agentgym.rewards.program import ProgramReward

    program = ProgramReward(ex.code, name="qwen_like", trusted=True)
    state = {"fingertip_pos": torch.zeros(4, 2), "target_pos": torch.ones(4, 2)}
    zeros = torch.zeros(4)
    out = program(RewardInput(state, torch.zeros(4, 2), zeros, {}, zeros.bool()))
    assert torch.allclose(out.reward, torch.full((4,), -2.0 * 2**0.5))
