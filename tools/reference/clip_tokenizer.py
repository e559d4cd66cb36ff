#!/usr/bin/python3
"""Oracle for the CLIP tokenizer: openai/CLIP's SimpleTokenizer and clip.tokenize, run as they are.

openai/CLIP (checkout at /work/oracle/clip, or $CLIP_PATH) imports ftfy, tqdm and packaging, which
Debian's interpreter lacks; stubs go into sys.modules here (never into the checkout): ftfy.fix_text
is the identity (the reference without ftfy, as tsvision's tokenizer is), tqdm is unused by the
tokenizer, packaging.version.parse compares numeric version tuples.

Used by clip_corpus.py. Alone it prints reference ids, or writes the Hugging Face files:
  /usr/bin/python3 tools/reference/clip_tokenizer.py encode 'a photo of a cat' ...
  /usr/bin/python3 tools/reference/clip_tokenizer.py hf-vocab OUT_DIR
"""
import hashlib
import json
import os
import re
import sys
import types

CLIP_REPO = os.environ.get("CLIP_PATH", "/work/oracle/clip")


def _stub_missing_modules():
    sys.modules.setdefault("ftfy", types.SimpleNamespace(fix_text=lambda s: s))
    tqdm = types.ModuleType("tqdm")
    tqdm.tqdm = lambda *args, **kwargs: None
    sys.modules.setdefault("tqdm", tqdm)
    try:
        import packaging.version  # noqa: F401
    except ImportError:
        version = types.ModuleType("packaging.version")
        version.parse = lambda v: tuple(int(x) for x in re.findall(r"\d+", v)[:3])
        package = types.ModuleType("packaging")
        package.version = version
        sys.modules["packaging"] = package
        sys.modules["packaging.version"] = version


def load_clip():
    """The openai/CLIP `clip.clip` module (tokenize and its module-level SimpleTokenizer)."""
    _stub_missing_modules()
    sys.path.insert(0, CLIP_REPO)
    import clip.clip as clip_module
    return clip_module


def bpe_file():
    """The merges file the reference reads."""
    return os.path.join(CLIP_REPO, "clip", "bpe_simple_vocab_16e6.txt.gz")


def write_hf_vocab(tokenizer, out_dir):
    """Writes vocab.json and merges.txt as transformers' CLIPTokenizer.save_vocabulary lays them out; returns their sha256."""
    os.makedirs(out_dir, exist_ok=True)
    vocab = os.path.join(out_dir, "vocab.json")
    merges = os.path.join(out_dir, "merges.txt")
    with open(vocab, "w", encoding="utf-8") as f:
        f.write(json.dumps(tokenizer.encoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    with open(merges, "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for pair, _ in sorted(tokenizer.bpe_ranks.items(), key=lambda kv: kv[1]):
            f.write(" ".join(pair) + "\n")
    digest = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
    return {"vocab.json": digest(vocab), "merges.txt": digest(merges)}


def main(argv):
    clip_module = load_clip()
    if len(argv) >= 2 and argv[0] == "encode":
        for text in argv[1:]:
            print(json.dumps(clip_module.tokenize([text], truncate=True)[0].tolist()))
    elif len(argv) == 2 and argv[0] == "hf-vocab":
        print(json.dumps(write_hf_vocab(clip_module._tokenizer, argv[1]), indent=2))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
