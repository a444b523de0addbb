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

    /** 64-bit hash of a byte range: FNV-1a, then the MurmurHash3 fmix64 finalizer. */
    static long hash64(byte[] data, int off, int len) {
        long h = 0xcbf29ce484222325L;
        for (int i = off, end = off + len; i < end; i++) {
            h ^= data[i] & 0xFF;
            h *= 0x100000001b3L;
        }
        return fmix64(h ^ len);
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
