"""``aibrief bench``: the throughput benchmark (see :mod:`crawler.bench`)."""
from __future__ import annotations

import json
from pathlib import Path

import click

from crawler import bench as measure
from crawler import bench_cluster
from crawler.bench_desk import bench_desk
from crawler.bench_rehash import bench_rehash
from crawler.bench_search import bench_search
from crawler.bench_search import report as search_report
from crawler.bench_writer import bench_writer
from crawler.cli.common import Failure, handled
from pipelines.analysis.pool import default_workers
from pipelines.editorial.export import write_whole


@click.command()
@click.option("--pages", default=2000, show_default=True, help="Pages in the bench site.")
@click.option("--workers", default=default_workers(), show_default=True, help="Extraction workers for the pool run.")
@click.option("--corpus", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Build the site from the pages in this folder (*.html, *.html.gz). Default: ../shared/corpus "
                   "beside the checkout when it is there, else the bundled sample pages.")
@click.option("--bundled", is_flag=True, help="Build the site from the bundled sample pages, whatever is beside the checkout.")
@click.option("--repeat", default=3, show_default=True, type=click.IntRange(1, 20),
              help="Runs of each kind; each figure is the median.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the figures here.")
@click.option("--memory", is_flag=True, help="Instead: peak RSS of the pool crawl at 2,000 and 10,000 pages.")
@click.option("--load", is_flag=True, help="Instead: 5,000 URLs over 50 loopback hosts (per-host limits, memory, errors).")
@click.option("--rehash", is_flag=True,
              help="Instead: the band-key migration on an archive of --pages articles (100,000 for the figure).")
@click.option("--search", "search_quality", is_flag=True,
              help="Instead: recall and cost of the full-text index candidates on the labelled queries.")
@click.option("--writer", is_flag=True,
              help="Instead: the writer, 200 articles against a loopback model server (50 ms a request), twice.")
@click.option("--desk", is_flag=True,
              help="Instead: the editor's desk, its candidates page with 500 stories and an edit's answer.")
@click.option("--cluster", type=click.IntRange(min=1), metavar="N",
              help="Instead: cluster runs with 1 to N workers (one writer, one Redis) against the single-process crawl.")
@click.option("--kills", default=0, show_default=True, type=click.IntRange(min=0),
              help="With --cluster: SIGKILL a random worker this many times in each run (then check nothing is lost).")
@handled
def bench(pages, workers, corpus, bundled, repeat, json_path, memory, load, rehash, search_quality, writer,
          desk, cluster, kills):
    """Measure throughput: bare trafilatura, the crawl inline, the crawl with the pool.

    All three over the same pages, served from loopback by a separate process, and bare
    trafilatura again in one process per core at once (what the machine gives it on every
    core), in --repeat rounds of every run: every figure is the median of its runs. The
    first line names the corpus the pages came from; each crawl's line gives the CPU a page took in
    the crawl process (and the part of it storing took) and in the extraction workers.
    The last line gives pool/inline, pool/(cores x bare) and pool/(bare on every core),
    each the median of the rounds' own ratios.
    --memory and --load run the memory and load checks instead; --writer the writer's
    (one request per article at concurrency 4, then the same articles from the archive
    with no request); --rehash times the migration that makes every stored band key again;
    --search compares full-text indexes by recall on tests/fixtures/search/queries.tsv;
    --desk the desk's (the candidates page rendered with 500 stories, a summary edit and a
    move, in the server and over HTTP). --cluster N runs cluster mode (README, "Cluster
    mode") with 1 to N workers on this machine, each with --workers extraction workers:
    pages/s against the single-process crawl, Redis commands a page and Redis memory.

    \b
    Example:
        aibrief bench --pages 2000 --repeat 3 --json bench.json
        aibrief bench --rehash --pages 100000
        aibrief bench --desk
        aibrief bench --cluster 2 --pages 1000 --workers 1
    """
    if desk:
        result = bench_desk()
        for name, label in (("candidates", f"candidates page, {result['candidates_shown']} stories"),
                            ("edit", "summary edit"), ("move", "move")):
            inside, http = result[f"{name}_ms"], result[f"{name}_http_ms"]
            click.echo(f"desk: {label}: {inside['median']:.1f} ms in the server (p95 {inside['p95']:.1f}), "
                       f"{http['median']:.1f} ms over HTTP (p95 {http['p95']:.1f})")
        if json_path:
            write_whole(json_path, json.dumps(result, indent=2) + "\n")
        return
    if writer:
        result = bench_writer()
        click.echo(f"writer: {result['articles']} articles, {result['first_requests']} requests at "
                   f"{1000 * result['latency_s']:.0f} ms, concurrency {result['concurrency']} (at most "
                   f"{result['most_in_flight']} in flight): {result['first_s']:.2f} s, {result['first_failures']} failed")
        click.echo(f"writer again: {result['second_requests']} requests, {result['second_cache_hits']} from the "
                   f"archive: {result['second_s']:.2f} s")
        if json_path:
            write_whole(json_path, json.dumps(result, indent=2) + "\n")
        return
    if bundled:
        corpus = None
    elif corpus is None:
        corpus = measure.default_corpus()
    if search_quality:
        result = bench_search(corpus, echo=lambda line: click.echo(line, err=True))
        for line in search_report(result):
            click.echo(line)
        if json_path:
            write_whole(json_path, json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        return
    if rehash:
        click.echo(f"corpus: {measure.corpus_name(corpus)}")
        result = bench_rehash(pages, corpus, echo=lambda line: click.echo(line, err=True))
        click.echo(f"band-key migration: {result['articles']} articles ({result['avg_chars']} characters on average, "
                   f"{result['db_mb']} MB) in {result['seconds']:.1f} s ({result['ms_per_article']:.2f} ms an article, "
                   f"{result['cpu_seconds']:.1f} s of CPU), {result['band_rows']} band keys")
        if json_path:
            write_whole(json_path, json.dumps(result, indent=2) + "\n")
        return
    if cluster:
        click.echo(f"corpus: {measure.corpus_name(corpus)}")
        try:
            result = bench_cluster.run(tuple(range(1, cluster + 1)), pages, workers, corpus, kills,
                                       echo=lambda line: click.echo(line, err=True))
        except measure.BenchError as exc:
            raise Failure(str(exc)) from None
        for line in bench_cluster.report(result):
            click.echo(line)
        if json_path:
            write_whole(json_path, json.dumps(result, indent=2) + "\n")
        return
    try:
        result = _measure(pages, workers, corpus, memory, load, repeat)
    except measure.BenchError as exc:
        raise Failure(str(exc)) from None
    if json_path:
        write_whole(json_path, json.dumps(result, indent=2) + "\n")


def _measure(pages, workers, corpus, memory, load, repeat) -> dict:
    echo = lambda line: click.echo(line, err=True)  # noqa: E731
    if memory:
        click.echo(f"corpus: {measure.corpus_name(corpus)}")
        result = measure.memory(workers, corpus, echo=echo, repeat=repeat)
        for size in ("2000", "10000"):
            click.echo(f"pool, {size:>5} pages: peak RSS {result[size]['peak_rss_mb']:.0f} MB, "
                       f"{result[size]['pages_per_s']:.1f} pages/s")
        click.echo(f"peak RSS growth from 2,000 to 10,000 pages: {100 * result['growth']:+.1f} %")
    elif load:
        result = measure.load(workers=workers, echo=echo)
        click.echo(f"{result['pages']} stored of 5000 URLs over {result['hosts']} hosts in {result['seconds']:.0f} s "
                   f"({result['pages_per_s']:.1f} pages/s), {result['failed']} failed, peak RSS "
                   f"{result['peak_rss_mb']:.0f} MB, at most {result['most_at_once_on_a_host']} request at once per host")
    else:
        result = measure.run(pages, workers, corpus, echo=echo, repeat=repeat)
        for line in measure.report(result):
            click.echo(line)
    return result


COMMANDS = (bench,)
