/**
 * The event-loop engine: {@link io.lbkit.netty.NettyProxyServer} proxies with lb-proxy's rules on
 * Netty 4.2 event loops. Everything else in this package is internal: {@code ClientConnection}
 * (one client connection, one exchange at a time), {@code Exchange} (one proxied request: attempts,
 * both bodies streamed with back-pressure, timeouts), {@code ClientHead} (the client's response
 * head from a backend's), {@code HeldHead} (a head waiting for the session store), {@code BackendPool} and
 * {@code BackendConnection} (each loop's kept-alive connections per endpoint), and lbkit's own
 * HTTP/1.1 codec: {@code ClientDecoder} and {@code BackendDecoder} parse heads in place
 * ({@code HeadParser}, {@code ParsedRequest}, {@code ParsedResponse}) and frame bodies
 * ({@code ChunkedFramer}); {@code HeadWriter} writes heads as bytes and {@code ClientEncoder} /
 * {@code BackendEncoder} frame the bodies that follow.
 */
package io.lbkit.netty;
