package io.lbkit.netty;

/** No byte from the endpoint for {@code readTimeout} (nginx {@code proxy_read_timeout}), or the total timeout. */
final class ReadTimeoutException extends java.io.IOException {
    private static final long serialVersionUID = 1L;

    ReadTimeoutException(String message) {
        super(message, null);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
