package io.lbkit.core;

/**
 * How an attempt against an endpoint ended, reported through {@link Selection#complete}.
 * The names follow nginx {@code proxy_next_upstream}: {@link #CONNECT_FAILURE} and
 * {@link #RESET} are nginx's {@code error}, {@link #TIMEOUT} its {@code timeout},
 * {@link #INVALID_RESPONSE} its {@code invalid_header}.
 */
public enum Outcome {
    /** A response arrived; its status decides success or failure. */
    RESPONSE,
    /** The connection could not be established (refused, unreachable, TLS failure). */
    CONNECT_FAILURE,
    /** The connection failed after it was established (reset, closed early). */
    RESET,
    /** Connect, read or total timeout. */
    TIMEOUT,
    /** The endpoint answered with something that is not a valid response. */
    INVALID_RESPONSE,
    /** The caller gave up (client went away); counts neither as success nor failure. */
    CANCELLED;

    /** True for outcomes that nginx always counts towards {@code max_fails}. */
    public boolean isTransportFailure() {
        return this == CONNECT_FAILURE || this == RESET || this == TIMEOUT || this == INVALID_RESPONSE;
    }
}
