package io.lbkit.health;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A TCP probe: the connection must be established within the timeout (HAProxy's plain
 * {@code check}, Envoy's {@code tcp_health_check} with empty payloads). Optionally it sends bytes and
 * expects the reply to start with a prefix (HAProxy {@code tcp-check send} / {@code expect string}).
 */
public final class TcpCheck implements ProbeSpec {

    private static final TcpCheck CONNECT = new TcpCheck(new byte[0], new byte[0]);

    /** The longest accepted expected-reply prefix. */
    public static final int MAX_EXPECT_BYTES = 64 * 1024;

    private final byte[] send;
    private final byte[] expect;

    private TcpCheck(byte[] send, byte[] expect) {
        this.send = send;
        this.expect = expect;
    }

    /** Connect only (the default probe of {@link ActiveCheck}). */
    public static TcpCheck connect() {
        return CONNECT;
    }

    /**
     * Connect, send {@code send} (may be empty) and expect the reply to start with {@code expectPrefix}
     * (1..65536 bytes).
     */
    public static TcpCheck sendExpect(byte[] send, byte[] expectPrefix) {
        Objects.requireNonNull(send, "send");
        Objects.requireNonNull(expectPrefix, "expectPrefix");
        if (expectPrefix.length == 0 || expectPrefix.length > MAX_EXPECT_BYTES) {
            throw new IllegalArgumentException(
                    "expectPrefix must be 1.." + MAX_EXPECT_BYTES + " bytes, got " + expectPrefix.length);
        }
        return new TcpCheck(send.clone(), expectPrefix.clone());
    }

    /** {@link #sendExpect(byte[], byte[])} with UTF-8 text, e.g. {@code sendExpect("PING\r\n", "+PONG")}. */
    public static TcpCheck sendExpect(String send, String expectPrefix) {
        return sendExpect(send.getBytes(StandardCharsets.UTF_8), expectPrefix.getBytes(StandardCharsets.UTF_8));
    }

    /** Bytes sent after connecting (empty for a connect-only check). */
    public byte[] send() { return send.clone(); }

    /** Expected reply prefix (empty for a connect-only check). */
    public byte[] expectPrefix() { return expect.clone(); }

    byte[] sendBytes() { return send; }

    byte[] expectBytes() { return expect; }

    @Override
    public String toString() {
        return expect.length == 0 ? "TcpCheck[connect]"
                : "TcpCheck[send " + send.length + " bytes, expect " + expect.length + "-byte prefix]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TcpCheck t && Arrays.equals(send, t.send) && Arrays.equals(expect, t.expect);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(send) + Arrays.hashCode(expect);
    }
}
