"""write_json: atomic, and safe when several writers replace the same file."""

from __future__ import annotations

import json
import threading

from agentgym.reward_designers.synthesis.candidates import read_json, write_json


def test_concurrent_writers_of_one_file_each_replace_it_whole(tmp_path):
    # Two benchmark processes sharing --out both write benchmark.json; with one shared
    # temporary name the second os.replace found the first's temporary file gone.
    path = tmp_path / "benchmark.json"
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(100):
                write_json(path, {"writer": n, "i": i, "pad": "x" * 4096})
        except BaseException as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    data = read_json(path)
    assert data["i"] == 99 and data["writer"] in range(4)
    assert json.loads(path.read_text()) == data
    assert [p.name for p in tmp_path.iterdir()] == ["benchmark.json"]  # no temporary left
