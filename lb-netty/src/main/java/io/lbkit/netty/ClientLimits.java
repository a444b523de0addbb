package io.lbkit.netty;

/**
 * What a client connection may take, from {@link NettyProxyServer.Builder}: how long its request
 * head may take to arrive, how long it may sit idle between requests, and how many requests it may
 * carry.
 *
 * @param headerNanos       nginx {@code client_header_timeout}: a head must have arrived whole this
 *                          long after the connection opened (the first request) or after its first
 *                          byte (each next one)
 * @param keepAliveNanos    nginx {@code keepalive_timeout}: the longest wait for the first byte of
 *                          the next request on a kept-alive connection
 * @param keepAliveRequests nginx {@code keepalive_requests}: the response to this request of a
 *                          connection says {@code Connection: close}
 */
record ClientLimits(long headerNanos, long keepAliveNanos, int keepAliveRequests) {
}
