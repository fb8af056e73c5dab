"""Build step: the wheel carries the data files skillmap reads, mapped into the package.

The demo taxonomy, the prompt files and the sample ad live where the project layout puts
them (``taxonomies/demo``, ``prompts/``, ``data/sample_ad.txt``). A built wheel carries
copies under ``skillmap/_data/`` with the same relative paths, where
:func:`skillmap.defaults.shipped_path` finds them with ``importlib.resources``; a source
checkout or an editable install reads the folders themselves. Everything else about the
package is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("taxonomies/demo", "prompts", "data/sample_ad.txt")
PACKAGED = Path("skillmap", "_data")  # keep in step with skillmap.defaults.PACKAGED_DATA


class build_py_with_data(build_py):
    """``build_py`` plus the copies; an editable install reads the checkout instead."""

    def run(self):
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / PACKAGED
        shutil.rmtree(target, ignore_errors=True)  # nothing stale from an earlier build
        for name in SHIPPED:
            source, copy = ROOT / name, target / name
            if not source.exists():  # a wheel without them runs nothing: fail the build
                raise FileNotFoundError(f"{source} (shipped in the wheel) is missing")
            copy.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, copy)


setup(cmdclass={"build_py": build_py_with_data})
