"""The check before use, on its own: magnitudes normalised before numbers are compared,
Latin-script names and quoted phrases looked up in the source, both in Simplified script."""
from __future__ import annotations

import pytest

from pipelines.editorial.writer.checks import unsupported


@pytest.mark.parametrize("written, source", [
    ("营收达30亿美元。", "Revenue reached $3 billion."),
    ("营收达30亿美元。", "Revenue reached $3,000,000,000."),
    ("营收达3,000,000,000美元。", "营收达30亿美元。"),
    ("用户超过1.5万。", "More than 15,000 users signed up."),
    ("用户超过1.5万。", "More than 15 thousand users signed up."),
    ("融资200万美元。", "It raised $2 million."),
    ("增长25%。", "Sales grew 25 percent."),
    ("英伟达发布 H100 与 GPT-4o 的对比。", "Nvidia compared the H100 with GPT-4o."),
    ("公司称“端侧推理是未来”。", "公司称“端侧推理是未来”，并发布新品。"),
    ("發佈了「晶片」計畫，投資24億元。", "发布了「芯片」计划，投资24亿元。"),  # Traditional against Simplified
])
def test_what_the_source_states_passes(written, source):
    assert unsupported(written, source) == []


@pytest.mark.parametrize("written, source, reason", [
    ("营收达40亿美元。", "Revenue reached $3 billion.", "number 4000000000 not in the source"),
    ("增长45%。", "Sales grew 25 percent and 45 stores opened.", "number 45% not in the source"),
    ("增长25。", "Sales grew 25 percent.", "number 25 not in the source"),
    ("高通与英伟达合作。", "Qualcomm announced a chip.", None),  # a Chinese name: not checkable, not flagged
    ("Qualcomm 与 Nvidia 合作。", "Qualcomm announced a chip.", "name 'nvidia' not in the source"),
    ("CEO 称“这是革命”。", "The CEO said it was a revolution.", "quote '这是革命' not in the source"),
    # An English sentence over a Chinese source: its words cannot be checked, so it is flagged.
    ("Revenue grew.", "营收增长。", ["name 'grew' not in the source", "name 'revenue' not in the source"]),
])
def test_what_the_source_does_not_state_is_flagged(written, source, reason):
    found = unsupported(written, source)
    assert found == (reason if isinstance(reason, list) else [reason] if reason else [])
