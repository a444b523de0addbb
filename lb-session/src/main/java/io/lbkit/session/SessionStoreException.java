package io.lbkit.session;

/**
 * The backing server failed or did not answer in time. The message says what and never contains
 * a session id or attribute value. HTTP layers answer 503.
 */
public class SessionStoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SessionStoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public SessionStoreException(String message) {
        super(message);
    }
}
