package io.lbkit.spring;

import io.lbkit.core.EndpointState;
import io.lbkit.core.Upstream;
import io.lbkit.health.HealthMonitor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The health of one upstream of the proxy: UP while it has an eligible endpoint (administratively
 * up, healthy by its health checks, not failed out by {@code maxFails}), DOWN when it has none. The
 * details give the number of eligible endpoints and, per endpoint id, its address, administrative
 * state ({@code UP}, {@code DRAINING}, {@code DOWN}), health ({@code UP}, {@code CHECKING},
 * {@code DOWN}, {@code EJECTED}...) and requests in flight.
 */
public final class UpstreamHealthIndicator implements HealthIndicator {

    private final Upstream upstream;
    private final Supplier<HealthMonitor> monitor;

    /**
     * @param upstream the upstream to report
     * @param monitor  its health monitor (may supply {@code null}: no health states in the details)
     */
    public UpstreamHealthIndicator(Upstream upstream, Supplier<HealthMonitor> monitor) {
        this.upstream = Objects.requireNonNull(upstream, "upstream");
        this.monitor = Objects.requireNonNull(monitor, "monitor");
    }

    @Override
    public Health health() {
        HealthMonitor m = monitor.get();
        Map<String, Object> endpoints = new LinkedHashMap<>();
        int eligible = 0;
        for (Upstream.EndpointStatus s : upstream.statuses()) {
            boolean ok = s.state() == EndpointState.UP && s.healthy() && s.available();
            if (ok) {
                eligible++;
            }
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("address", s.endpoint().host() + ":" + s.endpoint().port());
            d.put("state", s.state().name());
            d.put("health", m == null ? (s.healthy() ? "UP" : "DOWN")
                    : m.state(s.endpoint().id()).map(Enum::name).orElse(s.healthy() ? "UP" : "DOWN"));
            d.put("eligible", ok);
            d.put("inFlight", s.inFlight());
            endpoints.put(s.endpoint().id(), d);
        }
        Health.Builder b = eligible > 0 ? Health.up() : Health.down();
        return b.withDetail("eligible", eligible).withDetail("endpoints", endpoints).build();
    }
}
