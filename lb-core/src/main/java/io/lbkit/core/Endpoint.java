package io.lbkit.core;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * One backend of an {@link Upstream}: an immutable value, the equivalent of an nginx
 * {@code server} line.
 *
 * @param id             unique name within its upstream; for the hashing policies that claim nginx
 *                       compatibility ({@code hash}, {@code consistent-hash}) this is the name nginx
 *                       hashes, normally {@code host:port}
 * @param host           host name or address
 * @param port           TCP port, 1..65535 (0 when the endpoint is only a name, e.g. in simulations)
 * @param weight         relative weight, ≥ 1 (nginx {@code weight=}, default 1)
 * @param backup         serves only when no primary endpoint can (nginx {@code backup})
 * @param maxConnections in-flight cap, 0 = unlimited (nginx {@code max_conns})
 * @param maxFails       failures within {@code failTimeout} that make the endpoint unavailable;
 *                       0 disables the accounting (nginx {@code max_fails}, default 1)
 * @param failTimeout    both the window for counting failures and how long the endpoint then
 *                       stays unavailable (nginx {@code fail_timeout}, default 10 s)
 * @param metadata       free-form labels such as zone or version
 */
public record Endpoint(String id, String host, int port, int weight, boolean backup,
                       int maxConnections, int maxFails, Duration failTimeout,
                       Map<String, String> metadata) {

    /** nginx's default {@code fail_timeout}. */
    public static final Duration DEFAULT_FAIL_TIMEOUT = Duration.ofSeconds(10);

    public Endpoint {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(failTimeout, "failTimeout");
        if (id.isEmpty()) {
            throw new IllegalArgumentException("endpoint id must not be empty");
        }
        if (weight < 1) {
            throw new IllegalArgumentException("endpoint '" + id + "': weight must be >= 1, got " + weight);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("endpoint '" + id + "': port must be 0..65535, got " + port);
        }
        if (maxConnections < 0) {
            throw new IllegalArgumentException(
                    "endpoint '" + id + "': maxConnections must be >= 0, got " + maxConnections);
        }
        if (maxFails < 0) {
            throw new IllegalArgumentException("endpoint '" + id + "': maxFails must be >= 0, got " + maxFails);
        }
        if (failTimeout.isNegative()) {
            throw new IllegalArgumentException(
                    "endpoint '" + id + "': failTimeout must be >= 0, got " + failTimeout);
        }
        metadata = Map.copyOf(metadata == null ? Map.of() : metadata);
    }

    /** An endpoint named {@code host:port} with weight 1 and nginx defaults. */
    public static Endpoint of(String host, int port) {
        return builder(host + ":" + port).host(host).port(port).build();
    }

    /**
     * Parses {@code host:port}, {@code [v6]:port}, {@code unix:/path} or a bare name. The id is the
     * text as given, which is what nginx hashes for {@code hash} and {@code hash consistent}.
     */
    public static Endpoint parse(String hostPort) {
        return parseBuilder(hostPort).build();
    }

    /** Like {@link #parse} but returns a builder for further settings. */
    public static Builder parseBuilder(String hostPort) {
        Objects.requireNonNull(hostPort, "hostPort");
        if (hostPort.regionMatches(true, 0, "unix:", 0, 5)) {
            return builder(hostPort).host(hostPort).port(0); // a unix socket: no port
        }
        String host = hostPort;
        int port = 0;
        int colon = hostPort.lastIndexOf(':');
        boolean bracketed = hostPort.startsWith("[");
        if (colon > 0 && (bracketed ? hostPort.indexOf(']') < colon : hostPort.indexOf(':') == colon)) {
            String p = hostPort.substring(colon + 1);
            try {
                port = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("endpoint '" + hostPort + "': port must be a number, got '" + p + "'");
            }
            host = hostPort.substring(0, colon);
            if (bracketed && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
        }
        return builder(hostPort).host(host).port(port);
    }

    /** A builder for an endpoint with the given id; host defaults to the id. */
    public static Builder builder(String id) {
        return new Builder(id);
    }

    /** A builder pre-filled with this endpoint's values. */
    public Builder toBuilder() {
        Builder b = new Builder(id);
        b.host = host;
        b.port = port;
        b.weight = weight;
        b.backup = backup;
        b.maxConnections = maxConnections;
        b.maxFails = maxFails;
        b.failTimeout = failTimeout;
        b.metadata = metadata;
        return b;
    }

    /** This endpoint with another weight. */
    public Endpoint withWeight(int newWeight) {
        return toBuilder().weight(newWeight).build();
    }

    /** Builder for {@link Endpoint}; validation happens in {@link #build()}. */
    public static final class Builder {
        private final String id;
        private String host;
        private int port;
        private int weight = 1;
        private boolean backup;
        private int maxConnections;
        private int maxFails = 1;
        private Duration failTimeout = DEFAULT_FAIL_TIMEOUT;
        private Map<String, String> metadata = Map.of();

        private Builder(String id) {
            this.id = id;
            this.host = id;
        }

        public Builder host(String host) { this.host = host; return this; }
        public Builder port(int port) { this.port = port; return this; }
        public Builder weight(int weight) { this.weight = weight; return this; }
        public Builder backup(boolean backup) { this.backup = backup; return this; }
        public Builder maxConnections(int maxConnections) { this.maxConnections = maxConnections; return this; }
        public Builder maxFails(int maxFails) { this.maxFails = maxFails; return this; }
        public Builder failTimeout(Duration failTimeout) { this.failTimeout = failTimeout; return this; }
        public Builder metadata(Map<String, String> metadata) { this.metadata = metadata; return this; }

        public Endpoint build() {
            return new Endpoint(id, host, port, weight, backup, maxConnections, maxFails, failTimeout, metadata);
        }
    }
}
