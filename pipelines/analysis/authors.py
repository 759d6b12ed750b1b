"""Bylines as Chinese and English pages write them.

trafilatura drops a name with no space in it and takes a site's name for its author; here
a byline is looked for where pages print it (under the headline, at the top or the foot of
the article, in the line after it), with the page's own labels, most telling first:
``作者：`` / ``文｜`` / ``By`` before ``记者`` before ``执笔人`` … before ``编辑：`` and
``责任编辑：`` (an editor stands in for an author only when none is named), and ``来源：``
ends a name, never starts one. A ``<meta name="author">`` that names a site or a company
is not an author.

Precision first: a wrong author is worse than none. A name is taken only from places that
name one (a labelled byline, the line under the headline, the article's closing brackets,
``<meta name="author">``, JSON-LD, the site adapters), and refused when it is a label, a
button, a navigation or column word (招聘, 博客, 详情, 精华区), the site's own name, the
software the site runs on, or a user id.
"""
from __future__ import annotations

import re

_CJK_NAME = r"[\u3400-\u9fff·]{2,4}"
# After the first name, more names follow a separator; one after a bare space must be two or
# three characters, as most Chinese names are, so that "作者：宋怡 杨志华 我要说说" stops
# before the "say something" button.
_NAMES = (rf"{_CJK_NAME}(?:\s*[(（][A-Za-z .'-]{{2,40}}[)）])?"
          rf"(?:\s*[、，,/]\s*{_CJK_NAME}|\s+[\u3400-\u9fff·]{{2,3}}(?![\u3400-\u9fff])){{0,7}}")
_LATIN_NAMES = r"[A-Z][A-Za-z.'-]+(?:\s+[A-Z][A-Za-z.'-]+){0,3}(?:(?:,\s*|\s+and\s+)[A-Z][A-Za-z.'-]+(?:\s+[A-Z][A-Za-z.'-]+){0,3}){0,5}"
_END = r"(?=$|[\s,，;；。|｜丨/)）】\]]|来源|來源|编辑|編輯|责编|责任|日期|时间|發布|发布|\d)"


def _opening(words: str, before: str) -> str:
    """A pattern for one of ``words`` (``|`` between them) at the start of the text or right
    after one of the characters ``before`` (a character class's contents). The condition is
    a lookbehind over each word, after it, so that the pattern opens with the words: opening
    with the condition had the regular expression engine try every position of a page's
    text (0.3 ms a pattern)."""
    return "(?:" + "|".join(f"{word}(?<![^{before}]{word})" for word in words.split("|")) + ")"


# (pattern, what the match is) in the order a byline is trusted.
BYLINES: tuple[re.Pattern, ...] = (
    re.compile(rf"(?:作者|撰文|撰稿|文|作\s*者)\s*[：:｜|丨/]\s*(?P<name>{_NAMES}){_END}"),
    re.compile(rf"\b(?:By|BY|by)\s+(?P<name>{_LATIN_NAMES})(?=$|[\s,|.;]|\d)"),
    # "（记者 胡晓蓉）", "记者：李四": a label, not "接受记者采访" in running text.
    re.compile(_opening("记者|記者|通讯员|通訊員", r"\s(（【\[|｜丨") + rf"\s*[：:]?\s*(?P<name>{_NAMES}){_END}"),
    re.compile(rf"(?:执笔人|執筆人|译者|譯者|编译|編譯)\s*[：:｜|]\s*(?P<name>{_NAMES}){_END}"),
    re.compile(r"本[贴帖]由\s*(?P<name>\S{1,20})\s*于"),
    # Blog and forum software: "由 海风 张贴 @ 2005-06-10", "Posted by Ann Lee".
    re.compile(_opening("由", r"\s(（\[|") + r"\s*(?P<name>[\w&·.-]{2,16}?)\s*(?:张贴|張貼|发表|發表)"),
    re.compile(r"\bPosted by\s+(?P<name>[A-Z][A-Za-z.'-]+(?:\s+[A-Z][A-Za-z.'-]+){0,2})"),
    re.compile(rf"(?:责任编辑|責任編輯|责编|責編|编辑|編輯)\s*[：:｜|]\s*(?P<name>{_NAMES}){_END}"),
    re.compile(rf"(?P<name>{_CJK_NAME})\s*/\s*摄"),
)
# Searched for anywhere in the text when nothing is found near the headline or the article's
# ends: the bylines with a label ("作者：", "记者", "本帖由 … 于", "责任编辑：").
LABELLED = tuple(p for p in BYLINES if "name" in p.pattern and ("：" in p.pattern or "本" in p.pattern
                                                                or "张贴" in p.pattern))
# A forum reply's floor ("第 3 楼"): a byline after it is the reply's author, not the thread's.
REPLY_FLOOR = re.compile(r"第\s*(?:[2-9]|\d{2,})\s*楼|回复\s*[#＃]?\s*\d+\s*楼|\d+\s*楼\s*回复")
REPLY_REACH = 120  # characters before a byline in which a reply's floor number stands
# A name in brackets ("[ 黄宇 ]") is a byline only in the line under the headline; elsewhere
# brackets hold column and navigation words ("【招聘】", "[详情]").
BRACKETED = re.compile(r"[\[【]\s*(?P<name>[\u3400-\u9fff·]{2,3})\s*[\]】]")
# An article that ends with its author in brackets: "……过廉洁之年。（常书香 马丹阳）".
TRAILING = re.compile(rf"[（(]\s*(?:记者\s*)?(?P<name>{_NAMES})\s*[)）]\s*$")
# The name line right under a headline: "社会资本、人力资本与下岗职工的再就业 赵延东、风笑天 近年来".
UNDER_HEADLINE = re.compile(rf"^\s*(?P<name>{_CJK_NAME}(?:[、，,]{_CJK_NAME}){{1,5}})\s")

# Words that stand where a name would and are none: labels, buttons, sections.
NOT_NAMES = frozenset({
    "本报", "本站", "本网", "网友", "记者", "编辑", "作者", "来源", "原创", "转载", "佚名", "匿名", "小编",
    "管理员", "图片", "摄影", "视频", "专题", "评论", "打印", "关闭", "返回", "分享", "收藏", "查看", "更多",
    "admin", "Admin", "新华社", "中新社", "人民网", "新华网", "央视网", "本文", "全文", "正文", "相关"})
# Navigation, channel and column words: on a page they stand in brackets or after a label
# where a byline would ("【招聘】", "作者：博客").
_NAV_WORDS = re.compile(r"招聘|博客|详情|詳情|精华|精華|视评|視評|论坛|論壇|社区|社區|频道|頻道|栏目|欄目|专栏|專欄|导航|導航|"
                        r"热门|熱門|最新|帮助|幫助|客服|广告|廣告|联系|聯繫|投稿|搜索|快讯|快訊|直播|图集|圖集|问答|問答|"
                        r"百科|会员|會員|客户端|下载|下載|微博|微信|公众号|公眾號|头条|頭條|要闻|要聞|专区|專區|板块|"
                        r"版块|話題|话题|标签|標籤|文章|资讯|資訊|教程|产品|產品|服务|服務|首页|首頁|官方|官网|官網|"
                        r"时评|時評|观点|觀點|视频|視頻|图片|圖片|汇总|匯總|合集|目录|目錄|列表|全部|其他|其它")
# Software that signs pages it builds ("Powered by Discuz!", meta author "DedeCMS").
_SOFTWARE = re.compile(r"discuz|phpwind|wordpress|dedecms|织梦|帝国cms|\bcms\b|joomla|drupal|typecho|z-?blog|"
                       r"hexo|jekyll|hugo\b|powered|blogger|ghost\b|squarespace|\bwix\b|emlog|pageadmin|shopex",
                       re.IGNORECASE)
# A user id, not a name: Latin letters with digits or underscores, an @handle, a number.
_USER_ID = re.compile(r"^@|^[A-Za-z0-9_.\-]*[\d_][A-Za-z0-9_.\-]*$|^[a-z][a-z0-9.\-]*$")
_UI_WORDS = re.compile(r"收藏|回复|打印|关闭|推荐|评论|返回|分享|登录|注册|点击|下载|订阅|举报|字号|字体|本文|本贴|本帖|"
                       r"刷新|顶部|标题|排行|首页|上一|下一|更多|热点|精彩|相关|我要|说说")
# A "name" that is a site or an organisation: a domain, or a publisher's ending.
_ORG = re.compile(r"(https?:|www\.|\.(com|cn|net|org)\b|网$|网络|报$|日报|晚报|社$|出版|集团|公司|中心|频道|传媒|"
                  r"新闻|杂志|Publish|Inc\b|Ltd\b|Media|News|Press|Team\b)", re.IGNORECASE)
WINDOW = 200  # characters around a headline or an article's ends that a byline sits in


def split_names(text: str) -> list[str]:
    """``张三、李四`` / ``宋怡 杨志华`` / ``Ann Lee, Bo Chen and Cy Wu`` -> names."""
    text = re.sub(r"[(（][A-Za-z .'-]+[)）]", lambda m: m.group(0).replace(" ", "\u00a0"), text)
    if re.search(r"[A-Za-z]", re.sub(r"[(（].*?[)）]", "", text)):
        parts = re.split(r"\s*(?:,|;|，|、|\band\b|&)\s*", text)
    else:
        parts = re.split(r"\s*[、，,;；/|｜\s]\s*", text)
    names: list[str] = []
    for part in parts:
        part = part.replace("\u00a0", " ").strip(" .:：")
        if part and part not in names:
            names.append(part)
    return names


def is_name(name: str, site_names: tuple[str, ...] = ()) -> bool:
    """Whether ``name`` can be a person's (or a pen) name, not a label, a column, a site,
    software or a user id. ``site_names``: what the site calls itself."""
    if not name or len(name) > 40 or name in NOT_NAMES:
        return False
    if _UI_WORDS.search(name) or _ORG.search(name) or _NAV_WORDS.search(name) or _SOFTWARE.search(name):
        return False
    if _USER_ID.search(name):
        return False
    folded = name.casefold().replace(" ", "")
    return not any(folded == site or site in folded for site in site_names if site)


def find_byline(page_text: str, headline_end: int | None, article_text: str,
                meta_author: str | None, guess: str | None = None,
                site_names: tuple[str, ...] = ()) -> tuple[str, list[str]] | None:
    """``(byline as written, names)`` or None.

    ``page_text`` is the whole page's text on one line, ``headline_end`` where the
    headline ends in it, ``article_text`` the extracted body, ``meta_author`` what the
    page's metadata says and ``guess`` a generic extractor's guess, the last resort;
    ``site_names`` what the site calls itself (its name is never its author).
    """
    sites = tuple(dict.fromkeys(n.casefold().replace(" ", "") for n in site_names if n and len(n) >= 2))

    def accept(raw: str | None) -> tuple[str, list[str]] | None:
        return _accept(raw, sites) if raw else None

    if meta_author and len(meta_author) <= 80 and is_name(meta_author.strip(), sites):
        names = [n for n in split_names(meta_author.strip()) if is_name(n, sites)]
        if names:
            return meta_author.strip(), names
    # Table cells come out of extraction as "a | b |": the pipes are not the page's text.
    body = " ".join(re.sub(r"(\s\|)+\s*$", "", article_text.replace(" | ", " ")).split())
    regions = [body[:WINDOW], body[-WINDOW:]]
    if headline_end is not None:
        regions.insert(0, page_text[headline_end:headline_end + WINDOW])
    # The page's own text after the article's last words: where "编辑：山石" lines sit.
    pieces = [p.strip() for p in re.split(r"[。！？!?|]", body) if len(p.strip()) >= 8]
    at = page_text.rfind(pieces[-1]) if pieces else -1
    if at >= 0:
        end = at + len(pieces[-1])
        regions.append(page_text[end:end + WINDOW])
    for pattern in BYLINES:
        for region in regions:
            for match in pattern.finditer(region):
                if _in_reply(region, match.start()):
                    continue
                found = accept(match["name"])
                if found:
                    return found
    if headline_end is not None:
        for match in BRACKETED.finditer(page_text[headline_end:headline_end + WINDOW]):
            found = accept(match["name"])
            if found:
                return found
    found = TRAILING.search(body)
    if found and accept(found["name"]):
        return accept(found["name"])
    if headline_end is not None:
        found = UNDER_HEADLINE.match(page_text[headline_end:headline_end + 60])
        if found and accept(found["name"]):
            return accept(found["name"])
    # Old table-layout pages come out of extraction whole, byline in the middle, or leave it
    # out: a labelled byline anywhere in the text, then in the page, still says who wrote it.
    for text in (body, page_text):
        for pattern in LABELLED:
            for match in pattern.finditer(text):
                if _in_reply(text, match.start()):
                    continue
                found = accept(match["name"])
                if found:
                    return found
    return accept(guess) if guess and len(guess) <= 40 else None


def _in_reply(text: str, at: int) -> bool:
    return bool(REPLY_FLOOR.search(text, max(0, at - REPLY_REACH), at))


def _accept(raw: str, sites: tuple[str, ...] = ()) -> tuple[str, list[str]] | None:
    """The names a matched byline starts with; a byline that runs into a button or a label
    ("作者：王晓明 评论") keeps the names before it."""
    raw = " ".join(raw.split()).strip(" ,，、/")
    kept: list[str] = []
    for name in split_names(raw):
        if not is_name(name, sites):
            break
        kept.append(name)
    if not kept:
        return None
    return raw[: raw.find(kept[-1]) + len(kept[-1])], kept
