package io.lbkit.session;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Session ids: 192 bits from a CSPRNG ({@link SecureRandom}), base64url without padding, so
 * always {@value #LENGTH} characters of {@code [A-Za-z0-9_-]}.
 */
public final class SessionIds {

    /** Length of every id this class generates. */
    public static final int LENGTH = 32;
    private static final int BYTES = 24;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    private SessionIds() {
    }

    /** A new id. */
    public static String generate() {
        byte[] b = new byte[BYTES];
        RANDOM.nextBytes(b);
        return ENCODER.encodeToString(b);
    }

    /**
     * Whether {@code id} has the shape of a generated id. Checked before any lookup so a malformed
     * or oversized value never reaches the backing server.
     */
    public static boolean isWellFormed(CharSequence id) {
        if (id == null || id.length() != LENGTH) {
            return false;
        }
        for (int i = 0; i < LENGTH; i++) {
            char c = id.charAt(i);
            boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /**
     * A short, non-reversible tag for log lines: the first 12 hex digits of SHA-256 of the id.
     * Logs carry this, never the id itself.
     */
    public static String logHash(String id) {
        if (id == null) {
            return "null";
        }
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
            StringBuilder sb = new StringBuilder(12);
            for (int i = 0; i < 6; i++) {
                sb.append(Character.forDigit((d[i] >> 4) & 0xf, 16)).append(Character.forDigit(d[i] & 0xf, 16));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from this JVM", e);
        }
    }
}
