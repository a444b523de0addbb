package io.lbkit.proxy.engine;

import io.lbkit.core.limit.IpAddresses;
import io.lbkit.proxy.ProxyConfig;
import java.net.InetAddress;

/**
 * Where a client request came from, decided once per request by the one rule every part of the
 * proxy shares: whether the peer is a trusted proxy ({@code trust.proxies}, nginx
 * {@code set_real_ip_from}), and whether the client is on HTTPS (TLS on this connection, or
 * {@code X-Forwarded-Proto: https} from a trusted peer).
 *
 * @param peer        the peer address, or null when the engine's text is not an address literal
 * @param peerText    the peer as X-Forwarded-For writes it (IPv6 without brackets)
 * @param trustedPeer whether the peer's forwarding headers are believed
 * @param scheme      {@code http} or {@code https}: this connection's scheme
 * @param secure      whether the client is on HTTPS, here or before a trusted proxy
 * @param host        the client's Host as sent, or the configured server name, or null
 * @param port        the port the client addressed: the Host header's, else the connection's
 */
public record ClientOrigin(InetAddress peer, String peerText, boolean trustedPeer, String scheme, boolean secure,
                           String host, int port) {

    /**
     * The origin of {@code req}, which arrived from {@code remoteAddress} on a connection with
     * scheme {@code scheme}, addressing port {@code port}; {@code host} is the client's Host header
     * (null when it sent none).
     */
    public static ClientOrigin of(ProxyConfig config, ClientRequest req, String remoteAddress, String scheme,
                                  String host, int port) {
        return of(config, req, Peer.of(config, remoteAddress), scheme, host, port);
    }

    /**
     * The same, with the peer decided before: an engine that keeps a connection's {@link Peer}
     * (it cannot change within a connection) saves parsing and formatting its address per request.
     */
    public static ClientOrigin of(ProxyConfig config, ClientRequest req, Peer peer, String scheme, String host,
                                  int port) {
        boolean tls = "https".equalsIgnoreCase(scheme);
        String xfp = peer.trusted() ? firstToken(req.header("X-Forwarded-Proto")) : null;
        boolean secure = tls || "https".equalsIgnoreCase(xfp);
        return new ClientOrigin(peer.address(), peer.text(), peer.trusted(), tls ? "https" : "http", secure,
                host != null ? host : config.serverName(), port);
    }

    /**
     * The peer of a connection, as the rules see it.
     *
     * @param address the peer address, or null when the engine's text is not an address literal
     * @param text    the peer as X-Forwarded-For writes it (IPv6 without brackets)
     * @param trusted whether the peer is one of {@link ProxyConfig#trustedProxies()}
     */
    public record Peer(InetAddress address, String text, boolean trusted) {

        /** The peer {@code remoteAddress} (an address literal, as engines report it). */
        public static Peer of(ProxyConfig config, String remoteAddress) {
            InetAddress peer = IpAddresses.peerAddress(remoteAddress);
            boolean trusted = peer != null && config.trustedProxies().isAllowed(peer.getAddress());
            return new Peer(peer, peer != null ? Headers.xffAddress(peer) : remoteAddress, trusted);
        }
    }

    /** The first comma-separated element of a field value, trimmed; null for null. */
    static String firstToken(String v) {
        if (v == null) {
            return null;
        }
        int c = v.indexOf(',');
        return (c < 0 ? v : v.substring(0, c)).trim();
    }
}
