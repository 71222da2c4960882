import pandas as pd
import pytest
from analysis_fixtures import IMAGES_YAML, small_snapshot

from connect_analysis import schema
from connect_analysis.analysis import analyze
from connect_analysis.analysis.images import image_coverage, load_images, server_images
from connect_analysis.errors import AnalysisError


@pytest.fixture
def images_file(tmp_path):
    p = tmp_path / "images.yaml"
    p.write_text(IMAGES_YAML)
    return p


def test_coverage_with_a_user_yaml(images_file):
    r = analyze(small_snapshot(), images=str(images_file))
    per_content = r.content_images.set_index("guid")
    assert per_content["status"].to_dict() == {
        "a1": "covered", "b2": "covered", "c3": "covered", "d4": "no runtime",
        "e5": "never deployed", "f6": "covered", "g7": "covered", "h8": "not covered"}
    # a1 (R 4.3.1) runs on img-a (R 4.3.0) and img-b (R 4.3.3); c3 needs R and Quarto: img-a only.
    assert per_content.loc["a1", "images"] == "img-a;img-b"
    assert per_content.loc["c3", "images"] == "img-a"
    # img-d has matching none; img-e is exact and f6 names it as its image.
    assert per_content.loc["f6", "images"] == "img-c;img-e"
    assert per_content.loc["g7", "images"] == "img-a"
    per_image = r.image_coverage.set_index("image")
    assert per_image["content_count"].to_dict() == {"img-a": 4, "img-c": 1, "img-b": 1, "img-d": 0, "img-e": 1}
    # Greedy: img-a first (weights a1 5 + b2 5 + c3 3 + g7 3 = 16), then f6 (weight 2): img-c and
    # img-e tie on weight and count, img-c wins by name.
    assert r.summary["images"]["minimal_set"] == ["img-a", "img-c"]
    assert per_image.loc["img-a", "adds_events"] == 12 and per_image.loc["img-c", "minimal_set_order"] == 2
    assert r.summary["images"]["not_covered_versions"] == [
        {"r": None, "python": "3.8.10", "quarto": None, "content_count": 1}]
    assert r.summary["images"]["content_covered"] == 5
    assert r.summary["images"]["content_not_covered"] == 1
    assert r.summary["images"]["content_needing_no_runtime"] == 1


def test_exact_image_needs_the_content_to_name_it(images_file):
    snap = small_snapshot()
    snap.tables["content"].loc[snap.content["guid"] == "f6", "image_name"] = "other"
    per_content = analyze(snap, images=str(images_file)).content_images.set_index("guid")
    assert per_content.loc["f6", "images"] == "img-c"


def test_greedy_prefers_the_image_covering_the_most_used_content():
    content = schema.conform(pd.DataFrame([
        {"guid": "hot", "bundle_id": "1", "r_version": "4.4.1"},
        {"guid": "cold1", "bundle_id": "2", "py_version": "3.12.1"},
        {"guid": "cold2", "bundle_id": "3", "py_version": "3.12.2"},
    ]), "content")
    images = [{"name": "many", "matching": "any", "r": [], "python": ["3.12.0"], "quarto": [], "note": ""},
              {"name": "big", "matching": "any", "r": ["4.4.0"], "python": [], "quarto": [], "note": ""}]
    per_image, per_content = image_coverage(content, pd.Series([100, 0, 0]), images)
    # weights: hot 101, cold 1 + 1: big first although it covers fewer items
    assert per_image["image"].tolist() == ["big", "many"]
    assert per_image["minimal_set_order"].tolist() == [1, 2]
    assert per_content["assigned_image"].tolist() == ["big", "many", "many"]


def test_default_is_posits_public_images():
    r = analyze(small_snapshot())
    assert r.summary["images"]["source"] == "posit"
    per_content = r.content_images.set_index("guid")
    # R 3.5.3 is in no public image; Python 3.8.10 only in the former Helm default with 3.8.19.
    assert per_content.loc["f6", "status"] == "not covered"
    assert per_content.loc["h8", "images"] == "ghcr.io/rstudio/content-base:r3.6.3-py3.8.19-ubuntu2204"
    # R 4.3.2 + Quarto 1.4.553 (c3): only content-base r4.3.3-py3.12.3 has both 4.3 and 1.4
    assert per_content.loc["c3", "images"] == "rstudio/content-base:r4.3.3-py3.12.3-ubuntu2204"
    images, source = load_images(None, schema.empty("environments"), schema.empty("environment_runtimes"))
    assert len(images) == 24 and source == "posit"
    assert sum(i["name"].startswith("ghcr.io/posit-dev/connect-content:") for i in images) == 12


def test_server_environments_as_images():
    envs = schema.conform(pd.DataFrame([
        {"guid": "e1", "name": "reg/r43:1", "matching": "any", "title": "R 4.3"},
        {"guid": "e2", "name": "reg/py311:1", "matching": "EXACT"},
        {"guid": "e3", "name": "reg/off:1", "matching": "none"},
    ]), "environments")
    rts = schema.conform(pd.DataFrame([
        {"environment_guid": "e1", "language": "R", "version": "4.3.3"},
        {"environment_guid": "e1", "language": "quarto", "version": "1.4.557"},
        {"environment_guid": "e2", "language": "python", "version": "3.11.2"},
        {"environment_guid": "e3", "language": "python", "version": "3.11.2"},
    ]), "environment_runtimes")
    imgs = server_images(envs, rts)
    assert [(i["name"], i["matching"], i["r"], i["python"], i["quarto"]) for i in imgs] == [
        ("reg/r43:1", "any", ["4.3.3"], [], ["1.4.557"]),
        ("reg/py311:1", "exact", [], ["3.11.2"], []),
        ("reg/off:1", "none", [], ["3.11.2"], []),
    ]
    snap = small_snapshot(environments=envs, environment_runtimes=rts)
    per_content = analyze(snap, images="server").content_images.set_index("guid")
    assert per_content.loc["c3", "images"] == "reg/r43:1" and per_content.loc["a1", "status"] == "covered"
    assert per_content.loc["b2", "status"] == "not covered"  # only an exact environment has 3.11


def test_warm_list_for_important_content(images_file):
    r = analyze(small_snapshot(), images=str(images_file), top_n=3)
    # important: a1 (R 4.3.1), b2 (Python 3.11.4), g7 (Python 3.11.9), all assigned img-a
    assert r.warm_list.to_dict("records") == [
        {"language": "python", "version": "3.11.0", "image": "img-a", "content_count": 2},
        {"language": "r", "version": "4.3.0", "image": "img-a", "content_count": 1}]
    assert r.important_content["image"].tolist() == ["img-a", "img-a", "img-a"]


@pytest.mark.parametrize("text, message", [
    ("images: [", "not valid YAML"),
    ("other: 1", "top-level `images:` list"),
    ("images:\n  - r: ['4.3.3']", "image 1 has no `name`"),
    ("images:\n  - name: x\n    matching: sometimes", "matching must be any, exact or none"),
    ("images:\n  - name: x\n    r: {a: 1}", "`r` must be a list"),
])
def test_bad_image_files_raise_one_clear_error(tmp_path, text, message):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(AnalysisError, match=message):
        analyze(small_snapshot(), images=str(p))


def test_missing_image_file(tmp_path):
    with pytest.raises(AnalysisError, match="cannot read the images file"):
        analyze(small_snapshot(), images=str(tmp_path / "nope.yaml"))
