"""The allowlists of the static validator: modules, their attributes, builtins.

A policy may use a module only through the attributes listed here. Everything else a
module happens to carry (``dataclasses.sys``, ``statistics.random``, ``collections._sys``,
``np.load``, ``np.lib``, ``np._core``...) is rejected, so a new attribute in a new library
version is rejected too until someone reviews it. Reasons for the commonest rejections are
in :data:`ATTR_REASONS`.

Randomness is forbidden (``random``, ``np.random``): the scores that a certificate and an
audit rely on must be reproducible from the source and the data alone. The worker also
seeds the global generators of every candidate (defence in depth).
"""
from __future__ import annotations

_MATH = ("acos acosh asin asinh atan atan2 atanh cbrt ceil comb copysign cos cosh degrees dist e erf erfc exp exp2 "
         "expm1 fabs factorial floor fmod frexp fsum gamma gcd hypot inf isclose isfinite isinf isnan isqrt lcm ldexp "
         "lgamma log log10 log1p log2 modf nan nextafter perm pi pow prod radians remainder sin sinh sqrt tan tanh tau "
         "trunc ulp")
_CMATH = ("acos acosh asin asinh atan atanh cos cosh e exp inf infj isclose isfinite isinf isnan log log10 nan nanj "
          "phase pi polar rect sin sinh sqrt tan tanh tau")
_NUMPY = (
    # constants and scalar types
    "pi e inf nan newaxis euler_gamma float64 float32 float16 int64 int32 int16 int8 uint64 uint32 uint16 uint8 "
    "bool_ intp integer floating number complex128 dtype finfo iinfo ndarray generic "
    "datetime64 timedelta64 datetime_as_string isnat busday_count is_busday busday_offset "
    # creation
    "array asarray asanyarray ascontiguousarray zeros zeros_like ones ones_like empty empty_like full full_like "
    "arange linspace logspace geomspace eye identity diag diagflat tri tril triu meshgrid indices copy "
    # elementwise math
    "abs absolute fabs sign negative positive add subtract multiply divide true_divide floor_divide mod fmod "
    "remainder divmod power float_power sqrt cbrt square exp exp2 expm1 log log2 log10 log1p sin cos tan arcsin "
    "arccos arctan arctan2 sinh cosh tanh arcsinh arccosh arctanh hypot deg2rad rad2deg degrees radians floor ceil "
    "trunc rint round around fix clip maximum minimum fmax fmin reciprocal heaviside logaddexp logaddexp2 "
    "nan_to_num real imag conj gcd lcm interp sinc "
    # reductions and statistics
    "sum prod mean median average std var min max amin amax ptp cumsum cumprod nansum nanprod nanmean nanmedian "
    "nanstd nanvar nanmin nanmax nancumsum nancumprod nanpercentile nanquantile percentile quantile argmin argmax "
    "nanargmin nanargmax count_nonzero histogram histogram_bin_edges bincount digitize corrcoef cov correlate "
    "convolve diff ediff1d gradient trapezoid cross dot vdot inner outer matmul tensordot einsum kron trace "
    # logic and comparison
    "all any isnan isinf isfinite isclose allclose array_equal array_equiv greater greater_equal less less_equal "
    "equal not_equal logical_and logical_or logical_not logical_xor where select piecewise nonzero flatnonzero "
    "argwhere isin in1d signbit "
    # shape and order
    "shape ndim size reshape ravel transpose swapaxes moveaxis squeeze expand_dims atleast_1d atleast_2d atleast_3d "
    "broadcast_to broadcast_arrays concatenate stack vstack hstack dstack column_stack split array_split tile repeat "
    "flip fliplr flipud roll rot90 append insert delete resize pad take take_along_axis put_along_axis choose "
    "compress extract sort argsort lexsort partition argpartition searchsorted unique cumulative_sum "
    "intersect1d union1d setdiff1d setxor1d trim_zeros "
    # polynomials, misc
    "polyfit polyval poly1d roots vectorize errstate isscalar iscomplexobj isrealobj result_type promote_types "
    "can_cast"
)
_LINALG = ("norm inv pinv solve lstsq det slogdet eig eigh eigvals eigvalsh svd qr cholesky matrix_rank "
           "matrix_power multi_dot cond LinAlgError")
_STATISTICS = ("mean fmean geometric_mean harmonic_mean median median_low median_high median_grouped mode multimode "
               "quantiles pstdev pvariance stdev variance correlation covariance linear_regression NormalDist "
               "StatisticsError")

MODULE_ATTRS: dict[str, frozenset[str]] = {
    "math": frozenset(_MATH.split()),
    "cmath": frozenset(_CMATH.split()),
    "numpy": frozenset(_NUMPY.split()),
    "numpy.linalg": frozenset(_LINALG.split()),
    "statistics": frozenset(_STATISTICS.split()),
    "functools": frozenset("reduce partial cmp_to_key lru_cache cache".split()),
    "itertools": frozenset(("accumulate chain combinations combinations_with_replacement compress count cycle "
                            "dropwhile filterfalse groupby islice pairwise permutations product repeat starmap "
                            "takewhile tee zip_longest").split()),
    "collections": frozenset("deque Counter defaultdict OrderedDict namedtuple ChainMap".split()),
    "bisect": frozenset("bisect bisect_left bisect_right insort insort_left insort_right".split()),
    "heapq": frozenset("heappush heappop heapify heapreplace heappushpop nlargest nsmallest merge".split()),
    "fractions": frozenset({"Fraction"}),
    "decimal": frozenset(("Decimal localcontext InvalidOperation DivisionByZero ROUND_HALF_UP ROUND_HALF_EVEN "
                          "ROUND_HALF_DOWN ROUND_UP ROUND_DOWN ROUND_CEILING ROUND_FLOOR").split()),
    "operator": frozenset(("add sub mul truediv floordiv mod pow neg pos abs eq ne lt le gt ge not_ truth and_ or_ "
                           "xor inv invert lshift rshift matmul index itemgetter contains countOf indexOf "
                           "concat").split()),
    "typing": frozenset(("Any Optional Union List Dict Tuple Set FrozenSet Sequence Mapping MutableMapping Iterable "
                         "Iterator Callable Final Literal").split()),
    "dataclasses": frozenset("dataclass field fields asdict astuple replace is_dataclass".split()),
    "numbers": frozenset("Number Complex Real Rational Integral".split()),
}
SUBMODULES = {m for m in MODULE_ATTRS if "." in m}  # reachable as attributes of their parent (np.linalg)
MODULES = frozenset(MODULE_ATTRS) | {"__future__"}

_IO = "file I/O"
ATTR_REASONS: dict[str, str] = {
    **{a: _IO for a in ("load", "save", "savez", "savez_compressed", "loadtxt", "savetxt", "genfromtxt", "fromfile",
                        "fromregex", "memmap", "open_memmap", "DataSource", "npyio", "tofile", "dump", "dumps")},
    **{a: "raw memory or native code" for a in ("ctypeslib", "ctypes", "f2py", "frombuffer")},
    **{a: "it reaches the interpreter (sys, builtins, frames)" for a in
       ("sys", "_sys", "builtins", "inspect", "os", "lib", "core", "_core", "testing", "_pytesttester", "_typing",
        "compat", "get_type_hints", "attrgetter", "methodcaller")},
    "random": "randomness: policies must be deterministic, so scores are reproducible",
}

# Attributes never allowed on any object (frames, code, generators, format traversal, file dumps).
OBJECT_ATTR_PREFIXES = ("gi_", "cr_", "ag_", "f_", "tb_", "co_")
OBJECT_ATTRS = frozenset({
    "ctypes", "tofile", "dump", "dumps", "format", "format_map", "mro", "base", "func_globals", "im_func",
    "f_back", "f_globals", "tb_frame", "with_traceback", "load", "save", "memmap", "lib", "random",
})

BUILTINS = frozenset((
    "abs all any bool bytes bytearray callable chr complex dict divmod enumerate filter float format frozenset hash "
    "hex int isinstance iter len list map max min next oct ord pow print range repr reversed round set slice sorted "
    "str sum tuple zip NotImplemented Ellipsis "
    "Exception ArithmeticError AssertionError FloatingPointError IndexError KeyError LookupError NotImplementedError "
    "OverflowError RuntimeError StopIteration TypeError ValueError ZeroDivisionError"
).split())

FORBIDDEN_MODULES = frozenset({
    "os", "sys", "subprocess", "socket", "ctypes", "gc", "inspect", "importlib", "builtins", "pickle",
    "marshal", "shutil", "signal", "threading", "multiprocessing", "io", "pathlib", "tempfile", "resource",
    "pty", "fcntl", "mmap", "code", "codeop", "runpy", "urllib", "http", "requests", "asyncio", "select",
    "selectors", "shelve", "dbm", "sqlite3", "zipimport", "pkgutil", "site", "sysconfig", "platform",
    "traceback", "types", "weakref", "atexit", "faulthandler", "tracemalloc", "posix", "pwd", "grp",
    "glob", "fnmatch", "copyreg", "ssl", "ftplib", "smtplib", "telnetlib", "webbrowser", "random",
})
FORBIDDEN_NAMES = frozenset({
    "exec", "eval", "compile", "open", "__import__", "getattr", "setattr", "delattr", "globals", "locals",
    "vars", "breakpoint", "input", "memoryview", "help", "exit", "quit", "dir", "object", "type",
    "super", "classmethod", "staticmethod", "property", "__builtins__", "__loader__", "__spec__",
    "hasattr", "license", "credits", "copyright",
})
