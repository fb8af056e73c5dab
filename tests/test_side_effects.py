"""Library classes leave process-wide state alone (issue 23, fault 6): building an encoder
changes no logging settings, an OpenAI backend masks its key in log records only while it
talks to the server, and an extractor shares its encoder only when its caller says so. The
CLI makes its terminal quiet itself, in ``cli.main``, and chooses to share encoders."""

from __future__ import annotations

import logging

import pytest

from conftest import DEMO_TAXONOMY
from skillmap.security import masked_in_logs

KEY = "sk-skillmap-sideeffect-0123456789abcdef"


@pytest.fixture
def logging_settings():
    """Known settings before the test, and the previous ones back after it."""
    import transformers.utils.logging as hf_logging

    logger = logging.getLogger("sentence_transformers")
    level, bars = logger.level, hf_logging.is_progress_bar_enabled()
    logger.setLevel(logging.NOTSET)
    hf_logging.enable_progress_bar()
    yield logger, hf_logging
    logger.setLevel(level)
    (hf_logging.enable_progress_bar if bars else hf_logging.disable_progress_bar)()


def _message(text: str) -> str:
    record = logging.getLogRecordFactory()("test", logging.DEBUG, __file__, 1, text, None, None)
    return record.getMessage()


def test_building_an_encoder_changes_no_logging_settings(logging_settings, tiny_model_factory):
    from skillmap.encoder import SkillEncoder

    logger, hf_logging = logging_settings
    factory = logging.getLogRecordFactory()
    SkillEncoder(tiny_model_factory(hidden=32)).encode(["Python and SQL"])
    assert logger.level == logging.NOTSET
    assert hf_logging.is_progress_bar_enabled()
    assert logging.getLogRecordFactory() is factory


def test_the_cli_quiets_model_loading_itself(logging_settings, capsys):
    from skillmap.cli import main

    logger, hf_logging = logging_settings
    assert main(["taxonomy", "info", str(DEMO_TAXONOMY)]) == 0
    assert logger.level == logging.WARNING
    assert not hf_logging.is_progress_bar_enabled()


def test_keys_are_masked_in_log_records_only_inside_the_block():
    factory = logging.getLogRecordFactory()
    with masked_in_logs(KEY):
        with masked_in_logs(KEY):  # nested (two backends at once)
            assert KEY not in _message(f"header: Bearer {KEY}")
        assert KEY not in _message(f"header: Bearer {KEY}")  # the outer block still holds it
    assert logging.getLogRecordFactory() is factory
    assert KEY in _message(f"header: Bearer {KEY}")  # nothing left behind


def test_an_openai_backend_changes_no_logging_until_it_sends_requests():
    from skillmap.generation import make_backend

    factory = logging.getLogRecordFactory()
    backend = make_backend("openai", model="m", base_url="http://127.0.0.1:9/v1", api_key=KEY)
    assert logging.getLogRecordFactory() is factory
    backend.close()


def test_an_extractor_shares_an_encoder_only_when_asked(tiny_model_factory):
    """``Extractor(index=None)`` used to take a process-wide encoder without saying so; now
    it owns the one it loads, and sharing is the caller's explicit choice."""
    from skillmap.encoder import SkillEncoder
    from skillmap.pipeline import Extractor

    model = str(tiny_model_factory(hidden=32, seed=5))
    first, second = (Extractor(model=model, sentence_filter=None) for _ in range(2))
    assert first.encoder is not second.encoder
    assert first.encoder is not SkillEncoder.cached(model)
    shared = [Extractor(model=model, sentence_filter=None, load_encoder=SkillEncoder.cached)
              for _ in range(2)]
    assert shared[0].encoder is shared[1].encoder is SkillEncoder.cached(model)
    given = first.encoder
    assert Extractor(index=first.index, encoder=given, sentence_filter=None).encoder is given
