"""The documentation site (mkdocs.yml) builds offline with warnings as errors, and its API
reference holds the public API of every package."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_docs_site_builds_strict_with_the_api_reference(tmp_path):
    site = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                           "-f", str(ROOT / "mkdocs.yml"), "-d", str(site)],
                          capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "qtnet" in (site / "index.html").read_text()           # the README as home page
    for page, member in [("tn", "qtnet.tn.mps_from_dense"), ("tn", "qtnet.tn.backends.get"),
                         ("circuits", "qtnet.circuits.from_qasm"),
                         ("training", "qtnet.training.train"),
                         ("models", "qtnet.models.Figure2Classifier"),
                         ("registry", "qtnet.registry.Registry")]:
        assert f'id="{member}"' in (site / "api" / page / "index.html").read_text(), member
