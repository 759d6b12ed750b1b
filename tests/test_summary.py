"""Lead summaries: whole sentences, about the configured length, no bylines or link lines."""
from __future__ import annotations

import math

from pipelines.analysis.summary import _Sentence, _similarities, lead_summary, rank_sentences, sentences

ZH = ("机器之心报道\n编辑：林溪\n"
      "把视觉模型压到4比特，精度几乎不掉。这是一项新研究给出的结论！研究团队来自一所大学和一家芯片公司。\n"
      "论文地址：https://arxiv.org/abs/2210.03142\n"
      "方法概览\n"
      "他们提出的框架分为三步：先校准，再搜索位宽，最后微调。实验覆盖了五款手机芯片。")


def test_chinese_sentences_end_at_their_marks():
    assert sentences("他说：“好。”然后走了。真的吗？是的！") == ["他说：“好。”", "然后走了。", "真的吗？", "是的！"]


def test_english_sentences_survive_abbreviations_and_decimals():
    assert sentences("Dr. Faust, e.g. here, ran it 3.5 times faster. The U.S. team agrees! Done.") == [
        "Dr. Faust, e.g. here, ran it 3.5 times faster.", "The U.S. team agrees!", "Done."]


def test_summary_skips_bylines_headings_and_link_lines():
    summary = lead_summary(ZH, limit=300)
    assert summary.startswith("把视觉模型压到4比特")
    assert "编辑" not in summary and "机器之心报道" not in summary
    assert "https://" not in summary and "方法概览" not in summary
    assert summary.endswith("实验覆盖了五款手机芯片。")


def test_a_dispatch_line_is_left_out_wherever_its_mark_stands():
    # "发自" opens no line: a dispatch names the reporter and the place first. This one is a
    # whole sentence, long enough not to be taken for a heading.
    dispatch = "林溪 发自 凹非寺的编辑部，记录下这场发布会上的全部细节。"
    summary = lead_summary("\n".join([dispatch, ZH.splitlines()[2]]), limit=300)
    assert summary.startswith("把视觉模型压到4比特") and "凹非寺" not in summary


def test_summary_stops_at_a_sentence_end_within_the_limit():
    summary = lead_summary(ZH, limit=40)
    assert summary == "把视觉模型压到4比特，精度几乎不掉。这是一项新研究给出的结论！"


def test_a_short_news_flash_is_kept_whole():
    flash = "36氪获悉，某芯片公司完成新一轮融资，资金将用于车规级芯片量产。" * 3
    assert lead_summary(flash, limit=300) == flash


def test_one_overlong_sentence_is_cut_at_a_clause_not_mid_word():
    sentence = "，".join(["这是一个很长的分句用来测试"] * 60) + "。"
    summary = lead_summary(sentence, limit=100)
    assert summary.endswith("…") and len(summary) <= 101
    assert summary[:-1].endswith("测试")


def test_title_repeated_as_first_line_is_dropped():
    assert lead_summary("标题在这里\n正文第一句话写在这里。", title="标题在这里") == "正文第一句话写在这里。"


def test_english_gets_more_characters():
    text = " ".join(f"Sentence number {n} says something about edge inference." for n in range(30))
    summary = lead_summary(text, limit=100)
    assert 100 < len(summary) <= 200 and summary.endswith(".")


def test_sentences_rank_by_what_they_share_and_by_their_place():
    words = [frozenset("ab cd ef".split()), frozenset("gh ij".split()), frozenset("ab cd ef kl".split()),
             frozenset("mn op".split())]
    ranked = [_Sentence(n, f"s{n}", w) for n, w in enumerate(words)]
    rank_sentences(ranked)
    scores = [s.score for s in ranked]
    assert abs(sum(scores) - 1) < 1e-9
    # The two sentences that share words pass score to each other; the loners keep only
    # what the lead bias gives them, the earlier one more.
    assert scores[2] > scores[1] > scores[3]
    assert scores[0] > scores[1]
    alone = [_Sentence(n, f"s{n}", frozenset([f"w{n}"])) for n in range(3)]
    rank_sentences(alone)
    assert [round(s.score, 9) for s in alone] == [round(x / (1 + 1 / 2 + 1 / 3), 9) for x in (1, 1 / 2, 1 / 3)]
    single = [_Sentence(0, "s0", frozenset())]
    rank_sentences(single)
    assert single[0].score == 1.0


def test_similarity_is_shared_words_over_the_log_lengths():
    words = [frozenset({"a", "b", "c"}), frozenset({"b", "c", "d", "e"}), frozenset({"x"}), frozenset(),
             frozenset({"x", "a"})]
    got = _similarities(words)
    assert got[0][1] == got[1][0] == 2 / (math.log(3) + math.log(4))
    assert got[0][4] == 1 / (math.log(3) + math.log(2))
    # Log lengths summing to 1 or less: the shared count alone (log 1 + log 2 = 0.69).
    assert got[2][4] == 1.0 and _similarities([frozenset({"x"}), frozenset({"x"})])[0][1] == 1.0
    assert got[3].tolist() == [0.0] * 5 and got[1][2] == 0.0
    assert [got[i][i] for i in range(5)] == [0.0] * 5
