"""The offline summary (no writer): consecutive sentences read as one paragraph, and never
what is not the article's prose (captions, credits, calls to follow or scan a QR code, ads,
editor's notes)."""
from __future__ import annotations

import pytest

from pipelines.analysis.summary import lead_summary, not_prose, ranked_summary

LEAD = ("地平线今天发布了新一代车载芯片征程6，算力达到560 TOPS。",
        "该芯片面向高阶智能驾驶，已获得多家车企定点。",
        "公司表示，首批量产车型将于明年上市。")
BODY = ("据介绍，征程6采用全新的BPU架构，支持Transformer模型的高效推理。",
        "在能效方面，征程6的每瓦算力较上一代提升了数倍。",
        "业内人士认为，国产智驾芯片正在进入大规模量产阶段。")


@pytest.mark.parametrize("intruder", [
    "图1：征程6芯片的外观，摄于发布会现场。",            # a caption
    "▲ 地平线创始人在发布会上展示征程6芯片",              # a caption under an image
    "Image: Horizon Robotics press kit, used with permission.",  # an English caption
    "图片来源：视觉中国",                                  # a credit
    "The prototype board on the bench. Photo by Lin Xi for the company.",  # English credits,
    "A wafer of the new chip, image courtesy of the foundry.",             # inside a caption
    "扫码关注我们的公众号，获取更多智能驾驶资讯。",        # a call to scan and follow
    "长按识别下方二维码，加入读者交流群。",                # a QR code
    "【广告】某某云服务器限时五折，点击链接立即购买。",    # an ad
    "编者按：本文作者为地平线前员工，观点仅代表个人。",    # an editor's note
    "Editor's note: this story was updated with the company's statement.",
    "本文来自微信公众号“芯片观察”，转载请联系原作者。",    # a reprint credit
])
def test_the_summary_never_takes_what_is_not_prose(intruder):
    # The intruder where editors put it: after the lead, and at the end where the demo's
    # last item picked up a caption.
    text = "\n".join([LEAD[0], intruder, *LEAD[1:], *BODY, intruder])
    for summary in (ranked_summary(text, 120), ranked_summary(text, 1000), lead_summary(text, 120)):
        assert intruder not in summary and intruder[:8] not in summary
        assert summary.startswith(LEAD[0])
    assert not_prose(intruder)


def test_prose_is_not_taken_for_an_intruder():
    """The filter is narrow: ordinary news sentences, Chinese and English, pass."""
    for sentence in (*LEAD, *BODY, "The company said the chip will ship next year.",
                     "Source code for the model is on GitHub, the company said."):
        assert not not_prose(sentence), sentence


def test_the_summary_is_consecutive_sentences_from_the_lead_in_one_paragraph():
    text = "\n\n".join([" ".join(LEAD[:2]), LEAD[2], *BODY])
    summary = ranked_summary(text, len("".join(LEAD)))
    assert "\n" not in summary
    assert summary == "".join(LEAD)  # the lead's run, across its paragraphs, nothing from further on
    whole = ranked_summary(text, 1000)
    assert whole == "".join([*LEAD, *BODY])
    assert lead_summary(text, 1000) == whole  # the lead summarizer too: one paragraph


def test_a_summary_does_not_end_on_a_question_it_cuts_off_from_its_answer():
    question = "为什么需要这样一个中间层？"
    text = "".join([LEAD[0], LEAD[1], question, "因为每家芯片的算子支持都不一样，模型需要逐一适配。", *BODY])
    assert ranked_summary(text, len(LEAD[0] + LEAD[1] + question)) == LEAD[0] + LEAD[1]
