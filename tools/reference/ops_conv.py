#!/usr/bin/python3
"""Fixtures for the conv family: conv1d/2d/3d, convTranspose1d/2d/3d, max/avg/adaptive-avg pooling.

Writes test/fixtures/ops/conv.safetensors. Run: /usr/bin/python3 tools/reference/ops_conv.py
kwargs use the TypeScript option names (src/tensor/ops/conv.ts, pool.ts).
"""
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(__file__))
from common import Case, Input, run_cases  # noqa: E402

import torch  # noqa: E402

F = torch.nn.functional
# torch notes that 'same' padding with an even kernel copies the input; that is expected here.
warnings.filterwarnings("ignore", message="Using padding='same'")
cases = []

# Torch option names for each TypeScript option name.
TORCH_NAME = {"outputPadding": "output_padding", "kernelSize": "kernel_size", "ceilMode": "ceil_mode",
              "countIncludePad": "count_include_pad", "divisorOverride": "divisor_override"}


def torch_kwargs(kw):
    return {TORCH_NAME.get(k, k): v for k, v in kw.items()}


def conv(name, op, x, w, bias=True, bf16=False, **kw):
    fn = getattr(F, {"conv1d": "conv1d", "conv2d": "conv2d", "conv3d": "conv3d", "convTranspose1d": "conv_transpose1d",
                     "convTranspose2d": "conv_transpose2d", "convTranspose3d": "conv_transpose3d"}[op])
    tk = torch_kwargs(kw)
    shape = [w.shape[i] for i in w.permute] if w.permute else w.shape
    out_ch = shape[1] * kw.get("groups", 1) if op.startswith("convTranspose") else shape[0]
    ins = [x, w] + ([Input([out_ch])] if bias else [])
    cases.append(Case(name, op, ins, lambda *a: fn(a[0], a[1], a[2] if bias else None, **tk), kwargs=kw, bf16=bf16))


def pool(name, op, x, bf16=False, **kw):
    fn = getattr(F, {"maxPool1d": "max_pool1d", "maxPool2d": "max_pool2d", "maxPool3d": "max_pool3d", "avgPool1d": "avg_pool1d",
                     "avgPool2d": "avg_pool2d", "avgPool3d": "avg_pool3d"}[op])
    tk = torch_kwargs(kw)
    cases.append(Case(name, op, [x], lambda a: fn(a, **tk), kwargs=kw, bf16=bf16))


def adaptive(name, op, x, size, bf16=False):
    fn = getattr(F, {"adaptiveAvgPool1d": "adaptive_avg_pool1d", "adaptiveAvgPool2d": "adaptive_avg_pool2d",
                     "adaptiveAvgPool3d": "adaptive_avg_pool3d"}[op])
    cases.append(Case(name, op, [x], lambda a: fn(a, size), kwargs={"outputSize": size}, bf16=bf16))


# conv1d
conv("conv1d_basic", "conv1d", Input([2, 3, 9]), Input([4, 3, 3]), stride=2, padding=1)
conv("conv1d_dil_groups", "conv1d", Input([2, 4, 11]), Input([6, 2, 3]), bias=False, dilation=2, groups=2)
conv("conv1d_same_even", "conv1d", Input([1, 3, 8]), Input([2, 3, 4]), padding="same")
conv("conv1d_same_dil", "conv1d", Input([1, 2, 7]), Input([3, 2, 2]), padding="same", dilation=3)
conv("conv1d_valid", "conv1d", Input([2, 2, 6]), Input([3, 2, 3]), padding="valid")
conv("conv1d_unbatched", "conv1d", Input([3, 7]), Input([2, 3, 3]), padding=1)

# conv2d
conv("conv2d_basic", "conv2d", Input([2, 3, 6, 6]), Input([4, 3, 3, 3]), bf16=True, padding=1)
conv("conv2d_stride_pad_dil", "conv2d", Input([1, 3, 9, 8]), Input([4, 3, 3, 2]), stride=[2, 3], padding=[1, 2], dilation=[2, 1])
conv("conv2d_groups", "conv2d", Input([2, 4, 5, 5]), Input([6, 2, 3, 3]), padding=1, groups=2, bf16=True)
conv("conv2d_depthwise", "conv2d", Input([2, 4, 6, 5]), Input([8, 1, 3, 3]), stride=2, padding=1, groups=4)
conv("conv2d_same_even", "conv2d", Input([1, 2, 6, 7]), Input([3, 2, 4, 2]), padding="same")
conv("conv2d_same_dil", "conv2d", Input([1, 2, 7, 6]), Input([2, 2, 2, 3]), padding="same", dilation=[3, 2])
conv("conv2d_valid_odd", "conv2d", Input([1, 3, 11, 13]), Input([2, 3, 5, 5]), stride=3, padding=2)
conv("conv2d_big_padding", "conv2d", Input([1, 2, 3, 3]), Input([2, 2, 3, 3]), padding=[4, 2], stride=[3, 1])
conv("conv2d_1x1_stride", "conv2d", Input([2, 5, 7, 7]), Input([3, 5, 1, 1]), stride=2)
conv("conv2d_channels_last", "conv2d", Input([2, 5, 6, 4], permute=[0, 3, 1, 2]), Input([6, 4, 3, 3]), padding=1)
conv("conv2d_strided_input", "conv2d", Input([1, 3, 6, 5], permute=[0, 1, 3, 2]), Input([2, 3, 3, 3]), padding=1, bf16=True)
conv("conv2d_noncontig_weight", "conv2d", Input([1, 3, 5, 5]), Input([3, 3, 3, 4], permute=[3, 2, 0, 1]), padding=1)
conv("conv2d_unbatched", "conv2d", Input([3, 5, 5]), Input([2, 3, 3, 3]), padding=1)
conv("conv2d_empty_batch", "conv2d", Input([0, 3, 5, 5]), Input([2, 3, 3, 3]), padding=1)

# conv3d
conv("conv3d_basic", "conv3d", Input([1, 2, 4, 5, 5]), Input([3, 2, 3, 3, 3]), padding=1)
conv("conv3d_stride_dil_groups", "conv3d", Input([2, 4, 6, 5, 7]), Input([4, 2, 2, 3, 2]), bias=False, stride=[1, 2, 2],
     padding=[1, 0, 1], dilation=[2, 1, 1], groups=2)
conv("conv3d_same_even", "conv3d", Input([1, 2, 4, 4, 4]), Input([2, 2, 2, 3, 2]), padding="same")

# transposed
conv("convT1d_basic", "convTranspose1d", Input([2, 3, 5]), Input([3, 2, 3]), stride=2, padding=1, outputPadding=1)
conv("convT1d_dil", "convTranspose1d", Input([1, 4, 6]), Input([4, 3, 3]), dilation=2, groups=2, padding=2)
conv("convT2d_groups", "convTranspose2d", Input([2, 4, 4, 4]), Input([4, 3, 3, 3]), stride=2, padding=1, outputPadding=1,
     groups=2, bf16=True)
conv("convT2d_dil_stride", "convTranspose2d", Input([1, 3, 4, 3]), Input([3, 2, 3, 2]), stride=[3, 2], padding=[1, 0],
     dilation=2, outputPadding=[2, 1])
conv("convT2d_outpad_over_pad", "convTranspose2d", Input([1, 2, 4, 4]), Input([2, 3, 2, 2]), stride=2, outputPadding=1)
conv("convT2d_outpad_dilation", "convTranspose2d", Input([1, 2, 4, 3]), Input([2, 2, 2, 2]), dilation=3, outputPadding=2)
conv("convT2d_channels_last", "convTranspose2d", Input([2, 4, 4, 3], permute=[0, 3, 1, 2]), Input([3, 2, 3, 3]), stride=2,
     padding=1, bf16=True)
conv("convT2d_unbatched", "convTranspose2d", Input([2, 3, 3]), Input([2, 2, 2, 2]), stride=2, bias=False)
conv("convT3d_basic", "convTranspose3d", Input([1, 2, 3, 3, 3]), Input([2, 3, 3, 3, 3]), stride=2, padding=1, outputPadding=1)
conv("convT3d_groups", "convTranspose3d", Input([1, 4, 2, 3, 2]), Input([4, 1, 2, 2, 3]), stride=[1, 2, 1], groups=2,
     dilation=[1, 1, 2])

# max pooling
pool("maxpool1d_basic", "maxPool1d", Input([2, 3, 9]), kernelSize=3, stride=2, padding=1)
pool("maxpool1d_ceil", "maxPool1d", Input([1, 2, 10]), kernelSize=3, stride=2, ceilMode=True)
pool("maxpool2d_basic", "maxPool2d", Input([2, 3, 7, 7]), kernelSize=3, stride=2, padding=1, bf16=True)
pool("maxpool2d_default_stride", "maxPool2d", Input([1, 2, 6, 7]), kernelSize=2)
pool("maxpool2d_ceil", "maxPool2d", Input([1, 3, 8, 7]), kernelSize=3, stride=2, padding=1, ceilMode=True, bf16=True)
pool("maxpool2d_rect_dil", "maxPool2d", Input([1, 2, 9, 8]), kernelSize=[2, 3], stride=[1, 2], padding=[1, 1], dilation=[2, 1])
pool("maxpool2d_channels_last", "maxPool2d", Input([2, 6, 5, 3], permute=[0, 3, 1, 2]), kernelSize=3, stride=2, padding=1)
pool("maxpool2d_strided", "maxPool2d", Input([1, 2, 6, 5], permute=[0, 1, 3, 2]), kernelSize=2, stride=1)
pool("maxpool2d_unbatched", "maxPool2d", Input([2, 5, 5]), kernelSize=2, stride=2, ceilMode=True)
pool("maxpool3d_basic", "maxPool3d", Input([1, 2, 4, 4, 4]), kernelSize=2, stride=2)
pool("maxpool3d_ceil_pad", "maxPool3d", Input([1, 2, 5, 6, 5]), kernelSize=3, stride=2, padding=1, ceilMode=True, dilation=[1, 1, 2])

# average pooling
pool("avgpool1d_include", "avgPool1d", Input([2, 3, 9]), kernelSize=3, stride=2, padding=1)
pool("avgpool1d_exclude", "avgPool1d", Input([2, 3, 9]), kernelSize=3, stride=2, padding=1, countIncludePad=False)
pool("avgpool1d_ceil", "avgPool1d", Input([1, 2, 10]), kernelSize=3, stride=2, padding=1, ceilMode=True)
pool("avgpool2d_basic", "avgPool2d", Input([2, 3, 7, 7]), kernelSize=3, stride=2, padding=1, bf16=True)
pool("avgpool2d_exclude", "avgPool2d", Input([1, 3, 7, 6]), kernelSize=3, stride=2, padding=1, countIncludePad=False, bf16=True)
pool("avgpool2d_ceil_include", "avgPool2d", Input([1, 2, 8, 7]), kernelSize=3, stride=2, padding=1, ceilMode=True)
pool("avgpool2d_ceil_exclude", "avgPool2d", Input([1, 2, 8, 7]), kernelSize=3, stride=2, padding=1, ceilMode=True,
     countIncludePad=False)
pool("avgpool2d_ceil_nopad", "avgPool2d", Input([1, 2, 6, 7]), kernelSize=[2, 3], stride=2, ceilMode=True)
pool("avgpool2d_divisor", "avgPool2d", Input([1, 2, 6, 6]), kernelSize=3, stride=2, padding=1, divisorOverride=5)
pool("avgpool2d_divisor_ceil", "avgPool2d", Input([1, 2, 8, 7]), kernelSize=3, stride=2, padding=1, ceilMode=True,
     countIncludePad=False, divisorOverride=4)
pool("avgpool2d_channels_last", "avgPool2d", Input([2, 6, 5, 3], permute=[0, 3, 1, 2]), kernelSize=2, stride=2, padding=1)
pool("avgpool3d_ceil", "avgPool3d", Input([1, 2, 5, 6, 5]), kernelSize=3, stride=2, padding=1, ceilMode=True)
pool("avgpool3d_exclude", "avgPool3d", Input([1, 2, 4, 5, 6]), kernelSize=[2, 3, 2], stride=[2, 1, 2], padding=[1, 1, 0],
     countIncludePad=False)

# adaptive average pooling
adaptive("adaptive1d_10_4", "adaptiveAvgPool1d", Input([2, 3, 10]), 4)
adaptive("adaptive1d_7_3", "adaptiveAvgPool1d", Input([1, 2, 7]), 3)
adaptive("adaptive1d_even", "adaptiveAvgPool1d", Input([1, 2, 8]), 4)
adaptive("adaptive2d_uneven", "adaptiveAvgPool2d", Input([2, 3, 7, 10]), [3, 4], bf16=True)
adaptive("adaptive2d_global", "adaptiveAvgPool2d", Input([2, 4, 5, 6]), 1, bf16=True)
adaptive("adaptive2d_grow", "adaptiveAvgPool2d", Input([1, 2, 3, 4]), [5, 6])
adaptive("adaptive2d_channels_last", "adaptiveAvgPool2d", Input([2, 6, 6, 3], permute=[0, 3, 1, 2]), [2, 3])
adaptive("adaptive2d_strided", "adaptiveAvgPool2d", Input([1, 2, 7, 5], permute=[0, 1, 3, 2]), [3, 3])
adaptive("adaptive3d_uneven", "adaptiveAvgPool3d", Input([1, 2, 5, 6, 7]), [2, 3, 4])


def epilogue(name, x, w, scale=True, shift=True, residual=True, relu=True, bf16=False, **kw):
    """conv2dEpilogue: relu(conv2d(x, w, b) * scale + shift + residual); two outputs, as the TypeScript
    side returns the recorded composition and the fused no-grad kernel."""
    tk = torch_kwargs(kw)
    shape = [w.shape[i] for i in w.permute] if w.permute else w.shape
    out_ch = shape[0]
    ref = F.conv2d(torch.zeros([1] + list((x.shape[i] for i in x.permute) if x.permute else x.shape)[1:]),
                   torch.zeros(list(shape)), **tk).shape
    n = (x.shape[x.permute[0]] if x.permute else x.shape[0])
    ins = [x, w, Input([out_ch])]
    slots = {}
    for key, on, spec in (("scale", scale, Input([out_ch])), ("shift", shift, Input([out_ch])),
                          ("residual", residual, Input([n] + list(ref[1:])))):
        if on:
            slots[key] = len(ins)
            ins.append(spec)

    def fn(*a):
        y = F.conv2d(a[0], a[1], a[2], **tk)
        if scale:
            y = y * a[slots["scale"]].reshape(1, -1, 1, 1)
        if shift:
            y = y + a[slots["shift"]].reshape(1, -1, 1, 1)
        if residual:
            y = y + a[slots["residual"]]
        y = F.relu(y) if relu else y
        return y, y
    cases.append(Case(name, "conv2dEpilogue", ins, fn, kwargs={**kw, "slots": slots, "relu": relu}, bf16=bf16))


epilogue("epilogue_full", Input([2, 4, 7, 7]), Input([6, 4, 3, 3]), padding=1, bf16=True)
epilogue("epilogue_channels_last", Input([2, 7, 7, 4], permute=[0, 3, 1, 2]), Input([6, 4, 3, 3]), padding=1, bf16=True)
epilogue("epilogue_channels_last_strided", Input([2, 8, 8, 5], permute=[0, 3, 1, 2]), Input([8, 5, 1, 1]), stride=2)
epilogue("epilogue_affine_only", Input([1, 3, 6, 5]), Input([4, 3, 3, 3]), residual=False, relu=False)
epilogue("epilogue_residual_relu", Input([2, 5, 6, 3], permute=[0, 3, 1, 2]), Input([4, 3, 3, 3]), scale=False, shift=False, padding=1)
epilogue("epilogue_grouped_dilated", Input([1, 4, 9, 9]), Input([4, 2, 3, 3]), groups=2, dilation=2, padding=2)

if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    run_cases(os.path.join(root, "test", "fixtures", "ops", "conv.safetensors"), cases, "tools/reference/ops_conv.py", seed=3)
