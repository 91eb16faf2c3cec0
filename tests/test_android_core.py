"""android_demo/core: the golden files are what the Python runtime writes today, and the Java core
(javac --release 8, JUnit 5) reproduces them. Skipped with the reason when no JDK or JUnit is installed."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).parents[1] / "android_demo" / "core"
JUNIT = Path(os.environ.get("JUNIT", "/usr/share/java/junit-platform-console-standalone.jar"))
sys.path.insert(0, str(CORE.parent))
import make_golden  # noqa: E402


def test_golden_files_are_current(tmp_path):
    assert make_golden.main([str(tmp_path)]) == 0
    committed = sorted(p.name for p in (CORE / "golden").iterdir())
    assert committed == sorted(p.name for p in tmp_path.iterdir())
    for name in committed:
        assert (tmp_path / name).read_bytes() == (CORE / "golden" / name).read_bytes(), name


@pytest.mark.skipif(shutil.which("javac") is None or not JUNIT.exists(),
                    reason="needs a JDK and JUnit 5: apt-get install default-jdk-headless junit5 (.ci/run does)")
def test_java_core_matches_python():
    done = subprocess.run(["bash", str(CORE / "run_tests.sh")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "5 tests successful" in done.stdout
