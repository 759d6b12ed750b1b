"""Scrapy settings for aibrief: every process default in one place.

``scrapy crawl <spider>`` from the checkout and the ``aibrief`` command both run with
these. Values that belong to the user (USER_AGENT's contact URL, DOWNLOAD_DELAY,
DOWNLOAD_TIMEOUT, RETRY_TIMES) are not here: they come from the TOML configuration (whose
shipped copy holds their defaults) and are applied by the spiders' ``update_settings``;
our own settings share the ``AIBRIEF_`` prefix.
"""

BOT_NAME = "aibrief"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"

# Where the configuration and the database are: None means "as the aibrief command would
# find them" (the AIBRIEF_CONFIG / AIBRIEF_DB environment, ./aibrief.toml, the default).
AIBRIEF_CONFIG = None
AIBRIEF_DB = None
# The parsed configuration (schedules.settings.Config): set by the spiders from the file
# above before the settings freeze, read by every component in from_crawler.
AIBRIEF_SETTINGS = None
# The crawl_runs row this process reports into; None: the process records a run of its own.
AIBRIEF_RUN_ID = None
# Extraction worker processes: None is one per core, 0 extracts inline in the reactor.
AIBRIEF_EXTRACT_WORKERS = None
# Seconds a worker may spend on one page before it is taken for hung, killed and replaced
# (the slowest page of the shared corpus takes 0.4 s).
AIBRIEF_EXTRACT_TIMEOUT = 60.0

# Politeness. The user agent names the project and a contact URL from the configuration.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOADER = "crawler.downloader.SlotLimitDownloader"  # keeps that limit under asyncio: see its module
# Reuses connections to an HTTP proxy, which every host shares (see crawler.downloader).
DOWNLOAD_HANDLERS = {"http": "crawler.downloader.ProxyPoolHTTPDownloadHandler",
                     "https": "crawler.downloader.ProxyPoolHTTPDownloadHandler"}
# Items handled at once per response. A page yields one item and a feed a list of
# requests; Scrapy starts this many tasks for every response whatever it yields, and
# its default of 100 cost more main-process time per page than storing the article.
CONCURRENT_ITEMS = 4
# Scrapy checks every response's callback for a generator that returns a value by
# reading its source and parsing it; its cache is keyed on the bound method, a new object
# per response, so the source was parsed again for every page (about a millisecond of
# main-process time each, measured with aibrief bench). Our callbacks return no values.
WARN_ON_GENERATOR_RETURN_VALUE = False
COOKIES_ENABLED = False
# Article pages are tens of kilobytes; 10 MB is far beyond any of them and keeps a
# runaway or hostile response from filling memory.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 10
METAREFRESH_ENABLED = True

DOWNLOADER_MIDDLEWARES = {
    # No fetching inside the network aibrief runs in (crawler.addresses): by URL before
    # anything else, and by resolved address next to the downloader, before a retry.
    "crawler.middlewares.AddressPolicyMiddleware": 50,
    "crawler.middlewares.ResolvedAddressMiddleware": 950,
    # robots.txt that answers 5xx or cannot be fetched closes its host for the run
    # (Scrapy allows everything then); its Crawl-delay is kept.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.PoliteRobotsTxtMiddleware": 100,
    # Above the retry middleware (550), so that it sees a 429/503 Retry-After first.
    "crawler.middlewares.HostPacingMiddleware": 560,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.QuickMetaRefreshMiddleware": 580,  # Scrapy's place for it
}
# 429 joins Scrapy's retried statuses by default; listed here to say that it is meant.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]

ITEM_PIPELINES = {
    "pipelines.canonical.CanonicalPipeline": 100,
    "pipelines.analyse.AnalysePipeline": 200,
    "pipelines.store.StorePipeline": 300,
}
EXTENSIONS = {
    "crawler.runrecord.RunRecorder": 500,
    "crawler.progress.Progress": 510,
}
# Live progress line: None means "when standard error is a terminal".
AIBRIEF_PROGRESS = None
# A crawl opens no listening ports of its own.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
# Resolves names and refuses those that resolve to a private address (crawler.resolver).
TWISTED_DNS_RESOLVER = "crawler.resolver.PolicyResolver"
# Host names pinned to addresses without DNS ("name=address,..."): for tests, as curl --resolve.
AIBRIEF_STATIC_HOSTS = None
FEED_EXPORT_ENCODING = "utf-8"
