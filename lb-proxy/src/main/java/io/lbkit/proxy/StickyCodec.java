package io.lbkit.proxy;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encodes and verifies sticky cookie values for one (route, upstream): {@code base64url(idHash ‖
 * mac)}, 8 + 12 bytes. Each endpoint has exactly one accepted value, the canonical 27 characters
 * {@link #encode} issues: another spelling of the same bytes (the unused low bits of the last
 * character set, padding) is refused like a forged value. Thread-safe; values are cached per
 * endpoint id.
 */
public final class StickyCodec {

    private static final int HASH_BYTES = 8;
    private static final int MAC_BYTES = 12;
    private static final Base64.Encoder ENC = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder DEC = Base64.getUrlDecoder();

    private final StickyCookie settings;
    private final java.util.function.Supplier<Upstream> upstream; // a route's: blue/green may switch it
    private final SecretKeySpec key;
    private final ThreadLocal<Mac> macs;
    private final ConcurrentHashMap<String, String> valueById = new ConcurrentHashMap<>();
    private volatile ConcurrentHashMap<Long, String> idByHash = new ConcurrentHashMap<>();

    public StickyCodec(StickyCookie settings, Upstream upstream) {
        this(settings, () -> upstream);
    }

    /**
     * The codec of {@code route}'s sticky cookie over the route's upstream at each call: after a
     * blue/green switch ({@link Route#switchUpstream}) a cookie naming an endpoint the new upstream
     * lacks is ignored, and the request gets a cookie for the endpoint it is sent to.
     */
    public StickyCodec(StickyCookie settings, Route route) {
        this(settings, route::upstream);
    }

    private StickyCodec(StickyCookie settings, java.util.function.Supplier<Upstream> upstream) {
        this.settings = settings;
        this.upstream = upstream;
        this.key = new SecretKeySpec(settings.keyNoCopy(), "HmacSHA256");
        this.macs = ThreadLocal.withInitial(this::newMac);
        rebuildIndex();
    }

    public StickyCookie settings() {
        return settings;
    }

    private Mac newMac() {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(key);
            return m;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    /** The cookie value naming {@code endpointId}. */
    public String encode(String endpointId) {
        String v = valueById.get(endpointId);
        if (v == null) {
            long h = idHash(endpointId);
            idByHash.put(h, endpointId);
            byte[] raw = new byte[HASH_BYTES + MAC_BYTES];
            ByteBuffer.wrap(raw).putLong(h);
            byte[] mac = mac(raw);
            System.arraycopy(mac, 0, raw, HASH_BYTES, MAC_BYTES);
            v = ENC.encodeToString(raw);
            valueById.put(endpointId, v);
        }
        return v;
    }

    /**
     * The endpoint id a cookie value names, or null when it is forged, malformed, not the
     * canonical spelling, or stale.
     */
    public String decode(String value) {
        if (value == null || value.length() != 27) {
            return null;
        }
        byte[] raw;
        try {
            raw = DEC.decode(value);
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (raw.length != HASH_BYTES + MAC_BYTES) {
            return null;
        }
        byte[] mac = mac(raw);
        byte[] given = new byte[MAC_BYTES];
        System.arraycopy(raw, HASH_BYTES, given, 0, MAC_BYTES);
        byte[] expected = new byte[MAC_BYTES];
        System.arraycopy(mac, 0, expected, 0, MAC_BYTES);
        if (!MessageDigest.isEqual(given, expected)) {
            return null;
        }
        long h = ByteBuffer.wrap(raw).getLong();
        String id = idByHash.get(h);
        Upstream up = upstream.get();
        if (id == null || up.endpoint(id).isEmpty()) {
            rebuildIndex(); // membership changed: a genuine value for a new or removed endpoint
            id = idByHash.get(h);
            if (id == null || up.endpoint(id).isEmpty()) {
                return null;
            }
        }
        // the decoder ignores the two unused low bits of the 27th character, so four spellings
        // carry the same bytes: only the one this codec issues (cached, no allocation) is accepted
        return value.equals(encode(id)) ? id : null;
    }

    private byte[] mac(byte[] raw) {
        Mac m = macs.get();
        m.update(raw, 0, HASH_BYTES);
        return m.doFinal();
    }

    private long idHash(String endpointId) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(upstream.get().name().getBytes(StandardCharsets.UTF_8));
            d.update((byte) 0);
            d.update(endpointId.getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(d.digest()).getLong();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    private void rebuildIndex() {
        ConcurrentHashMap<Long, String> m = new ConcurrentHashMap<>();
        for (Endpoint e : upstream.get().endpoints()) {
            m.put(idHash(e.id()), e.id());
        }
        idByHash = m;
    }

    /** The Set-Cookie header value for {@code endpointId}. */
    public String setCookie(String endpointId, boolean secure) {
        StringBuilder sb = new StringBuilder(96).append(settings.name()).append('=').append(encode(endpointId));
        if (!settings.maxAge().isZero()) {
            sb.append("; Max-Age=").append(settings.maxAge().toSeconds());
        }
        sb.append("; Path=").append(settings.path());
        if (settings.httpOnly()) {
            sb.append("; HttpOnly");
        }
        boolean sendSecure = secure;
        switch (settings.sameSite()) {
            case STRICT -> sb.append("; SameSite=Strict");
            case LAX -> sb.append("; SameSite=Lax");
            case NONE -> {
                sb.append("; SameSite=None");
                sendSecure = true;
            }
            default -> throw new AssertionError();
        }
        if (sendSecure) {
            sb.append("; Secure");
        }
        return sb.toString();
    }
}
