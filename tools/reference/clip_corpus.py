#!/usr/bin/python3
"""Tokenizer parity corpus: >= 2,000 varied strings and openai/CLIP's ids for each.

Writes test/fixtures/text/clip-corpus.json, read by test/text/clip-parity.test.ts:
  texts[i]     the string (a long text is stored whole; its ids are not, see below)
  ids[i]       SimpleTokenizer.encode(text): ids without SOT/EOT; for a text of more than
               LONG_IDS ids, {"length", "head" (first 100), "sha256" of the ids joined by ','}
  rows[i]      clip.tokenize([text], context_length=77, truncate=True)[0] without its trailing
               zero padding (the row always ends in EOT, so nothing else is lost)
  decodes      [ids, SimpleTokenizer.decode(ids)] pairs: round trips and random id sequences
  hfVocabSha256  sha256 of vocab.json and merges.txt as transformers' CLIPTokenizer.save_vocabulary
               writes them from the same vocabulary (the test rebuilds them and compares)
Every string is built from a seeded generator; characters unassigned in this Python's Unicode
database (14.0) are left out, since Node's newer tables classify them differently.

Run: /usr/bin/python3 tools/reference/clip_corpus.py   (about a minute)
"""
import hashlib
import html.entities
import json
import os
import random
import sys
import tempfile
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clip_tokenizer import bpe_file, load_clip, write_hf_vocab  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "text", "clip-corpus.json")
SHARED_BPE = os.path.join(ROOT, "..", "shared", "data", "clip-bpe-vocab-16e6.txt.gz")
LONG_IDS = 400
rng = random.Random(20241207)

NOUNS = ["cat", "dog", "car", "tree", "house", "bicycle", "person", "pizza", "mountain", "river", "laptop", "guitar",
         "airplane", "elephant", "umbrella", "sandwich", "teddy bear", "traffic light", "skateboard", "giraffe"]
ADJS = ["red", "small", "big", "blurry", "old", "shiny", "wooden", "striped", "happy", "dark", "bright", "tiny"]
VERBS = ["sitting on", "next to", "in front of", "under", "jumping over", "looking at", "parked near", "leaning on"]
PLACES = ["the beach", "a table", "the street", "a snowy field", "the kitchen", "a park bench", "the sky", "a shelf"]
TEMPLATES = ["a photo of a {}.", "a blurry photo of the {}.", "a close-up photo of a {}.", "itap of a {}.", "art of the {}.",
             "a bad photo of a {}.", "a sculpture of a {}.", "a rendering of the {}.", "a tattoo of a {}.", "the origami {}."]
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["…", "—", "–", "«", "»", "“", "”", "‘", "’", "¿", "¡", "·", "•", "§", "¶", "†", "‰", "′", "″", "‹", "›", "„", "‚"]
EMOJI = ["😀", "😂", "🥲", "🤖", "🐱", "🐶", "🚗", "🌲", "🏠", "🍕", "❤️", "✨", "🔥", "👍", "🙏", "🎉", "☕", "⚽", "🌍", "🫠"]
ZWJ = ["👨‍👩‍👧‍👦", "👩‍💻", "🧑‍🚀", "🏳️‍🌈", "🏴‍☠️", "👁️‍🗨️", "❤️‍🔥", "🐻‍❄️", "👨🏽‍🍳", "🧑🏿‍🤝‍🧑🏻"]
TONES = ["\U0001F3FB", "\U0001F3FC", "\U0001F3FD", "\U0001F3FE", "\U0001F3FF"]
TONED = ["👍", "👋", "🙌", "💪", "🤞", "👶", "🧒", "👩", "🧑", "✋"]
FLAGS = ["🇺🇸", "🇬🇧", "🇯🇵", "🇩🇪", "🇫🇷", "🇧🇷", "🇮🇳", "🇺🇦", "🇪🇺", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🏴󠁧󠁢󠁷󠁬󠁳󠁿"]
ACCENTED = ["café", "naïve", "Zürich", "São Paulo", "Ångström", "façade", "crème brûlée", "Mañana", "Dvořák", "Øresund",
            "Łódź", "Ærøskøbing", "résumé", "jalapeño", "Éire", "coöperate", "Việt Nam", "Ṭhākur", "ǅemal", "Ĳsselmeer"]
CJK = ["猫が好きです", "一只在沙滩上的狗", "東京タワーの写真", "사진 속의 고양이", "ひらがなとカタカナ", "漢字テスト", "中华人民共和国", "ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ",
       "１２３４５", "ｶﾀｶﾅ半角", "𠀀𠀁𪚥 rare ideographs", "㍻㋿ ㌔", "〆〇〻", "한국어 문장입니다.", "ㄱㄴㄷ ᄀᄁ"]
RTL = ["مرحبا بالعالم", "صورة قطة على الشاطئ", "الْعَرَبِيَّةُ", "שלום עולם", "תמונה של כלב", "עִבְרִית", "١٢٣ ٤٥٦",
       "فارسی ۱۲۳", "\u200fمرحبا\u200f", "abc \u202eRTL override\u202c def", "اردو زبان", "ﷺ ﷽"]
INDIC_THAI = ["नमस्ते दुनिया", "एक बिल्ली की तस्वीर", "क्षत्रिय", "০১২ বাংলা", "தமிழ் மொழி", "ภาษาไทย", "สวัสดีครับ", "กรุงเทพมหานคร",
              "ພາສາລາວ", "ქართული", "Հայերեն", "አማርኛ", "ᏣᎳᎩ", "ꓢꓣꓤ", "ᠮᠣᠩᠭᠣᠯ", "ᚠᚢᚦ", "𐐀𐐨 Deseret"]
GREEK = ["ΟΔΟΣ", "ΣΑΣ.", "Σ", "ΑΣ'", "ΑΣ1", "Α.Σ", "ΌΣΟΣ ΚΑΙ ΑΝ", "ΣΣΣ", "ΑΣ\u0301", "ΑΣ\u0301Β", "Α\u0345Σ", "ΑΣ-Β",
         "καλημέρα ΚΌΣΜΕ", "ΜΆΘΗΜΑ ΣΤΗΝ ΤΆΞΗ", "ΑΣ\u00ad", "ΑΣ\u200dΒ", "'Σ'", "ΑΣ ", "\u0391\u03a3\u0345", "Ὀδυσσεύς"]
TURKISH = ["İstanbul", "ISPARTA", "ıi İI", "İ", "KIZ", "Diyarbakır", "İĞNE", "i̇stanbul", "ŞIRINGA", "iİıI"]
GERMAN = ["Straße", "STRASSE", "ẞ", "GROẞ", "Maß und Masse", "Fußgänger", "weiß", "ßß"]
LIGATURES = ["ﬁsh", "ﬂower", "eﬀort", "oﬃce", "baﬄe", "ﬅ", "ﬆop", "Ĳ", "ǅ ǈ ǋ ǲ", "ſtate", "it'ſ", "ﬓ ﬔ", "Æsir", "œuvre", "ꜳ"]
CONTRACTIONS = ["It's", "IT'S", "it'S", "I'M", "i'm", "WE'LL", "we'Ll", "she'D", "you'RE", "they'VE", "don'T", "DON'T",
                "it’s curly", "'s", "''s", "'", "x'sy", "'ll've'd", "O'Neil", "rock'n'roll", "'twas", "ma'am"]
SPECIALS = ["<|startoftext|>", "<|endoftext|>", "<|ENDOFTEXT|>", "a<|endoftext|>b", "<|startoftext|><|endoftext|>",
            "<|endof", "<|startoftext", "|endoftext|>", "<|ſtartoftext|>", "<| endoftext |>", "<<|endoftext|>>",
            "text <|endoftext|> more text", "&lt;|endoftext|&gt;", "<|EndOfText|>"]
WHITESPACE = ["\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1d", "\x1e", "\x1f", " ", "\x85", "\xa0", "\u1680"] + \
             [chr(c) for c in range(0x2000, 0x200b)] + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
NOT_WHITESPACE = ["\ufeff", "\u200b", "\u180e", "\u200c", "\u200d", "\u2060", "\u00ad"]
CONTROLS = [chr(c) for c in list(range(0, 32)) + list(range(0x7f, 0xa0))]


def assigned(c):
    return unicodedata.category(c) not in ("Cn", "Cs")


def pick(seq, k):
    return [rng.choice(seq) for _ in range(k)]


def captions(n):
    out = []
    for _ in range(n):
        kind = rng.randrange(4)
        noun = rng.choice(NOUNS)
        if kind == 0:
            s = rng.choice(TEMPLATES).format(noun)
        elif kind == 1:
            s = f"A {rng.choice(ADJS)} {noun} {rng.choice(VERBS)} {rng.choice(PLACES)}."
        elif kind == 2:
            s = f"{rng.randint(2, 12)} {noun}s and a {rng.choice(ADJS)} {rng.choice(NOUNS)}"
        else:
            s = " ".join(pick(ADJS + NOUNS + VERBS + PLACES, rng.randint(1, 12)))
        if rng.random() < 0.3:
            s = s.upper() if rng.random() < 0.5 else s.title()
        out.append(s)
    return out


def punctuation(n):
    out = []
    for _ in range(n):
        parts = pick(PUNCT, rng.randint(1, 10))
        if rng.random() < 0.5:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(NOUNS))
        out.append("".join(parts) if rng.random() < 0.5 else " ".join(parts))
    return out


def numbers(n):
    fixed = ["1,234.56", "3.14159", "2024-01-01", "10^6", "1e-5", "$100", "50%", "½ ¼ ¾", "x² + y³", "٣٤٥", "Ⅻ ⅻ ↂ",
             "１２３", "0x1F", "007", "1st 2nd 3rd 4th", "⑴ ① ⓵", "𝟙𝟚𝟛", "१२३", "๑๒๓", "〡〢〣", "1/2", "-42", "+7", "3:45pm"]
    out = list(fixed)
    while len(out) < n:
        out.append(rng.choice(["{}", "{}.{}", "{},{}", "#{}", "{}kg", "v{}.{}"]).format(*[rng.randint(0, 10 ** rng.randint(1, 8)) for _ in range(2)]))
    return out


def emoji(n):
    out = ZWJ + FLAGS + [t + tone for t in TONED[:5] for tone in TONES] + ["1️⃣ 2️⃣ #️⃣", "©️ ®️ ™️", "☺︎ ☺️"]
    while len(out) < n:
        out.append("".join(pick(EMOJI + ZWJ + FLAGS + [rng.choice(TONED) + rng.choice(TONES)] + [" ", "a", "!"], rng.randint(1, 8))))
    return out


def accents(n):
    out = []
    for w in ACCENTED:
        for form in ("NFC", "NFD"):
            s = unicodedata.normalize(form, w)
            out += [s, s.upper()]
    while len(out) < n:
        w = unicodedata.normalize(rng.choice(["NFC", "NFD", "NFKC", "NFKD"]), " ".join(pick(ACCENTED, rng.randint(2, 5))))
        out.append(w)
    return out


def scripts(pool, n):
    out = list(pool)
    while len(out) < n:
        out.append(rng.choice([" ", "", ", "]).join(pick(pool, rng.randint(2, 4))))
    return out


def random_cased(n):
    # Letters with case mappings from many blocks: lower-casing parity.
    cased = [chr(c) for c in range(0x41, 0x250) if chr(c).lower() != chr(c) or chr(c).upper() != chr(c)]
    cased += [chr(c) for c in list(range(0x370, 0x530)) + list(range(0x10a0, 0x1100)) + list(range(0x13a0, 0x13f6)) +
              list(range(0x1c80, 0x1cc0)) + list(range(0x1e00, 0x2000)) + list(range(0x2c00, 0x2c80)) + list(range(0xa640, 0xa6a0)) +
              list(range(0xa720, 0xa800)) + list(range(0xff21, 0xff5b)) + list(range(0x10400, 0x10450)) + list(range(0x104b0, 0x10500)) +
              list(range(0x10570, 0x105bc)) + list(range(0x10c80, 0x10d00)) + list(range(0x118a0, 0x118e0)) + list(range(0x16e40, 0x16e80)) +
              list(range(0x1e900, 0x1e944)) + [0x130, 0x131, 0x3a3, 0x3c2, 0x1e9e, 0x2126, 0x212a, 0x212b, 0x17f, 0x345]]
    cased = [c for c in cased if assigned(c)]
    filler = [" ", "'", ".", "\u0301", "\u00ad", "-", "1"]
    return ["".join(pick(cased + filler, rng.randint(1, 16))) for _ in range(n)]


def fuzz(n):
    # Random code points over the whole range, weighted towards the BMP, assigned ones only.
    out = []
    while len(out) < n:
        chars = []
        while len(chars) < rng.randint(1, 20):
            cp = rng.randrange(0x80) if rng.random() < 0.3 else rng.randrange(0x3000 if rng.random() < 0.5 else 0x30000)
            c = chr(cp)
            if assigned(c):
                chars.append(c)
        out.append("".join(chars))
    return out


def control_and_space(n):
    out = []
    for c in WHITESPACE + NOT_WHITESPACE + CONTROLS:
        out += [f"{c}a b", f"a{c}b", f"a b{c}", c * 3, f"{c} {c}a{c}{c}b {c}"]
    while len(out) < n:
        out.append("".join(pick(WHITESPACE + NOT_WHITESPACE + CONTROLS + ["a", "b", "1", ".", "é"], rng.randint(1, 12))))
    return out


def reference_code_point():
    """A value for a numeric reference: past U+10FFFF, a surrogate, or a code point assigned in Unicode 14."""
    while True:
        cp = rng.randrange(0x120000)
        if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF or assigned(chr(cp)):
            return cp


def html_entities(n):
    names = sorted(html.entities.html5)
    out = []
    for i in range(0, len(names), 15):
        chunk = names[i:i + 15]
        out.append(" ".join(f"&{k}" for k in chunk))
        out.append("x".join(f"&{k.rstrip(';')}" for k in chunk))
    fixed = ["&amp;", "&amp", "&AMP;", "&lt;b&gt;bold&lt;/b&gt;", "&amp;lt;", "&amp;amp;lt;", "&amp;amp;amp;", "&#65;&#x42;&#X43;",
             "&#65", "&#x41", "&#0;", "&#x0;", "&#13;", "&#x80;", "&#x85;", "&#x9F;", "&#xD800;", "&#xDFFF;", "&#x110000;",
             "&#99999999999;", "&#1;", "&#x0B;", "&#x7F;", "&#xFDD0;", "&#xFFFE;", "&#x1FFFF;", "&#x10FFFF;", "&#x10FFFE;",
             "&#;", "&#x;", "&#xG;", "&;", "& amp;", "&notit;", "&notin;", "&noti", "&copy2024", "&hellip", "&hellip;",
             "&ampamp;", "&lt&gt", "&" + "a" * 40 + ";", "&" + "b" * 31 + ";", "&amp" + "c" * 40, "text &", "&", "&&&",
             "&#00000000000065;", "&#x000041;", "&#128512;", "&#x1F600;", "&#x1f1fa;&#x1f1f8;", "&nbsp;", "&nbsp;&nbsp;x&nbsp;",
             "&#160;&#x2003;&#x3000;y", "&NotNestedGreaterGreater;", "&fjlig;", "&ThickSpace;", "&lt;|endoftext|&gt;",
             "&amp;#65;", "&amp;#x42", "&#38;amp;", "&#38;#38;lt;", "&#x26;lt;", "&amp;nbsp;", "caf&eacute;", "Caf&Eacute;",
             "&eacute &Eacute &eacutex", "&AElig&AEligx", "&#x2028;line&#x85;next", "&Tab;&NewLine;x&#9;y", "&#x1c;z&#x1f;"]
    out += fixed
    while len(out) < n:
        parts = []
        for _ in range(rng.randint(1, 6)):
            r = rng.random()
            if r < 0.3:
                parts.append("&" + rng.choice(names))
            elif r < 0.5:
                parts.append(f"&#{reference_code_point()}" + rng.choice([";", ""]))
            elif r < 0.7:
                parts.append(f"&#{rng.choice('xX')}{reference_code_point():x}" + rng.choice([";", ""]))
            elif r < 0.8:
                parts.append("&amp;" + rng.choice(names))
            else:
                parts.append(rng.choice(NOUNS))
        out.append(rng.choice(["", " "]).join(parts))
    return out


def long_texts():
    words = NOUNS + ADJS + ["the", "a", "of", "and", "in", "it's", "don't", "1999", "café", "naïve", "—", "...", "!"]
    out = []
    for k in range(4):
        out.append(" ".join(pick(words, 3000 + 500 * k)))
    out.append("".join(pick(list("abcdefghijklmnopqrstuvwxyz"), 5000)))
    out.append("9" * 3000)
    out.append("!?" * 1500)
    out.append("a" * 2000 + " " + "é" * 1000)
    out.append(" ".join(pick(CJK + RTL + INDIC_THAI, 600)))
    out.append("&amp;" * 800 + "x")
    out.append(" ".join(pick(NOUNS, 74)))
    out.append(" ".join(pick(NOUNS, 75)))
    out.append(" ".join(pick(NOUNS, 76)))
    return out


def edge_cases():
    return ["", " ", "\t\n", "\x1c", "\u3000", "&nbsp;", "&#32;", "   \x85  ", "\ufeff", "\u200b", "\u0345", "a\u0345b",
            "ι\u0345", "\u1fb3", "Α\u0345", "\x00", "a\x00b", "\ufffd", "\ue000\U000F0000", "\U0010FFFD"]


def corpus():
    texts = []
    texts += captions(320)
    texts += punctuation(120)
    texts += numbers(110)
    texts += emoji(110)
    texts += accents(110)
    texts += scripts(CJK, 80)
    texts += scripts(RTL, 60)
    texts += scripts(INDIC_THAI, 70)
    texts += scripts(GREEK, 80)
    texts += scripts(TURKISH, 30)
    texts += scripts(GERMAN, 20)
    texts += scripts(LIGATURES, 40)
    texts += scripts(CONTRACTIONS, 60)
    texts += scripts(SPECIALS, 40)
    texts += random_cased(200)
    texts += fuzz(300)
    texts += control_and_space(300)
    texts += html_entities(500)
    texts += long_texts()
    texts += edge_cases()
    return texts


def ids_record(ids):
    if len(ids) <= LONG_IDS:
        return ids
    return {"length": len(ids), "head": ids[:100], "sha256": hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()}


def main():
    sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
    if sha(bpe_file()) != sha(SHARED_BPE):
        sys.exit(f"{bpe_file()} and {SHARED_BPE} differ; the test reads the second")
    clip_module = load_clip()
    tok = clip_module._tokenizer
    texts = corpus()
    ids, rows = [], []
    for text in texts:
        ids.append(ids_record(tok.encode(text)))
        row = clip_module.tokenize([text], context_length=77, truncate=True)[0].tolist()
        while row and row[-1] == 0:
            row.pop()
        rows.append(row)
    decodes = []
    for i in range(0, len(texts), 20):
        encoded = tok.encode(texts[i])[:200]
        decodes.append([encoded, tok.decode(encoded)])
    for _ in range(60):
        random_ids = [rng.randrange(len(tok.encoder)) for _ in range(rng.randint(1, 12))]
        decodes.append([random_ids, tok.decode(random_ids)])
    with tempfile.TemporaryDirectory() as tmp:
        hf = write_hf_vocab(tok, tmp)
    data = {"source": "openai/CLIP SimpleTokenizer + clip.tokenize(truncate=True), ftfy stubbed; tools/reference/clip_corpus.py",
            "contextLength": 77, "hfVocabSha256": hf, "texts": texts, "ids": ids, "rows": rows, "decodes": decodes}
    tmp_out = OUT + ".tmp"
    with open(tmp_out, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
    os.replace(tmp_out, OUT)
    print(f"{len(texts)} texts, {os.path.getsize(OUT)} bytes -> {OUT}")


if __name__ == "__main__":
    main()
