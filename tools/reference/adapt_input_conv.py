"""Reference outputs of timm's adapt_input_conv (timm/models/_manipulate.py) for
test/tasks/pretrained.test.ts: seeded RGB first-conv weights (and a 6-input one) adapted to
other channel counts, as timm does when a pretrained model is built with in_chans != 3.

Writes test/fixtures/models/adapt-input-conv.safetensors. Needs a timm checkout on TIMM_PATH.
Usage: TIMM_PATH=/path/to/timm /usr/bin/python3 tools/reference/adapt_input_conv.py
"""
import os
import sys

import torch

sys.path.insert(0, os.environ.get("TIMM_PATH", ""))
sys.path.insert(0, os.path.dirname(__file__))
from common import save_safetensors  # noqa: E402
from timm.models._manipulate import adapt_input_conv  # noqa: E402

g = torch.Generator().manual_seed(0)
rgb = torch.randn(8, 3, 3, 3, generator=g)
six = torch.randn(8, 6, 3, 3, generator=g)
out = {"rgb": rgb, "six": six, "six_to_1": adapt_input_conv(1, six.clone())}
for c in (1, 2, 4, 5, 7):
    out[f"rgb_to_{c}"] = adapt_input_conv(c, rgb.clone())
root = os.path.join(os.path.dirname(__file__), "..", "..")
save_safetensors(os.path.join(root, "test", "fixtures", "models", "adapt-input-conv.safetensors"), out)
