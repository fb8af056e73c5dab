"""Untrusted folders and uploads are read within bounds: any file of a taxonomy, index or
prompts folder replaced by a device, a link out, a FIFO, a sparse giant, a link loop or a
YAML bomb is refused in one line that quotes nothing of it; prompt templates cannot hang or
exhaust memory; upload bombs are refused before they are parsed; and every bomb together
stays under 1 GB of peak memory in a process whose address space is limited (`resource`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.cli import one_line_error, run
from helpers.hostile import (FOLDER_BOMBS, REPLACEMENTS, SECRET, load_folder, make_folder,
                             replace, within)
from skillmap.errors import SkillmapError

from conftest import DATA, REPO

FILES = {"taxonomy": ["taxonomy.yaml", "skills.csv", "groups.csv"],
         "index": ["metadata.json", "index.faiss", "taxonomy", "taxonomy/taxonomy.yaml",
                   "taxonomy/skills.csv", "taxonomy/groups.csv"],
         "prompts": ["single.yaml"],
         "model": ["modules.json", "1_AttentionPooling",
                   "1_AttentionPooling/attention_pooling_config.json",
                   "1_AttentionPooling/model.safetensors"],
         "filter": ["filter.json"]}


@pytest.fixture(scope="module")
def valid_folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("valid")
    return {kind: make_folder(kind, root / kind) for kind in FILES}


@settings(max_examples=200, deadline=None, derandomize=bool(os.environ.get("CI")),
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
@pytest.mark.slow
def test_any_file_of_a_folder_replaced_by_something_hostile_is_refused_in_one_line(
        tmp_path_factory, valid_folders, data):
    """Issue 25: a file of an index or taxonomy folder could be a link to /dev/zero (a
    MemoryError) or to a file outside the folder (read, its first line printed in the
    error); YAML alias bombs took GBs. Hypothesis picks the folder, the file and what
    replaces it."""
    import shutil

    kind = data.draw(st.sampled_from(sorted(FILES)), label="folder")
    relative = data.draw(st.sampled_from(FILES[kind]), label="file")
    replacement = data.draw(st.sampled_from(REPLACEMENTS), label="replaced by")
    root = tmp_path_factory.mktemp("hostile")
    folder = root / kind
    shutil.copytree(valid_folders[kind], folder, symlinks=True)
    replace(folder / relative, replacement, root)
    with pytest.raises(SkillmapError) as error:
        within(20, load_folder, kind, folder)
    message = str(error.value)
    assert "\n" not in message and message.strip()
    assert SECRET not in message


def test_the_valid_folders_load(valid_folders):
    """(The control: the folders above load before anything is replaced.)"""
    for kind, folder in valid_folders.items():
        assert load_folder(kind, folder) is not None


@pytest.mark.parametrize("model_id", ["/etc", "/tmp/some/model", "../outside-model",
                                      "~/models/x", "C:\\models\\x"])
def test_an_index_naming_a_model_folder_outside_it_is_not_loaded(tmp_path, capsys, model_id):
    """Issue 25: an index's model_id could be an absolute path outside it, and that model
    was loaded. Now it is loaded only when the user names it with --model."""
    from helpers.hostile import make_index

    folder = make_index(tmp_path / "index")
    meta = json.loads((folder / "metadata.json").read_text())
    meta["model_id"] = model_id
    (folder / "metadata.json").write_text(json.dumps(meta))
    code, out, err = run(capsys, "extract", DATA / "sample_ad.txt", "--index", folder)
    one_line_error(code, err, "outside the index", "--model")


def test_an_index_may_record_a_model_inside_it_or_a_hub_id(tmp_path):
    from helpers.hostile import make_index

    from skillmap.index.skill_index import IndexMetadata, recorded_model

    folder = make_index(tmp_path / "index")
    (folder / "model").mkdir()
    meta = IndexMetadata.from_json(folder / "metadata.json")
    for model_id in ("./model", str(folder / "model")):
        meta.model_id = model_id
        assert recorded_model(meta, folder) == str(folder / "model")
    for model_id in ("sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"):
        meta.model_id = model_id
        assert recorded_model(meta, folder) == model_id


# ------------------------------------------------------------------ prompt templates
@pytest.mark.parametrize("template, needle", [
    ("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
     "runs longer"),
    ("{% set r = range(10000)|list %}{% for a in r %}{% for b in r %}{% endfor %}{% endfor %}",
     "runs longer"),
    ("{{ 'x' * 10000000000 }}", "repeats a value"),
    ("{% set n = namespace(s='x' * 1000) %}{% for i in range(40) %}{% set n.s = n.s + n.s %}"
     "{% endfor %}{{ n.s|length }}", "more than"),
    ("{{ (range(100000)|list|string) * 100 }}", "repeats a value"),
    ("{{ (['x' * 100000] * 100) | join }}", "joins more than"),
    ("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", "renders more than"),
    ("{{ 'a' ~ 'b' }}", "~ operator"),
    ("{{ lipsum(100000) }}", "lipsum"),
    ("{{ 'x'.ljust(10000000000) }}", "number above"),
    ("{{ '{:>1000000000}'.format(1) }}", "str.format"),
    ("{{ 10 ** 1000000000 }}", "power"),
    ("{{ 'x' | center(1000000000) }}", "center"),
    ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", ""),
])
def test_a_prompt_template_cannot_hang_or_exhaust_memory(template, needle):
    """Issue 25: nested Jinja loops in a --prompts folder hung `generate`."""
    from skillmap.generation.sandbox import render

    started = time.monotonic()
    with pytest.raises(SkillmapError) as error:
        render(template, {}, "test@v1")
    assert time.monotonic() - started < 10
    message = str(error.value)
    assert "\n" not in message and message.startswith("prompt test@v1:")
    assert needle in message


def test_the_shipped_prompts_render_within_the_bounds(demo_taxonomy):
    from skillmap.generation.backends.base import prompt_context
    from skillmap.generation.prompts import MODES, load_prompt
    from skillmap.generation.sampling import GenerationRequest

    skills = tuple(demo_taxonomy.skills[:3])
    for mode in MODES:
        template = load_prompt(mode)
        context = prompt_context(GenerationRequest(mode, 0, skills, n=4, seed=3), template, "en")
        assert template.messages(context)[-1]["content"]
        assert template.completion_prompt(context)


# ------------------------------------------------------------------ uploads
@pytest.mark.slow
def test_upload_bombs_are_refused_before_they_are_parsed():
    """Issue 25: a 397 KB .docx zip bomb took the app server from 0.8 to 3.6 GB for 100 s;
    a 5 MB .xlsx of a million rows took 25 s to refuse; a Flate-bomb PDF replaced the page
    with a traceback."""
    from helpers.hostile import UPLOAD_BOMBS

    from skillmap.app.uploads import read_upload
    from skillmap.errors import InputError

    needles = {"ad.docx": "zip bomb", "ads.xlsx": "2,000-ad limit",
               "ad.pdf": "decompression bomb"}
    for name, build in UPLOAD_BOMBS.items():
        data = build()
        started = time.monotonic()
        with pytest.raises(InputError, match=needles[name]):
            read_upload(name, data)
        assert time.monotonic() - started < 3, name


FORMATS = {"ad.pdf", "ad.docx", "ads.xlsx"}


@pytest.fixture(scope="module")
def valid_uploads() -> dict[str, bytes]:
    import pandas as pd

    from helpers.documents import docx_bytes, pdf_bytes, xlsx_bytes

    return {"ad.pdf": pdf_bytes(["Data engineer.", "You know Python and SQL."]),
            "ad.docx": docx_bytes(["Data engineer.", "You know Python."], [["a", "b"]]),
            "ads.xlsx": xlsx_bytes(pd.DataFrame({"id": [1, 2], "text": ["Python", "SQL"]}))}


@settings(max_examples=150, deadline=None, derandomize=bool(os.environ.get("CI")),
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(FORMATS)), data=st.data())
def test_a_mutated_upload_is_read_or_refused_in_one_line(valid_uploads, name, data):
    """Issue 25: a mutated PDF replaced the whole page with a traceback. Hypothesis flips,
    deletes and inserts bytes of valid .pdf/.docx/.xlsx files."""
    from skillmap.app.uploads import read_upload
    from skillmap.errors import InputError

    blob = bytearray(valid_uploads[name])
    for _ in range(data.draw(st.integers(1, 8), label="mutations")):
        position = data.draw(st.integers(0, len(blob) - 1), label="at")
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]), label="how")
        if action == "flip":
            blob[position] ^= data.draw(st.integers(1, 255), label="bits")
        elif action == "delete":
            del blob[position:position + data.draw(st.integers(1, 64), label="length")]
        else:
            blob[position:position] = data.draw(st.binary(min_size=1, max_size=32),
                                                label="bytes")
        if not blob:
            blob = bytearray(b"x")
    try:
        read_upload(name, bytes(blob))
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(name)


def test_two_uploads_ad_txt_and_ad_2_txt_get_different_doc_ids():
    """Issue 25: "ad.txt" uploaded twice and "ad (2).txt" got the same doc_id."""
    from skillmap.app.uploads import read_upload, unique_doc_ids

    ads = [a for name in ("ad.txt", "ad.txt", "ad (2).txt", "ad (2).txt")
           for a in read_upload(name, b"We need Python.").ads()]
    ids = [a.doc_id for a in unique_doc_ids(ads)]
    assert ids[0] == "ad" and len(set(ids)) == 4


# ------------------------------------------------------------------ peak memory
@pytest.mark.slow
def test_every_bomb_stays_under_1_gb_of_peak_memory(tmp_path):
    """All folder and upload bombs, loaded one after another in a child process whose
    address space is limited to what it holds plus 1 GiB (RLIMIT_AS): each is refused, and
    the child's peak RSS stays under 1 GB."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", "helpers.hostile", str(tmp_path)],
                            cwd=REPO / "tests", capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(report["outcomes"]) == len(FOLDER_BOMBS) + 3
    for case, outcome in report["outcomes"].items():
        assert outcome.startswith("refused in"), (case, outcome)
    assert report["peak_rss_mb"] < 1024, report




@pytest.mark.parametrize("file, key, value", [
    ("1_AttentionPooling/attention_pooling_config.json", "hidden_dim", 4_000_000_000),
    ("1_AttentionPooling/attention_pooling_config.json", "embedding_dimension", -1),
    ("1_AttentionPooling/attention_pooling_config.json", "hidden_dim", "8"),
    ("config.json", "hidden_size", 4_000_000_000),
])
def test_a_model_config_asking_for_absurd_sizes_is_refused_before_allocating(
        tmp_path, file, key, value):
    """Issue 25: bundle configs with absurd sizes (``hidden_dim`` 4e9) crashed the process
    while allocating; each size a library would allocate is range-checked first."""
    from helpers.hostile import make_model
    from skillmap.encoder.loading import load_model

    folder = make_model(tmp_path / "model")
    path = folder / file
    config = json.loads(path.read_text()) if path.exists() else {}
    config[key] = value
    path.write_text(json.dumps(config))
    with pytest.raises(SkillmapError) as error:
        load_model(folder)
    message = str(error.value)
    assert "\n" not in message and key in message and file.split("/")[-1] in message


@pytest.mark.parametrize("name, size, refused", [
    ("tokenizer.json", 40 << 20, False),     # a multilingual vocabulary (EmbeddingGemma: 33 MB)
    ("tokenizer.json", 200 << 20, True),     # over the tokenizer cap
    ("config.json", 40 << 20, True),         # no config is that large
    ("README.md", 40 << 20, True),
])
def test_a_model_folder_caps_each_file_by_its_kind(tmp_path, name, size, refused):
    from skillmap.bounded import check_folder

    (tmp_path / "modules.json").write_text("[]")
    with open(tmp_path / name, "wb") as handle:  # sparse: no disk used
        handle.truncate(size)
    if refused:
        with pytest.raises(SkillmapError, match="over the limit") as info:
            check_folder(tmp_path)
        assert name in str(info.value) and "\n" not in str(info.value)
    else:
        check_folder(tmp_path)
