"""Re-pin requirements/*.lock: install pyproject's ranges into fresh venvs and freeze them."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYPROJECT = tomllib.loads((HERE.parent / "pyproject.toml").read_text())
EXTRAS: dict[str, list[str]] = PYPROJECT["project"]["optional-dependencies"]
LOCKS = {
    "backend": EXTRAS["backend"],
    "locust": [r for r in EXTRAS["harness"] if r.startswith(("locust", "py-spy", "hdrhistogram"))],
    "dev": [*EXTRAS["backend"], *EXTRAS["harness"], *EXTRAS["dev"], "setuptools>=68", "wheel"],
}


def freeze(name: str, requirements: list[str]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip"]
        subprocess.run([*pip, "install", "-q", *requirements], check=True)
        frozen = subprocess.run([*pip, "freeze", "--all"], check=True, capture_output=True,
                                text=True).stdout.splitlines()  # fmt: skip
    keep_tools = name == "dev"  # the dev venv installs the project with setuptools, offline
    pins = [p for p in frozen if not p.startswith("pip==")]
    if not keep_tools:
        pins = [p for p in pins if not p.startswith(("setuptools==", "wheel=="))]
    header = f"# Exact pins for the {name} environment. Regenerate with: make lock"
    return "\n".join([header, *sorted(pins, key=str.lower)]) + "\n"


def main() -> None:
    for name, requirements in LOCKS.items():
        (HERE / f"{name}.lock").write_text(freeze(name, requirements))
        print(f"wrote requirements/{name}.lock")


if __name__ == "__main__":
    main()
