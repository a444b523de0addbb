package io.lbkit.core.internal;

/**
 * UTF-8 helpers shared by lb-core's packages. Not public API: this package may change without
 * notice.
 */
public final class Utf8 {
    private Utf8() {}

    /**
     * The number of bytes {@code s.toString().getBytes(UTF_8)} would produce, without allocating:
     * an unpaired surrogate counts as one byte ('?'), as the JDK encodes it.
     */
    public static int length(CharSequence s) {
        int n = s.length();
        int bytes = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                bytes += 1;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }
}
