"""Multilingual sentence splitting (punkt is English-only) and word lists."""

from __future__ import annotations

import pytest

from curation.realsyn.text import entropy_tokens, split_sentences, words


@pytest.mark.parametrize("lang,text,expected", [
    ("en", "Dr. Smith went home. He slept! Did he? Yes.",
     ["Dr. Smith went home.", "He slept!", "Did he?", "Yes."]),
    ("en", "The U.S. Army is big. J. Smith agreed. Pi is 3.14 exactly. e.g. lowercase. Fine.",
     ["The U.S. Army is big.", "J. Smith agreed.", "Pi is 3.14 exactly. e.g. lowercase.", "Fine."]),
    ("en", 'He said "Stop." Then he left... And came back.',
     ['He said "Stop."', "Then he left...", "And came back."]),
    ("en", "First paragraph without stop\nSecond one", ["First paragraph without stop", "Second one"]),
    ("zh", "今天天气很好。我们去公园！你来吗？", ["今天天气很好。", "我们去公园！", "你来吗？"]),
    ("ja", "東京は大きい。「本当ですか。」と聞いた", ["東京は大きい。", "「本当ですか。」", "と聞いた"]),
    ("hi", "यह एक वाक्य है। यह दूसरा है।", ["यह एक वाक्य है।", "यह दूसरा है।"]),
    ("km", "ខ្ញុំចូលចិត្តឆ្មា។ឆ្មាគួរឲ្យស្រលាញ់។", ["ខ្ញុំចូលចិត្តឆ្មា។", "ឆ្មាគួរឲ្យស្រលាញ់។"]),
    ("my", "ကျွန်တော် ကြောင် ကြိုက်တယ်။ ကြောင် ချစ်စရာ။", ["ကျွန်တော် ကြောင် ကြိုက်တယ်။", "ကြောင် ချစ်စရာ။"]),
    ("ar", "هل أنت هنا؟ نعم أنا هنا.", ["هل أنت هنا؟", "نعم أنا هنا."]),
    ("th", "ฉันชอบแมว แมวน่ารักมาก", ["ฉันชอบแมว", "แมวน่ารักมาก"]),
    ("th", "ฉันใช้ iPhone 15 ทุกวัน", ["ฉันใช้ iPhone 15 ทุกวัน"]),  # Latin words inside Thai: no split
    ("en", "", []),
    ("en", "  \n \n", []),
])
def test_split_sentences(lang, text, expected):
    assert split_sentences(text) == expected


def test_space_rule_is_for_thai_and_lao_script_only():
    assert split_sentences("ພາສາລາວ ງາມຫຼາຍ") == ["ພາສາລາວ", "ງາມຫຼາຍ"]
    assert split_sentences("Thai ฉันชอบ and more words") == ["Thai ฉันชอบ and more words"]
    assert split_sentences("中文 句子 没有 句号") == ["中文 句子 没有 句号"]


def test_words_and_entropy_tokens():
    assert words("Hello, world! It is 3 pm.", "en") == ["Hello", "world", "It", "is", "3", "pm"]
    assert words("我们去公园", "zh") == ["我们", "去", "公园"]
    assert entropy_tokens("The the THE", "en") == ["the", "the", "the"]
    assert words("東京は大きい都市です", "ja") == ["東京", "は", "大きい", "都市", "です"]
    # yue (lid.176) maps to the zh-yue metadata code, segmented with jieba
    assert words("我哋去公園", "yue") == ["我", "哋", "去", "公園"]
