#!/usr/bin/env bash
# Opt-in (not in CI): an emulated arm64 Debian board. Builds a bookworm root with debootstrap + qemu-user-static,
# installs the runtime there from aarch64 wheels only (no torch, no converter), runs the runtime's tests and a
# short benchmark, and checks that the deblurred demo output matches the x86 run.
#
#   sudo benchmarks/arm_emulated.sh [WORKDIR]        (default WORKDIR: /tmp/burstdeblur-arm)
#
# Needs root, network to Debian and PyPI, ~2 GB of disk. Emulated timings say nothing about real ARM
# speed; the point is that the runtime installs and gives the same numbers on aarch64.
# Pitfall (shared toolchain notes): never bind-mount the host's /sys into the root - ai-edge-litert
# segfaults under qemu 7.2 when it is there.
set -euo pipefail
START=$(date +%s)
REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-/tmp/burstdeblur-arm}
ROOT=$WORK/root
WHEELS=$WORK/wheels
mkdir -p "$WORK" "$WHEELS"

echo "== host tools"
apt-get install -y -qq qemu-user-static binfmt-support debootstrap > /dev/null
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable qemu-aarch64 || true

echo "== arm64 root (debootstrap, ~5 min the first time)"
if [ ! -x "$ROOT/usr/bin/python3" ]; then
    debootstrap --arch=arm64 --variant=minbase --include=python3,python3-venv,python3-pip bookworm "$ROOT" \
        http://deb.debian.org/debian > "$WORK/debootstrap.log"
fi

echo "== aarch64 wheels (runtime only) + the project wheel"
python3 -m pip download -q --only-binary=:all: --python-version 3.11 --implementation cp \
    --platform manylinux_2_17_aarch64 --platform manylinux_2_28_aarch64 --platform manylinux_2_34_aarch64 \
    -d "$WHEELS" numpy opencv-python-headless tqdm ai-edge-litert onnxruntime pytest
python3 -m pip wheel -q --no-deps -w "$WHEELS" "$REPO"

echo "== x86 reference output"
REF=$WORK/x86
rm -rf "$REF"
burstdeblur demo -o "$REF" > /dev/null

echo "== install and run inside the arm64 root"
mkdir -p "$ROOT/work"
rm -rf "$ROOT/work/wheels" "$ROOT/work/tests" "$ROOT/work/benchmarks" "$ROOT/work/out"
cp -r "$WHEELS" "$ROOT/work/wheels"
cp -r "$REPO/tests" "$REPO/benchmarks" "$ROOT/work/"
mount --bind /proc "$ROOT/proc"
trap 'umount "$ROOT/proc" 2>/dev/null || true' EXIT
chroot "$ROOT" /bin/bash -c '
set -e
cd /work
python3 -m venv venv
venv/bin/pip install -q --no-index --find-links wheels "burstdeblur[litert,onnx]" pytest
uname -m
venv/bin/python -m pytest -q -p no:cacheprovider tests/runtime/test_tiling.py tests/runtime/test_fusion_reference.py tests/runtime/test_burst_input.py
venv/bin/burstdeblur demo -o out/demo > /dev/null
venv/bin/python benchmarks/bench_inference.py --out out/bench --resolutions 720p --precisions int8 fp32 \
    --backends litert --runs 2 --warmup 1 --quality 0
'
echo "== compare with x86"
python3 - "$REF" "$ROOT/work/out/demo" <<'EOF'
import json, sys
a, b = (json.load(open(f"{d}/report.json")) for d in sys.argv[1:3])
diff = {k: abs(a["psnr_db"][k] - b["psnr_db"][k]) for k in a["psnr_db"]}
print("PSNR x86:", a["psnr_db"]); print("PSNR arm64:", b["psnr_db"])
ok = max(diff.values()) <= 0.01
print("outputs match x86 (PSNR within 0.01 dB):", ok)
sys.exit(0 if ok else 1)
EOF
echo "== took $(( $(date +%s) - START )) s"
