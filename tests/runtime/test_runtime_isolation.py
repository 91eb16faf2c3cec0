"""The runtime imports and runs with every training and conversion framework blocked."""
import subprocess
import sys

BLOCKED = ["torch", "tensorflow", "litert_torch", "ai_edge_torch", "ai_edge_quantizer", "onnx2tf", "onnx", "jax",
           "burstdeblur.export"]

SCRIPT = f"""
import importlib, importlib.abc, pkgutil, sys
BLOCKED = {BLOCKED!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in BLOCKED):
            raise ImportError("blocked in the runtime: " + name)
        return None
sys.meta_path.insert(0, Block())
import burstdeblur.runtime as rt
mods = [m.name for m in pkgutil.walk_packages(rt.__path__, "burstdeblur.runtime.")]
for m in mods:
    importlib.import_module(m)
from burstdeblur.main import main
import burstdeblur.runtime.burst.demo_burst as db
res = rt.process_burst(db.make_demo_burst(n=3))
assert res.fused.shape == (400, 600, 3)
assert not any(b in sys.modules for b in BLOCKED)
print("ok", len(mods))
"""


def test_runtime_imports_without_training_stack():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    count = int(done.stdout.split()[1])
    assert count >= 10  # every runtime module was imported


def test_blocker_really_blocks():
    script = SCRIPT.replace("import burstdeblur.runtime as rt", "import onnx\nimport burstdeblur.runtime as rt")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode != 0 and "blocked in the runtime: onnx" in done.stderr



def test_command_list_builds_without_training_stack():
    """`burstdeblur fuse` on a board builds the whole parser: no sub-command may pull in torch to do so."""
    heavy = [b for b in BLOCKED if b != "burstdeblur.export"] + ["safetensors"]
    script = SCRIPT.split("import burstdeblur.runtime as rt")[0].replace(repr(BLOCKED), repr(heavy)) + \
        "from burstdeblur.main import build_parser\nbuild_parser()\n"
    assert "safetensors" in script
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_dependencies_point_one_way():
    """Libraries never import the command front ends, and the runtime never imports the export stack: read off
    every import statement of every module (static, so a lazy import inside a function counts too)."""
    import ast
    from pathlib import Path

    root = Path(__file__).parents[2]
    for folder, forbidden in (("runtime", ("burstdeblur.export", "burstdeblur.commands", "burstdeblur.main")),
                              ("export", ("burstdeblur.commands", "burstdeblur.main"))):
        files = sorted((root / folder).rglob("*.py"))
        assert len(files) > 10, folder
        for path in files:
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                assert not isinstance(node, ast.ImportFrom) or node.level == 0, f"{path}: relative import"
                for name in names:
                    assert not name.startswith(forbidden), f"{path.relative_to(root)} imports {name}"
