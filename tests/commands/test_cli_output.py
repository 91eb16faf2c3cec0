"""What the commands print, seen from outside as a user sees it (a child process, so the native LiteRT logger
writing to file descriptor 2 is caught too): one result line on stdout, the report only with --json, no
LiteRT banner, one warning per delegate fallback."""
import json
import subprocess
import sys

import pytest

from burstdeblur.runtime.burst.demo_burst import shipped_image
from burstdeblur.runtime.io.image_io import encode_png


def _run(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "burstdeblur", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


@pytest.fixture()
def photo(tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(encode_png(shipped_image("chelsea.png")[:96, :128]))
    return path


def test_deblur_prints_one_line_and_no_litert_banner(photo, tmp_path):
    pytest.importorskip("ai_edge_litert")
    done = _run("deblur", str(photo), "-o", "out1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and "single path on cpu/xnnpack" in done.stdout, done.stdout
    assert "XNNPACK delegate" not in done.stderr and done.stderr == "", done.stderr
    report = json.loads((tmp_path / "out1" / "report.json").read_text())
    with_json = _run("deblur", str(photo), "-o", "out2", "--json", cwd=tmp_path)
    assert with_json.returncode == 0, with_json.stderr
    printed = json.loads(with_json.stdout)  # the whole of stdout is the report
    assert printed["path"] == report["path"] == "single" and set(printed["timings_ms"]) == set(report["timings_ms"])


def test_a_delegate_fallback_is_reported_once_per_graph(photo, tmp_path):
    pytest.importorskip("ai_edge_litert")
    done = _run("deblur", str(photo), "-o", "out", "--delegate", "/nonexistent/libdelegate.so", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line]
    graphs = json.loads((tmp_path / "out" / "report.json").read_text())["fallbacks"]
    assert len(lines) == len(graphs) == 3, done.stderr  # perception, sft, deblur: one warning each, nothing else
    for graph in graphs:
        assert sum(f"{graph}." in line and "could not be loaded" in line for line in lines) == 1, lines
    assert "note:" not in done.stdout and done.stdout.count("\n") == 1


def test_default_output_folders_are_git_ignored(tmp_path):
    """Each command's default -o lies under out/, which .gitignore keeps out of the repository."""
    from pathlib import Path

    from burstdeblur.main import build_parser

    ignored = (Path(__file__).parents[2] / ".gitignore").read_text().split()
    parser = build_parser()
    for command in (["fuse"], ["demo"], ["deblur", "x.png"], ["calibrate"]):
        out = str(parser.parse_args(command).out)
        assert out.startswith("out/") and "out/" in ignored, (command, out)


def test_demo_prints_one_line(tmp_path):
    pytest.importorskip("ai_edge_litert")
    done = _run("demo", "-o", "demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and "PSNR vs reference: middle_frame" in done.stdout, done.stdout
    assert done.stderr == "", done.stderr


def test_dataset_build_prints_one_line_and_the_summary_only_with_v(tmp_path):
    done = _run("dataset", "build", "--sources", "builtin", "--count", "4", "--out", "d1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and done.stdout.startswith("wrote 4 samples to d1"), done.stdout
    verbose = _run("-v", "dataset", "build", "--sources", "builtin", "--count", "4", "--out", "d2", cwd=tmp_path)
    assert verbose.returncode == 0 and verbose.stdout.count("\n") == 1
    assert '"samples": 4' in verbose.stderr  # the summary, as a log line
