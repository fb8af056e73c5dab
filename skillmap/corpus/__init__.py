"""The synthetic corpus file: the format ``skillmap generate`` writes and the encoder and
filter trainers read.

It sits below both generation and the trainers so that training a model does not depend on
the code (LLM backends, prompts) that wrote its data: only on the file's format.
"""

from skillmap.corpus.records import (CorpusRecord, CorpusWriter, answer_key, in_heldout,
                                     read_corpus)
from skillmap.corpus.text import near_duplicate, normalise, words

__all__ = ["CorpusRecord", "CorpusWriter", "answer_key", "in_heldout", "near_duplicate",
           "normalise", "read_corpus", "words"]
