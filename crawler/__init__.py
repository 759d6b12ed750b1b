"""aibrief's crawler: configuration, Scrapy settings and spiders, and the command line."""

__version__ = "0.1.0"
