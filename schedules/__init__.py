"""When things run: the due rule, the run lock, crawl subprocesses and the scheduler."""
