package io.lbkit.core.retry;

import io.lbkit.core.Outcome;
import java.util.Locale;

/**
 * One condition of nginx's {@code proxy_next_upstream} directive: a kind of failed attempt after
 * which the request may be passed to the next endpoint, or ({@link #NON_IDEMPOTENT}) the permission
 * to do so for a request with a non-idempotent method that was already sent.
 *
 * <p>nginx's {@code off} is the empty set of conditions ({@link RetryPolicy#off()}). NGINX Plus's
 * {@code denied} has no equivalent here.
 *
 * <p>How an {@link Outcome} maps to a condition ({@link #of(Outcome, int)}):
 * <table>
 *   <caption>Outcome to nginx failure type</caption>
 *   <tr><th>Outcome</th><th>condition</th></tr>
 *   <tr><td>{@code CONNECT_FAILURE}, {@code RESET}</td><td>{@link #ERROR}</td></tr>
 *   <tr><td>{@code TIMEOUT}</td><td>{@link #TIMEOUT}</td></tr>
 *   <tr><td>{@code INVALID_RESPONSE}</td><td>{@link #INVALID_HEADER}</td></tr>
 *   <tr><td>{@code RESPONSE} 500, 502, 503, 504, 403, 404, 429</td><td>{@code HTTP_xxx}</td></tr>
 *   <tr><td>{@code RESPONSE} with any other status</td><td>none: it is the response</td></tr>
 *   <tr><td>{@code CANCELLED}</td><td>none: never retried</td></tr>
 * </table>
 */
public enum RetryCondition {

    /** A connection error: connect failed, or the connection broke while sending or reading headers. */
    ERROR("error", 0),
    /** A connect, send or read timeout before the response header arrived. */
    TIMEOUT("timeout", 0),
    /** The endpoint returned an empty or invalid response header. */
    INVALID_HEADER("invalid_header", 0),
    /** The endpoint answered 500. */
    HTTP_500("http_500", 500),
    /** The endpoint answered 502. */
    HTTP_502("http_502", 502),
    /** The endpoint answered 503. */
    HTTP_503("http_503", 503),
    /** The endpoint answered 504. */
    HTTP_504("http_504", 504),
    /** The endpoint answered 403 (never counts as a failure for passive health). */
    HTTP_403("http_403", 403),
    /** The endpoint answered 404 (never counts as a failure for passive health). */
    HTTP_404("http_404", 404),
    /** The endpoint answered 429. */
    HTTP_429("http_429", 429),
    /**
     * Allows retrying a request whose method is not idempotent (POST, PATCH, LOCK) after it was sent
     * to an endpoint. Without it such a request is retried only when it never left (connect error).
     */
    NON_IDEMPOTENT("non_idempotent", 0);

    private static final RetryCondition[] VALUES = values();

    private final String token;
    private final int status;

    RetryCondition(String token, int status) {
        this.token = token;
        this.status = status;
    }

    /** The nginx spelling, such as {@code "http_502"}. */
    public String token() {
        return token;
    }

    /** The HTTP status of an {@code HTTP_xxx} condition, 0 for the others. */
    public int status() {
        return status;
    }

    /**
     * Whether an attempt of this kind is a failure for passive health (nginx {@code max_fails})
     * when the condition is configured: {@code error}, {@code timeout}, {@code invalid_header} and
     * {@code http_500/502/503/504/429}; never {@code http_403}, {@code http_404} or
     * {@code non_idempotent}. nginx counts {@code error}, {@code timeout} and
     * {@code invalid_header} even when they are not configured.
     */
    public boolean isFailure() {
        return this != HTTP_403 && this != HTTP_404 && this != NON_IDEMPOTENT;
    }

    /**
     * The failure type of an attempt, or {@code null} when the attempt is not a failure type at
     * all: a response with a status nginx cannot retry on (it is passed to the client), or a
     * cancelled attempt.
     *
     * @param outcome how the attempt ended
     * @param status  the HTTP status when {@code outcome} is {@link Outcome#RESPONSE}, else ignored
     */
    public static RetryCondition of(Outcome outcome, int status) {
        switch (outcome) {
            case CONNECT_FAILURE:
            case RESET:
                return ERROR;
            case TIMEOUT:
                return TIMEOUT;
            case INVALID_RESPONSE:
                return INVALID_HEADER;
            case RESPONSE:
                return forStatus(status);
            default:
                return null;
        }
    }

    /** The {@code HTTP_xxx} condition for {@code status}, or {@code null} when there is none. */
    public static RetryCondition forStatus(int status) {
        switch (status) {
            case 500: return HTTP_500;
            case 502: return HTTP_502;
            case 503: return HTTP_503;
            case 504: return HTTP_504;
            case 403: return HTTP_403;
            case 404: return HTTP_404;
            case 429: return HTTP_429;
            default: return null;
        }
    }

    /**
     * The condition spelled {@code token} (case-insensitive, as nginx reads it).
     *
     * @throws IllegalArgumentException naming the token when it is not a condition; {@code off}
     *                                  is not a condition either (see {@link RetryPolicy#parse})
     */
    public static RetryCondition fromToken(String token) {
        if (token == null) {
            throw new IllegalArgumentException("retry condition must not be null");
        }
        for (RetryCondition c : VALUES) {
            if (c.token.equalsIgnoreCase(token)) {
                return c;
            }
        }
        String lower = token.toLowerCase(Locale.ROOT);
        String hint = lower.equals("denied") ? " (\"denied\" is NGINX Plus-only and not supported)"
                : lower.equals("off") ? " (\"off\" is a whole setting, not a condition)" : "";
        throw new IllegalArgumentException("unknown retry condition \"" + token + "\"" + hint
                + "; expected one of " + validTokens());
    }

    static String validTokens() {
        StringBuilder sb = new StringBuilder();
        for (RetryCondition c : VALUES) {
            sb.append(c.token).append(", ");
        }
        return sb.append("off").toString();
    }
}
