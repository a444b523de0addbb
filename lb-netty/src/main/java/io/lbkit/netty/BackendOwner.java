package io.lbkit.netty;

/**
 * What a {@link BackendConnection} reports to while it is lent out: a proxied request's
 * {@link Exchange}, or one leg of a {@link FanOutExchange}. Every call runs on the connection's
 * event loop.
 */
abstract class BackendOwner {

    /** A decoded message of the endpoint's response; the owner releases it. */
    abstract void backendRead(BackendConnection c, Object msg);

    /** The end of one read cycle (the connection reads again only when asked). */
    abstract void backendReadComplete(BackendConnection c);

    /** The connection's writability changed. */
    abstract void backendWritable(BackendConnection c);

    /** The connection failed or was closed by the endpoint. */
    abstract void backendFailed(BackendConnection c, Throwable cause);
}
