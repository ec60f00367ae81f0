"""The wheel carries the sample store, and an installed wheel runs ``hedgeframe demo``.

Everything is offline. The wheel is built from a copy of the sources (so the checkout gets
no ``build/`` folder) by this venv's pip and setuptools (``--no-build-isolation``). It is
installed into a fresh venv made without pip, by this venv's pip with ``--no-deps
--no-index``; one ``.pth`` line lends that venv this venv's dependencies (a ``.pth`` line
adds a folder to ``sys.path`` without running the folder's own ``.pth`` files, so the
editable install of the checkout stays out of it). The demo then runs from an empty
folder, as it would for someone who ran ``pip install hedgeframe`` anywhere.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKSUMS = REPO / "datasets" / "checksums.sha256"
STORE_IN_WHEEL = "hedgeframe/sample-store/"


def _run(*argv: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "HEDGEFRAME_"))}
    ran = subprocess.run(
        [str(part) for part in argv], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, f"{argv}\nstdout:\n{ran.stdout}\nstderr:\n{ran.stderr}"
    return ran


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sources = tmp_path_factory.mktemp("sources")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, sources / name)
    shutil.copytree(
        REPO / "hedgeframe",
        sources / "hedgeframe",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    out = tmp_path_factory.mktemp("wheel")
    _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "--no-index", "--wheel-dir", out, sources,
    )  # fmt: skip
    (built,) = out.glob("hedgeframe-*.whl")
    return built


def test_the_wheel_carries_the_sample_store_byte_for_byte(wheel: Path) -> None:
    expected = {}
    for line in CHECKSUMS.read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        expected[name] = digest
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        store = {
            name: hashlib.sha256(archive.read(name)).hexdigest()
            for name in names
            if name.startswith(STORE_IN_WHEEL)
        }
    assert len(expected) == 46
    assert store == expected  # the same 46 files, the same bytes, and nothing else
    assert "hedgeframe/py.typed" in names
    assert "hedgeframe/sample.py" in names


@pytest.mark.slow
def test_an_installed_wheel_runs_the_demo_from_any_folder(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
        "--quiet", wheel,
    )  # fmt: skip
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    site = Path(purelib.stdout.strip())
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "dependencies-of-the-test-venv.pth").write_text("\n".join(sorted(ours)) + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = "import hedgeframe as hf; print(hf.__file__); print(hf.sample_store().root)"
    where = _run(python, "-c", code, cwd=elsewhere).stdout.splitlines()
    assert where == [
        str(site / "hedgeframe" / "__init__.py"),
        str(site / "hedgeframe" / "sample-store"),
    ]

    out = tmp_path / "demo-out"
    demo = _run(venv / "bin" / "hedgeframe", "demo", "--out", out, cwd=elsewhere)
    assert "store: the bundled sample" in demo.stdout
    for text in ("gfc-2007-2009", "q4-2018", "Across events (1 = best)"):
        assert text in demo.stdout
    ranking = [line for line in demo.stdout.splitlines() if "zero-cost-collar-95pct" in line]
    assert ranking
    assert ranking[-1].split("│")[1].strip() == "1"  # first in the across-event ranking
    assert (out / "report.html").is_file()
    assert len(list((out / "charts").glob("*.png"))) == 2 + 2 * 7
    assert list(elsewhere.iterdir()) == []  # the demo wrote only into --out
