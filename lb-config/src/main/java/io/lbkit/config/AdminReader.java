package io.lbkit.config;

import io.lbkit.core.limit.CidrRules;
import io.lbkit.config.ServeConfig.AdminSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads the file's {@code admin} section (the admin listener: address, token, allow list, state
 * file), as {@link ObserveSpec} and {@link EdgePolicyReader} read theirs, so that
 * {@link ConfigLoader} keeps to the proxy's own sections.
 */
final class AdminReader {

    private AdminReader() {
    }

    /** The {@code admin} section, or null when the file has none. */
    static AdminSpec read(Node n) {
        if (n.isMissing()) {
            return null;
        }
        n.allowOnly("listen", "token", "allow", "stateFile", "proxyMetrics");
        Node listen = n.get("listen");
        String s = listen.requiredString().trim();
        int colon = s.lastIndexOf(':');
        String host = colon >= 0 ? s.substring(0, colon).replace("[", "").replace("]", "") : "127.0.0.1";
        String port = colon >= 0 ? s.substring(colon + 1) : s;
        if (host.isEmpty() || !port.matches("\\d{1,5}") || Integer.parseInt(port) > 65535) {
            throw listen.error("must be host:port or a port, got " + listen.describe());
        }
        String token = n.get("token").requiredString();
        if (token.getBytes(StandardCharsets.UTF_8).length < 16) {
            throw n.get("token").error("must be at least 16 bytes, got " + token.length() + " characters");
        }
        List<String> cidrs = n.get("allow").strings();
        if (cidrs.isEmpty()) {
            cidrs = List.of("127.0.0.0/8", "::1");
        }
        CidrRules allow = allowOnly(n.get("allow"), cidrs);
        String state = n.get("stateFile").string(null);
        return new AdminSpec(host, Integer.parseInt(port), token, allow, cidrs,
                state == null || state.isBlank() ? null : Path.of(state.trim()), n.get("proxyMetrics").bool(true));
    }

    /**
     * An allow list: {@code cidrs} allowed, everything else denied; a bad CIDR is an error at
     * {@code at} naming it. The admin listener's and the session API's {@code allow}.
     */
    static CidrRules allowOnly(Node at, List<String> cidrs) {
        StringBuilder rules = new StringBuilder();
        for (String c : cidrs) {
            rules.append("allow ").append(c).append(';');
        }
        rules.append("deny all;");
        try {
            return CidrRules.parse(rules.toString());
        } catch (IllegalArgumentException e) {
            throw at.error(e.getMessage());
        }
    }
}
