package io.lbkit.session;

/** A session would exceed its attribute-count or size limit; nothing was written. HTTP: 413. */
public class SessionLimitException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SessionLimitException(String message) {
        super(message);
    }
}
