#!/usr/bin/python3
"""Writes src/data/labels/imagenet-1k.txt: the 1000 ImageNet-1k classes in model output order,
one `synset<TAB>names` line each, from the synset lists that timm ships as data
(timm/data/_info/imagenet_synsets.txt and imagenet_synset_to_lemma.txt; WordNet lemmas).
Run: TIMM_PATH=/path/to/timm /usr/bin/python3 tools/reference/imagenet_labels.py
"""
import os

info = os.path.join(os.environ["TIMM_PATH"], "timm", "data", "_info")
synsets = open(os.path.join(info, "imagenet_synsets.txt")).read().split()
lemma = dict(line.rstrip("\n").split("\t", 1) for line in open(os.path.join(info, "imagenet_synset_to_lemma.txt")))
assert len(synsets) == 1000
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(root, "src", "data", "labels", "imagenet-1k.txt"), "w") as f:
    for s in synsets:
        f.write(f"{s}\t{lemma[s]}\n")
