import csv
import json
import subprocess
import sys

import pandas as pd
from analysis_fixtures import CONTENT, manifest, tables

from connect_analysis.analysis import compare_snapshots
from connect_analysis.snapshot import write_snapshot


def _new_server(tmp_path):
    content = [dict(c, bundle_id="21") if c["guid"] == "b2" else c for c in CONTENT if c["guid"] != "g7"]
    runtimes = [{"language": "r", "version": "4.3.3"}]
    envs = [{"guid": "e1", "name": "reg/py312", "matching": "any"}]
    env_rts = [{"environment_guid": "e1", "language": "python", "version": "3.12.1"}]
    write_snapshot(tmp_path / "new", tables(content=content, server_runtimes=runtimes, environments=envs,
                                            environment_runtimes=env_rts, visits=[], shiny_sessions=[]),
                   manifest(version="2024.03.0"), {})
    write_snapshot(tmp_path / "old", tables(), manifest(), {})


def test_compare_important_content(tmp_path):
    _new_server(tmp_path)
    t = compare_snapshots(tmp_path / "old", tmp_path / "new", tmp_path / "out", top_n=3,
                          must_keep_guids=["d4"]).set_index("guid")
    # old important: a1 b2 g7 (top 3), d4 (must-keep)
    assert t["status"].to_dict() == {"a1": "ok", "b2": "changed", "g7": "missing", "d4": "ok"}
    assert (t.loc["b2", "old_bundle_id"], t.loc["b2", "new_bundle_id"]) == ("20", "21")
    assert t.loc["b2", "runtimes_lacking"] == "Python 3.11.4"  # the new server has Python 3.12 only
    assert t.loc["a1", "runtimes_lacking"] == ""  # R 4.3.1 runs on 4.3.3
    assert bool(t.loc["g7", "missing"]) and pd.isna(t.loc["g7", "new_content_url"])
    assert t.loc["g7", "runtimes_lacking"] == "Python 3.11.9"  # said for missing items too
    s = json.loads((tmp_path / "out" / "compare-summary.json").read_text())
    assert (s["checked"], s["missing"], s["bundle_differs"], s["runtimes_lacking"], s["ok"]) == (4, 1, 1, 2, 2)
    with open(tmp_path / "out" / "compare.csv", newline="") as f:
        assert [r["guid"] for r in csv.DictReader(f)] == ["a1", "b2", "g7", "d4"]


def test_cli_compare(tmp_path):
    _new_server(tmp_path)
    p = subprocess.run([sys.executable, "-m", "connect_analysis.cli", "compare", str(tmp_path / "old"),
                        str(tmp_path / "new"), "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    # default top 20: a1 b2 g7 c3 f6 ranked; g7 missing; b2 changed; c3 needs Quarto 1.4 and R
    # 4.3 (R fine, Quarto lacking), f6 needs R 3.5 (lacking)
    assert "5 important items, 1 missing, 3 changed" in p.stdout
