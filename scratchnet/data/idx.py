"""The IDX file format of the MNIST distribution (optionally gzip-compressed).

Layout (all integers big-endian):
    byte 0-1   0x00 0x00
    byte 2     type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
               0x0D float32, 0x0E float64)
    byte 3     number of dimensions d
    4*d bytes  the dimensions n_1, ..., n_d (uint32 each)
    then       n_1 * ... * n_d values in C order
Read as one 32-bit number the first four bytes are the "magic": 2051 for
MNIST images (uint8, d=3) and 2049 for labels (uint8, d=1).
"""
import gzip
import os
import zlib

import numpy as np

TYPE_CODES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
GZIP_MAGIC = b"\x1f\x8b"


class DataFileError(ValueError):
    """A data file exists but is not what it should be (truncated, malformed)."""


def read_bytes(path, what):
    """All bytes of ``path``, decompressed when it is gzip (by content, not name)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what}: file {path!r} not found")
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:
        raise DataFileError(f"{what}: {path!r} is a damaged or truncated gzip file ({e})") from None


def parse_idx(raw, path="<bytes>"):
    """Decode the bytes of an IDX file into a native-endian NumPy array."""
    what = "read_idx"
    if len(raw) < 4:
        raise DataFileError(f"{what}: {path!r} has {len(raw)} bytes, too short for an IDX header")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in TYPE_CODES:
        raise DataFileError(f"{what}: {path!r} is not an IDX file (magic bytes {raw[:4].hex()}, "
                            f"expected 0000 then a type code in {[hex(c) for c in TYPE_CODES]})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFileError(f"{what}: {path!r} is truncated inside its header "
                            f"({len(raw)} bytes, the header of a {ndim}-d array needs {header})")
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(TYPE_CODES[raw[2]])
    expected = header + dtype.itemsize * int(np.prod(shape, dtype=np.int64))
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "longer than its header says"
        raise DataFileError(f"{what}: {path!r} is {problem}: a {shape} {dtype.name} array needs "
                            f"{expected} bytes, the file has {len(raw)}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # a writable native-endian copy


def read_idx(path):
    """Read one IDX file (raw or .gz) as a NumPy array."""
    return parse_idx(read_bytes(path, "read_idx"), os.fspath(path))


def write_idx(path, array):
    """Write ``array`` as an IDX file; gzip-compressed when ``path`` ends in '.gz'."""
    a = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in TYPE_CODES.items()}
    code = codes.get(a.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"write_idx: IDX cannot store dtype {a.dtype} (shape {a.shape}); "
                        "use uint8, int8, int16, int32, float32 or float64")
    if a.ndim > 255:
        raise ValueError(f"write_idx: IDX stores at most 255 dimensions, got {a.ndim}")
    payload = (bytes([0, 0, code, a.ndim]) + np.asarray(a.shape, dtype=">u4").tobytes()
               + np.ascontiguousarray(a, dtype=TYPE_CODES[code]).tobytes())
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(payload)
