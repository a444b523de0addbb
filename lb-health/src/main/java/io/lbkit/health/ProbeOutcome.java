package io.lbkit.health;

import java.io.EOFException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;
import java.util.Locale;
import java.util.concurrent.TimeoutException;

/** What one probe found, before rise/fall counting. */
record ProbeOutcome(boolean passed, int status, String detail) {

    static ProbeOutcome pass(int status, String detail) {
        return new ProbeOutcome(true, status, detail);
    }

    static ProbeOutcome fail(int status, String detail) {
        return new ProbeOutcome(false, status, detail);
    }

    static ProbeOutcome timeout(long timeoutMillis) {
        return fail(0, "timeout after " + timeoutMillis + " ms");
    }

    /** Maps a probe failure to a short, stable detail. Never includes anything but class names and JDK/Jetty messages. */
    static ProbeOutcome failure(Throwable error, long timeoutMillis) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            String msg = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
            if (t instanceof TimeoutException || t instanceof SocketTimeoutException || msg.contains("timeout")) {
                return timeout(timeoutMillis);
            }
            if (t instanceof ConnectException || msg.contains("connection refused")) {
                return fail(0, "connection refused");
            }
            if (msg.contains("connection reset") || msg.contains("broken pipe")) {
                return fail(0, "connection reset");
            }
            if (t instanceof UnknownHostException || t instanceof UnresolvedAddressException) {
                return fail(0, "unknown host");
            }
            if (t instanceof NoRouteToHostException) {
                return fail(0, "no route to host");
            }
            String cls = t.getClass().getName();
            if (cls.endsWith("BadMessageException") || cls.endsWith("HttpResponseException")
                    || cls.endsWith("HttpException") || msg.contains("bad response") || msg.contains("illegal character")
                    || msg.contains("unknown version") || msg.contains("bad status")) {
                return fail(0, "invalid HTTP response");
            }
        }
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof EOFException || t instanceof ClosedChannelException) {
                return fail(0, "connection closed before response");
            }
        }
        String m = error.getMessage();
        String text = error.getClass().getSimpleName() + (m == null ? "" : ": " + m);
        if (text.length() > 160) {
            text = text.substring(0, 160);
        }
        return fail(0, "probe failed: " + text);
    }
}
