"""What the networks read: text corpora (``text``, re-exported here as ``bptt.data``) and the
seeded long-lag tasks (``tasks``, also ``bptt.tasks``)."""

from .text import (CHUNK_BYTES, NEWLINES, PUBLIC_CORPORA, Corpus, Streams, Vocab, cache_dir, default_corpus,
                   fetch_public, id_dtype, lazy_streams, read_text, remember_source, run_source, split, streams)

__all__ = ["CHUNK_BYTES", "NEWLINES", "PUBLIC_CORPORA", "Corpus", "Streams", "Vocab", "cache_dir",
           "default_corpus", "fetch_public", "id_dtype", "lazy_streams", "read_text", "remember_source",
           "run_source", "split", "streams"]
