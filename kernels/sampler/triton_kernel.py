"""Reparameterized sampling in Triton: load mu, logvar; draw eps in registers; store z.

Forward kernel, one program per block of BLOCK_R rows, looping over the row
in chunks of BLOCK_D columns:

    k      = row * D + col                          (row-major element index)
    eps    = tl.randn(seed, offset + k)             Philox4x32-10, float32
    z      = mu + exp(logvar / 2) * eps
    kl_acc += sum_cols (1 + logvar - mu^2 - exp(logvar))     (WITH_KL only)
    KL_row = -1/2 * kl_acc                          stored once per row

The KL sum is a ``tl.sum`` over the chunk plus a running sum over chunks
inside the program that owns the row: no atomics, so it is deterministic
(its rounding depends on BLOCK_D, z does not).  Offsets are int64, so
Philox sees the counter (offset mod 2**32, offset >> 32, 0, 0) exactly like
the NumPy reference; since eps depends only on k, BLOCK_R, BLOCK_D and the
grid cannot change z.  Memory traffic: read mu, logvar, write z = 12 bytes
per float32 element (+ 4 bytes per row for KL).

Backward kernel, same tiling, no eps needed:

    dmu     = dz + dkl_row * mu
    dlogvar = dz * (z - mu) / 2 + dkl_row * (exp(logvar) - 1) / 2

Runs on CUDA tensors, or under TRITON_INTERPRET=1 on CPU tensors (so no
libdevice calls: only tl.exp / tl.log / tl.sqrt / tl.cos, through tl.randn).
Verified against Triton 3.9.0 (``philox.TRITON_VERSION_VERIFIED``): tl.randn's
mapping from (seed, offset) to numbers has changed between Triton versions.
"""
import numpy as np
import torch
import triton
import triton.language as tl

from ..dispatch import triton_interpreted

TRITON_VERSION = triton.__version__

BLOCK_R = 4        # rows per program
BLOCK_D = 128      # columns per chunk


@triton.jit
def _philox_words_kernel(offsets_ptr, out_ptr, seed, n, BLOCK: tl.constexpr):
    i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = i < n
    off = tl.load(offsets_ptr + i, mask=m, other=0)                 # int64 offsets
    w0, w1, w2, w3 = tl.randint4x(seed, off)
    tl.store(out_ptr + 4 * i + 0, w0.to(tl.int32, bitcast=True), mask=m)
    tl.store(out_ptr + 4 * i + 1, w1.to(tl.int32, bitcast=True), mask=m)
    tl.store(out_ptr + 4 * i + 2, w2.to(tl.int32, bitcast=True), mask=m)
    tl.store(out_ptr + 4 * i + 3, w3.to(tl.int32, bitcast=True), mask=m)


@triton.jit
def _randn_kernel(out_ptr, seed, offset, n, BLOCK: tl.constexpr):
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + i, tl.randn(seed, offset + i), mask=i < n)


@triton.jit
def _sample_kernel(mu_ptr, logvar_ptr, z_ptr, kl_ptr, R, D, seed, offset,
                   WITH_KL: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_D: tl.constexpr):
    rows = tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)
    row_ok = rows < R
    kl_acc = tl.zeros([BLOCK_R], dtype=mu_ptr.dtype.element_ty)
    for d0 in range(0, D, BLOCK_D):
        cols = d0 + tl.arange(0, BLOCK_D)
        ok = row_ok[:, None] & (cols < D)[None, :]
        k = rows[:, None] * D + cols[None, :]                       # int64 element index
        mu = tl.load(mu_ptr + k, mask=ok, other=0.0)
        lv = tl.load(logvar_ptr + k, mask=ok, other=0.0)
        eps = tl.randn(seed, offset + k)                            # float32 N(0, 1)
        sigma = tl.exp(0.5 * lv)                                    # sigma = exp(logvar / 2)
        z = mu + sigma * eps.to(mu.dtype)
        tl.store(z_ptr + k, z, mask=ok)
        if WITH_KL:
            term = 1.0 + lv - mu * mu - sigma * sigma               # 1 + logvar - mu^2 - e^logvar
            kl_acc += tl.sum(tl.where(ok, term, 0.0), axis=1)
    if WITH_KL:
        tl.store(kl_ptr + rows, -0.5 * kl_acc, mask=row_ok)


@triton.jit
def _backward_kernel(dz_ptr, mu_ptr, logvar_ptr, z_ptr, dkl_ptr, dmu_ptr, dlogvar_ptr, R, D,
                     WITH_KL: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_D: tl.constexpr):
    rows = tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)
    row_ok = rows < R
    if WITH_KL:
        gk = tl.load(dkl_ptr + rows, mask=row_ok, other=0.0)[:, None]   # dKL per row
    for d0 in range(0, D, BLOCK_D):
        cols = d0 + tl.arange(0, BLOCK_D)
        ok = row_ok[:, None] & (cols < D)[None, :]
        k = rows[:, None] * D + cols[None, :]
        g = tl.load(dz_ptr + k, mask=ok, other=0.0)
        mu = tl.load(mu_ptr + k, mask=ok, other=0.0)
        z = tl.load(z_ptr + k, mask=ok, other=0.0)
        dmu = g                                                     # dz/dmu = 1
        dlv = 0.5 * g * (z - mu)                                    # dz/dlogvar = (z - mu) / 2
        if WITH_KL:
            lv = tl.load(logvar_ptr + k, mask=ok, other=0.0)
            sigma = tl.exp(0.5 * lv)
            dmu += gk * mu                                          # dKL/dmu = mu
            dlv += gk * 0.5 * (sigma * sigma - 1.0)                 # dKL/dlogvar = (e^lv - 1) / 2
        tl.store(dmu_ptr + k, dmu, mask=ok)
        tl.store(dlogvar_ptr + k, dlv, mask=ok)


# ----------------------------------------------------------------- array <-> tensor

def _is_cupy(a) -> bool:
    return type(a).__module__.startswith("cupy")


def _device() -> str:
    return "cpu" if triton_interpreted() else "cuda"


def _to_torch(a):
    """Zero-copy tensor for a NumPy (interpreter) or CuPy array; NumPy is copied to the GPU otherwise."""
    if _is_cupy(a):
        import cupy

        return torch.as_tensor(cupy.ascontiguousarray(a), device="cuda")
    t = torch.from_numpy(np.ascontiguousarray(a))
    return t if _device() == "cpu" else t.to("cuda")


def _from_torch(t, like):
    """Back to the caller's array type (CuPy for CuPy input, else NumPy)."""
    if _is_cupy(like):
        import cupy

        return cupy.asarray(t)
    return t.cpu().numpy() if t.device.type != "cpu" else t.numpy()


def _rows(shape):
    d = shape[-1]
    r = int(np.prod(shape[:-1], dtype=np.int64))
    return r, d


# ----------------------------------------------------------------- wrappers

def philox_uint32(seed: int, offsets, block: int = 64):
    offsets = offsets.astype("int64", copy=False) if _is_cupy(offsets) else \
        np.asarray(offsets, dtype=np.int64)
    off = _to_torch(offsets)
    n = off.numel()
    out = torch.empty((n, 4), dtype=torch.int32, device=off.device)
    if n:
        _philox_words_kernel[(triton.cdiv(n, block),)](off.reshape(-1), out, seed, n, BLOCK=block)
    res = _from_torch(out, offsets)
    return res.view(np.uint32).reshape(tuple(offsets.shape) + (4,))


def randn(shape, seed: int, offset: int, dtype, like=None, block: int = 256):
    n = int(np.prod(shape, dtype=np.int64))
    dev = "cuda" if _is_cupy(like) else _device()
    out = torch.empty(n, dtype=torch.float32, device=dev)
    if n:
        _randn_kernel[(triton.cdiv(n, block),)](out, seed, offset, n, BLOCK=block)
    return _from_torch(out, like).reshape(shape).astype(dtype, copy=False)


def reparameterize(mu, logvar, seed: int, offset: int, with_kl: bool,
                   block_r: int = BLOCK_R, block_d: int = BLOCK_D):
    tmu, tlv = _to_torch(mu), _to_torch(logvar)
    r, d = _rows(mu.shape)
    z = torch.empty_like(tmu)
    kl = torch.zeros(r, dtype=tmu.dtype, device=tmu.device) if with_kl else z
    if r and d:
        _sample_kernel[(triton.cdiv(r, block_r),)](tmu, tlv, z, kl, r, d, seed, offset,
                                                   WITH_KL=with_kl, BLOCK_R=block_r,
                                                   BLOCK_D=block_d)
    z = _from_torch(z, mu)
    if with_kl:
        return z, _from_torch(kl, mu).reshape(mu.shape[:-1])
    return z


def reparameterize_backward(dz, mu, logvar, z, dkl, block_r: int = BLOCK_R, block_d: int = BLOCK_D):
    tdz, tmu, tlv, tz = (_to_torch(a) for a in (dz, mu, logvar, z))
    r, d = _rows(mu.shape)
    with_kl = dkl is not None
    tdkl = _to_torch(dkl.astype(mu.dtype, copy=False)).reshape(-1) if with_kl else tmu
    dmu, dlv = torch.empty_like(tmu), torch.empty_like(tmu)
    if r and d:
        _backward_kernel[(triton.cdiv(r, block_r),)](tdz, tmu, tlv, tz, tdkl, dmu, dlv, r, d,
                                                     WITH_KL=with_kl, BLOCK_R=block_r,
                                                     BLOCK_D=block_d)
    return _from_torch(dmu, mu), _from_torch(dlv, mu)
