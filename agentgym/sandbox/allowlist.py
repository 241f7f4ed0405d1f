"""What a reward program may name: the one list a reviewer reads to know what untrusted code can call.

A program may import only the modules below, may take from each only the names listed
for it, may call only the builtins in ``BUILTINS`` and, on any other value (a tensor, an
array, a dict, a number), may touch only the attributes in ``VALUE_ATTRIBUTES``.
Everything else is rejected by ``agentgym.sandbox.static`` with a message naming the
attribute and this file.

Why an allowlist of attributes and not of modules: numpy and torch carry code runners,
file readers and URL fetchers inside them (``np.testing``, ``np.lib``, ``np.DataSource``,
``np.ctypeslib``, ``np.f2py``, ``np.load``, ``torch.hub``, ``torch.jit``, ...). A denylist
has to know every one of them in every version; an allowlist only has to know what a
reward needs: array maths, reductions, elementwise functions, norms, comparisons,
``clamp``/``where``/``stack``/``cat``, constructors like ``zeros_like``, and the
``dtype``/``shape``/``device`` of a tensor.

Rules for adding a name (tests/sandbox/test_allowlist.py checks the first two):

- it exists in the module on the supported versions, and is a function, a ufunc, a dtype,
  a constant or a class whose instances are plain arrays, never a module (submodules are
  keys of ``MODULES`` and are listed under their parent);
- it reads no file, no environment, no network, starts nothing, compiles nothing and
  pickles nothing;
- a value attribute is also harmless on a module object (a program can bind a module to a
  variable, and then only ``VALUE_ATTRIBUTES`` apply to it) and never reaches a frame, a
  code object, a loader, a class's internals or raw memory (``ctypes``, ``data_ptr``,
  ``tofile``, ``dump``, ``gi_frame``, ``format`` are out for that reason).
"""

from __future__ import annotations

_ELEMENTWISE = (
    "abs absolute acos acosh arccos arccosh arcsin arcsinh arctan arctan2 arctanh asin asinh "
    "atan atan2 atanh ceil clip copysign cos cosh deg2rad exp exp2 expm1 floor fmax fmin fmod "
    "hypot isfinite isinf isnan log log10 log1p log2 logaddexp logical_and logical_not "
    "logical_or logical_xor maximum minimum negative rad2deg reciprocal remainder round sign "
    "signbit sin sinc sinh sqrt square tan tanh trunc heaviside nan_to_num"
)
_REDUCTIONS = (
    "all amax amin any argmax argmin argsort cumprod cumsum max mean median min nanmean "
    "nansum prod quantile sort std sum var count_nonzero diff"
)
_SHAPES = (
    "broadcast_to concatenate flip reshape squeeze stack swapaxes transpose tril triu hstack "
    "vstack dstack column_stack atleast_1d atleast_2d moveaxis take tile where "
    "unique nonzero"
)
_ARITHMETIC = (
    "add subtract multiply divide true_divide floor_divide dot inner outer matmul "
    "einsum cross trace diag diagonal equal not_equal greater greater_equal less less_equal "
    "isclose allclose"
)
_CONSTRUCTORS = (
    "zeros zeros_like ones ones_like full full_like empty empty_like eye arange linspace logspace"
)


def _names(*groups: str) -> frozenset[str]:
    return frozenset(name for group in groups for name in group.split())


MODULES: dict[str, frozenset[str]] = {
    "math": _names(
        "acos acosh asin asinh atan atan2 atanh ceil comb copysign cos cosh degrees dist e erf "
        "erfc exp expm1 fabs factorial floor fmod frexp fsum gamma gcd hypot inf isclose "
        "isfinite isinf isnan isqrt lcm ldexp lgamma log log10 log1p log2 modf nan perm pi pow "
        "prod radians remainder sin sinh sqrt tan tanh tau trunc"
    ),
    "numpy": _names(
        _ELEMENTWISE,
        _REDUCTIONS,
        _SHAPES,
        _ARITHMETIC,
        _CONSTRUCTORS,
        "array asarray copy average interp digitize percentile nanmax nanmin expand_dims "
        "around rint cbrt fabs mod degrees radians repeat power take_along_axis "
        "pi e inf nan newaxis float16 float32 float64 int8 int16 int32 int64 uint8 bool_ "
        "ndarray finfo iinfo linalg",
    ),
    "numpy.linalg": _names("norm det inv solve pinv eigvalsh svd"),
    "torch": _names(
        _ELEMENTWISE,
        _REDUCTIONS,
        _SHAPES,
        _ARITHMETIC,
        _CONSTRUCTORS,
        "addcmul addcdiv aminmax as_tensor tensor bucketize cat concat cdist chunk clamp "
        "clamp_min clamp_max clone cosine_similarity cummax cummin dist div erf flatten "
        "frac gather ge gt le lt ne eq index_select isneginf isposinf lerp logsumexp mm mul "
        "narrow neg numel permute pow relu repeat_interleave rsqrt searchsorted select sgn "
        "sigmoid softmax split sub t tensordot topk unbind unsqueeze var_mean std_mean xlogy "
        "norm take_along_dim float_power is_tensor is_floating_point movedim rand rand_like randn randn_like "
        "pi e inf nan float16 bfloat16 float32 float64 half float double int8 int16 int32 "
        "int64 long int uint8 bool Tensor Size finfo iinfo no_grad inference_mode "
        "linalg nn special",
    ),
    "torch.linalg": _names(
        "norm vector_norm matrix_norm det inv solve pinv cross vecdot eigvalsh svdvals "
        "multi_dot matmul diagonal"
    ),
    "torch.nn": _names("functional"),
    "torch.nn.functional": _names(
        "normalize smooth_l1_loss mse_loss l1_loss huber_loss relu relu6 leaky_relu elu selu "
        "celu gelu silu mish softplus softsign sigmoid hardsigmoid hardtanh tanh logsigmoid "
        "softmax log_softmax cosine_similarity pairwise_distance one_hot pad threshold"
    ),
    "torch.special": _names("expit logit erf erfc xlogy sinc entr log1p expm1 exp2"),
    "typing": _names("Any Dict List Tuple Optional Union Mapping Sequence Iterable MutableMapping"),
    "__future__": _names("annotations"),
}
"""Importable modules (dotted) and what a program may take from each; a name that is
itself a key here is a submodule."""

VALUE_ATTRIBUTES: frozenset[str] = _names(
    # tensors and arrays: maths (many share the module's name)
    _ELEMENTWISE,
    _REDUCTIONS,
    "add sub mul div pow neg matmul dot outer cross eq ne lt le gt ge clamp clamp_min "
    "clamp_max clamp_ clip_ relu sigmoid softmax log_softmax logsumexp norm rsqrt frac "
    "isclose allclose equal masked_fill masked_select lerp topk cummax cummin "
    "add_ sub_ mul_ div_ fill_ zero_ nansum nanmean ptp",
    # shape and layout
    "shape size ndim dim ndimension numel T mT reshape reshape_as view view_as flatten "
    "squeeze unsqueeze expand expand_as permute transpose swapaxes repeat tile "
    "unbind split chunk narrow select index_select gather flip contiguous where",
    # dtype, device, conversion
    "dtype device is_floating_point float double half int long bool to type_as astype cpu "
    "numpy tolist item detach clone copy new_tensor new_zeros new_ones new_full real imag "
    "is_cuda",
    # what reductions and finfo return: x.max(-1).values / .indices, torch.finfo(d).eps
    "indices eps tiny resolution t mm bmm",
    # dicts, lists, tuples and strings the program builds or receives (state is a dict)
    "get items keys values append extend insert pop update setdefault index count "
    "startswith endswith lower upper strip join replace",
)
"""Attributes a program may read on any value that is not an imported module."""

BUILTINS: frozenset[str] = _names(
    "abs all any bool complex dict divmod enumerate filter float frozenset getattr hasattr "
    "int isinstance iter len list map max min next pow print range repr reversed round set "
    "slice sorted str sum tuple zip callable chr ord "
    "BaseException Exception ArithmeticError AssertionError FloatingPointError IndexError KeyError "
    "NotImplementedError OverflowError RuntimeError TypeError ValueError ZeroDivisionError "
    "NotImplemented Ellipsis"
)
"""The builtins a program may name (True, False and None are constants, not names)."""

ALLOWLIST_FILE = "agentgym/sandbox/allowlist.py"
"""Where rejection messages send the reader."""
