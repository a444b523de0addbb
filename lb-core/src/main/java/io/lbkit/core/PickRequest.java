package io.lbkit.core;

import java.net.InetAddress;
import java.util.Arrays;

/**
 * What a pick needs to know about the request: a hash key, the client address, a preferred
 * endpoint (sticky cookie, targeted routing) and the endpoints this request already tried.
 *
 * <p>A {@code PickRequest} is mutable and meant to be reused: keep one per request (or per thread)
 * and {@link #reset()} it; setting values copies into internal buffers, so the pick path allocates
 * nothing. Not thread-safe: one request, one thread at a time.
 */
public final class PickRequest {

    private byte[] key = new byte[64];
    private int keyLength = -1;
    private long longKey;
    private boolean keyIsLong;
    private boolean keyTextPending;      // a numeric key whose decimal text is not written yet
    private long keyCrc = -1;            // cached CRC-32 of the key bytes, -1 = not computed
    private final java.util.zip.CRC32 crc32 = new java.util.zip.CRC32();
    private final byte[] address = new byte[16];
    private int addressLength;
    private String preferred;
    private Selection[] tried = new Selection[4];
    private int triedCount;

    /** A new, empty request. */
    public static PickRequest create() {
        return new PickRequest();
    }

    /** Clears every value so the object can serve the next request. */
    public PickRequest reset() {
        keyLength = -1;
        keyIsLong = false;
        keyTextPending = false;
        keyCrc = -1;
        addressLength = 0;
        preferred = null;
        Arrays.fill(tried, 0, triedCount, null);
        triedCount = 0;
        return this;
    }

    /** Sets the hash key as the UTF-8 bytes of {@code text} (nginx hashes the bytes of the key). */
    public PickRequest hashKey(CharSequence text) {
        keyIsLong = false;
        keyTextPending = false;
        keyCrc = -1;
        int n = text.length();
        ensureKey(n * 3);
        int p = 0;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                key[p++] = (byte) c;
            } else if (c < 0x800) {
                key[p++] = (byte) (0xC0 | (c >> 6));
                key[p++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, text.charAt(++i));
                ensureKey(p + 4 + (n - i) * 3);
                key[p++] = (byte) (0xF0 | (cp >> 18));
                key[p++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                key[p++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                key[p++] = (byte) (0x80 | (cp & 0x3F));
            } else if (Character.isSurrogate(c)) {
                key[p++] = '?'; // unpaired surrogate, as String.getBytes(UTF_8) does
            } else {
                key[p++] = (byte) (0xE0 | (c >> 12));
                key[p++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                key[p++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        keyLength = p;
        return this;
    }

    /** Sets the hash key to a copy of {@code bytes}. */
    public PickRequest hashKey(byte[] bytes) {
        return hashKey(bytes, 0, bytes.length);
    }

    /** Sets the hash key to a copy of {@code bytes[offset, offset+length)}. */
    public PickRequest hashKey(byte[] bytes, int offset, int length) {
        keyIsLong = false;
        keyTextPending = false;
        keyCrc = -1;
        ensureKey(length);
        System.arraycopy(bytes, offset, key, 0, length);
        keyLength = length;
        return this;
    }

    /**
     * Sets a numeric key. {@code jump} uses it as the key itself (as in the paper); byte-hashing
     * policies hash its decimal text.
     */
    public PickRequest hashKey(long value) {
        keyIsLong = true;
        longKey = value;
        keyTextPending = true;   // the decimal text is written only if a byte-hashing policy asks
        keyLength = 0;
        keyCrc = -1;
        return this;
    }

    /** Writes the decimal text of the numeric key into the key buffer, without allocating. */
    private void writeKeyText() {
        keyTextPending = false;
        ensureKey(20);
        long v = longKey;
        int p = 0;
        if (v < 0) {
            key[p++] = '-';
        }
        int start = p;
        do {
            key[p++] = (byte) ('0' + Math.abs(v % 10));
            v /= 10;
        } while (v != 0);
        for (int i = start, j = p - 1; i < j; i++, j--) {
            byte t = key[i];
            key[i] = key[j];
            key[j] = t;
        }
        keyLength = p;
    }

    /** Sets the client address: 4 bytes (IPv4) or 16 bytes (IPv6). */
    public PickRequest clientAddress(byte[] addr) {
        if (addr.length != 4 && addr.length != 16) {
            throw new IllegalArgumentException("client address must have 4 or 16 bytes, got " + addr.length);
        }
        System.arraycopy(addr, 0, address, 0, addr.length);
        addressLength = addr.length;
        return this;
    }

    /** Sets the client address. */
    public PickRequest clientAddress(InetAddress addr) {
        return clientAddress(addr.getAddress());
    }

    /**
     * Names the endpoint this request should go to if it can (a sticky cookie, a targeted route).
     * An unknown id, or an endpoint that cannot serve, means a normal pick. A {@link
     * EndpointState#DRAINING draining} endpoint still serves requests that prefer it.
     */
    public PickRequest preferred(String endpointId) {
        this.preferred = endpointId;
        return this;
    }

    /** Records that this request already tried {@code selection}; later picks skip it. */
    public PickRequest markTried(Selection selection) {
        if (!selection.found()) {
            return this;
        }
        if (triedCount == tried.length) {
            tried = Arrays.copyOf(tried, triedCount * 2);
        }
        tried[triedCount++] = selection;
        return this;
    }

    /** How many endpoints this request has tried. */
    public int triedCount() {
        return triedCount;
    }

    /** Whether a hash key is set. */
    public boolean hasKey() {
        return keyLength >= 0 || keyIsLong;
    }

    // ---- package-private accessors for pickers ----

    byte[] keyBytes() {
        if (keyTextPending) {
            writeKeyText();
        }
        return key;
    }

    int keyLength() {
        if (keyTextPending) {
            writeKeyText();
        }
        return keyLength < 0 ? 0 : keyLength;
    }

    /** Whether a numeric key's decimal text has not been written (tests). */
    boolean keyTextPending() {
        return keyTextPending;
    }

    /** CRC-32 of the key bytes (nginx {@code ngx_crc32_long}), computed once per key. */
    long keyCrc32() {
        long c = keyCrc;
        if (c < 0) {
            int len = keyLength();
            crc32.reset();
            crc32.update(key, 0, len);
            c = crc32.getValue();
            keyCrc = c;
        }
        return c;
    }
    boolean keyIsLong() { return keyIsLong; }
    long longKey() { return longKey; }
    byte[] addressBytes() { return address; }
    int addressLength() { return addressLength; }
    String preferredId() { return preferred; }

    boolean wasTried(Object member) {
        for (int i = 0; i < triedCount; i++) {
            if (tried[i] == member) {
                return true;
            }
        }
        return false;
    }

    private void ensureKey(int capacity) {
        if (key.length < capacity) {
            key = Arrays.copyOf(key, Math.max(capacity, key.length * 2));
        }
    }
}
