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
        InetAddress peer = IpAddresses.peerAddress(remoteAddress);
        boolean trusted = peer != null && config.trustedProxies().isAllowed(peer.getAddress());
        boolean tls = "https".equalsIgnoreCase(scheme);
        String xfp = trusted ? firstToken(req.header("X-Forwarded-Proto")) : null;
        boolean secure = tls || "https".equalsIgnoreCase(xfp);
        String peerText = peer != null ? Headers.xffAddress(peer) : remoteAddress;
        return new ClientOrigin(peer, peerText, trusted, tls ? "https" : "http", secure,
                host != null ? host : config.serverName(), port);
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
