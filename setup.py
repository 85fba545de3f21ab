"""Compiles the text and story core to C with mypyc, when asked to.

    DIGESTBOT_NATIVE=1 python setup.py build_ext --inplace     (what `make native` runs)

The modules below are plain, typed Python and stay importable as such; compiled, the
whole pipeline ran 1.1-1.4x faster (bench/pipeline.py, sittings alternating the two).
Without the variable this file adds nothing, so `pip install .` needs no compiler. A
failed compile is not an error: `make native` then removes what was built, and Python
imports the sources. A build that succeeds records the hashes of the sources it
compiled (bot.native compares them).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from setuptools import setup

# The hot path of every article, in one mypyc group (calls between them stay native).
NATIVE = [
    "digests/boilerplate.py",
    "digests/facts.py",
    "digests/fingerprints.py",
    "digests/novelty.py",
    "digests/sentences.py",
    "digests/stories.py",
]

STAMP = Path("digests/native-build.json")  # bot.native reads it

native = os.environ.get("DIGESTBOT_NATIVE") == "1"
ext_modules = []
if native:
    from mypyc.build import mypycify

    STAMP.unlink(missing_ok=True)
    ext_modules = mypycify(NATIVE, opt_level="3", group_name="digests.native")

setup(ext_modules=ext_modules)

if native and "--inplace" in sys.argv:
    sources = {Path(p).stem: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in NATIVE}
    STAMP.write_text(json.dumps(sources, indent=1) + "\n")
