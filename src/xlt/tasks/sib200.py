"""SIB-200 (Adelani et al., EACL 2024): topic classification of Flores-200 sentences in 205 languages and dialects,
seven topics, the same 701 train, 99 dev and 204 test sentences in every language (CC BY-SA 4.0). The widest
benchmark that suits fine-tuning in one language and transferring to the rest: a study with `sources:` covers
hundreds of language pairs.

The release names languages by Flores-200 codes (ISO 639-3 and script: eng_Latn); xlt uses the tag the rest of
xlt uses for the language (`xlt_code`): en, de, ru, zh, ar. Hub dataset Davlan/sib200 (a config per Flores code);
release files: the repository's data/annotated/{code}/{split}.tsv under data_dir as sib200/{code}/{split}.tsv,
or the unpacked repository as sib200/data/annotated/...
"""

from __future__ import annotations

from collections import Counter

import langcodes

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

FLORES = tuple(
    """
    ace_Arab ace_Latn acm_Arab acq_Arab aeb_Arab afr_Latn ajp_Arab aka_Latn als_Latn amh_Ethi apc_Arab arb_Arab
    arb_Latn ars_Arab ary_Arab arz_Arab asm_Beng ast_Latn awa_Deva ayr_Latn azb_Arab azj_Latn bak_Cyrl bam_Latn
    ban_Latn bel_Cyrl bem_Latn ben_Beng bho_Deva bjn_Arab bjn_Latn bod_Tibt bos_Latn bug_Latn bul_Cyrl cat_Latn
    ceb_Latn ces_Latn cjk_Latn ckb_Arab crh_Latn cym_Latn dan_Latn deu_Latn dik_Latn dyu_Latn dzo_Tibt ell_Grek
    eng_Latn epo_Latn est_Latn eus_Latn ewe_Latn fao_Latn fij_Latn fin_Latn fon_Latn fra_Latn fur_Latn fuv_Latn
    gaz_Latn gla_Latn gle_Latn glg_Latn grn_Latn guj_Gujr hat_Latn hau_Latn heb_Hebr hin_Deva hne_Deva hrv_Latn
    hun_Latn hye_Armn ibo_Latn ilo_Latn ind_Latn isl_Latn ita_Latn jav_Latn jpn_Jpan kab_Latn kac_Latn kam_Latn
    kan_Knda kas_Arab kas_Deva kat_Geor kaz_Cyrl kbp_Latn kea_Latn khk_Cyrl khm_Khmr kik_Latn kin_Latn kir_Cyrl
    kmb_Latn kmr_Latn knc_Arab knc_Latn kon_Latn kor_Hang lao_Laoo lij_Latn lim_Latn lin_Latn lit_Latn lmo_Latn
    ltg_Latn ltz_Latn lua_Latn lug_Latn luo_Latn lus_Latn lvs_Latn mag_Deva mai_Deva mal_Mlym mar_Deva min_Arab
    min_Latn mkd_Cyrl mlt_Latn mni_Beng mos_Latn mri_Latn mya_Mymr nld_Latn nno_Latn nob_Latn npi_Deva nqo_Nkoo
    nso_Latn nus_Latn nya_Latn oci_Latn ory_Orya pag_Latn pan_Guru pap_Latn pbt_Arab pes_Arab plt_Latn pol_Latn
    por_Latn prs_Arab quy_Latn ron_Latn run_Latn rus_Cyrl sag_Latn san_Deva sat_Olck scn_Latn shn_Mymr sin_Sinh
    slk_Latn slv_Latn smo_Latn sna_Latn snd_Arab som_Latn sot_Latn spa_Latn srd_Latn srp_Cyrl ssw_Latn sun_Latn
    swe_Latn swh_Latn szl_Latn tam_Taml taq_Latn taq_Tfng tat_Cyrl tel_Telu tgk_Cyrl tgl_Latn tha_Thai tir_Ethi
    tpi_Latn tsn_Latn tso_Latn tuk_Latn tum_Latn tur_Latn twi_Latn tzm_Tfng uig_Arab ukr_Cyrl umb_Latn urd_Arab
    uzn_Latn vec_Latn vie_Latn war_Latn wol_Latn xho_Latn ydd_Hebr yor_Latn yue_Hant zho_Hans zho_Hant zsm_Latn
    zul_Latn
""".split()
)
LABELS = ("science/technology", "travel", "politics", "sports", "health", "entertainment", "geography")
# Where langcodes' tag is not the one xlt uses: XTREME writes Tagalog `tl` (langcodes, after CLDR, `fil`), and
# CLDR's likely script of Korean is Kore (Hangul with Han), where Flores-200 writes Hang.
TAGS = {"tgl_Latn": "tl", "kor_Hang": "ko"}


def xlt_code(flores: str) -> str:
    """The macrolanguage's shortest tag (langcodes: arb -> ar, zsm -> ms, swh -> sw), with the script when it is
    not the language's likely one (zho_Hant -> zh-Hant, arb_Latn -> ar-Latn)."""
    if flores in TAGS:
        return TAGS[flores]
    language, script = flores.split("_")
    tag = langcodes.standardize_tag(language, macro=True)
    return tag if langcodes.Language.get(tag).maximize().script == script else f"{tag}-{script}"


def _codes() -> dict[str, str]:
    """xlt code -> Flores code. The Flores code is kept where the tag would not name the variety alone: two Flores
    languages with one tag (Akan's aka and twi are both `ak`) or a tag with a region (Dari, prs, is `fa-AF`)."""
    tags = {flores: xlt_code(flores) for flores in FLORES}
    counts = Counter(tags.values())
    kept = {flores for flores, tag in tags.items() if counts[tag] > 1 or langcodes.Language.get(tag).territory}
    return {(flores if flores in kept else tag): flores for flores, tag in tags.items()}


CODES = _codes()
LANGUAGES = tuple(CODES)
SPLITS = ("train", "dev", "test")

SOURCE = TaskSource(
    "sib200",
    layouts=(
        Layout({s: f"sib200/{{flores}}/{s}.tsv" for s in SPLITS}, formats.sib200_tsv),
        Layout({s: f"sib200/data/annotated/{{flores}}/{s}.tsv" for s in SPLITS}, formats.sib200_tsv),
    ),
    hub=HubSource(
        "Davlan/sib200", "{flores}", {"train": "train", "dev": "validation", "test": "test"}, hub_rows.sib200_rows
    ),
    names=lambda lang: {"flores": CODES[lang]},
)

register(
    TaskSpec(
        name="sib200",
        kind="classification",
        languages={"sib200": LANGUAGES},
        load=SOURCE,
        labels=LABELS,
        train_languages=LANGUAGES,
        hub="Davlan/sib200 ({flores})",
    )
)
