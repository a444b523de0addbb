package io.lbkit.core;

/**
 * Hash functions used by the policies. CRC-32 (IEEE 802.3, as {@code ngx_crc32}) for the nginx
 * compatible policies; a 64-bit FNV-1a with the MurmurHash3 finalizer for maglev, jump and
 * rendezvous. All allocation-free.
 */
final class Hashing {

    private static final int[] CRC_TABLE = new int[256];

    static {
        for (int n = 0; n < 256; n++) {
            int c = n;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1;
            }
            CRC_TABLE[n] = c;
        }
    }

    private Hashing() {}

    /** Initial CRC-32 state ({@code ngx_crc32_init}). */
    static int crcInit() {
        return 0xFFFFFFFF;
    }

    /** Feeds bytes into a CRC-32 state ({@code ngx_crc32_update}). */
    static int crcUpdate(int crc, byte[] data, int off, int len) {
        for (int i = off, end = off + len; i < end; i++) {
            crc = CRC_TABLE[(crc ^ data[i]) & 0xFF] ^ (crc >>> 8);
        }
        return crc;
    }

    /** Feeds one byte into a CRC-32 state. */
    static int crcUpdate(int crc, int b) {
        return CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >>> 8);
    }

    /** Feeds the four little-endian bytes of {@code v}. */
    static int crcUpdateIntLE(int crc, int v) {
        crc = crcUpdate(crc, v);
        crc = crcUpdate(crc, v >>> 8);
        crc = crcUpdate(crc, v >>> 16);
        return crcUpdate(crc, v >>> 24);
    }

    /** Finishes a CRC-32 state ({@code ngx_crc32_final}); the result is unsigned in a long. */
    static long crcFinal(int crc) {
        return (crc ^ 0xFFFFFFFF) & 0xFFFFFFFFL;
    }

    /** CRC-32 of a byte range, unsigned ({@code ngx_crc32_long}). */
    static long crc32(byte[] data, int off, int len) {
        return crcFinal(crcUpdate(crcInit(), data, off, len));
    }

    private static final java.lang.invoke.VarHandle LONG_LE =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /**
     * 64-bit hash of a byte range: eight bytes at a time through a multiply-rotate-multiply step
     * (MurmurHash3's constants), the tail packed into one word, then the fmix64 finalizer.
     */
    static long hash64(byte[] data, int off, int len) {
        long h = 0x9E3779B97F4A7C15L ^ (len * 0xC2B2AE3D27D4EB4FL);
        int i = off;
        int end = off + len;
        for (; i + 8 <= end; i += 8) {
            long k = (long) LONG_LE.get(data, i);
            k *= 0x87C37B91114253D5L;
            k = Long.rotateLeft(k, 31);
            k *= 0x4CF5AD432745937FL;
            h ^= k;
            h = Long.rotateLeft(h, 27) * 5 + 0x52DCE729;
        }
        long tail = 0;
        for (int shift = 0; i < end; i++, shift += 8) {
            tail |= (data[i] & 0xFFL) << shift;
        }
        tail *= 0x87C37B91114253D5L;
        tail = Long.rotateLeft(tail, 31);
        tail *= 0x4CF5AD432745937FL;
        h ^= tail;
        return fmix64(h);
    }

    static long hash64(String s) {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return hash64(b, 0, b.length);
    }

    /** MurmurHash3's 64-bit finalizer: a bijective mixer. */
    static long fmix64(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }
}
