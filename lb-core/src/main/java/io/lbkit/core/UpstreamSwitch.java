package io.lbkit.core;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Blue/green switching of whole upstreams: several named upstreams, exactly one active. Requests
 * go to the active one; {@link #switchTo} flips all new picks at once (attempts already picked
 * complete against the upstream they came from, because a {@link Selection} remembers its
 * upstream). For percentage-based canaries between upstreams use
 * {@link io.lbkit.core.split.TrafficSplit} with upstreams as the values.
 *
 * <pre>{@code
 * UpstreamSwitch sw = UpstreamSwitch.of(blue, green);   // blue active
 * sw.pick(req) ...                                      // blue
 * sw.switchTo("green");                                 // green from now on
 * }</pre>
 */
public final class UpstreamSwitch {

    private final Map<String, Upstream> upstreams;
    private volatile Upstream active;

    private UpstreamSwitch(List<Upstream> all) {
        if (all.isEmpty()) {
            throw new IllegalArgumentException("upstreams must not be empty");
        }
        Map<String, Upstream> m = new LinkedHashMap<>();
        for (Upstream u : all) {
            Objects.requireNonNull(u, "upstream");
            if (m.put(u.name(), u) != null) {
                throw new IllegalArgumentException("duplicate upstream name '" + u.name() + "'");
            }
        }
        this.upstreams = Map.copyOf(m);
        this.active = all.get(0);
    }

    /** A switch over {@code first} (active) and the others (standby). */
    public static UpstreamSwitch of(Upstream first, Upstream... others) {
        List<Upstream> all = new java.util.ArrayList<>();
        all.add(first);
        all.addAll(List.of(others));
        return new UpstreamSwitch(all);
    }

    /** The upstream that takes new requests. */
    public Upstream active() {
        return active;
    }

    /** Makes the upstream called {@code name} active. */
    public void switchTo(String name) {
        Upstream u = upstreams.get(name);
        if (u == null) {
            throw new IllegalArgumentException("no upstream named '" + name + "' (have " + upstreams.keySet() + ")");
        }
        active = u;
    }

    /** The upstream called {@code name}. */
    public Upstream upstream(String name) {
        Upstream u = upstreams.get(name);
        if (u == null) {
            throw new IllegalArgumentException("no upstream named '" + name + "' (have " + upstreams.keySet() + ")");
        }
        return u;
    }

    /** Picks from the active upstream. */
    public Selection pick(PickRequest request) {
        return active.pick(request);
    }
}
