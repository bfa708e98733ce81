"""One cache layer: where shouldi keeps what it has already worked out.

Four kinds of entries, one store and one writer (:mod:`shouldi.cache.files`):

=================  =====================================  ===========================================
kind               key                                    what it saves
=================  =====================================  ===========================================
``artifacts/``     the file's sha256                      a download (verified again when read)
``results/``       artifact sha256 + scanner fingerprint  the code scans (archive, bandit, heuristics)
``risk/``          model sha256 + the release's features  a risk score (no scikit-learn import)
``answers/``       spec + every setting that decides it   a whole answer, for ``--max-age`` seconds
=================  =====================================  ===========================================

Every JSON entry carries what it is *about* (name, version, sha256, key...) and is checked
against it on read: a mismatch, an unreadable, oversized, non-regular (a FIFO, a device, a
symlink) or malformed entry is a miss, never an error and never another package's answer. A
cache that cannot be written is skipped: a cache costs speed, never an answer.
"""

from __future__ import annotations

from shouldi.cache.store import Cache

__all__ = ["Cache"]
