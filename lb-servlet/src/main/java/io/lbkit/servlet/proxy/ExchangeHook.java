package io.lbkit.servlet.proxy;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.concurrent.CompletionStage;
import org.eclipse.jetty.http.HttpFields;

/**
 * The extension point for session forwarding: called once per request before
 * the first attempt, and once when the response that goes to the client has its headers. Kept
 * package-private until the session slice lands; every method may be called on any thread.
 */
interface ExchangeHook {

    ExchangeHook NONE = new ExchangeHook() { };

    /**
     * Adds headers for the backend to {@code backendHeaders} (e.g. X-Session-ID / X-Session-Data).
     * Returns null to go on at once, or a stage the exchange waits for (without blocking a thread).
     */
    default CompletionStage<?> beforeSend(HttpServletRequest request, HttpFields.Mutable backendHeaders) {
        return null;
    }

    /**
     * Sees the backend response headers after they are copied (X-New-Session-* are never
     * copied) and may add client response headers such as a session cookie. Returns null to go
     * on at once, or a stage the exchange waits for (without blocking a thread) before it writes
     * anything to the client; the response goes on however the stage completes.
     */
    default CompletionStage<?> onResponseHeaders(HttpServletRequest request, HttpServletResponse response,
                                                 int status, HttpFields backendHeaders) {
        return null;
    }

    /** Fails a {@link #beforeSend} stage to answer {@link #status()} instead of contacting a backend. */
    final class Rejected extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;

        Rejected(int status, String message, Throwable cause) {
            super(message, cause);
            this.status = status;
        }

        int status() {
            return status;
        }
    }

    /** The status for a failed {@link #beforeSend} stage: a {@link Rejected}'s, else 502. */
    /** Whether {@code failure} is (or wraps) a deliberate {@link Rejected} refusal. */
    static boolean isRejected(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof Rejected) {
                return true;
            }
        }
        return false;
    }

    static int statusOf(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof Rejected r) {
                return r.status();
            }
        }
        return 502;
    }
}
