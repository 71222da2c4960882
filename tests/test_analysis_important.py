import pandas as pd
from analysis_fixtures import SERVER, small_snapshot

from connect_analysis.analysis import analyze


def test_ranking_rule_with_ties():
    imp = analyze(small_snapshot(), top_n=10).important_content
    # events (unique viewers): a1 4 (3), b2 4 (3), g7 2 (2), c3 2 (1), f6 1 (0); d4, e5, h8 none.
    # a1/b2 tie on both: guid decides; g7/c3 tie on events: viewers decide.
    assert imp["guid"].tolist() == ["a1", "b2", "g7", "c3", "f6"]
    assert imp["usage_rank"].tolist() == [1, 2, 3, 4, 5]
    assert imp["events"].tolist() == [4, 4, 2, 2, 1]
    assert imp["reason"].tolist() == [f"top 10 by usage (rank {n})" for n in range(1, 6)]
    assert "zz" not in imp["guid"].tolist()  # usage of deleted content is never ranked


def test_top_n_and_must_keep():
    r = analyze(small_snapshot(), top_n=3, must_keep_guids=["d4", "bogus-guid", "b2"],
                must_keep_tags=["finance"])
    imp = r.important_content
    # ranked a1 b2 g7; then unranked must-keep items by guid: d4, e5 (tag finance, never deployed)
    assert imp["guid"].tolist() == ["a1", "b2", "g7", "d4", "e5"]
    assert imp["position"].tolist() == [1, 2, 3, 4, 5]
    assert imp["reason"].tolist() == [
        "top 3 by usage (rank 1); must-keep tag finance",
        "top 3 by usage (rank 2); must-keep GUID",
        "top 3 by usage (rank 3)",
        "must-keep GUID",
        "must-keep tag finance",
    ]
    assert r.summary["must_keep_not_found"] == ["bogus-guid"]
    assert imp["usage_rank"].isna().tolist() == [False, False, False, True, True]


def test_must_keep_ranked_beyond_top_n_keeps_its_rank_order():
    imp = analyze(small_snapshot(), top_n=1, must_keep_guids=["f6", "d4"],
                  must_keep_tags=["7"]).important_content  # tag by id
    assert imp["guid"].tolist() == ["a1", "f6", "d4", "e5"]  # f6 has rank 5; then unranked by guid
    assert imp["usage_rank"].tolist()[:2] == [1, 5]


def test_top_zero_picks_only_must_keep():
    imp = analyze(small_snapshot(), top_n=0, must_keep_guids=["c3"]).important_content
    assert imp["guid"].tolist() == ["c3"] and imp["reason"].tolist() == ["must-keep GUID"]


def test_row_fields():
    imp = analyze(small_snapshot(), top_n=2).important_content.set_index("guid")
    a1 = imp.loc["a1"]
    assert a1["title"] == "Title a1" and a1["owner"] == "alice" and a1["app_mode"] == "shiny"
    assert a1["content_url"] == f"{SERVER}/content/a1/"
    assert a1["vanity_url"] == f"{SERVER}/sales/"  # built from the vanities table
    assert imp.loc["b2", "vanity_url"] == f"{SERVER}/dash/"  # from the content record
    assert a1["runtimes"] == "R 4.3.1"
    assert (a1["visits"], a1["shiny_sessions"], a1["unique_viewers"]) == (1, 3, 3)
    assert a1["shiny_session_hours"] == 15.0
    assert a1["last_visit"] == pd.Timestamp("2024-03-30T12:00:00Z")
    assert a1["last_deployed"] == pd.Timestamp("2024-01-01T00:00:00Z")


def test_summary_items():
    # Default images, greedy: only connect-content R4.3.3-python3.11.14 runs a1 (R 4.3), b2 and
    # g7 (Python 3.11): weight 5 + 5 + 3 = 13, more than any other image; b2 is assigned to it.
    items = analyze(small_snapshot(), top_n=2).summary["important_content"]
    assert items[1] == {"guid": "b2", "title": "Title b2", "content_url": f"{SERVER}/content/b2/",
                        "vanity_url": f"{SERVER}/dash/", "visits": 4, "shiny_sessions": 0,
                        "unique_viewers": 3, "usage_rank": 2,
                        "image": "ghcr.io/posit-dev/connect-content:R4.3.3-python3.11.14-ubuntu-24.04",
                        "reason": "top 2 by usage (rank 2)"}
