"""The optional writer: an OpenAI-compatible model that writes each item's Chinese summary
(and a Chinese title for articles in other languages) and the daily issue's headline,
insights and short version for WeChat Moments.

:mod:`~.settings` is the ``[writer]`` table, :mod:`~.client` one request with its retries,
:mod:`~.checks` the check before use, :mod:`~.write` the runs with their cache and budgets.
Off by default; without it the extractive summaries stand as they are.
"""
