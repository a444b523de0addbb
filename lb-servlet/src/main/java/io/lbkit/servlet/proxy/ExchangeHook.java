package io.lbkit.servlet.proxy;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.concurrent.CompletionStage;
import org.eclipse.jetty.http.HttpFields;

/**
 * The extension point for session forwarding (issue 5, seed 000): called once per request before
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
     * Sees the backend response headers before they are copied (X-New-Session-* are never
     * copied) and may add client response headers such as a session cookie.
     */
    default void onResponseHeaders(HttpServletRequest request, HttpServletResponse response, int status,
                                   HttpFields backendHeaders) {
    }
}
