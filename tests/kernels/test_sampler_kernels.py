"""Reparameterized sampling with in-kernel Philox: every backend against the NumPy reference.

Without a GPU, Triton runs in its interpreter and Numba CUDA in its simulator
(tests/conftest.py), on tiny shapes.  Checks:
  * the NumPy Philox4x32-10 against Random123's published known-answer vectors;
  * Philox integers bit-exact, normals to ~1e-6, across all backends, and
    independent of block size / grid;
  * statistics of the stream (moments, KS), distinct streams, contiguous offsets;
  * eps-supplied variant exact; KL closed form; backward vs finite differences
    (float64) and vs torch autograd.
"""
import numpy as np
import pytest

from scratchnet.kernels import available, sampler, use
from scratchnet.kernels.sampler import philox, reference

NUMBA = available("numba")
NUMBA_CUDA = available("numba_cuda")
TRITON = available("triton")

needs_numba = pytest.mark.skipif(not NUMBA, reason="numba not installed")
needs_numba_cuda = pytest.mark.skipif(not NUMBA_CUDA, reason="numba CUDA (or its simulator) unavailable")
needs_triton = pytest.mark.skipif(not TRITON, reason="triton (or its interpreter) unavailable")

# Random123 kat_vectors, "philox4x32 10": counter (4 words), key (2 words) -> output (4 words)
KAT = [
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF),
     (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]

# seeds that exercise both key words, offsets that cross the 2**32 counter-word boundary
SEEDS = [0, 1234, 2 ** 32 + 7, 2 ** 64 - 1]
BIG_OFFSET = 2 ** 32 - 9


def _rand(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    mu = rng.standard_normal(shape).astype(dtype)
    logvar = (0.5 * rng.standard_normal(shape)).astype(dtype)
    return mu, logvar


def _module(name):
    return sampler.backend_module(name)


# ----------------------------------------------------------------- Philox itself

@pytest.mark.parametrize("ctr,key,expected", KAT)
def test_reference_philox_known_answers(ctr, key, expected):
    words = philox.philox4x32(*ctr, *key)
    assert [int(w) for w in words] == list(expected)


@needs_numba
@pytest.mark.parametrize("ctr,key,expected", KAT)
def test_numba_scalar_philox_known_answers(ctr, key, expected):
    from scratchnet.kernels.sampler import numba_cpu

    f = numba_cpu._device["philox4x32_10"]
    words = f(*(np.uint64(c) for c in ctr), *(np.uint64(k) for k in key))
    assert [int(w) for w in words] == list(expected)


def test_reference_offsets_map_to_triton_counters():
    # tl.randint4x(seed, offset): key = (seed lo, seed hi), counter = (offset lo, offset hi, 0, 0)
    seed, off = 0xA4093822_299F31D0, 0x05A308D3_243F6A88
    got = philox.philox_uint32(seed, np.array([off], dtype=np.int64))[0]
    want = philox.philox4x32(0x243F6A88, 0x05A308D3, 0, 0, 0x299F31D0, 0xA4093822)
    assert [int(w) for w in got] == [int(w) for w in want]
    # seed 0, offset 0 is the all-zero Random123 vector
    assert [int(w) for w in philox.philox_uint32(0, np.zeros(1, np.int64))[0]] == list(KAT[0][2])


def test_uniform_conversion_matches_triton_rule():
    words = np.array([0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 0x9B00DBD8], dtype=np.uint64)
    u = philox.uint32_to_uniform(words)
    signed = words.astype(np.uint32).view(np.int32).astype(np.int64)
    folded = np.where(signed < 0, -signed - 1, signed)                       # ~i for i < 0
    want = folded.astype(np.float32) * np.float32(4.6566127342e-10)
    np.testing.assert_array_equal(u, want)
    assert u.dtype == np.float32 and u.max() < 1.0 and u.min() >= 0.0


# ----------------------------------------------------------------- cross-backend agreement

def _offsets(n):
    return np.arange(n, dtype=np.int64) + BIG_OFFSET


@needs_numba
@pytest.mark.parametrize("seed", SEEDS)
def test_numba_cpu_integers_bit_exact(seed):
    offs = _offsets(5000)
    want = philox.philox_uint32(seed, offs)
    got = _module("numba").philox_uint32(seed, offs)
    assert got.dtype == np.uint32
    np.testing.assert_array_equal(got, want)


@needs_numba_cuda
@pytest.mark.parametrize("seed", [1234, 2 ** 64 - 1])
@pytest.mark.parametrize("threads,max_blocks", [(32, 4), (8, 1)])
def test_numba_cuda_integers_bit_exact_any_launch(seed, threads, max_blocks):
    offs = _offsets(40)
    got = _module("numba_cuda").philox_uint32(seed, offs, threads=threads, max_blocks=max_blocks)
    np.testing.assert_array_equal(got, philox.philox_uint32(seed, offs))


@needs_triton
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("block", [16, 64])
def test_triton_randint4x_bit_exact(seed, block):
    offs = _offsets(40)
    got = _module("triton").philox_uint32(seed, offs, block=block)
    np.testing.assert_array_equal(got, philox.philox_uint32(seed, offs))


def _normals_by_backend(name, n, seed, offset):
    if name == "reference":
        return reference.randn((n,), seed, offset, np.float32)
    return _module(name).randn((n,), seed, offset, np.float32)


@pytest.mark.parametrize("name", [
    pytest.param("numba", marks=needs_numba),
    pytest.param("numba_cuda", marks=needs_numba_cuda),
    pytest.param("triton", marks=needs_triton)])
@pytest.mark.parametrize("seed", [5, 2 ** 40 + 3])
def test_normals_agree_across_backends(name, seed):
    n = 2000 if name == "numba" else 40
    want = philox.philox_normal(seed, _offsets(n))
    got = _normals_by_backend(name, n, seed, BIG_OFFSET)
    assert got.dtype == np.float32 and got.shape == (n,)
    # float32 log / cos of different libraries differ by an ulp or two
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", [
    pytest.param("numba", marks=needs_numba),
    pytest.param("numba_cuda", marks=needs_numba_cuda),
    pytest.param("triton", marks=needs_triton)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sampler_and_kl_agree_with_reference(name, dtype):
    mu, logvar = _rand((5, 7), dtype, 1)
    z_ref, kl_ref = reference.reparameterize(mu, logvar, 99, BIG_OFFSET, with_kl=True)
    z, kl = _module(name).reparameterize(mu, logvar, 99, BIG_OFFSET, True)
    z_only = _module(name).reparameterize(mu, logvar, 99, BIG_OFFSET, False)
    assert z.dtype == kl.dtype == np.dtype(dtype) and z.shape == (5, 7) and kl.shape == (5,)
    np.testing.assert_allclose(z, z_ref, rtol=1e-5, atol=2e-6)
    np.testing.assert_array_equal(z_only, z)               # the KL pass draws the same eps
    np.testing.assert_allclose(kl, kl_ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", [
    pytest.param("numba", marks=needs_numba),
    pytest.param("numba_cuda", marks=needs_numba_cuda),
    pytest.param("triton", marks=needs_triton)])
@pytest.mark.parametrize("with_dkl", [False, True])
def test_backward_agrees_with_reference(name, with_dkl):
    mu, logvar = _rand((4, 6), np.float64, 2)
    rng = np.random.default_rng(3)
    z = reference.reparameterize(mu, logvar, 1, 0)
    dz = rng.standard_normal(mu.shape)
    dkl = rng.standard_normal(4) if with_dkl else None
    want = reference.reparameterize_backward(dz, mu, logvar, z, dkl)
    got = _module(name).reparameterize_backward(dz, mu, logvar, z, dkl)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@needs_triton
def test_triton_independent_of_block_sizes():
    mu, logvar = _rand((5, 9), np.float32, 4)
    tk = _module("triton")
    z1, kl1 = tk.reparameterize(mu, logvar, 7, 3, True, block_r=1, block_d=4)
    z2, kl2 = tk.reparameterize(mu, logvar, 7, 3, True, block_r=4, block_d=16)
    np.testing.assert_array_equal(z1, z2)                   # eps depends on the element only
    np.testing.assert_allclose(kl1, kl2, rtol=1e-6)          # sum order may differ
    e1 = tk.randn((45,), 7, 3, np.float32, block=8)
    e2 = tk.randn((45,), 7, 3, np.float32, block=64)
    np.testing.assert_array_equal(e1, e2)
    np.testing.assert_array_equal(z1, mu + np.exp(np.float32(0.5) * logvar) * e1.reshape(5, 9))


@needs_numba_cuda
def test_numba_cuda_independent_of_launch():
    mu, logvar = _rand((3, 10), np.float32, 5)
    nc = _module("numba_cuda")
    z1, kl1 = nc.reparameterize(mu, logvar, 7, 3, True, threads=4, max_blocks=1)
    z2, kl2 = nc.reparameterize(mu, logvar, 7, 3, True, threads=16, max_blocks=8)
    z3 = nc.reparameterize(mu, logvar, 7, 3, False, threads=8, max_blocks=2)
    np.testing.assert_array_equal(z1, z2)
    np.testing.assert_array_equal(z1, z3)
    np.testing.assert_allclose(kl1, kl2, rtol=1e-6)


# ----------------------------------------------------------------- the stream's statistics

def test_reference_normals_statistics():
    from scipy import stats

    n = 100_000
    eps = reference.randn((n,), 2024, 0, np.float64)
    assert abs(eps.mean()) < 5 / np.sqrt(n)                  # 5 standard errors
    assert abs(eps.var() - 1) < 5 * np.sqrt(2 / n)
    assert abs(stats.skew(eps)) < 5 * np.sqrt(6 / n)
    assert abs(stats.kurtosis(eps)) < 5 * np.sqrt(24 / n)
    assert stats.kstest(eps, "norm").pvalue > 1e-3
    assert np.abs(eps).max() < np.sqrt(-2 * np.log(1e-7)) + 1e-4   # Box-Muller clamp bound
    # the uniforms behind them are uniform too, and neighbouring normals uncorrelated
    u = philox.uint32_to_uniform(philox.philox_uint32(2024, np.arange(n))[:, 0])
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(eps[:-1], eps[1:])[0, 1]) < 5 / np.sqrt(n)


def test_streams_differ_by_seed_and_offset():
    n = 4096
    a = reference.randn((n,), 1, 0, np.float64)
    b = reference.randn((n,), 2, 0, np.float64)
    c = reference.randn((n,), 1, n, np.float64)
    d = reference.randn((n,), 1 + 2 ** 32, 0, np.float64)   # only the high key word differs
    for other in (b, c, d):
        assert not np.any(a == other)
        assert abs(np.corrcoef(a, other)[0, 1]) < 5 / np.sqrt(n)


@pytest.mark.parametrize("name", ["reference", pytest.param("numba", marks=needs_numba)])
def test_offsets_tile_contiguously(name):
    with use(name):
        n, k = 1000, 337
        full = sampler.randn((n,), 11, offset=0)
        tail = sampler.randn((n - k,), 11, offset=k)
        np.testing.assert_array_equal(full[k:], tail)
        # rows of a (4, 250) sample are the same as four samples of one row at offsets 250 r
        mu, logvar = _rand((4, 250), np.float32, 6)
        z = sampler.reparameterize(mu, logvar, 11, offset=5)
        for r in range(4):
            zr = sampler.reparameterize(mu[r], logvar[r], 11, offset=5 + 250 * r)
            np.testing.assert_array_equal(z[r], zr)


@pytest.mark.parametrize("name", ["reference", pytest.param("numba", marks=needs_numba)])
def test_same_seed_repeats_exactly(name):
    mu, logvar = _rand((8, 16), np.float32, 7)
    with use(name):
        z1, kl1 = sampler.reparameterize(mu, logvar, 42, with_kl=True)
        z2, kl2 = sampler.reparameterize(mu, logvar, 42, with_kl=True)
        z3 = sampler.reparameterize(mu, logvar, 43)
    np.testing.assert_array_equal(z1, z2)
    np.testing.assert_array_equal(kl1, kl2)
    assert not np.any(z1 == z3)


# ----------------------------------------------------------------- exact variant, KL, gradients

def test_eps_supplied_is_exact_and_kl_matches_closed_form():
    torch = pytest.importorskip("torch")
    mu, logvar = _rand((3, 4, 5), np.float64, 8)
    eps = np.random.default_rng(9).standard_normal(mu.shape)
    z, kl = sampler.reparameterize(mu, logvar, eps=eps, with_kl=True)
    np.testing.assert_array_equal(z, mu + np.exp(0.5 * logvar) * eps)
    assert kl.shape == (3, 4)
    q = torch.distributions.Normal(torch.from_numpy(mu), torch.from_numpy(np.exp(0.5 * logvar)))
    p = torch.distributions.Normal(torch.zeros(mu.shape, dtype=torch.float64),
                                   torch.ones(mu.shape, dtype=torch.float64))
    want = torch.distributions.kl_divergence(q, p).sum(-1).numpy()
    np.testing.assert_allclose(kl, want, rtol=1e-12, atol=1e-12)


def _loss(mu, logvar, eps, w, v):
    z, kl = reference.reparameterize(mu, logvar, eps=eps, with_kl=True)
    return float((w * z).sum() + (v * kl).sum())


def test_backward_matches_finite_differences_float64():
    mu, logvar = _rand((3, 4), np.float64, 10)
    rng = np.random.default_rng(11)
    eps, w, v = rng.standard_normal(mu.shape), rng.standard_normal(mu.shape), rng.standard_normal(3)
    z = mu + np.exp(0.5 * logvar) * eps
    dmu, dlogvar = sampler.reparameterize_backward(w, mu, logvar, z, dkl=v)
    h = 1e-6
    for arr, grad in ((mu, dmu), (logvar, dlogvar)):
        num = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + h
            up = _loss(mu, logvar, eps, w, v)
            arr[idx] = old - h
            down = _loss(mu, logvar, eps, w, v)
            arr[idx] = old
            num[idx] = (up - down) / (2 * h)
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["reference", pytest.param("numba", marks=needs_numba)])
@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_backward_matches_torch_autograd(name, dtype, tol):
    torch = pytest.importorskip("torch")
    mu, logvar = _rand((6, 10), dtype, 12)
    rng = np.random.default_rng(13)
    dz = rng.standard_normal(mu.shape).astype(dtype)
    dkl = rng.standard_normal(6).astype(dtype)
    with use(name):
        z, kl = sampler.reparameterize(mu, logvar, 3, with_kl=True)
        dmu, dlogvar = sampler.reparameterize_backward(dz, mu, logvar, z, dkl)
        dmu0, dlogvar0 = sampler.reparameterize_backward(dz, mu, logvar, z)
        eps = sampler.randn(mu.shape, 3, dtype=dtype)
    tm = torch.from_numpy(mu).requires_grad_()
    tl_ = torch.from_numpy(logvar).requires_grad_()
    tz = tm + torch.exp(0.5 * tl_) * torch.from_numpy(eps)
    tkl = -0.5 * (1 + tl_ - tm ** 2 - tl_.exp()).sum(-1)
    np.testing.assert_allclose(z, tz.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(kl, tkl.detach().numpy(), rtol=tol * 10, atol=tol * 10)
    gm, gl = torch.autograd.grad((tz * torch.from_numpy(dz)).sum() + (tkl * torch.from_numpy(dkl)).sum(),
                                 (tm, tl_), retain_graph=True)
    np.testing.assert_allclose(dmu, gm.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(dlogvar, gl.numpy(), rtol=tol * 10, atol=tol * 10)
    gm0, gl0 = torch.autograd.grad((tz * torch.from_numpy(dz)).sum(), (tm, tl_))
    np.testing.assert_allclose(dmu0, gm0.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(dlogvar0, gl0.numpy(), rtol=tol * 10, atol=tol * 10)


# ----------------------------------------------------------------- public API, shapes, errors

@pytest.mark.parametrize("name", ["reference", pytest.param("numba", marks=needs_numba)])
def test_any_shape_and_empty(name):
    with use(name):
        mu, logvar = _rand((2, 3, 4), np.float32, 14)
        z, kl = sampler.reparameterize(mu, logvar, 1, with_kl=True)
        assert z.shape == (2, 3, 4) and kl.shape == (2, 3)
        z1, kl1 = sampler.reparameterize(mu[0, 0], logvar[0, 0], 1, with_kl=True)
        assert z1.shape == (4,) and kl1.shape == ()
        np.testing.assert_array_equal(z1, z[0, 0])
        e = np.zeros((3, 0), np.float32)
        z0, kl0 = sampler.reparameterize(e, e, 1, with_kl=True)
        assert z0.shape == (3, 0) and kl0.shape == (3,) and not kl0.any()
        assert sampler.randn((0,), 1).shape == (0,)
        assert sampler.randn(5, 1, dtype=np.float64).dtype == np.float64


def test_public_philox_uint32_dispatches():
    offs = np.arange(100) + BIG_OFFSET
    want = philox.philox_uint32(9, offs)
    np.testing.assert_array_equal(sampler.philox_uint32(9, offs), want)
    with use("reference"):
        np.testing.assert_array_equal(sampler.philox_uint32(9, offs), want)


@pytest.mark.parametrize("call,match", [
    (lambda: sampler.reparameterize(np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float32), 0),
     r"reparameterize: logvar \(shape \(2, 4\) dtype float32\) must match mu \(shape \(2, 3\)"),
    (lambda: sampler.reparameterize(np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float64), 0),
     "reparameterize: logvar .*float64.* must match mu .*float32"),
    (lambda: sampler.reparameterize(np.zeros((2, 3), np.int32), np.zeros((2, 3), np.int32), 0),
     "reparameterize: mu must be float32 or float64, got shape \\(2, 3\\) dtype int32"),
    (lambda: sampler.reparameterize(np.float32(1.0) * np.ones(()), np.ones(()), 0),
     "reparameterize: mu must have at least one axis"),
    (lambda: sampler.reparameterize(np.zeros(3), np.zeros(3), -1),
     r"reparameterize: seed must lie in \[0, 2\*\*64\)"),
    (lambda: sampler.reparameterize(np.zeros(3), np.zeros(3), 0, offset=2 ** 63 - 1),
     "reparameterize: offsets .* must lie in"),
    (lambda: sampler.reparameterize(np.zeros(3), np.zeros(3), 1.5),
     "reparameterize: seed must be an integer"),
    (lambda: sampler.reparameterize(np.zeros(3), np.zeros(3), eps=np.zeros(4)),
     "reparameterize: eps .* must match mu"),
    (lambda: sampler.reparameterize([1.0], [1.0]),
     "reparameterize: mu must be a NumPy or CuPy array, got list"),
    (lambda: sampler.reparameterize_backward(*([np.zeros((2, 3))] * 4), dkl=np.zeros(3)),
     r"reparameterize_backward: dkl must be .* shape mu.shape\[:-1\] = \(2,\)"),
    (lambda: sampler.reparameterize_backward(np.zeros((2, 2)), *([np.zeros((2, 3))] * 3)),
     "reparameterize_backward: dz .* must match mu"),
    (lambda: sampler.randn((2, -1), 0), "randn: shape must be non-negative"),
    (lambda: sampler.randn((2, 2), 0, dtype=np.int64), "randn: dtype must be float32 or float64"),
    (lambda: sampler.philox_uint32(0, np.array([-1])), "philox_uint32: offsets"),
    (lambda: sampler.philox_uint32(0, np.array([0.5])), "philox_uint32: offsets must be integers"),
])
def test_bad_input_gets_clear_error(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


# ----------------------------------------------------------------- real GPU (skipped here)

@pytest.mark.gpu
@pytest.mark.parametrize("name", ["triton", "numba_cuda"])
def test_gpu_backends_match_reference_on_cupy(name):
    cp = pytest.importorskip("cupy")
    mu, logvar = _rand((64, 300), np.float32, 15)
    z_ref, kl_ref = reference.reparameterize(mu, logvar, 77, BIG_OFFSET, with_kl=True)
    with use(name):
        z, kl = sampler.reparameterize(cp.asarray(mu), cp.asarray(logvar), 77, BIG_OFFSET,
                                       with_kl=True)
        words = sampler.philox_uint32(77, cp.asarray(_offsets(1000)))
    assert isinstance(z, cp.ndarray) and isinstance(kl, cp.ndarray)
    np.testing.assert_array_equal(cp.asnumpy(words), philox.philox_uint32(77, _offsets(1000)))
    np.testing.assert_allclose(cp.asnumpy(z), z_ref, rtol=1e-5, atol=5e-6)
    np.testing.assert_allclose(cp.asnumpy(kl), kl_ref, rtol=1e-5, atol=1e-4)


# ----------------------------------------------------------------- libm-free math of the CPU kernels

def test_vecmath_plain_python_matches_numpy():
    from scratchnet.kernels.sampler import vecmath

    for x in (2.0 ** -31, 1e-7, 0.3, 0.70710678, 0.999999, 1.0):
        assert abs(vecmath.log_f64(x) - np.log(x)) <= 1e-12 * abs(np.log(x)) + 1e-15
    for t in (0.0, 0.5, 1.5707963, 2.0, 3.14159, 4.0, 4.712389, 6.2831853):
        assert abs(vecmath.cos_f64(t) - np.cos(t)) < 1e-14
    for x in (-700.0, -20.0, -1.0, 0.0, 1e-9, 0.5, 3.0, 88.0, 700.0):
        assert abs(vecmath.exp_f64(x) - np.exp(x)) <= 1e-14 * np.exp(x)


@needs_numba
def test_vecmath_compiled_matches_numpy_everywhere():
    from numba import njit

    from scratchnet.kernels.sampler import numba_cpu

    log_f, cos_f, exp_f = (numba_cpu._device[n] for n in ("log_f64", "cos_f64", "exp_f64"))

    @njit(error_model="numpy")
    def apply(x, which, out):
        for i in range(x.size):
            out[i] = log_f(x[i]) if which == 0 else (cos_f(x[i]) if which == 1 else exp_f(x[i]))

    def run(x, which):
        out = np.empty_like(x)
        apply(x, which, out)
        return out

    x = np.concatenate([np.geomspace(2.0 ** -31, 1.0, 20001), np.random.default_rng(0).random(5000)])
    np.testing.assert_allclose(run(x, 0), np.log(x), rtol=1e-12, atol=1e-15)
    t = np.linspace(0.0, 2 * np.pi, 20001)
    np.testing.assert_allclose(run(t, 1), np.cos(t), rtol=0, atol=1e-14)
    e = np.concatenate([np.linspace(-708.0, 709.0, 20001), [0.0, -1e-300, 1e-300]])
    np.testing.assert_allclose(run(e, 2), np.exp(e), rtol=2e-15, atol=0)
    edge = run(np.array([np.inf, -np.inf, np.nan, 710.0, -746.0]), 2)
    assert edge[0] == np.inf and edge[1] == 0.0 and np.isnan(edge[2])
    assert edge[3] == np.inf and edge[4] == 0.0
