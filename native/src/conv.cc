// Convolution and transposed convolution (1-D/2-D/3-D, groups, dilation, asymmetric
// padding) on oneDNN: forward, backward-data and backward-weights (with bias grad).
//
// Tensors arrive in torch's logical layout (NC + spatial; weights [O, C/g, k...], or
// [C, O/g, k...] when transposed) with any strides. Activations that are dense
// channels-last are handed to oneDNN as they are (its nhwc kernels are as fast as the
// blocked ones and need no copies); anything else lets oneDNN choose its blocked layout
// and is reordered in and out through reusable scratch buffers. Weights always go
// through the layout oneDNN picks: they change every training step, so nothing about
// them is cached beyond the reorder primitive itself.
#include "common.h"
#include "winograd.h"

namespace tsv {

namespace {

using dnnl::memory;
using tag = memory::format_tag;

// Geometry shared by every conv call; dilation is in oneDNN's convention (torch - 1).
struct ConvGeom {
  Dims stride, padL, padR, dilation;
  int64_t groups = 1;
  bool transposed = false;

  std::string Key() const {
    return "s" + DimsKey(stride) + "l" + DimsKey(padL) + "r" + DimsKey(padR) + "d" + DimsKey(dilation) + "g" +
           std::to_string(groups) + (transposed ? "T" : "C") + "|";
  }
};

// Reads stride, padLeft, padRight, dilation (torch convention), groups, transposed.
ConvGeom ReadGeom(const Options& o, int spatial) {
  if (spatial < 1 || spatial > 3) Fail("tensors must have rank 3, 4 or 5, got " + std::to_string(spatial + 2));
  ConvGeom g;
  g.stride = o.List("stride");
  g.padL = o.List("padLeft");
  g.padR = o.List("padRight");
  g.dilation = o.List("dilation");
  g.groups = static_cast<int64_t>(o.Number("groups"));
  g.transposed = o.Flag("transposed");
  const Dims* lists[] = {&g.stride, &g.padL, &g.padR, &g.dilation};
  for (const Dims* d : lists)
    if (static_cast<int>(d->size()) != spatial) Fail("geometry lists must have " + std::to_string(spatial) + " entries");
  for (int i = 0; i < spatial; ++i) {
    if (g.stride[i] < 1 || g.dilation[i] < 1) Fail("stride and dilation must be positive");
    g.dilation[i] -= 1;
  }
  if (g.groups < 1) Fail("groups must be positive");
  return g;
}

// Dense with the channel dim innermost (nwc, nhwc, ndhwc).
bool ChannelsLast(const View& v) {
  const int nd = v.ndim();
  Dims order;
  order.push_back(1);
  for (int i = nd - 1; i >= 2; --i) order.push_back(i);
  order.push_back(0);
  int64_t expected = 1;
  for (int64_t d : order) {
    if (v.shape[d] != 1 && v.strides[d] != expected) return false;
    expected *= v.shape[d];
  }
  return true;
}

// What the primitive is created with for an activation: the view itself when oneDNN
// runs fast on it, else `any` so oneDNN picks its blocked layout.
memory::desc ActivationWant(const View& v, const char* op) {
  if (ChannelsLast(v)) return v.desc(op);
  return memory::desc(v.shape, ToDnnl(v.dtype, op), tag::any);
}

// The torch weight view as oneDNN's [g,] O/g, C/g, k... weights (O/C: the op's output/input channels).
memory::desc UserWeights(const View& w, const ConvGeom& g, const char* op) {
  const int64_t s0 = w.strides[0], s1 = w.strides[1];
  Dims dims, strides;
  if (!g.transposed) {
    const int64_t og = w.shape[0] / g.groups;
    if (g.groups > 1) { dims = {g.groups, og, w.shape[1]}; strides = {og * s0, s0, s1}; }
    else { dims = {w.shape[0], w.shape[1]}; strides = {s0, s1}; }
  } else {
    const int64_t cg = w.shape[0] / g.groups;
    if (g.groups > 1) { dims = {g.groups, w.shape[1], cg}; strides = {cg * s0, s1, s0}; }
    else { dims = {w.shape[1], w.shape[0]}; strides = {s1, s0}; }
  }
  for (int i = 2; i < w.ndim(); ++i) { dims.push_back(w.shape[i]); strides.push_back(w.strides[i]); }
  return memory::desc(dims, ToDnnl(w.dtype, op), strides);
}

memory::desc AnyLike(const memory::desc& d) { return memory::desc(d.dims(), d.data_type(), tag::any); }

// ---- a primitive with its operand reorders ---------------------------------------

// One operand: how the caller holds it and how the primitive wants it.
struct Operand {
  int arg;
  memory::desc user;
  memory::desc prim;
  bool input;
  bool reordered = false;
  dnnl::reorder re;
};

struct Plan {
  dnnl::primitive prim;
  memory::desc scratchpad;
  std::vector<Operand> operands;
};

dnnl::primitive_attr UserScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// Adds an operand, with a reorder when the caller's layout is not the primitive's.
void AddOperand(Plan& plan, int arg, const memory::desc& user, const memory::desc& prim, bool input) {
  Operand o{arg, user, prim, input, false, dnnl::reorder()};
  if (user != prim) {
    o.reordered = true;
    o.re = input ? dnnl::reorder(dnnl::reorder::primitive_desc(Engine(), user, Engine(), prim))
                 : dnnl::reorder(dnnl::reorder::primitive_desc(Engine(), prim, Engine(), user));
  }
  plan.operands.push_back(std::move(o));
}

// Runs the plan with data pointers in operand order. `prepared` names an input operand whose
// pointer is already in the primitive's layout (cached packed weights): it skips the reorder.
void Execute(const Plan& plan, const std::vector<void*>& data, int prepared = -1) {
  dnnl::stream& s = Stream();
  std::unordered_map<int, memory> args;
  std::vector<std::pair<size_t, memory>> pendingOut;
  for (size_t i = 0; i < plan.operands.size(); ++i) {
    const Operand& o = plan.operands[i];
    memory user(o.user, Engine(), data[i]);
    if (!o.reordered) { args.emplace(o.arg, user); continue; }
    if (static_cast<int>(i) == prepared) { args.emplace(o.arg, memory(o.prim, Engine(), data[i])); continue; }
    memory inner(o.prim, Engine(), ScratchBuffer(static_cast<int>(i), o.prim.get_size()));
    if (o.input) o.re.execute(s, user, inner);
    else pendingOut.emplace_back(i, user);
    args.emplace(o.arg, inner);
  }
  const size_t padBytes = plan.scratchpad.get_size();
  if (padBytes > 0) args.emplace(DNNL_ARG_SCRATCHPAD, memory(plan.scratchpad, Engine(), ScratchBuffer(7, padBytes)));
  plan.prim.execute(s, args);
  for (auto& [i, user] : pendingOut) plan.operands[i].re.execute(s, args.at(plan.operands[i].arg), user);
  s.wait();
}

// ---- argument checks ---------------------------------------------------------------

struct ConvViews {
  View x, w, y;  // y: the op's output (dst); for backward calls, the grad of it
};

void CheckShapes(const ConvViews& v, const ConvGeom& g) {
  const int nd = v.x.ndim();
  if (v.w.ndim() != nd || v.y.ndim() != nd) Fail("input, weight and output must share one rank");
  if (v.x.dtype != v.w.dtype || v.y.dtype != v.x.dtype) Fail("input, weight and output must share one dtype");
  if (v.x.dtype != DType::F32 && v.x.dtype != DType::BF16) Fail(std::string("dtype ") + DTypeName(v.x.dtype) + " is not supported");
  const int64_t inC = v.x.shape[1], outC = v.y.shape[1];
  const int64_t wIn = g.transposed ? v.w.shape[0] : v.w.shape[1] * g.groups;
  const int64_t wOut = g.transposed ? v.w.shape[1] * g.groups : v.w.shape[0];
  if (wIn != inC || wOut != outC || inC % g.groups != 0 || outC % g.groups != 0)
    Fail("weight " + DimsKey(v.w.shape) + " does not fit input " + DimsKey(v.x.shape) + " and output " + DimsKey(v.y.shape) +
         " with groups " + std::to_string(g.groups));
  if (v.x.shape[0] != v.y.shape[0]) Fail("batch sizes differ");
  for (int i = 2; i < nd; ++i) {
    // The conv direction's geometry: large side -> small side.
    const int64_t big = g.transposed ? v.y.shape[i] : v.x.shape[i];
    const int64_t small = g.transposed ? v.x.shape[i] : v.y.shape[i];
    const int64_t span = (v.w.shape[i] - 1) * (g.dilation[i - 2] + 1) + 1;
    const int64_t str = g.stride[i - 2];
    const int64_t padded = big + g.padL[i - 2] + g.padR[i - 2] - span;
    if (g.padL[i - 2] < 0 || g.padR[i - 2] + str <= 0 || padded < 0 || padded / str + 1 != small)
      Fail("spatial dim " + std::to_string(i) + ": sizes " + std::to_string(big) + " -> " + std::to_string(small) +
           " do not match kernel span " + std::to_string(span) + ", stride " + std::to_string(str) + " and padding " +
           std::to_string(g.padL[i - 2]) + "/" + std::to_string(g.padR[i - 2]));
  }
  if (v.x.numel() == 0 || v.y.numel() == 0 || v.w.numel() == 0) Fail("empty tensors are handled by the caller");
}

void CheckChannelVector(const View& b, int64_t channels, const char* what) {
  if (b.ndim() != 1 || b.shape[0] != channels || b.strides[0] != 1)
    Fail(std::string(what) + " must be contiguous [" + std::to_string(channels) + "], got " + DimsKey(b.shape));
}

memory::desc BiasDesc(const View& b, const char* op) { return memory::desc(b.shape, ToDnnl(b.dtype, op), tag::x); }

// The oneDNN primitive family for plain (K::transposed false) or transposed convolution.
template <bool kTransposed>
struct Kind {
  using Fwd = dnnl::convolution_forward;
  using BwdData = dnnl::convolution_backward_data;
  using BwdWeights = dnnl::convolution_backward_weights;
  static constexpr dnnl::algorithm alg = dnnl::algorithm::convolution_direct;
};
template <>
struct Kind<true> {
  using Fwd = dnnl::deconvolution_forward;
  using BwdData = dnnl::deconvolution_backward_data;
  using BwdWeights = dnnl::deconvolution_backward_weights;
  static constexpr dnnl::algorithm alg = dnnl::algorithm::deconvolution_direct;
};

// The forward primitive desc; also the hint the backward primitives need.
template <class K>
typename K::Fwd::primitive_desc ForwardDesc(const memory::desc& src, const memory::desc& wei, const memory::desc* bias,
                                            const memory::desc& dst, const ConvGeom& g, const dnnl::primitive_attr& attr,
                                            bool inference = false) {
  using D = typename K::Fwd::desc;
  const auto pk = inference ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
  D d = bias ? D(pk, K::alg, src, wei, *bias, dst, g.stride, g.dilation, g.padL, g.padR)
             : D(pk, K::alg, src, wei, dst, g.stride, g.dilation, g.padL, g.padR);
  return typename K::Fwd::primitive_desc(d, attr, Engine());
}

// What the forward applies to the conv's output, in this order, as oneDNN post-ops:
// y = act(conv * scale + shift + residual). scale/shift are per output channel (eval-mode
// batch norm folded into the epilogue); residual has the output's shape.
// With `accumulate`, the residual is the output's current contents (a sum post-op), which
// oneDNN's brgemm kernels run faster than a full-tensor binary operand.
struct Epilogue {
  const View* scale = nullptr;
  const View* shift = nullptr;
  const View* residual = nullptr;
  bool accumulate = false;
  bool relu = false;
  bool inference = false;

  bool Empty() const { return !scale && !shift && !residual && !accumulate && !relu; }
  std::string Key() const {
    return std::string(scale ? "S" : "-") + (shift ? "T" : "-") + (residual ? "R" + ViewKey(*residual) : "-") + (accumulate ? "+" : "-") +
           (relu ? "A" : "-") + (inference ? "I" : "-");
  }
};

// A per-output-channel f32 vector as a binary post-op operand broadcast over [N, C, spatial...].
memory::desc ChannelVectorDesc(const View& v, int ndim) {
  Dims dims(ndim, 1), strides(ndim, 1);
  dims[1] = v.shape[0];
  return memory::desc(dims, memory::data_type::f32, strides);
}

dnnl::primitive_attr EpilogueAttr(const Epilogue& e, int ndim, const char* op) {
  dnnl::primitive_attr attr = UserScratchpad();
  if (e.Empty()) return attr;
  dnnl::post_ops po;
  if (e.scale) po.append_binary(dnnl::algorithm::binary_mul, ChannelVectorDesc(*e.scale, ndim));
  if (e.shift) po.append_binary(dnnl::algorithm::binary_add, ChannelVectorDesc(*e.shift, ndim));
  if (e.residual) po.append_binary(dnnl::algorithm::binary_add, e.residual->desc(op));
  if (e.accumulate) po.append_sum(1.f);
  if (e.relu) po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
  attr.set_post_ops(po);
  return attr;
}

// Whether `pd` runs channels-last activations on oneDNN's direct AVX2 kernel for a spatial
// (non-1×1) kernel: the widest kernels here are AVX2 ones and the primitive blocked the weights it
// was offered as `any` (its gemm and reference kernels keep them plain). Depthwise convolutions
// have a kernel of their own, which keeps channels-last.
template <class PD>
bool DirectAvx2OnChannelsLast(const ConvViews& v, const ConvGeom& g, const PD& pd) {
  const bool spatialKernel = v.w.numel() / (v.w.shape[0] * v.w.shape[1]) > 1;
  const bool depthwise = g.groups == v.x.shape[1] && g.groups == v.y.shape[1];
  return spatialKernel && !depthwise && Avx2IsWidest() && ChannelsLast(v.x) && IsBlockedLayout(pd.weights_desc());
}

template <class K>
Plan MakeForward(const ConvViews& v, const View* bias, const Epilogue& e, const ConvGeom& g, const char* op) {
  memory::desc wUser = UserWeights(v.w, g, op);
  memory::desc bDesc = bias ? BiasDesc(*bias, op) : memory::desc();
  const dnnl::primitive_attr attr = EpilogueAttr(e, v.x.ndim(), op);
  auto pd = ForwardDesc<K>(ActivationWant(v.x, op), AnyLike(wUser), bias ? &bDesc : nullptr, ActivationWant(v.y, op), g, attr, e.inference);
  // oneDNN's AVX2 direct kernels for spatial (non-1×1) kernels run 10–45% faster on its blocked
  // layout than on channels-last (3×3 at 14–28 px, batch 16), more than the reorders in and out cost.
  if (e.inference && !e.accumulate && DirectAvx2OnChannelsLast(v, g, pd)) {
    auto blocked = ForwardDesc<K>(AnyLike(v.x.desc(op)), AnyLike(wUser), bias ? &bDesc : nullptr, AnyLike(v.y.desc(op)), g, attr, true);
    if (IsBlockedLayout(blocked.dst_desc())) pd = blocked;
  }
  if (e.accumulate && v.y.desc(op) != pd.dst_desc()) Fail("accumulate needs an output in the primitive's layout (channels-last)");
  Plan plan{typename K::Fwd(pd), pd.scratchpad_desc(), {}};
  AddOperand(plan, DNNL_ARG_SRC, v.x.desc(op), pd.src_desc(), true);
  AddOperand(plan, DNNL_ARG_WEIGHTS, wUser, pd.weights_desc(), true);
  if (bias) AddOperand(plan, DNNL_ARG_BIAS, bDesc, pd.bias_desc(), true);
  AddOperand(plan, DNNL_ARG_DST, v.y.desc(op), pd.dst_desc(), false);
  const int nd = v.x.ndim();
  int postOp = 0;
  for (const View* operand : {e.scale, e.shift, e.residual}) {
    if (!operand) continue;
    const memory::desc d = operand == e.residual ? operand->desc(op) : ChannelVectorDesc(*operand, nd);
    AddOperand(plan, DNNL_ARG_ATTR_MULTIPLE_POST_OP(postOp++) | DNNL_ARG_SRC_1, d, d, true);
  }
  return plan;
}

// v.x is the grad of the input (written), v.y the grad of the output (read).
template <class K>
Plan MakeBackwardData(const ConvViews& v, const ConvGeom& g, const char* op) {
  memory::desc wUser = UserWeights(v.w, g, op);
  const memory::desc src = ActivationWant(v.x, op), wei = AnyLike(wUser), dst = ActivationWant(v.y, op);
  auto hint = ForwardDesc<K>(src, wei, nullptr, dst, g, dnnl::primitive_attr());
  typename K::BwdData::desc d(K::alg, src, wei, dst, g.stride, g.dilation, g.padL, g.padR);
  typename K::BwdData::primitive_desc pd(d, UserScratchpad(), Engine(), hint);
  Plan plan{typename K::BwdData(pd), pd.scratchpad_desc(), {}};
  AddOperand(plan, DNNL_ARG_DIFF_DST, v.y.desc(op), pd.diff_dst_desc(), true);
  AddOperand(plan, DNNL_ARG_WEIGHTS, wUser, pd.weights_desc(), true);
  AddOperand(plan, DNNL_ARG_DIFF_SRC, v.x.desc(op), pd.diff_src_desc(), false);
  return plan;
}

// v.w is the grad of the weight (written); bias, when given, receives the bias grad.
template <class K>
Plan MakeBackwardWeights(const ConvViews& v, const View* bias, const ConvGeom& g, const char* op) {
  memory::desc wUser = UserWeights(v.w, g, op);
  memory::desc bDesc = bias ? BiasDesc(*bias, op) : memory::desc();
  const memory::desc src = ActivationWant(v.x, op), wei = AnyLike(wUser), dst = ActivationWant(v.y, op);
  auto hint = ForwardDesc<K>(src, wei, bias ? &bDesc : nullptr, dst, g, dnnl::primitive_attr());
  using D = typename K::BwdWeights::desc;
  D d = bias ? D(K::alg, src, wei, bDesc, dst, g.stride, g.dilation, g.padL, g.padR)
             : D(K::alg, src, wei, dst, g.stride, g.dilation, g.padL, g.padR);
  typename K::BwdWeights::primitive_desc pd(d, UserScratchpad(), Engine(), hint);
  Plan plan{typename K::BwdWeights(pd), pd.scratchpad_desc(), {}};
  AddOperand(plan, DNNL_ARG_SRC, v.x.desc(op), pd.src_desc(), true);
  AddOperand(plan, DNNL_ARG_DIFF_DST, v.y.desc(op), pd.diff_dst_desc(), true);
  AddOperand(plan, DNNL_ARG_DIFF_WEIGHTS, wUser, pd.diff_weights_desc(), false);
  if (bias) AddOperand(plan, DNNL_ARG_DIFF_BIAS, bDesc, pd.diff_bias_desc(), false);
  return plan;
}

// The optional bias (or its grad) field: contiguous [O], the input's dtype.
bool ReadOptionalBias(const Options& o, const char* field, const ConvViews& v, View* bias) {
  if (!o.OptionalTensor(field, bias)) return false;
  CheckChannelVector(*bias, v.y.shape[1], field);
  if (bias->dtype != v.x.dtype) Fail(std::string(field) + " dtype differs from input dtype");
  return true;
}

// An optional per-output-channel f32 vector field (the epilogue's scale or shift).
const View* ReadChannelVector(const Options& o, const char* field, int64_t channels, View* v) {
  if (!o.OptionalTensor(field, v)) return nullptr;
  CheckChannelVector(*v, channels, field);
  if (v->dtype != DType::F32) Fail(std::string(field) + " must be float32");
  return v;
}

// convForward({ x, weight, bias?, out, ...geometry, scale?, shift?, residual?, relu?, accumulate?, inference?, winograd?, packedWeights? })
Napi::Value ConvForward(const Napi::CallbackInfo& info) {
  const char* op = "convForward";
  const Options o(info, op);
  ConvViews v{o.Tensor("x"), o.Tensor("weight"), o.Tensor("out")};
  const ConvGeom g = ReadGeom(o, v.x.ndim() - 2);
  CheckShapes(v, g);
  View bias;
  const bool hasBias = ReadOptionalBias(o, "bias", v, &bias);
  const View* b = hasBias ? &bias : nullptr;
  const int64_t outC = v.y.shape[1];
  View scale, shift, residual;
  Epilogue e;
  e.scale = ReadChannelVector(o, "scale", outC, &scale);
  e.shift = ReadChannelVector(o, "shift", outC, &shift);
  if (o.OptionalTensor("residual", &residual)) {
    if (residual.shape != v.y.shape || residual.dtype != v.y.dtype) Fail("residual must have the output's shape and dtype, got " + DimsKey(residual.shape));
    e.residual = &residual;
  }
  e.relu = o.Flag("relu");
  e.accumulate = o.Flag("accumulate");
  e.inference = o.Flag("inference");
  const Napi::Value holder = o.Get("packedWeights");
  if (!e.Empty() && g.transposed) Fail("an epilogue is only supported on plain convolution");
  const int winograd = static_cast<int>(o.Number("winograd", -1.0));
  if (winograd < -1 || winograd > 2) Fail("winograd must be 0, 1, 2 or absent, got " + std::to_string(winograd));
  if (e.inference && !e.residual && !g.transposed && WinogradApplies(v.x, v.w, v.y, g.stride, g.padL, g.padR, g.dilation, g.groups, winograd)) {
    WinogradEpilogue we{b ? bias.ptr<float>() : nullptr, e.scale ? scale.ptr<float>() : nullptr, e.shift ? shift.ptr<float>() : nullptr,
                        e.accumulate, e.relu};
    WinogradConv(v.x, WinogradWeights(v.w, holder), v.y, we);
    return info.Env().Undefined();
  }
  const std::string key = "convF|" + g.Key() + ViewKey(v.x) + ViewKey(v.w) + (hasBias ? ViewKey(bias) : "-;") + ViewKey(v.y) + e.Key();
  const Plan& plan = CachedPrimitive<Plan>(key, [&]() {
    return g.transposed ? MakeForward<Kind<true>>(v, b, e, g, op) : MakeForward<Kind<false>>(v, b, e, g, op);
  });
  std::vector<void*> data{v.x.data(), v.w.data()};
  if (hasBias) data.push_back(bias.data());
  data.push_back(v.y.data());
  for (const View* operand : {e.scale, e.shift, e.residual})
    if (operand) data.push_back(operand->data());
  const bool packable = holder.IsObject() && plan.operands[1].reordered;
  if (!packable) {
    Execute(plan, data);
    return info.Env().Undefined();
  }
  const Operand& w = plan.operands[1];
  data[1] = PackedWeights(holder.As<Napi::Object>(), w.user, w.prim, w.re, v.w);
  Execute(plan, data, 1);
  return info.Env().Undefined();
}

// convBackwardData({ gradOut, weight, gradIn, ...geometry })
Napi::Value ConvBackwardData(const Napi::CallbackInfo& info) {
  const char* op = "convBackwardData";
  const Options o(info, op);
  ConvViews v{o.Tensor("gradIn"), o.Tensor("weight"), o.Tensor("gradOut")};
  const ConvGeom g = ReadGeom(o, v.x.ndim() - 2);
  CheckShapes(v, g);
  const std::string key = "convBD|" + g.Key() + ViewKey(v.x) + ViewKey(v.w) + ViewKey(v.y);
  const Plan& plan = CachedPrimitive<Plan>(key, [&]() {
    return g.transposed ? MakeBackwardData<Kind<true>>(v, g, op) : MakeBackwardData<Kind<false>>(v, g, op);
  });
  Execute(plan, {v.y.data(), v.w.data(), v.x.data()});
  return info.Env().Undefined();
}

// convBackwardWeights({ x, gradOut, gradWeight, gradBias?, ...geometry })
Napi::Value ConvBackwardWeights(const Napi::CallbackInfo& info) {
  const char* op = "convBackwardWeights";
  const Options o(info, op);
  ConvViews v{o.Tensor("x"), o.Tensor("gradWeight"), o.Tensor("gradOut")};
  const ConvGeom g = ReadGeom(o, v.x.ndim() - 2);
  CheckShapes(v, g);
  View bias;
  const bool hasBias = ReadOptionalBias(o, "gradBias", v, &bias);
  const View* b = hasBias ? &bias : nullptr;
  const std::string key = "convBW|" + g.Key() + ViewKey(v.x) + ViewKey(v.w) + (hasBias ? ViewKey(bias) : "-;") + ViewKey(v.y);
  const Plan& plan = CachedPrimitive<Plan>(key, [&]() {
    return g.transposed ? MakeBackwardWeights<Kind<true>>(v, b, g, op) : MakeBackwardWeights<Kind<false>>(v, b, g, op);
  });
  std::vector<void*> data{v.x.data(), v.y.data(), v.w.data()};
  if (hasBias) data.push_back(bias.data());
  Execute(plan, data);
  return info.Env().Undefined();
}

}  // namespace

void RegisterConv(Napi::Env env, Napi::Object exports) {
  ExportOneDnn(env, exports, "convForward", ConvForward, {"x", {"scale", "shift"}});
  ExportOneDnn(env, exports, "convBackwardData", ConvBackwardData, {"gradOut"});
  ExportOneDnn(env, exports, "convBackwardWeights", ConvBackwardWeights, {"x"});
}

}  // namespace tsv
