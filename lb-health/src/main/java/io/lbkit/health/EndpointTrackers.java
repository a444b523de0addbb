package io.lbkit.health;

import io.lbkit.core.Endpoint;
import io.lbkit.core.EndpointState;
import io.lbkit.core.Upstream;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@link EndpointTracker}s of one {@link HealthMonitor}, kept in line with its upstream's
 * members: a copy-on-write map that request threads read, replaced in the monitor's serialized
 * context, and the context's own map in membership order. Syncing adds a tracker for a new member
 * (in the initial state, adopting what lb-core already says of it), hands the trackers to lb-core
 * as endpoint attachments (outlier counters found without a lookup), and forgets removed members
 * (their pass waits end, a removal event is published).
 */
final class EndpointTrackers {

    private final HealthMonitor owner;
    private final Upstream upstream;
    private final EndpointHealthState initialActive;
    private final boolean attachCounters;
    private final HealthStateApplier applier;
    private final HealthWaits waits;
    /** Copy-on-write map read by request threads; replaced in the context. */
    private volatile Map<String, EndpointTracker> byId = Map.of();
    /** Context-only: trackers in membership order. */
    private final LinkedHashMap<String, EndpointTracker> ordered = new LinkedHashMap<>();

    EndpointTrackers(HealthMonitor owner, Upstream upstream, EndpointHealthState initialActive, boolean attachCounters,
                     HealthStateApplier applier, HealthWaits waits) {
        this.owner = owner;
        this.upstream = upstream;
        this.initialActive = initialActive;
        this.attachCounters = attachCounters;
        this.applier = applier;
        this.waits = waits;
    }

    /** The endpoint's tracker, or null: any thread. */
    EndpointTracker get(String id) {
        return byId.get(id);
    }

    /** How many endpoints are tracked: any thread. */
    int size() {
        return byId.size();
    }

    /** The endpoint's tracker, or null: context only. */
    EndpointTracker inContext(String id) {
        return ordered.get(id);
    }

    /** Every tracker in membership order, a live view: context only. */
    Collection<EndpointTracker> ordered() {
        return ordered.values();
    }

    /** Brings the trackers in line with {@code upstream.endpoints()}: context only. */
    void sync() {
        List<Endpoint> now = upstream.endpoints();
        Set<String> ids = new HashSet<>();
        boolean changed = false;
        for (Endpoint e : now) {
            ids.add(e.id());
            EndpointTracker known = ordered.get(e.id());
            if (known != null) {
                attach(known); // removed and added again behind our back: a new lb-core member
                continue;
            }
            EndpointTracker t = new EndpointTracker(owner, e.id(), initialActive);
            Upstream.EndpointStatus s = upstream.status(e.id()).orElse(null);
            if (s != null) {
                t.admin = s.state() == EndpointState.DOWN ? EndpointTracker.Admin.MAINTENANCE
                        : s.state() == EndpointState.DRAINING ? EndpointTracker.Admin.DRAINING
                        : EndpointTracker.Admin.ENABLED;
                t.appliedCoreState = s.state();
                t.appliedHealthy = s.healthy();
            }
            ordered.put(e.id(), t);
            changed = true;
            attach(t);
            applier.apply(t, "joined", false);
        }
        for (var it = ordered.values().iterator(); it.hasNext(); ) {
            EndpointTracker t = it.next();
            if (!ids.contains(t.id)) {
                it.remove();
                t.removed = true;
                changed = true;
                waits.endpointRemoved(t.id);
                applier.publish(t, t.state, null, "removed from upstream");
            }
        }
        if (changed) {
            byId = Map.copyOf(ordered);
        }
    }

    /** Hands the endpoint's counters to lb-core, which passes them back with every outcome. */
    private void attach(EndpointTracker t) {
        if (!attachCounters || upstream.attachment(t.id).orElse(null) == t) {
            return;
        }
        try {
            upstream.setAttachment(t.id, t);
        } catch (IllegalArgumentException gone) {
            // removed from the upstream meanwhile; the next syncMembership forgets it
        }
    }

    /** Takes the trackers back from lb-core's endpoints (the monitor closes): context only. */
    void detachAll() {
        for (EndpointTracker t : ordered.values()) {
            if (upstream.attachment(t.id).orElse(null) == t) {
                try {
                    upstream.setAttachment(t.id, null);
                } catch (IllegalArgumentException gone) {
                    // removed meanwhile: its attachment went with it
                }
            }
        }
    }
}
