"""The arXiv API's Atom answers read into paper records (pipelines.analysis.sites.arxiv.api_entries)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipelines.analysis.sites.arxiv import ApiEntry, api_entries

ANSWER = Path(__file__).parent / "adapters" / "arxiv" / "api-query.xml"


def test_every_field_of_both_entries():
    first, second = api_entries(ANSWER.read_bytes())
    assert first == ApiEntry(
        arxiv_id="2210.04567",
        title="Quantized Event-Camera Networks for Always-On Gesture Recognition on a 1 mW Budget",
        authors=["Rafael Monteiro", "Anika Bose", "Jonas Eriksen"],
        summary="Event cameras report brightness changes instead of frames, which suits always-on gesture "
                "recognition on battery-powered devices. We show that an ordinary convolutional network over "
                "short event histograms, trained with 4-bit weights, runs the whole pipeline at 0.9 mW on a "
                "microcontroller with a small NPU.",
        published=datetime(2022, 10, 9, 21, 5, 44, tzinfo=timezone.utc),
        updated=datetime(2022, 10, 9, 21, 5, 44, tzinfo=timezone.utc),
        abs_url="https://arxiv.org/abs/2210.04567",
        pdf_url="https://arxiv.org/pdf/2210.04567",
        categories=["cs.CV", "cs.AR", "cs.LG"],  # cross-listed to cs.AR, the category asked for
    )
    assert second == ApiEntry(
        arxiv_id="2210.05555",  # the entry is v2: the id names the paper, not the version
        title="TinyRNN-Sched: Duty-Cycled Recurrent Inference for Batteryless Sensor Nodes",
        authors=["Sun-Hee Park", "Matteo Ricci"],
        summary="Batteryless sensor nodes run on harvested energy and lose power many times an hour. We "
                "schedule the steps of a recurrent network around these outages, checkpointing its hidden state "
                "to non-volatile memory, and finish 3.1x more inferences per joule than a checkpoint-everything "
                "baseline.",
        published=datetime(2022, 10, 11, 13, 40, 9, tzinfo=timezone.utc),
        updated=datetime(2022, 10, 17, 10, 2, 51, tzinfo=timezone.utc),
        abs_url="https://arxiv.org/abs/2210.05555",
        pdf_url="https://arxiv.org/pdf/2210.05555",
        categories=["cs.AR"],
    )


def test_an_empty_answer_is_no_entries():
    assert api_entries(b'<feed xmlns="http://www.w3.org/2005/Atom"><title>ArXiv Query</title></feed>') == []


@pytest.mark.parametrize("body", [
    ANSWER.read_bytes()[:1500],  # cut off mid-entry
    b"",
    b"<html><body>Service Unavailable</body></html>",
    b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2210.04567v1</id>'
    b"<published>last week</published></entry></feed>",
], ids=["truncated", "empty", "html", "bad-date"])
def test_a_broken_answer_raises_one_line_value_error(body):
    with pytest.raises(ValueError, match="^arXiv API") as raised:
        api_entries(body)
    assert "\n" not in str(raised.value)


def test_an_error_entry_raises_with_arxivs_reason():
    body = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
            b"<id>http://arxiv.org/api/errors#incorrect_id_format_for_2210.9</id><title>Error</title>"
            b"<summary>incorrect id format for 2210.9</summary></entry></feed>")
    with pytest.raises(ValueError, match="incorrect id format for 2210.9"):
        api_entries(body)


def test_entities_are_not_expanded(tmp_path):
    """An answer that declares an external entity gets no file read into its text."""
    secret = tmp_path / "secret.txt"
    secret.write_text("do-not-read-me")
    body = (f'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY leak SYSTEM "file://{secret}">]>'
            '<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2210.04567v1</id>'
            "<title>Paper &leak;</title><summary>Abstract.</summary>"
            "<published>2022-10-09T21:05:44Z</published><updated>2022-10-09T21:05:44Z</updated>"
            "</entry></feed>").encode()
    (entry,) = api_entries(body)
    assert "do-not-read-me" not in entry.title
