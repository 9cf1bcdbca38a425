"""Tiny Wikipedia exports (real MediaWiki XML format) with hand-computed expectations.

English (spaced), word counts over the four articles (N = 42 tokens, V = 18 words):
  red 5 | a 4, apple 4, is 4 | See 3, fruit 3 | Apple 2, Banana 2, Cherry 2, and 2,
  banana 2, green 2, yellow 2 | Date 1, Pomme 1, cherry 1, palm 1, tree 1
(refs, templates, the file caption, category and interwiki links are not text).
Bigram PMI = log2(c(ab)·42 / (c(a)·c(b))): "Date palm" log2 42; "and Pomme" log2 21;
ratio 10.5 for "is a" (c=4) and the c=1 pairs "Apple and", "Banana and", "a tree",
"and Cherry", "green banana", "palm is", "yellow banana"; everything else <= 8.4.
In-links (redirect Pomme -> Apple credited to Apple): Apple 3, Banana 1, Cherry 1, Date palm 0.

Chinese (no spaces; jieba): N = 21, V = 9: 熊猫 5, 猫 3, 动物/吃/喜欢/我/是/竹子 2, 大熊猫 1.
PMI ratio 10.5 for 吃竹子, 我喜欢, 是动物 (c=2); 熊猫吃 4.2; 喜欢猫, 猫是 3.5; 熊猫是, 喜欢熊猫 2.1.
In-links: 熊猫 2 (one direct, one through the redirect 大熊猫), 猫 1, 竹子 0.
"""

from __future__ import annotations

import math

from curation.metadata.sources.export_xml import DumpPage, write_dump

EN_PAGES = [
    DumpPage("Apple", "{{Infobox fruit|color=red}}\n'''Apple''' is a red fruit.<ref>red red red red</ref>\n"
                      "red apple. red apple. green apple.\n"
                      "[[File:Apple.jpg|thumb|red red]] [[Category:Fruit]] [[de:Apfel]]\n"
                      "See [[Banana]] and [[Pomme]].\n<!-- red red -->"),
    DumpPage("Banana", "'''Banana''' is a yellow fruit. yellow banana. green banana.\nSee [[Apple]] and [[Cherry]]."),
    DumpPage("Cherry", "'''Cherry''' is a red fruit. red cherry.\nSee [[apple]]."),
    DumpPage("Pomme", redirect="Apple"),
    DumpPage("Category:Fruit", "red red red [[Apple]]", ns=14),
    DumpPage("Date palm", "Date palm is a tree."),
]
EN_N, EN_V = 42, 18
EN_UNIGRAM_RANKING = ["red", "a", "apple", "is", "See", "fruit", "Apple", "Banana", "Cherry", "and", "banana",
                      "green", "yellow", "Date", "Pomme", "cherry", "palm", "tree"]
EN_BIGRAMS_PMI_3_3 = ["Date palm", "and Pomme", "is a", "Apple and", "Banana and", "a tree", "and Cherry",
                      "green banana", "palm is", "yellow banana"]
EN_IN_LINKS = {"Apple": 3, "Banana": 1, "Cherry": 1}

ZH_PAGES = [
    DumpPage("熊猫", "熊猫吃竹子。熊猫是动物。我喜欢熊猫。[[猫]]。"),
    DumpPage("猫", "我喜欢猫。猫是动物。[[熊猫]]。[[大熊猫]]。"),
    DumpPage("大熊猫", redirect="熊猫"),
    DumpPage("竹子", "熊猫吃竹子。"),
]
ZH_N, ZH_V = 21, 9
ZH_UNIGRAM_RANKING = ["熊猫", "猫", "动物", "吃", "喜欢", "我", "是", "竹子", "大熊猫"]
ZH_BIGRAMS_PMI_1_5 = ["吃竹子", "我喜欢", "是动物", "熊猫吃", "喜欢猫", "猫是"]

JA_PAGES = [
    DumpPage("猫", "猫が好きです。犬も好きです。[[犬]]"),
    DumpPage("犬", "犬が好きです。"),
]

PAGE_VIEWS = "\n".join([
    "en Cherry 50 0", "en.m Cherry 25 0", "en Date_palm 100 0", "en Pomme 10 0", "en Apple 5 0",
    "en.d Banana 1000 0",  # Wiktionary: ignored
    "de Apple 999 0",  # another language
    "en.wikipedia Banana 2 desktop 30 A30",  # pageview_complete format
    "malformed line",
]) + "\n"
# views (redirect Pomme credited to Apple): Date palm 100, Cherry 75, Banana 30, Apple 15
EN_TITLES_BY_VIEWS = ["Date palm", "Cherry", "Banana", "Apple"]


def pmi(c_ab: int, c_a: int, c_b: int, n: int) -> float:
    return math.log2(c_ab * n / (c_a * c_b))


def write_dumps(tmp_path) -> dict[str, str]:
    paths = {"en": str(tmp_path / "enwiki-test-pages-articles.xml.bz2"),
             "zh": str(tmp_path / "zhwiki-test-pages-articles.xml"),
             "ja": str(tmp_path / "jawiki-test-pages-articles.xml.gz")}
    write_dump(paths["en"], EN_PAGES, "en", pages_per_stream=2)
    write_dump(paths["zh"], ZH_PAGES, "zh")
    write_dump(paths["ja"], JA_PAGES, "ja")
    views = tmp_path / "pageviews-20250101-000000"
    views.write_text(PAGE_VIEWS, encoding="utf-8")
    paths["views"] = str(views)
    return paths
