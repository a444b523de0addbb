package io.lbkit.server;

import io.lbkit.core.Upstream;
import io.lbkit.proxy.Route;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Blue/green for {@code serve}: the routes serving now, and the upstream switches made at run time
 * ({@code POST /api/routes/NAME/upstream}), which {@link Route#switchUpstream} applies to requests
 * that start from then on. A switch is kept across reloads (re-applied to the reloaded route of
 * the same name while the upstream exists) until the route is switched back to the upstream its
 * file names.
 */
final class BlueGreen {

    private static final Logger LOG = LoggerFactory.getLogger(BlueGreen.class);

    private volatile List<Route> routes = List.of();
    private final Map<String, String> fileUpstreams = new ConcurrentHashMap<>(); // route -> the file's upstream
    private final Map<String, String> switched = new ConcurrentHashMap<>();      // route -> the runtime one

    /** The routes of a (re)built configuration start serving: the switches in force are applied to them. */
    synchronized void serving(List<Route> next, Map<String, Upstream> upstreams) {
        fileUpstreams.clear();
        for (Route r : next) {
            fileUpstreams.put(r.name(), r.upstream().name());
            String to = switched.get(r.name());
            Upstream u = to == null ? null : upstreams.get(to);
            if (to != null && (u == null || to.equals(r.upstream().name()))) {
                switched.remove(r.name()); // the upstream is gone, or the file now names it
                if (u == null) {
                    LOG.warn("route {}: the upstream {} it was switched to is no longer configured; it sends to {}",
                            r.name(), to, r.upstream().name());
                }
            } else if (u != null) {
                r.switchUpstream(u);
                LOG.info("route {}: keeps sending to {} (switched at run time; the file names {})", r.name(), to,
                        fileUpstreams.get(r.name()));
            }
        }
        switched.keySet().retainAll(fileUpstreams.keySet());
        routes = List.copyOf(next);
    }

    /** See {@link ProxyServer#switchUpstream}. */
    synchronized String switchTo(String route, String upstream, Map<String, Upstream> upstreams) {
        Route r = routes.stream().filter(x -> x.name().equals(route)).findFirst()
                .orElseThrow(() -> new NoSuchElementException("no route '" + route + "' (serving: " + upstreams().keySet() + ")"));
        Upstream u = upstreams.get(upstream);
        if (u == null) {
            throw new NoSuchElementException("no upstream '" + upstream + "' (defined: " + upstreams.keySet() + ")");
        }
        String before = r.switchUpstream(u).name();
        if (upstream.equals(fileUpstreams.get(route))) {
            switched.remove(route);
        } else {
            switched.put(route, upstream);
        }
        return before;
    }

    /** Each route serving now, by name, and the upstream it sends to. */
    Map<String, String> upstreams() {
        Map<String, String> out = new LinkedHashMap<>();
        for (Route r : routes) {
            out.put(r.name(), r.upstream().name());
        }
        return out;
    }
}
