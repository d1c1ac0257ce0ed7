"""Build hook: copy the student bundle into the wheel as package data.

The lessons (``notebooks/``), exercise templates (``exercises/``) and translations (``translations/``) stay where they are in the
repository; a wheel (or ``pip install .``) gets a copy under ``rnncourse/_course/`` so that
``rnncourse init``, ``lab`` and ``grade`` work from any folder. Solutions are never copied: students
install the same wheel. Editable installs skip the copy and read the checkout (see
``rnncourse/workspace.py``). All other metadata lives in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
COURSE = {"notebooks": ("*.ipynb", "*.md"), "exercises": ("ex*.ipynb", "*.md")}


class build_py_with_course(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        dest = Path(self.build_lib) / "rnncourse" / "_course"
        shutil.rmtree(dest, ignore_errors=True)
        for folder, patterns in COURSE.items():
            (dest / folder).mkdir(parents=True)
            for pattern in patterns:
                for src in sorted((HERE / folder).glob(pattern)):
                    if ".new." not in src.name:
                        shutil.copyfile(src, dest / folder / src.name)
        # the translations (translations/<lang>/<folder>/<file>.json) that build other editions
        for src in sorted((HERE / "translations").glob("*/*/*.json")):
            target = dest / "translations" / src.relative_to(HERE / "translations")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
        if not (dest / "notebooks" / "00_welcome.ipynb").is_file():
            raise SystemExit(f"no lessons found in {HERE / 'notebooks'}: cannot build the course wheel")


setup(cmdclass={"build_py": build_py_with_course})
