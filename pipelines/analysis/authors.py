"""Bylines as Chinese and English pages write them.

trafilatura drops a name with no space in it and takes a site's name for its author; here
a byline is looked for where pages print it (under the headline, at the top or the foot of
the article, in the line after it), with the page's own labels, most telling first:
``作者：`` / ``文｜`` / ``By`` before ``记者`` before ``执笔人`` … before ``编辑：`` and
``责任编辑：`` (an editor stands in for an author only when none is named), and ``来源：``
ends a name, never starts one. A ``<meta name="author">`` that names a site or a company
is not an author.
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

# (pattern, what the match is) in the order a byline is trusted.
BYLINES: tuple[re.Pattern, ...] = (
    re.compile(rf"(?:作者|撰文|撰稿|文|作\s*者)\s*[：:｜|丨/]\s*(?P<name>{_NAMES}){_END}"),
    re.compile(rf"\b(?:By|BY|by)\s+(?P<name>{_LATIN_NAMES})(?=$|[\s,|.;]|\d)"),
    # "（记者 胡晓蓉）", "记者：李四": a label, not "接受记者采访" in running text.
    re.compile(rf"(?:^|(?<=[\s(（【\[|｜丨]))(?:记者|記者|通讯员|通訊員)\s*[：:]?\s*(?P<name>{_NAMES}){_END}"),
    re.compile(rf"(?:执笔人|執筆人|译者|譯者|编译|編譯)\s*[：:｜|]\s*(?P<name>{_NAMES}){_END}"),
    re.compile(r"本[贴帖]由\s*(?P<name>\S{1,20})\s*于"),
    re.compile(r"[\[【]\s*(?P<name>[\u3400-\u9fff·]{2,3})\s*[\]】]"),
    re.compile(rf"(?:责任编辑|責任編輯|责编|責編|编辑|編輯)\s*[：:｜|]\s*(?P<name>{_NAMES}){_END}"),
    re.compile(rf"(?P<name>{_CJK_NAME})\s*/\s*摄"),
)
LABELLED = tuple(p for p in BYLINES if "name" in p.pattern and ("：" in p.pattern or "本" in p.pattern))
# An article that ends with its author in brackets: "……过廉洁之年。（常书香 马丹阳）".
TRAILING = re.compile(rf"[（(]\s*(?:记者\s*)?(?P<name>{_NAMES})\s*[)）]\s*$")
# The name line right under a headline: "社会资本、人力资本与下岗职工的再就业 赵延东、风笑天 近年来".
UNDER_HEADLINE = re.compile(rf"^\s*(?P<name>{_CJK_NAME}(?:[、，,]{_CJK_NAME}){{1,5}})\s")

# Words that stand where a name would and are none: labels, buttons, sections.
NOT_NAMES = frozenset({
    "本报", "本站", "本网", "网友", "记者", "编辑", "作者", "来源", "原创", "转载", "佚名", "匿名", "小编",
    "管理员", "图片", "摄影", "视频", "专题", "评论", "打印", "关闭", "返回", "分享", "收藏", "查看", "更多",
    "admin", "Admin", "新华社", "中新社", "人民网", "新华网", "央视网", "本文", "全文", "正文", "相关"})
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


def is_name(name: str) -> bool:
    return bool(name) and name not in NOT_NAMES and not _UI_WORDS.search(name) and not _ORG.search(name)


def find_byline(page_text: str, headline_end: int | None, article_text: str,
                meta_author: str | None, guess: str | None = None) -> tuple[str, list[str]] | None:
    """``(byline as written, names)`` or None.

    ``page_text`` is the whole page's text on one line, ``headline_end`` where the
    headline ends in it, ``article_text`` the extracted body, ``meta_author`` what the
    page's metadata says and ``guess`` a generic extractor's guess, the last resort.
    """
    if meta_author and is_name(meta_author.strip()) and len(meta_author) <= 80:
        names = [n for n in split_names(meta_author.strip()) if is_name(n)]
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
                found = _accept(match["name"])
                if found:
                    return found
    found = TRAILING.search(body)
    if found and _accept(found["name"]):
        return _accept(found["name"])
    if headline_end is not None:
        found = UNDER_HEADLINE.match(page_text[headline_end:headline_end + 60])
        if found and _accept(found["name"]):
            return _accept(found["name"])
    # Old table-layout pages come out of extraction whole, byline in the middle, or leave it
    # out: a labelled byline anywhere in the text, then in the page, still says who wrote it.
    for text in (body, page_text):
        for pattern in LABELLED:
            for match in pattern.finditer(text):
                found = _accept(match["name"])
                if found:
                    return found
    return _accept(guess) if guess and len(guess) <= 40 else None


def _accept(raw: str) -> tuple[str, list[str]] | None:
    """The names a matched byline starts with; a byline that runs into a button or a label
    ("作者：王晓明 评论") keeps the names before it."""
    raw = " ".join(raw.split()).strip(" ,，、/")
    kept: list[str] = []
    for name in split_names(raw):
        if not is_name(name):
            break
        kept.append(name)
    if not kept:
        return None
    return raw[: raw.find(kept[-1]) + len(kept[-1])], kept
