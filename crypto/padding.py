"""Size buckets, so the server's disk shows only a coarse size for each blob.

Small envelopes (one frame) are padded to a power of two of at least 512
bytes. Larger ones are padded in whole frames with Padmé (Nikitin et al.,
"Reducing Metadata Leakage from Encrypted Files and Communication with
PURBs", PETS 2019): the frame count keeps only its top log2(log2(n)) + 1
bits, which leaks O(log log n) bits of the size for at most 12% overhead.
"""

SMALL_MINIMUM = 512


def padme(n: int) -> int:
    """Return the Padmé bucket for a count n >= 1 (never smaller than n)."""
    if n < 1:
        raise ValueError("padme needs n >= 1")
    if n < 4:
        return n
    exponent = n.bit_length() - 1
    kept_bits = exponent.bit_length()
    low_bits = exponent - kept_bits
    mask = (1 << low_bits) - 1
    return (n + mask) & ~mask


def small_bucket(n: int, ceiling: int) -> int:
    """Return the smallest power of two >= n (at least SMALL_MINIMUM), capped at ceiling."""
    if n > ceiling:
        raise ValueError("n is larger than the ceiling")
    bucket = SMALL_MINIMUM
    while bucket < n:
        bucket *= 2
    return min(bucket, ceiling)
