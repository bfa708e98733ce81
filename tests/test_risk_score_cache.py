"""Risk scores cached by model file and features."""

from __future__ import annotations

from shouldi.risk_model.score_cache import ScoreCache
from shouldi.verdict import RiskScore

FEATURES = {"bandit.high_high": 2, "metadata.release_count": 14, "metadata.yanked": None}
SCORE = RiskScore(37.5, ("bandit.high_high", "metadata.release_count"), False, ("archive.bytes",))


def model(tmp_path, content: bytes):
    path = tmp_path / f"model-{len(content)}.zip"
    path.write_bytes(content)
    return path


def test_a_score_is_found_again_for_the_same_model_and_features(tmp_path):
    cache = ScoreCache(tmp_path / "risk", model(tmp_path, b"model one"))
    assert cache.get(FEATURES) is None
    cache.put(FEATURES, SCORE)
    assert cache.get(dict(reversed(FEATURES.items()))) == SCORE


def test_another_model_or_other_features_miss(tmp_path):
    ScoreCache(tmp_path / "risk", model(tmp_path, b"model one")).put(FEATURES, SCORE)
    assert ScoreCache(tmp_path / "risk", model(tmp_path, b"model two!")).get(FEATURES) is None
    same = ScoreCache(tmp_path / "risk", model(tmp_path, b"model one"))
    assert same.get({**FEATURES, "metadata.release_count": 15}) is None
    assert same.get({**FEATURES, "metadata.yanked": 0}) is None  # unknown is not zero


def test_a_broken_entry_is_a_miss_and_an_unwritable_cache_is_no_error(tmp_path):
    cache = ScoreCache(tmp_path / "risk", model(tmp_path, b"model one"))
    cache.put(FEATURES, SCORE)
    cache.path_for(FEATURES).write_text('{"format": 1, "features": [], "score": "x"}')
    assert cache.get(FEATURES) is None
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    ScoreCache(blocked, model(tmp_path, b"model one")).put(FEATURES, SCORE)  # no exception
