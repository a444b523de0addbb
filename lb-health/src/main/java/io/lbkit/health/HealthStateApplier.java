package io.lbkit.health;

import io.lbkit.core.EndpointState;
import io.lbkit.core.Ticker;
import io.lbkit.core.Upstream;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a {@link HealthMonitor} tells the outside about an endpoint's joined state, in its serialized
 * context only: lb-core through the upstream's control plane ({@code setState}, {@code setHealthy};
 * the restrictive change first, so that no pick sees a half-applied state), then a
 * {@link HealthEvent} for every transition, in order, to each listener.
 */
final class HealthStateApplier {

    private static final Logger LOG = LoggerFactory.getLogger(HealthMonitor.class);

    private final Upstream upstream;
    private final Ticker ticker;
    private final List<HealthEventListener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong sequence = new AtomicLong();

    HealthStateApplier(Upstream upstream, Ticker ticker, List<HealthEventListener> listeners) {
        this.upstream = upstream;
        this.ticker = ticker;
        this.listeners.addAll(listeners);
    }

    /** Adds a listener of transitions. */
    void addListener(HealthEventListener listener) {
        listeners.add(listener);
    }

    /**
     * Applies the endpoint's joined state to lb-core (with {@code restartSlowStart}, a healthy
     * endpoint goes unhealthy and back, which restarts slow start) and publishes a transition.
     */
    void apply(EndpointTracker t, String reason, boolean restartSlowStart) {
        if (t.removed) {
            return;
        }
        EndpointState core = t.coreState();
        boolean healthy = t.coreHealthy();
        try {
            if (core != EndpointState.UP && core != t.appliedCoreState) {
                upstream.setState(t.id, core); // restrictive first
                t.appliedCoreState = core;
            }
            if (restartSlowStart && healthy && t.appliedHealthy) {
                upstream.setHealthy(t.id, false); // still not UP in lb-core: nobody sees this
                t.appliedHealthy = false;
            }
            if (healthy != t.appliedHealthy) {
                upstream.setHealthy(t.id, healthy); // healthy again: lb-core restarts slow start
                t.appliedHealthy = healthy;
            }
            if (core != t.appliedCoreState) {
                upstream.setState(t.id, core);
                t.appliedCoreState = core;
            }
        } catch (IllegalArgumentException gone) {
            // removed from the upstream meanwhile; the next syncMembership forgets it
            LOG.debug("upstream '{}' endpoint '{}' vanished while applying health", upstream.name(), t.id);
        }
        EndpointHealthState to = t.joined();
        EndpointHealthState from = t.state;
        t.state = to;
        t.publishView();
        if (from != to) {
            publish(t, from, to, reason);
        }
    }

    /** Publishes a transition ({@code from == null}: new, {@code to == null}: removed) to every listener. */
    void publish(EndpointTracker t, EndpointHealthState from, EndpointHealthState to, String reason) {
        HealthEvent e = new HealthEvent(upstream.name(), t.id, from, to, reason, sequence.incrementAndGet(),
                ticker.nanos());
        LOG.info("upstream '{}' endpoint '{}': {} -> {} ({})", upstream.name(), t.id,
                from == null ? "(new)" : from, to == null ? "(removed)" : to, reason);
        for (HealthEventListener l : listeners) {
            try {
                l.onEvent(e);
            } catch (RuntimeException ex) {
                LOG.warn("health event listener failed on {}", e, ex);
            }
        }
    }
}
