"""aibrief's crawler: configuration, Scrapy settings and spiders, and the command line."""

__version__ = "0.1.0"


def user_agent(contact: str) -> str:
    """What aibrief calls itself on every request: its name, version and a contact URL."""
    return f"aibrief/{__version__} (+{contact})"
