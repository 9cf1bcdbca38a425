"""The public treebanks the LID evaluation set is drawn from (Universal Dependencies).

Each source is pinned to a commit; ``benchmarks.lid.build_eval`` reads its ``.conllu`` files
at that commit, so the set is reproducible byte for byte. Real sentences only (the
``# text =`` line of each sentence, as written by people), never generated text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    lang: str  # lid.176 label this text must get
    repo: str  # GitHub owner/name
    commit: str
    files: tuple[str, ...]
    licence: str
    quota: int  # most sentences drawn from this source


def _ud(lang: str, name: str, commit: str, files: str, licence: str, quota: int = 1000) -> Source:
    return Source(lang, f"UniversalDependencies/UD_{name}", commit, tuple(files.split()), licence, quota)


BY_SA_4 = "CC BY-SA 4.0"
BY_SA_3 = "CC BY-SA 3.0"
BY_NC_SA_3 = "CC BY-NC-SA 3.0"
BY_NC_SA_4 = "CC BY-NC-SA 4.0"

# Chinese has four sources (simplified: GSDSimp; traditional: GSD, PUD, HK) so that both
# scripts and several genres (Wikipedia, news, film subtitles, Legislative Council) count.
SOURCES: tuple[Source, ...] = (
    _ud("zh", "Chinese-GSDSimp", "eb3aed31ebb170897405ee5cd1db83a1a0b11864",
        "zh_gsdsimp-ud-dev.conllu zh_gsdsimp-ud-test.conllu", BY_SA_4, 600),
    _ud("zh", "Chinese-GSD", "200dbe8acf60ff0d194f2d30bf925c410eee762a",
        "zh_gsd-ud-dev.conllu zh_gsd-ud-test.conllu", BY_SA_4, 400),
    _ud("zh", "Chinese-PUD", "2849afd946a8c01b3e9acdf3e7afa8670cf2777d", "zh_pud-ud-test.conllu", BY_SA_3, 500),
    _ud("zh", "Chinese-HK", "77ecd3ca188a59e53385f9fffd13219952187d03", "zh_hk-ud-test.conllu", BY_SA_4, 500),
    _ud("ja", "Japanese-GSD", "7bc20119f476b552635e0640644e577b6fd3606b",
        "ja_gsd-ud-dev.conllu ja_gsd-ud-test.conllu", BY_SA_4, 1050),
    _ud("ko", "Korean-GSD", "925eec22693d37a922eb546c6a9500844d271d51",
        "ko_gsd-ud-dev.conllu ko_gsd-ud-test.conllu", BY_SA_4, 500),
    _ud("ko", "Korean-Kaist", "ef244243b578e7cd0fb4fe45cd80b63de2a60e00",
        "ko_kaist-ud-dev.conllu ko_kaist-ud-test.conllu", BY_SA_4, 500),
    _ud("th", "Thai-PUD", "516638d39adfbc03fa3e7f7b33ce59555055a2d9", "th_pud-ud-test.conllu", BY_SA_3),
    _ud("hi", "Hindi-PUD", "8bc630f73e0737ce5ed9eaa97abf11f172ecc9bd", "hi_pud-ud-test.conllu", BY_SA_3),
    _ud("mr", "Marathi-UFAL", "c02a08246fdb6c99257d7c5bc6ef14f736a995bf",
        "mr_ufal-ud-train.conllu mr_ufal-ud-dev.conllu mr_ufal-ud-test.conllu", BY_SA_4),
    _ud("ar", "Arabic-PUD", "be733f45d21f42d506c62930f806ed2182a5ee3d", "ar_pud-ud-test.conllu", BY_SA_3),
    _ud("ru", "Russian-GSD", "5400f2fd7264b7699727bb61b09f53841899df26",
        "ru_gsd-ud-dev.conllu ru_gsd-ud-test.conllu", BY_SA_4),
    _ud("de", "German-GSD", "297fcf350481058d0737a27f0f8fd03b2eadd67a",
        "de_gsd-ud-dev.conllu de_gsd-ud-test.conllu", BY_SA_4),
    _ud("fr", "French-GSD", "830e2782304af08b3cc1c9250475343e04274d81",
        "fr_gsd-ud-dev.conllu fr_gsd-ud-test.conllu", BY_SA_4),
    _ud("es", "Spanish-GSD", "57c045644664e5c1e169263cc4e3b95e40c078ba",
        "es_gsd-ud-dev.conllu es_gsd-ud-test.conllu", BY_SA_4),
    _ud("en", "English-EWT", "15d613d8447b3478787d4c278730a1e48a945efb",
        "en_ewt-ud-dev.conllu en_ewt-ud-test.conllu", BY_SA_4),
    _ud("vi", "Vietnamese-VTB", "e8fa54835582fb5d0c767f19f0992675726fa084",
        "vi_vtb-ud-dev.conllu vi_vtb-ud-test.conllu", BY_SA_4),
    _ud("he", "Hebrew-HTB", "a6d496c877d0d07d97bcfdb2de11d245ef94256a",
        "he_htb-ud-dev.conllu he_htb-ud-test.conllu", BY_NC_SA_4),
    _ud("el", "Greek-GDT", "1485f849d5ac7fcafa092a75804b41dbb1a3f194",
        "el_gdt-ud-dev.conllu el_gdt-ud-test.conllu el_gdt-ud-train.conllu", BY_NC_SA_3),
    _ud("ka", "Georgian-GLC", "9b8a459a55307a891f10404a6366428840dcafda",
        "ka_glc-ud-dev.conllu ka_glc-ud-test.conllu", BY_SA_4),
    # Cantonese (lid.176 label yue, Wikipedia zh-yue): reported beside the core languages.
    _ud("yue", "Cantonese-HK", "454c9548b32a77438b2ab4bca0ad6d1886a8ac11", "yue_hk-ud-test.conllu", BY_SA_4),
    _ud("hy", "Armenian-ArmTDP", "90fe19c2cc3942c4ab53c08e8aa09770c1177ab3",
        "hy_armtdp-ud-dev.conllu hy_armtdp-ud-test.conllu", BY_SA_4),
)
