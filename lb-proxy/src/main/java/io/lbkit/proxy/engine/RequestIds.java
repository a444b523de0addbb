package io.lbkit.proxy.engine;

import io.lbkit.proxy.ProxyConfig;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The request id of an exchange (nginx {@code $request_id}): the client's
 * {@link ProxyConfig#requestIdHeader()} when the peer is a trusted proxy and the value is sane
 * (1 to 200 visible ASCII characters), else 32 new lower-case hex characters (128 random bits from
 * the thread's {@link ThreadLocalRandom}: fast, never blocking, unique enough to correlate lines,
 * not a secret).
 */
public final class RequestIds {

    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final int MAX_LENGTH = 200;

    private RequestIds() {
    }

    /** The id for this request, or null when the config sends none (the log then generates one if it prints it). */
    public static String of(ProxyConfig config, ClientRequest req, ClientOrigin origin) {
        String header = config.requestIdHeader();
        if (header == null) {
            return null;
        }
        if (origin.trustedPeer()) {
            String given = req.header(header);
            if (isValid(given)) {
                return given;
            }
        }
        return generate();
    }

    /** 32 hex characters of fresh randomness, as nginx writes {@code $request_id}. */
    public static String generate() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long a = r.nextLong();
        long b = r.nextLong();
        char[] c = new char[32];
        for (int i = 0; i < 16; i++) {
            c[i] = HEX[(int) (a >>> (60 - 4 * i)) & 0xf];
            c[16 + i] = HEX[(int) (b >>> (60 - 4 * i)) & 0xf];
        }
        return new String(c);
    }

    static boolean isValid(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_LENGTH) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                return false;
            }
        }
        return true;
    }
}
