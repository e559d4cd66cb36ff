#!/usr/bin/python3
"""Writes CLIP's zero-shot prompts for ImageNet from openai/CLIP's notebook
(notebooks/Prompt_Engineering_for_ImageNet.ipynb: `imagenet_classes`, `imagenet_templates`):
src/data/labels/imagenet-1k-clip.txt (synset<TAB>CLIP's class name, in model output order, the
synsets from timm's list as imagenet-1k.txt) and src/data/labels/imagenet-templates.txt (the 80
templates, one per line, `{}` where the class name goes).
Run: CLIP_PATH=/path/to/openai/CLIP TIMM_PATH=/path/to/timm /usr/bin/python3 tools/reference/clip_prompts.py
"""
import ast
import json
import os

cells = json.load(open(os.path.join(os.environ["CLIP_PATH"], "notebooks", "Prompt_Engineering_for_ImageNet.ipynb")))["cells"]


def assigned(name):
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or source.lstrip().startswith("!"):
            continue
        for node in ast.parse(source).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
                return ast.literal_eval(node.value)
    raise KeyError(name)


classes = assigned("imagenet_classes")
templates = assigned("imagenet_templates")
assert len(classes) == 1000 and len(templates) == 80
assert not any("\t" in c or "," in c or "\n" in c for c in classes)
synsets = open(os.path.join(os.environ["TIMM_PATH"], "timm", "data", "_info", "imagenet_synsets.txt")).read().split()
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
labels = os.path.join(root, "src", "data", "labels")
with open(os.path.join(labels, "imagenet-1k-clip.txt"), "w") as f:
    f.writelines(f"{s}\t{c}\n" for s, c in zip(synsets, classes))
with open(os.path.join(labels, "imagenet-templates.txt"), "w") as f:
    f.writelines(f"{t}\n" for t in templates)
