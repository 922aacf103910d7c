"""SIB-200: its 205 languages under xlt's codes, its loaders on files in the official format and on Hub rows, and
its paper config, planned offline."""

from __future__ import annotations

import datasets
import pytest

from test_loaders_hub import fake_hub  # noqa: F401  (the fixture)
from test_loaders_local import write
from xlt.errors import XltError
from xlt.tasks import get_task
from xlt.tasks.sib200 import CODES, FLORES, LABELS, xlt_code
from xlt.tasks.table import task_rows

HEADER = "index_id\tcategory\ttext\n"
# as pandas writes the release: a field with a quote or a tab is quoted, inner quotes doubled
ROWS = '1523\tscience/technology\tMutation adds new genetic variation.\n76\tpolitics\t"He said ""settled law""."\n'


def test_sib200_has_205_languages_each_under_one_code():
    spec = get_task("sib200")
    languages = spec.languages["sib200"]
    assert len(FLORES) == len(set(FLORES)) == len(languages) == len(set(languages)) == 205
    assert sorted(CODES.values()) == sorted(FLORES)
    assert spec.kind == "classification" and spec.metrics == ("accuracy",) and len(LABELS) == 7


def test_flores_codes_map_to_the_codes_xlt_uses_elsewhere():
    xtreme = set(get_task("xnli").languages["xtreme-r"]) | set(get_task("udpos").languages["xtreme-r"])
    sib = set(CODES)
    assert {"en", "de", "ru", "zh", "ar", "sw", "fa", "ms", "tl", "ko", "ja"} <= sib
    assert len(xtreme & sib) >= 35  # XTREME-R languages keep their XTREME codes
    assert [xlt_code(f) for f in ("zho_Hant", "arb_Latn", "zsm_Latn", "swh_Latn")] == ["zh-Hant", "ar-Latn", "ms", "sw"]


def test_flores_code_is_kept_where_the_tag_would_be_ambiguous():
    assert xlt_code("aka_Latn") == xlt_code("twi_Latn") == "ak"
    assert CODES["aka_Latn"] == "aka_Latn" and CODES["twi_Latn"] == "twi_Latn" and "ak" not in CODES
    assert CODES["prs_Arab"] == "prs_Arab" and CODES["fa"] == "pes_Arab"  # Dari would be fa-AF


def test_xlt_tasks_lists_sib200_with_its_205_languages():
    row = next(row for row in task_rows() if row["task"] == "sib200")
    assert row["languages"] == "sib200 205" and row["trained on"] == "own train split (205 languages)"


@pytest.mark.parametrize("layout", ["sib200/{code}/{split}.tsv", "sib200/data/annotated/{code}/{split}.tsv"])
def test_sib200_reads_the_release_tsv_under_the_flores_code(tmp_path, layout):
    write(tmp_path, layout.format(code="deu_Latn", split="test"), HEADER + ROWS)
    examples = get_task("sib200").load("test", "de", tmp_path)
    assert examples == [
        {"id": "test-1523", "text": "Mutation adds new genetic variation.", "label": "science/technology"},
        {"id": "test-76", "text": 'He said "settled law".', "label": "politics"},
    ]


def test_sib200_file_without_its_columns_or_with_a_foreign_label_is_one_line(tmp_path):
    write(tmp_path, "sib200/eng_Latn/dev.tsv", "id\tlabel\tsentence\n1\tpolitics\tA.\n")
    with pytest.raises(XltError, match=r"lacks the column\(s\) index_id, category, text"):
        get_task("sib200").load("dev", "en", tmp_path)
    write(tmp_path, "sib200/eng_Latn/train.tsv", HEADER + "3\tweather\tRain.\n")
    with pytest.raises(XltError, match="'weather', which is not one of sib200's labels"):
        get_task("sib200").load("train", "en", tmp_path)


def test_sib200_hub_rows_read_as_the_release_does(fake_hub):  # noqa: F811
    rows, requests = fake_hub
    rows[("Davlan/sib200", "zho_Hant", "validation")] = datasets.Dataset.from_dict(
        {"index_id": [7, 9], "category": ["travel", "sports"], "text": ["甲", "乙"]}
    )
    examples = get_task("sib200").load("dev", "zh-Hant", None)
    assert requests == [("Davlan/sib200", "zho_Hant", "validation")]
    assert examples == [
        {"id": "dev-7", "text": "甲", "label": "travel"},
        {"id": "dev-9", "text": "乙", "label": "sports"},
    ]
