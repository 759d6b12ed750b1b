"""Publishing an issue beyond the Markdown file: a WeChat-ready HTML article
(:mod:`.wechat`), the static archive with its Atom feed (:mod:`.site`), and delivery to
chat robots, webhooks and e-mail when an issue is published (:mod:`.deliver`, with the
message formats of each channel in :mod:`.channels`).

All of them read the issue through :mod:`.outline`, which lays it out weekly or daily as
the Markdown export does; :func:`.deliver.publish_and_deliver` is the one call that freezes
an issue and then delivers it, for the command line and the editor's desk alike.
"""
